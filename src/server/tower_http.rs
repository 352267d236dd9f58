//! The layer as tower-http's authorizer (feature `tower-http`).

use http::Request;
use http_body::Body;
use tower_http::auth::AsyncAuthorizeRequest;

use super::VerifyLayer;
use super::bodies::VerifiedBody;
use super::verify::Verification;
use crate::requests::{BoxError, BoxFuture};

/// `VerifyLayer` in tower-http's slot for exactly this job:
/// `AsyncRequireAuthorizationLayer::new(verify_layer)`. The answers are the layer's (the same
/// status, Janrain code, headers and realm), in axum's body type, since tower-http needs the
/// authorizer's response body to be the inner service's, which on an axum `Router` is axum's.
/// The inner service receives a [`VerifiedBody`], as behind the layer itself.
///
/// ```
/// use axum::{Router, routing::post};
/// use janrain_auth::server::{AuthenticatedClient, MemoryStore, VerifyLayer};
/// use tower_http::auth::AsyncRequireAuthorizationLayer;
///
/// let verify = VerifyLayer::new(MemoryStore::new());
/// let app: Router = Router::new()
///     .route("/entity.find", post(|client: AuthenticatedClient| async move { client.client_id().to_string() }))
///     .layer(AsyncRequireAuthorizationLayer::new(verify));
/// # let _ = app;
/// ```
impl<B> AsyncAuthorizeRequest<B> for VerifyLayer
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type RequestBody = VerifiedBody;
    type ResponseBody = axum_core::body::Body;
    type Future =
        BoxFuture<'static, Result<Request<VerifiedBody>, http::Response<axum_core::body::Body>>>;

    fn authorize(&mut self, request: Request<B>) -> Self::Future {
        let verification = Verification::new(self.verifier.clone(), request);
        Box::pin(async move {
            match verification.await {
                Ok((parts, bytes)) => Ok(Request::from_parts(parts, VerifiedBody::new(bytes))),
                Err(rejection) => Err(rejection.into_http::<axum_core::body::Body>()),
            }
        })
    }
}
