//! Inbound verification: a tower layer for axum (or any tower HTTP server) that accepts exactly
//! the requests Identity Cloud would accept, answers every other one with a Janrain-style
//! error, and hands the handler the authenticated client and the verified parameters.
//!
//! # The recommended stack
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use axum::{Router, http::{StatusCode, header}, routing::post};
//! use janrain_auth::server::{AuthenticatedClient, ClientsFile, VerifiedParams, VerifyLayer};
//! use tower::ServiceBuilder;
//! use tower_http::{
//!     sensitive_headers::SetSensitiveRequestHeadersLayer, timeout::TimeoutLayer,
//!     trace::TraceLayer,
//! };
//!
//! #[derive(serde::Deserialize)]
//! struct Find {
//!     type_name: String,
//!     filter: Option<String>,
//! }
//!
//! async fn find(client: AuthenticatedClient, params: VerifiedParams) -> String {
//!     // Exactly the parameters the signature covered: nothing to parse, nothing unchecked.
//!     match params.deserialize::<Find>() {
//!         Ok(find) => format!("{} searches {} for {:?}", client.client_id(), find.type_name, find.filter),
//!         Err(e) => format!("bad parameters: {e}"),
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let (clients, tokens) = ClientsFile::load("clients.json")?.into_parts();
//! let verify = VerifyLayer::builder(clients).token_verifier(tokens).build();
//! let api = Router::new().route("/entity.find", post(find)).layer(
//!     ServiceBuilder::new()
//!         // Outermost: hide credentials from every trace, then trace, then bound the time.
//!         .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION]))
//!         .layer(TraceLayer::new_for_http())
//!         .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
//!         .layer(verify),
//! );
//! let app = Router::new()
//!     .route("/health", axum::routing::get(|| async { "ok" })) // open: not behind the layer
//!     .merge(api);
//! axum::serve(tokio::net::TcpListener::bind("127.0.0.1:8080").await?, app).await?;
//! # Ok(()) }
//! ```
//!
//! The layer takes any request body and hands on a [`VerifiedBody`]; its answers are a
//! [`ResponseBody`]. Both are the crate's own, so tower-http layers (body limits,
//! decompression, timeouts, CORS) fit inside and outside it in one `ServiceBuilder`. It marks
//! the `Authorization` header sensitive before anything inside it runs; put
//! `SetSensitiveRequestHeadersLayer` outside it, as above, for layers outside.
//!
//! # Three ways to mount the verifier
//!
//! * `.layer(verify)` (or `.route_layer(verify)`): the usual way; the handler's body is the
//!   layer's own [`VerifiedBody`]: the bytes the layer read.
//! * `axum::middleware::from_fn` with [`VerifyLayer::verify`]: when the verifier is one step of
//!   a middleware function of your own; the request comes back with its own body type (a body
//!   that is not a form is then read whole, under the limit).
//! * `tower_http::auth::AsyncRequireAuthorizationLayer::new(verify)` (feature `tower-http`):
//!   where an app already composes tower-http's authorization slot.
//!
//! All three give the same answers (status, Janrain code, headers, realm) and hand the handler
//! the same request: the layer reads every body it lets through, under its limit and timeout,
//! so a body too large or too slow is refused by the layer itself, however it is mounted.
//!
//! # Keeping other routes open
//!
//! Unknown paths are refused (404 `unknown_operation`) by default, so nothing reaches a handler
//! unverified by accident. To serve `/health`, static files or a login page beside the API:
//!
//! * **preferred:** give the API its own router with the layer, and `merge` it with the open
//!   routes (above). What is authenticated is then visible in the code.
//! * `route_layer(verify)` on the API's router: the layer runs only on routes that matched.
//! * [`UnknownPaths::Allow`]: one router, and every path outside the catalog passes
//!   unauthenticated (still bounded by the body limit). Easy to get wrong: a typo in a route
//!   makes an operation open.
//!
//! CORS preflights (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) carry no
//! credentials: the layer passes them on unauthenticated, so tower-http's `CorsLayer` answers
//! them whether it sits inside or outside the layer, and with nothing a handler could take for
//! verified (no query string, no `Authorization`, `Cookie` or body).
//!
//! # Who acts
//!
//! The handler acts for exactly the principal that was authenticated: [`AuthenticatedClient`]
//! names the API client and, for a request made with a user's access token (janrain-oauth, or
//! a login client's operation called with one), the user. The layer refuses every request whose
//! parameters say otherwise, so that a lenient handler (a map that keeps the last value, a
//! case-blind lookup) cannot be led to act for someone else:
//!
//! * A user's token reaches that user's record and no other: parameter names are plain (ASCII
//!   letters, digits, `_`), and a name that addresses a record (`uuid`, `id`,
//!   `key_attribute`, `key_value`, in any letter case, with or without `_`) is refused (403
//!   `access_token_user_mismatch`) but for one `uuid` equal to the token's user. A body that
//!   is not a form is refused, as on janrain-signed requests; a token issued for no user is
//!   refused (412). Which operations a user's token reaches is data in the catalog
//!   ([`Operation::accepts`](crate::permissions::Operation::accepts) of
//!   [`AuthMethod::OAuth`]): in
//!   [`Catalog::identity_cloud`](crate::permissions::Catalog::identity_cloud), `/entity`,
//!   `/entity.update`, `/entity.replace` and `/entity.delete`, as Janrain documents.
//! * An `access_token` parameter is refused (400 `ambiguous_parameters`) wherever it is not
//!   the credential: on a request authenticated as an API client, or not at all.
//! * A `client_id` parameter names the client that authenticated, where one did.
//!
//! The extractors of [`AuthenticatedClient`] and [`VerifiedParams`] answer a request the layer
//! let through without authenticating it (a preflight, an open operation, a path
//! [`UnknownPaths::Allow`] lets through) with 401 in Janrain's envelope, and one that never
//! passed a layer with 503 ([`MissingAuthentication`]).
//!
//! # What it checks, in order
//!
//! 1. **Without the body.** The operation, from the path as a router reads it
//!    (percent-decoded; [`VerifyLayerBuilder::nested_under`] and
//!    [`VerifyLayerBuilder::strip_prefix`] for APIs below a prefix) in the catalog or your
//!    additions; the `Authorization` header (janrain-signed or Basic) and whether the operation
//!    accepts that method; for janrain-signed, the `Date` and the date window, and the client
//!    from the [`ClientStore`]; for Basic, the client, its secret (constant time, every secret
//!    of the client; an unknown id costs the same MAC work) and its features.
//! 2. **The parameters, from their one place.** On POST (and any method but GET and HEAD)
//!    with an `application/x-www-form-urlencoded` body (any letter case, any `; charset`), the
//!    body's, read under [`VerifyLayerBuilder::body_limit`] and
//!    [`VerifyLayerBuilder::body_timeout`]; otherwise the query string's. Refused: parameters
//!    in both places, a form body on GET or HEAD, a repeated `client_id` or `access_token`
//!    (400 `ambiguous_parameters`), a `Content-Type` that begins like the form type without
//!    being it (415 `unsupported_body`), text that is not UTF-8, and, with
//!    [`VerifyLayerBuilder::strict_parameters`], keys or values that could be regrouped
//!    without changing the string to sign.
//! 3. **With the parameters.** The signature, against every secret of the client; the
//!    features; who acts ([above](#who-acts)); the replay guard, if any. Login-client
//!    operations: the `client_id`, and the `access_token` where the operation takes one. A
//!    user's token: its grant, who acts, the client it was issued to.
//!
//! **Bodies no signature covers.** A janrain-signed request signs its parameters, never a
//! JSON or multipart body, and a user's token covers no body either: such a non-empty body is
//! refused (415 `unsupported_body`) unless [`VerifyLayerBuilder::allow_unsigned_bodies`] or
//! [`Operation::allow_unsigned_body`](crate::permissions::Operation::allow_unsigned_body)
//! allows it. **Every** body that passes the layer is read by it, under the body limit and
//! timeout: a `Content-Length` over the limit is refused before reading, a body that grows
//! past it is refused then (413), one too slow at the timeout (408).
//!
//! The handler receives an [`AuthenticatedClient`] and the [`VerifiedParams`] as request
//! extensions (and, with the `axum` feature, extractors). A form body is handed on exactly as
//! it arrived, with the form type spelled as axum reads it, so `Form`, `RawForm` and `String`
//! extractors work too and read what was checked.
//!
//! # Nested routers and prefixes
//!
//! The signature covers the path the client called. If the API lives under `/capture`:
//!
//! * layer inside the nest, `Router::new().nest("/capture", api.layer(layer))`: build it with
//!   `.nested_under("/capture")` (axum strips the prefix before the layer sees the path);
//! * layer on the outer router, `outer.layer(layer)`: build it with `.strip_prefix("/capture")`.
//!
//! Clients that sign the path without the prefix (a base-path setting of the client
//! middleware) match a layer configured with neither.
//!
//! # Errors
//!
//! Every refusal is the Janrain envelope (`stat`, `code`, `error`, `error_description`,
//! `request_id`) with the status, code and error of the table in [`crate::error`], a
//! `WWW-Authenticate` challenge on 401, and the layer's `Date`. An unknown client id and a
//! wrong Basic secret get the same answer (402); a known id with a wrong signature gets 431,
//! as Janrain answers, so client ids are not secret.
//!
//! # Observability
//!
//! Each request runs in a `janrain_verify` debug span with the fields `operation`, `client_id`,
//! `auth` and `outcome` (`accepted` or the [`RejectionKind`]). Secrets, signatures, tokens and
//! header values are never recorded.

