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
//! Shared by the `server` and `demo` examples and the integration tests.

#![allow(dead_code)]

use axum::Router;
use axum::extract::{FromRequest, RawForm, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use janrain_auth::error::JanrainError;
use janrain_auth::params::ParamList;
use janrain_auth::permissions::{AuthMethod, Catalog};
use janrain_auth::server::{AuthenticatedClient, VerifiedParams, VerifyLayer};
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
    let mut router = Router::new();
    for op in catalog {
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
            match c.method() {
                AuthMethod::Basic => "basic",
                AuthMethod::Signature => "signature",
                AuthMethod::LoginClient | AuthMethod::LoginClientWithToken => "login_client",
                _ => "none",
            },
        ),
        None => (path.to_owned(), Value::Null, "none"),
    };
    axum::Json(json!({
        "stat": "ok",
        "operation": operation,
        "client_id": client_id,
        "auth": auth,
        "params": echoed,
    }))
    .into_response()
}
