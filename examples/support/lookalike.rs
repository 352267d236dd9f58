//! An Identity Cloud look-alike: every operation of a catalog served over POST (form body) and
//! GET (query string) behind a `VerifyLayer`. Each handler answers
//! `{"stat":"ok","operation":..,"client_id":..,"auth":..,"params":{..}}`, where `params` are the
//! parameters the *handler* read from the body or query: proof that the layer put the body back.
//!
//! Shared by the `server` and `demo` examples and the integration tests.

#![allow(dead_code)]

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Uri, header::CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use janrain_auth::params::ParamList;
use janrain_auth::permissions::{AuthMethod, Catalog};
use janrain_auth::server::{AuthenticatedClient, VerifyLayer};
use serde_json::{Map, Value, json};

/// The operations of `catalog` as routes (no layer).
pub fn routes(catalog: &Catalog) -> Router {
    let mut router = Router::new();
    for op in catalog {
        router = router.route(op.path(), get(echo).post(echo));
    }
    router
}

/// The operations of `catalog` behind `layer`.
pub fn router(catalog: &Catalog, layer: VerifyLayer) -> Router {
    routes(catalog).layer(layer)
}

/// Echo what the handler received.
pub async fn echo(
    client: Option<AuthenticatedClient>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params = ParamList::new();
    let mut failed = false;
    if let Some(query) = uri.query() {
        failed |= params.extend_urlencoded(query.as_bytes()).is_err();
    }
    let is_form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        failed |= params.extend_urlencoded(&body).is_err();
    }
    if failed {
        return axum::Json(json!({"stat": "error", "code": 200, "error": "invalid_argument"}))
            .into_response();
    }
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
        None => (uri.path().to_owned(), Value::Null, "none"),
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