mod bodies;
#[cfg(feature = "axum")]
mod extract;
mod layer;
#[cfg(feature = "redis")]
mod redis_conn;
mod rejection;
pub mod replay;
mod store;
#[cfg(feature = "tower-http")]
mod tower_http;
mod verified;
mod verify;

use std::borrow::Cow;
use std::sync::Arc;

use crate::credentials::{ApiClient, ClientId};
use crate::permissions::{AuthMethod, Features};

pub use bodies::{ResponseBody, VerifiedBody};
#[cfg(feature = "axum")]
pub use extract::MissingAuthentication;
pub use layer::{
    DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_AGE, DEFAULT_MAX_AHEAD, ResponseFuture,
    Verify, VerifyLayer, VerifyLayerBuilder,
};
pub use rejection::{Rejection, RejectionKind};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use store::redis as redis_store;
pub use store::{
    ClientStore, ClientsFile, Deferred, LoadError, MemoryStore, MemoryTokens, SharedTokens,
    StoreError, StoreFuture, TokenGrant, TokenIssuer, TokenRecord, TokenVerifier,
};
pub use verified::VerifiedParams;
pub use verify::UnknownPaths;

/// The mark of a request the layer let through without authenticating it: a CORS preflight,
/// an operation open to anyone called without credentials, a path let through by
/// [`UnknownPaths::Allow`]. The extractors tell such a request (401) from one that never
/// passed the layer (503).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unauthenticated;

