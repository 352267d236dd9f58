//! The axum extractors for [`AuthenticatedClient`] and [`VerifiedParams`] (feature `axum`).

use std::convert::Infallible;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

use super::{AuthenticatedClient, Rejection, RejectionKind, VerifiedParams};

/// The extractor found no [`AuthenticatedClient`] (or [`VerifiedParams`]): the route is not
/// behind a [`VerifyLayer`](super::VerifyLayer), or (for the client) the operation needs no
/// authentication. A server misconfiguration, answered with 503 `unexpected_error` and the Janrain
/// envelope.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("no authenticated client: the route is not behind VerifyLayer")]
pub struct MissingAuthentication;

impl IntoResponse for MissingAuthentication {
    fn into_response(self) -> Response {
        Rejection::new(
            RejectionKind::StoreUnavailable,
            "the server is misconfigured: this route is not behind the verification layer",
        )
        .into_http()
    }
}

/// ```
/// # async fn doc() {
/// use janrain_auth::server::AuthenticatedClient;
///
/// async fn handler(client: AuthenticatedClient) -> String {
///     format!("hello {} ({})", client.client_id(), client.method())
/// }
///
/// async fn maybe(client: Option<AuthenticatedClient>) -> &'static str {
///     if client.is_some() { "authenticated" } else { "open operation" }
/// }
/// # }
/// ```
impl<S: Send + Sync> FromRequestParts<S> for AuthenticatedClient {
    type Rejection = MissingAuthentication;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<AuthenticatedClient>()
            .cloned()
            .ok_or(MissingAuthentication)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for AuthenticatedClient {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<AuthenticatedClient>().cloned())
    }
}

/// ```
/// # async fn doc() {
/// use janrain_auth::server::VerifiedParams;
///
/// #[derive(serde::Deserialize)]
/// struct Find { type_name: String, filter: Option<String> }
///
/// async fn find(params: VerifiedParams) -> String {
///     match params.deserialize::<Find>() {
///         Ok(find) => format!("{} {:?}", find.type_name, find.filter),
///         Err(e) => format!("bad parameters: {e}"),
///     }
/// }
/// # }
/// ```
impl<S: Send + Sync> FromRequestParts<S> for VerifiedParams {
    type Rejection = MissingAuthentication;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<VerifiedParams>()
            .cloned()
            .ok_or(MissingAuthentication)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for VerifiedParams {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<VerifiedParams>().cloned())
    }
}
