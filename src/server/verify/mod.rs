//! The verification procedure: a driver that only drives, and one module per step.
//!
//! | step | module | may wait for |
//! |---|---|---|
//! | the operation: path, prefix, catalog, method | `operation` | |
//! | the request's headers, read in one pass (the credentials' and the body's); what the credentials claim: the `Authorization` header, or the ways without one | `claim` | |
//! | janrain-signed: the `Date` and its window, the client, the signature, the features, the replay guard | `signed` | the client store, the replay guard |
//! | Basic: the client, its secret, its features | `basic` | the client store |
//! | a user's access token (janrain-oauth): its grant, its client | `user_token` | the token verifier, the client store |
//! | a login client, and the access token issued to it | `login_client` | the client store, the token verifier |
//! | legacy form credentials | `form_credentials` | the client store |
//! | the parameters: their one place, the body, the rules every list passes | `parameters` | the body |
//! | who acts, and the parameters agreeing with it | `principal` | |
//!
//! [`Verification`] (in `driver`) runs them in order, as far as each can go when polled:
//!
//! 1. **Phase one, without the body** (synchronous): the operation, then the credentials the
//!    request claims. janrain-signed and Basic name their client in the header, so the client
//!    store is asked now, and the answer awaited before the body is read ([`Claimed::poll_client`]).
//! 2. **The parameters**, from their one place: the query string, or a form body read under
//!    the limit and the timeout. Every other body is read too, under the same bounds, so that
//!    every mounting of the layer hands the handler the same bytes and refuses alike.
//! 3. **Phase two, with the parameters** ([`Credentials::poll_decide`]): each kind decides,
//!    waiting where it must (a token's grant, a login client, the replay guard), and names
//!    who acts ([`Accepted`]); [`principal::check`] holds the parameters to it.
//!
//! Each step that waits holds a [`StoreFuture`](super::StoreFuture): a store with the answer
//! at once (the in-memory ones) gives it in the same poll, with nothing allocated, so a
//! signed form POST to a server with its clients in memory is verified in one poll. Nothing
//! runs twice.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::request::Parts;

mod basic;
mod claim;
mod driver;
mod form_credentials;
mod login_client;
mod operation;
mod parameters;
mod principal;
mod signed;
mod user_token;

use super::replay::ReplayGuard;
use super::store::{ClientStore, StoreError, StoreFuture, TokenRecord, TokenVerifier};
use super::{Rejection, RejectionKind};
use crate::credentials::{ApiClient, ClientId};
use crate::params::ParamList;
use crate::permissions::{AuthMethod, AuthMethods, Catalog, Operation};
use crate::scheme::{Canonicalization, Clock};

pub(crate) use driver::Verification;
pub(crate) use operation::Prefix;
pub use operation::UnknownPaths;

/// The layer's configuration, shared by every clone of the service.
pub(crate) struct Verifier {
    pub(crate) store: Arc<dyn ClientStore>,
    pub(crate) tokens: Option<Arc<dyn TokenVerifier>>,
    pub(crate) replay: Option<Arc<dyn ReplayGuard>>,
    pub(crate) replay_fail_open: bool,
    pub(crate) catalog: Catalog,
    pub(crate) unknown: UnknownPaths,
    pub(crate) prefix: Prefix,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) max_age: Duration,
    pub(crate) max_ahead: Duration,
    pub(crate) body_limit: usize,
    pub(crate) body_timeout: Duration,
    pub(crate) max_params: usize,
    pub(crate) forms: Vec<Canonicalization>,
    pub(crate) janrain_status: bool,
    pub(crate) enforce_methods: bool,
    pub(crate) realm: Arc<str>,
    pub(crate) strict_parameters: bool,
    pub(crate) allow_unsigned_bodies: bool,
    pub(crate) form_credentials: bool,
}

/// The client store's answer, as a step waits for it.
pub(super) type ClientLookup = StoreFuture<Result<Option<Arc<ApiClient>>, StoreError>>;

/// The token verifier's answer, as a step waits for it.
pub(super) type GrantLookup = StoreFuture<Result<Option<TokenRecord>, StoreError>>;

/// A verified request: its parts (with the extensions the handler reads) and its body, as the
/// layer read it (empty when there was none).
pub(crate) type Verified = (Parts, Bytes);

