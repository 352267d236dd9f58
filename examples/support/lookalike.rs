//! An Identity Cloud look-alike: every operation of a catalog served over POST (form body) and
//! GET (query string) behind a `VerifyLayer`. Each handler answers
//! `{"stat":"ok","operation":..,"client_id":..,"auth":..,"params":{..}}` (a repeated key as an
//! array of its values), where `params` are the parameters the handler read:
//!
//! * [`Echo::Verified`] (the default): the `VerifiedParams` the layer handed on;
//! * [`Echo::Axum`]: what a plain axum app reads, `axum::extract::RawForm` (the form body for
//!   POST, the query string for GET and HEAD): proof that a handler reading the request its
//!   own way sees exactly what the layer verified.
//!
//! With a token issuer, `/access/getAccessToken` issues real access tokens: an issuer client
//! (`owner`, `access_issuer` or `direct_access`) sends `uuid`, `type_name` and
//! `for_client_id` (the login client the token is for) and gets
//! `{"stat":"ok","access_token":"...","expires_in":3600}`, usable at once with janrain-oauth.
//!
//! Shared by the `server` and `demo` examples and the integration tests.

#![allow(dead_code)]

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::{FromRequest, RawForm, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use janrain_auth::credentials::ClientId;
use janrain_auth::error::JanrainError;
use janrain_auth::params::ParamList;
use janrain_auth::permissions::{AuthMethod, Catalog};
use janrain_auth::server::{
    AuthenticatedClient, TokenIssuer, TokenRecord, VerifiedParams, VerifyLayer,
};
use serde_json::{Map, Value, json};

/// Where the handlers read their parameters from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Echo {
    /// The layer's `VerifiedParams`.
    #[default]
    Verified,
    /// axum's `RawForm`, as a handler that knows nothing of the layer reads them.
    Axum,
}

impl std::str::FromStr for Echo {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "verified" => Ok(Echo::Verified),
            "axum" => Ok(Echo::Axum),
            other => Err(format!("{other:?} is neither `verified` nor `axum`")),
        }
    }
}

/// The operations of `catalog` as routes (no layer), echoing `VerifiedParams`.
pub fn routes(catalog: &Catalog) -> Router {
    routes_echoing(catalog, Echo::Verified)
}

/// The operations of `catalog` as routes (no layer), echoing as `echo` says.
pub fn routes_echoing(catalog: &Catalog, echo: Echo) -> Router {
    routes_except(catalog, echo, &[])
}

fn routes_except(catalog: &Catalog, echo: Echo, except: &[&str]) -> Router {
    let mut router = Router::new();
    for op in catalog.iter().filter(|op| !except.contains(&op.path())) {
        router = match echo {
            Echo::Verified => router.route(op.path(), get(echo_verified).post(echo_verified)),
            Echo::Axum => router.route(op.path(), get(echo_axum).post(echo_axum)),
        };
    }
    router
}

/// The operations of `catalog` behind `layer`.
pub fn router(catalog: &Catalog, layer: VerifyLayer) -> Router {
    routes(catalog).layer(layer)
}

/// The operations of `catalog` behind `layer`, echoing as `echo` says.
pub fn router_echoing(catalog: &Catalog, layer: VerifyLayer, echo: Echo) -> Router {
    routes_echoing(catalog, echo).layer(layer)
}

/// The whole look-alike: the operations of `catalog` behind `layer`, echoing as `echo` says,
/// with `/access/getAccessToken` issuing tokens into `issuer`.
pub fn app(
    catalog: &Catalog,
    layer: VerifyLayer,
    echo: Echo,
    issuer: Arc<dyn TokenIssuer>,
) -> Router {
    let issue = move |client: AuthenticatedClient, params: VerifiedParams| {
        let issuer = issuer.clone();
        async move { get_access_token(issuer.as_ref(), client, params).await }
    };
    routes_except(catalog, echo, &["/access/getAccessToken"])
        .route(
            "/access/getAccessToken",
            axum::routing::post(issue.clone()).get(issue),
        )
        .layer(layer)
}

/// How long an issued access token lasts, as Janrain's do.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// `/access/getAccessToken`: a fresh random token for the user `uuid`, issued to the login
/// client `for_client_id`.
async fn get_access_token(
    issuer: &dyn TokenIssuer,
    _client: AuthenticatedClient,
    params: VerifiedParams,
) -> Response {
    for name in ["uuid", "type_name", "for_client_id"] {
        if params.get(name).is_none() {
            return error(
                100,
                "missing_argument",
                &format!("the {name} parameter is missing; send uuid, type_name and for_client_id"),
            );
        }
    }
    let Ok(for_client) = ClientId::new(params.get("for_client_id").unwrap_or_default()) else {
        return error(200, "invalid_argument", "for_client_id is not a client id");
    };
    let uuid = params.get("uuid").unwrap_or_default();
    let token = random_token();
    let record = TokenRecord::new(for_client, SystemTime::now() + TOKEN_LIFETIME).with_uuid(uuid);
    if let Err(e) = issuer.issue(&token, record).await {
        return error(
            500,
            "unexpected_error",
            &format!("the token could not be recorded: {e}"),
        );
    }
    axum::Json(json!({
        "stat": "ok",
        "access_token": token,
        "expires_in": TOKEN_LIFETIME.as_secs(),
    }))
    .into_response()
}

/// 32 random lowercase hex characters, from the standard library's randomly keyed hasher
/// (seeded from the operating system once per process, advanced per call).
fn random_token() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let state = STATE.get_or_init(std::collections::hash_map::RandomState::new);
    let mut token = String::with_capacity(32);
    for half in 0..2u64 {
        let mut hasher = state.build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u64(half);
        token.push_str(&format!("{:016x}", hasher.finish()));
    }
    token
}

/// Echo the parameters the layer verified.
pub async fn echo_verified(
    client: Option<AuthenticatedClient>,
    params: Option<VerifiedParams>,
    request: Request,
) -> Response {
    let Some(params) = params else {
        // A route let through without verification (unknown paths allowed): nothing checked.
        return answer(client, request.uri().path(), &ParamList::new());
    };
    answer(client, request.uri().path(), params.as_param_list())
}

/// Echo the parameters as axum's `RawForm` reads them.
pub async fn echo_axum(client: Option<AuthenticatedClient>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let raw = match RawForm::from_request(request, &()).await {
        Ok(RawForm(bytes)) => bytes,
        Err(rejection) => return rejection.into_response(),
    };
    match ParamList::from_urlencoded(&raw) {
        Ok(params) => answer(client, &path, &params),
        Err(e) => error(
            200,
            "invalid_argument",
            &format!("cannot read the parameters: {e}"),
        ),
    }
}

/// `{"stat":"error",...}` with every field Janrain's clients read.
fn error(code: u16, name: &str, description: &str) -> Response {
    let error = JanrainError {
        code,
        error: name.to_owned(),
        error_description: description.to_owned(),
        request_id: None,
        extra: Default::default(),
    };
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        error.to_json(),
    )
        .into_response()
}

fn answer(client: Option<AuthenticatedClient>, path: &str, params: &ParamList) -> Response {
    let mut echoed = Map::new();
    for (key, value) in params.to_pairs_lossy() {
        match echoed.get_mut(&key) {
            // A repeated key becomes an array of its values.
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
    let (operation, client_id, auth) = match &client {
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
    if let Some(user) = client.as_ref().and_then(|c| c.user()) {
        answer["uuid"] = Value::String(user.to_owned());
    }
    axum::Json(answer).into_response()
}
