//! Inbound verification: a tower layer for axum (or any tower HTTP server) that accepts exactly
//! the requests Identity Cloud would accept and answers every other one with a Janrain-style
//! error.
//!
//! ```no_run
//! use axum::{Router, routing::post};
//! use janrain_auth::server::{AuthenticatedClient, ClientsFile, VerifyLayer};
//!
//! async fn find(client: AuthenticatedClient, body: String) -> String {
//!     format!("{} may search; the form body is still here: {body}", client.client_id())
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let (store, tokens) = ClientsFile::load("clients.json")?.into_parts();
//! let app: Router = Router::new()
//!     .route("/entity.find", post(find))
//!     .layer(VerifyLayer::builder(store).token_verifier(tokens).build());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! # What it checks, in order
//!
//! 1. **Without the body.** The operation, from the path ([`VerifyLayerBuilder::nested_under`]
//!    and [`VerifyLayerBuilder::strip_prefix`] for APIs below a prefix) in the catalog or your
//!    additions; the `Authorization` header (janrain-signed or Basic) and whether the operation
//!    accepts that method; for janrain-signed, the `Date` and the date window; the client, from
//!    the [`ClientStore`]; for Basic, the secret (constant time, every secret of the client) and
//!    the client's features.
//! 2. **With the body**, only when needed (janrain-signed, and login-client operations whose
//!    `client_id` may be in the form): an `application/x-www-form-urlencoded` body is read under
//!    [`VerifyLayerBuilder::body_limit`] (a `Content-Length` over it is refused before reading)
//!    and [`VerifyLayerBuilder::body_timeout`]; the parameters of the query string and the form
//!    are decoded once; the signature is checked against every secret of the client; the
//!    features; the replay guard, if any. The body is then **put back** unchanged for the
//!    handler. Other bodies (JSON, ...) are not parameters and are never read.
//!
//! The handler receives an [`AuthenticatedClient`] extension (and, with the `axum` feature,
//! extractor).
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
//! Every refusal is the Janrain envelope with the status, code and error of the table in
//! [`crate::error`], a `WWW-Authenticate` challenge on 401, and the layer's `Date`. Unknown
//! clients and wrong secrets get the same answer.
//!
//! # Observability
//!
//! Each request runs in a `janrain_verify` debug span with the fields `operation`, `client_id`,
//! `auth` and `outcome` (`accepted` or the [`RejectionKind`]). Secrets, signatures and header
//! values are never recorded.

#[cfg(feature = "axum")]
mod extract;
mod layer;
#[cfg(feature = "redis")]
mod redis_conn;
mod rejection;
pub mod replay;
mod store;
mod verify;

use std::borrow::Cow;
use std::sync::Arc;

use crate::credentials::{ApiClient, ClientId};
use crate::permissions::{AuthMethod, Features};

#[cfg(feature = "axum")]
pub use extract::MissingAuthentication;
pub use layer::{
    DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_AGE, DEFAULT_MAX_AHEAD, ResponseFuture,
    Verify, VerifyLayer, VerifyLayerBuilder,
};
pub use rejection::{Rejection, RejectionKind};
#[cfg(feature = "redis")]
pub use replay::RedisReplayGuard;
pub use replay::{MemoryReplayGuard, ReplayGuard, ReplayGuardError, ReplayKey, ReplayVerdict};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use store::redis as redis_store;
#[cfg(feature = "redis")]
pub use store::redis::{ImportError, Imported, RedisClientStore, RedisStoreBuilder, RedisTokens};
pub use store::{
    BoxFuture, ClientStore, ClientsFile, LoadError, MemoryStore, MemoryTokens, StoreError,
    StoreFuture, TokenGrant, TokenRecord, TokenVerifier,
};
pub use verify::UnknownPaths;

/// The client a request authenticated as: what the layer hands the handler, as a request
/// extension (and an axum extractor with the `axum` feature).
#[derive(Clone, Debug)]
pub struct AuthenticatedClient {
    client: Arc<ApiClient>,
    method: AuthMethod,
    operation: Cow<'static, str>,
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
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &ClientId {
        self.client.id()
    }

    /// The client's features.
    pub fn features(&self) -> Features {
        self.client.features()
    }

    /// How the request authenticated: Basic, Signature, LoginClient or LoginClientWithToken.
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