/// What phase one established without reading the body. It borrows nothing, so that it can
/// wait for the body beside the request.
struct Established {
    called: operation::Called,
    claimed: Claimed,
}

/// The credentials a request claims, as phase one found them.
enum Claimed {
    /// In the `Authorization` header: the kind is known.
    Header(Credentials),
    /// No header: the parameters say which of these ways the request takes.
    NoHeader(claim::Ways),
}

impl Claimed {
    /// The client a header names, from the store (janrain-signed and Basic ask before the body
    /// is read; the other kinds have nothing to wait for here).
    fn poll_client(
        &mut self,
        verifier: &Verifier,
        operation: &Operation,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), Rejection>> {
        match self {
            Claimed::Header(Credentials::Signed(signed)) => {
                signed.poll_client(verifier, operation.auth(), cx)
            }
            Claimed::Header(Credentials::Basic(basic)) => {
                basic.poll_client(verifier, operation, cx)
            }
            _ => Poll::Ready(Ok(())),
        }
    }
}

/// A request's credentials, each kind holding how far its checks have gone.
enum Credentials {
    Signed(signed::Signed),
    Basic(basic::Basic),
    UserToken(user_token::UserToken),
    LoginClient(login_client::LoginClient),
    FormCredentials(form_credentials::FormCredentials),
    /// An operation open to anyone, called without credentials.
    Open,
}

impl Credentials {
    /// Phase two: decide with the parameters, waiting where the kind must.
    fn poll_decide(
        &mut self,
        verifier: &Verifier,
        request: &Decision<'_>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Accepted, Rejection>> {
        match self {
            Credentials::Signed(signed) => signed.poll_decide(verifier, request, cx),
            Credentials::Basic(basic) => Poll::Ready(basic.decide(request)),
            Credentials::UserToken(token) => token.poll_decide(verifier, request, cx),
            Credentials::LoginClient(login) => login.poll_decide(verifier, request, cx),
            Credentials::FormCredentials(form) => form.poll_decide(verifier, request, cx),
            Credentials::Open => Poll::Ready(open(request)),
        }
    }
}

/// What phase two decides on.
struct Decision<'a> {
    params: &'a ParamList,
    operation: &'a Operation,
    /// The path the client signed.
    called_path: &'a str,
}

impl Decision<'_> {
    /// The methods the operation accepts, for the challenges of a refusal.
    fn accepts(&self) -> AuthMethods {
        self.operation.auth()
    }
}

/// Who an accepted request acts for, and what it hands on.
struct Accepted {
    /// The client that authenticated (none for an operation open to anyone).
    client: Option<Arc<ApiClient>>,
    method: AuthMethod,
    /// The user a user's access token stands for.
    user: Option<Arc<str>>,
    /// The body to hand on, where it is not the one that arrived (a secret taken out).
    /// Boxed: it is rare (legacy form credentials), and an answer that holds a parameter
    /// list inline would be copied at every step it is returned through.
    rewritten: Option<Box<(ParamList, Bytes)>>,
}

impl Accepted {
    /// `client`, acting as itself.
    fn client(client: Arc<ApiClient>, method: AuthMethod) -> Self {
        Accepted {
            client: Some(client),
            method,
            user: None,
            rewritten: None,
        }
    }
}

/// An open operation called without credentials: nothing to check but the parameters.
fn open(request: &Decision<'_>) -> Result<Accepted, Rejection> {
    let principal = principal::Principal {
        method: AuthMethod::None,
        client: None,
        user: None,
    };
    principal::check(request.params, principal, request.accepts())?;
    Ok(Accepted {
        client: None,
        method: AuthMethod::None,
        user: None,
        rewritten: None,
    })
}

impl Verifier {
    /// Give a refusal the layer's answer settings (status style, realm, the clock's time).
    pub(crate) fn finish(&self, rejection: Rejection) -> Rejection {
        rejection.answered_as(self.janrain_status, self.realm.clone(), self.clock.now())
    }

