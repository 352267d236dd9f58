//! The emulator's default answers: the echo of the verified parameters, and the access tokens
//! of `/access/getAccessToken`.

use std::time::{Duration, SystemTime};

use axum::extract::{FromRequest, RawForm, Request};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::data;
use super::random;
use super::records::Records;
use super::reply::Reply;
use crate::credentials::ClientId;
use crate::error::JanrainError;
use crate::params::ParamList;
use crate::permissions::AuthMethod;
use crate::server::{AuthenticatedClient, TokenIssuer, TokenRecord, VerifiedParams};

/// Where the default answers read the parameters they echo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Echo {
    /// The [`VerifiedParams`] the verification layer handed on.
    #[default]
    Verified,
    /// What a plain axum handler reads with `RawForm` (the form body for POST, the query
    /// string for GET and HEAD): it shows that a handler reading the request its own way sees
    /// exactly what the layer verified.
    Axum,
}

impl std::str::FromStr for Echo {
    type Err = String;

    /// `verified` or `axum`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "verified" => Ok(Echo::Verified),
            "axum" => Ok(Echo::Axum),
            other => Err(format!("{other:?} is neither `verified` nor `axum`")),
        }
    }
}

/// The parameters the layer verified, echoed.
pub(super) fn echo_verified(request: &Request) -> Response {
    let client = request.extensions().get::<AuthenticatedClient>();
    let path = request.uri().path();
    let answer = match request.extensions().get::<VerifiedParams>() {
        Some(params) => echo(client, path, params.as_param_list()),
        // A route let through without verification (unknown paths allowed): nothing checked.
        None => echo(client, path, &ParamList::new()),
    };
    Reply::json(&answer).into_response()
}

/// The parameters as axum's `RawForm` reads them, echoed.
pub(super) async fn echo_axum(request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let client = request.extensions().get::<AuthenticatedClient>().cloned();
    let raw = match RawForm::from_request(request, &()).await {
        Ok(RawForm(bytes)) => bytes,
        Err(rejection) => return rejection.into_response(),
    };
    match ParamList::from_urlencoded(&raw) {
        Ok(params) => Reply::json(&echo(client.as_ref(), &path, &params)).into_response(),
        Err(e) => Reply::from(JanrainError::new(
            crate::error::ErrorCode::INVALID_ARGUMENT,
            format!("cannot read the parameters: {e}"),
        ))
        .into_response(),
    }
}

/// `{"stat":"ok","operation":..,"client_id":..,"auth":..,"params":{..}}`, a repeated key as
/// an array of its values, and `uuid` for a call as a user.
pub(super) fn echo(client: Option<&AuthenticatedClient>, path: &str, params: &ParamList) -> Value {
    let mut echoed = Map::new();
    for (key, value) in params.to_pairs_lossy() {
        match echoed.get_mut(&key) {
            Some(Value::Array(values)) => values.push(Value::String(value)),
            Some(first) => {
                let first = first.take();
                echoed.insert(key, Value::Array(vec![first, Value::String(value)]));
            }
            None => {
                echoed.insert(key, Value::String(value));
            }
        }
    }
    let (operation, client_id, auth) = match client {
        Some(c) => (
            c.operation().to_owned(),
            Value::String(c.client_id().to_string()),
            c.method().as_str(),
        ),
        None => (path.to_owned(), Value::Null, AuthMethod::None.as_str()),
    };
    let mut answer = json!({
        "stat": "ok",
        "operation": operation,
        "client_id": client_id,
        "auth": auth,
        "params": echoed,
    });
    if let Some(user) = client.and_then(|c| c.user()) {
        answer["uuid"] = Value::String(user.to_owned());
    }
    answer
}

/// How long an access token of `/access/getAccessToken` lasts, as Janrain's do.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// `/access/getAccessToken`: a fresh random token for the user `uuid`, issued to the login
/// client `for_client_id` and recorded in `issuer`. With records, the user must be a record of
/// `type_name`.
pub(super) async fn get_access_token(
    issuer: &dyn TokenIssuer,
    records: Option<&Records>,
    request: Request,
) -> Reply {
    let Some(params) = request.extensions().get::<VerifiedParams>().cloned() else {
        return JanrainError::missing_argument("uuid").into();
    };
    for name in ["uuid", "type_name", "for_client_id"] {
        if params.get(name).is_none() {
            return JanrainError::missing_argument(name).into();
        }
    }
    let Ok(for_client) = ClientId::new(params.get("for_client_id").unwrap_or_default()) else {
        return JanrainError::invalid_argument("for_client_id", "it is not a client id").into();
    };
    let uuid = params.get("uuid").unwrap_or_default();
    if let Some(records) = records {
        let type_name = params.get("type_name").unwrap_or_default();
        let mut store = records.lock();
        let known = data::entity_type(&mut store, type_name).map(|t| t.id_of(uuid).is_some());
        match known {
            Ok(true) => {}
            Ok(false) => {
                return JanrainError::record_not_found(format!(
                    "no {type_name} record has the uuid {uuid}"
                ))
                .into();
            }
            Err(e) => return e.into(),
        }
    }
    let token = random::token();
    let record = TokenRecord::new(for_client, SystemTime::now() + TOKEN_LIFETIME).with_uuid(uuid);
    if let Err(e) = issuer.issue(&token, record).await {
        return JanrainError::unexpected_error(format!("the token could not be recorded: {e}"))
            .into();
    }
    Reply::json(&json!({
        "stat": "ok",
        "access_token": token,
        "expires_in": TOKEN_LIFETIME.as_secs(),
    }))
}
