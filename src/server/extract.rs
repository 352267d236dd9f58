//! The axum extractors for [`AuthenticatedClient`] and [`VerifiedParams`] (feature `axum`).

use std::convert::Infallible;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

use super::{AuthenticatedClient, Rejection, RejectionKind, Unauthenticated, VerifiedParams};

/// The extractor found no [`AuthenticatedClient`] (or [`VerifiedParams`]).
///
/// * The layer let the request through without authenticating it (a CORS preflight, an
///   operation open to anyone called without credentials, a path let through by
///   [`UnknownPaths::Allow`](super::UnknownPaths::Allow)): 401 `invalid_client_credentials`,
///   as for any request without credentials.
/// * The request never passed a [`VerifyLayer`](super::VerifyLayer): the route is not behind
///   one, a server misconfiguration, answered with 503 `unexpected_error`.
///
/// Both answers are the Janrain envelope.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("{}", self.description())]
pub struct MissingAuthentication {
    /// The layer passed the request on without authenticating it.
    passed_unauthenticated: bool,
}

impl MissingAuthentication {
    fn of(parts: &Parts) -> Self {
        MissingAuthentication {
            passed_unauthenticated: parts.extensions.get::<Unauthenticated>().is_some(),
        }
    }

    /// Whether the request passed the layer without authenticating (else it never passed one).
    pub fn passed_unauthenticated(&self) -> bool {
        self.passed_unauthenticated
    }

    fn description(&self) -> &'static str {
        if self.passed_unauthenticated {
            "this request was not authenticated: send credentials the operation accepts"
        } else {
            "the server is misconfigured: this route is not behind the verification layer"
        }
    }
}

impl IntoResponse for MissingAuthentication {
    fn into_response(self) -> Response {
        let kind = if self.passed_unauthenticated {
            RejectionKind::MissingCredentials
        } else {
            RejectionKind::StoreUnavailable
        };
        Rejection::new(kind, self.description()).into_http()
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
            .ok_or_else(|| MissingAuthentication::of(parts))
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
            .ok_or_else(|| MissingAuthentication::of(parts))
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