/// The client a request authenticated as: what the layer hands the handler, as a request
/// extension (and an axum extractor with the `axum` feature).
#[derive(Clone, Debug)]
pub struct AuthenticatedClient {
    client: Arc<ApiClient>,
    method: AuthMethod,
    operation: Cow<'static, str>,
    user: Option<Arc<str>>,
}

impl AuthenticatedClient {
    pub(crate) fn new(
        client: Arc<ApiClient>,
        method: AuthMethod,
        operation: Cow<'static, str>,
    ) -> Self {
        AuthenticatedClient {
            client,
            method,
            operation,
            user: None,
        }
    }

    pub(crate) fn with_user(mut self, user: Arc<str>) -> Self {
        self.user = Some(user);
        self
    }

    /// An authenticated client for a handler unit test, as the layer would hand it on after
    /// `method` authenticated `client` for `operation` (and, for janrain-oauth, the `user`
    /// the access token stands for). Nothing is checked: use it only where no layer runs.
    pub fn for_test(
        client: Arc<ApiClient>,
        method: AuthMethod,
        operation: impl Into<String>,
        user: Option<&str>,
    ) -> Self {
        AuthenticatedClient {
            client,
            method,
            operation: Cow::Owned(operation.into()),
            user: user.map(Arc::from),
        }
    }

    /// The user (`uuid`) a request made with a user's access token acts for (janrain-oauth, or
    /// a login client's operation called with a token): the user the token was issued for.
    /// `None` for every other method. A handler acts on this user's record only; the layer has
    /// already refused every parameter that addresses another record (see the [module
    /// documentation](self#who-acts)).
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The client id.
    pub fn client_id(&self) -> &ClientId {
        self.client.id()
    }

    /// The client's features.
    pub fn features(&self) -> Features {
        self.client.features()
    }

    /// How the request authenticated: Basic, Signature, OAuth, LoginClient,
    /// LoginClientWithToken or FormCredentials.
    pub fn method(&self) -> AuthMethod {
        self.method
    }

    /// The operation path (without any prefix).
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// The whole client (its secrets stay redacted in `Debug`).
    pub fn client(&self) -> &Arc<ApiClient> {
        &self.client
    }
}