    /// Whether `client` holds a feature `op` allows.
    fn permit(&self, client: &ApiClient, op: &Operation) -> Result<(), Rejection> {
        // An operation anyone may call without credentials is open to every client with them.
        if op.permits(client.features()) || op.accepts(AuthMethod::None) {
            return Ok(());
        }
        Err(refusal(
            RejectionKind::PermissionDenied,
            format!(
                "this client does not have permission to call {}; it needs one of the features: {}",
                op.path(),
                op.allowed()
            ),
            op.auth(),
        ))
    }

    /// The client store's answer: the client, if it knows it; a store that failed is a 503
    /// (its error logged, never the request's credentials).
    fn stored_client(
        &self,
        answer: Result<Option<Arc<ApiClient>>, StoreError>,
    ) -> Result<Option<Arc<ApiClient>>, Rejection> {
        answer.map_err(|e| {
            tracing::warn!(error = %e, "client store failed");
            Rejection::new(
                RejectionKind::StoreUnavailable,
                "the client store is unavailable; try again later",
            )
        })
    }
}

impl Verifier {
    /// Ask the store for the client the `client_id` parameter names (at most one, checked with
    /// the parameters): `missing` when there is none, 402 when it is no client id.
    fn ask_named_client(
        &self,
        request: &Decision<'_>,
        missing: impl FnOnce() -> Rejection,
    ) -> Result<ClientLookup, Rejection> {
        let raw = request.params.get(b"client_id").ok_or_else(missing)?;
        let id = std::str::from_utf8(raw)
            .ok()
            .and_then(|id| ClientId::new(id).ok())
            .ok_or_else(|| invalid_credentials(request.accepts()))?;
        tracing::Span::current().record("client_id", id.as_str());
        Ok(self.store.client(id.as_str()))
    }
}

/// A refusal that names the methods the operation accepts (for its `WWW-Authenticate`).
fn refusal(kind: RejectionKind, text: impl Into<String>, accepts: AuthMethods) -> Rejection {
    Rejection::new(kind, text).accepting(accepts)
}

/// The refusal of credentials naming no client the store knows, or a wrong Basic secret: the
/// same answer for both.
fn invalid_credentials(accepts: AuthMethods) -> Rejection {
    refusal(
        RejectionKind::InvalidCredentials,
        "the client id does not exist or the client secret was wrong",
        accepts,
    )
}

/// How to authenticate to an operation that accepts `accepts`, in words.
fn how_to_authenticate(accepts: AuthMethods) -> String {
    let mut ways = Vec::new();
    if accepts.contains(AuthMethod::Basic) {
        ways.push("Basic (client id and secret)");
    }
    if accepts.contains(AuthMethod::Signature) {
        ways.push("janrain-signed (Authorization: Signature and Date)");
    }
    if accepts.contains(AuthMethod::OAuth) {
        ways.push("a user's access token (Authorization: OAuth, or the access_token parameter)");
    }
    if accepts.contains(AuthMethod::LoginClientWithToken) {
        ways.push("no Authorization header, with the client_id of a login client and an access_token issued to it");
    } else if accepts.contains(AuthMethod::LoginClient) {
        ways.push("no Authorization header, with the client_id parameter of a login client");
    }
    if accepts.contains(AuthMethod::None) {
        ways.push("no authentication");
    }
    if ways.is_empty() {
        return "it accepts no authentication method".into();
    }
    format!("use {}", ways.join(" or "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refusal that tells how to authenticate names every way the operation accepts, and
    /// only those.
    #[test]
    fn how_to_authenticate_names_each_accepted_way() {
        assert_eq!(
            how_to_authenticate(AuthMethods::HEADER),
            "use Basic (client id and secret) or janrain-signed (Authorization: Signature and Date)"
        );
        assert_eq!(
            how_to_authenticate(AuthMethod::OAuth.into()),
            "use a user's access token (Authorization: OAuth, or the access_token parameter)"
        );
        // A login client's operation that takes a token says so, once.
        assert_eq!(
            how_to_authenticate(AuthMethod::LoginClient | AuthMethod::LoginClientWithToken),
            "use no Authorization header, with the client_id of a login client and an \
             access_token issued to it"
        );
        assert_eq!(
            how_to_authenticate(AuthMethod::LoginClient | AuthMethod::None),
            "use no Authorization header, with the client_id parameter of a login client or \
             no authentication"
        );
        assert_eq!(
            how_to_authenticate(AuthMethods::EMPTY),
            "it accepts no authentication method"
        );
    }
}
