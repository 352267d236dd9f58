//! The verification procedure, in the two phases the module documentation describes, driven
//! by one future, [`Verification`] (in `future`).
//!
//! * [`Verifier::phase_one`] needs no body: the operation, the method, the credentials in the
//!   `Authorization` header, the `Date` and its window, the client (and for Basic its secret
//!   and features). It returns what it [`Established`].
//! * The parameters come from their one place ([`Verifier::plan_parameters`]: the query
//!   string, or a form body read under the limit) and pass the parameter rules.
//! * [`Verifier::phase_two`] then finishes: the signature and the features at once
//!   ([`Verifier::settle`]), the replay guard, or the login client and its access token
//!   ([`Verifier::settle_later`]).
//!
//! A refusal of a known operation is built with [`refusal`], so that each answer names the
//! methods the operation accepts.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::request::Parts;
use http_body::Body;

mod credentials;
mod future;
mod parameters;
mod phase_two;
mod principal;

use super::replay::ReplayGuard;
use super::store::{ClientStore, TokenVerifier};
use super::{Rejection, RejectionKind};
use crate::body::BoxError;
use crate::credentials::ApiClient;
use crate::params::ParamList;
use crate::permissions::{AuthMethod, AuthMethods, Catalog, Operation};
use crate::scheme::{
    Authorization, Canonicalization, Clock, DATETIME_LEN, Datetime, SIGNATURE_LEN,
};
use credentials::store_unavailable;
pub(crate) use future::Verification;

/// The longest a replay guard is asked to keep an entry: a century, far beyond any useful date
/// window, and within what every store can express (Redis's `PX` stops at 2^63 - 1 ms).
const MAX_REPLAY_TTL: Duration = Duration::from_secs(100 * 365 * 86_400);

/// What the layer does with a path that is in neither the catalog nor the policy.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum UnknownPaths {
    /// Refuse it: 404 `unknown_operation`. The default: nothing gets through by accident.
    Deny,
    /// Let it through without authentication (for routes such as `/health` that share the
    /// router). Its body is still bounded by the body limit. Keeping such routes in a router
    /// of their own, merged beside the API's, is clearer: see the [module
    /// documentation](super#keeping-other-routes-open).
    Allow,
    /// Authenticate it as this operation (path ignored): e.g. any header auth, owner only.
    Authenticate(Operation),
}

/// Where the API sits below the root of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Prefix {
    None,
    /// The layer runs inside `Router::nest(prefix, ..)`: it sees paths without the prefix.
    Nested(String),
    /// The layer sees full paths and strips the prefix to find the operation.
    Strip(String),
}

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

/// The request body after verification: read whole (a form), or not read at all.
pub(crate) enum Held<B> {
    /// The layer read this body; here are its bytes, unchanged.
    Read(Bytes),
    /// The layer did not read the body.
    Untouched(B),
}

/// A verified request: its parts (with the [`AuthenticatedClient`] and [`VerifiedParams`]
/// extensions, where the operation authenticates) and its body.
pub(crate) type Verified<B> = (Parts, Held<B>);

/// Whether a step may wait for the client store, or must answer at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wait {
    /// Await the store.
    Allowed,
    /// Take the store's answer only if it is there at once; else stop with [`Halt::MustWait`].
    Never,
}

/// Why a step stopped short of its end.
pub(super) enum Halt {
    /// The request is refused.
    Refused(Rejection),
    /// The client store cannot answer at once (only with [`Wait::Never`]).
    MustWait,
}

impl From<Rejection> for Halt {
    fn from(rejection: Rejection) -> Self {
        Halt::Refused(rejection)
    }
}

impl Halt {
    /// The refusal of a step that was allowed to wait (and so never stops for it).
    fn refusal(self) -> Rejection {
        match self {
            Halt::Refused(rejection) => rejection,
            Halt::MustWait => store_unavailable(),
        }
    }
}

/// What phase one established without reading the body. It borrows nothing, so that it can
/// wait for the body beside the request.
struct Established {
    operation: Operation,
    /// The operation's name (static for catalog operations: no allocation).
    name: Cow<'static, str>,
    /// The path the client called, and signed, where it is not the path the layer sees.
    called_path: Option<String>,
    credentials: Credentials,
}

/// The credentials phase one found and checked as far as it can without the body.
enum Credentials {
    /// janrain-signed: the client and date are known; the signature needs the parameters.
    Signed {
        client: Arc<ApiClient>,
        signature: [u8; SIGNATURE_LEN],
        date: Datetime,
        /// The `Date` header's text, as signed.
        date_text: [u8; DATETIME_LEN],
        now: SystemTime,
    },
    /// Basic: the client is authenticated and permitted.
    Basic(Arc<ApiClient>),
    /// janrain-oauth with the token in the header: the token is checked against the
    /// parameters (no second one, the user it names).
    OAuth(zeroize::Zeroizing<String>),
    /// No header: the parameters hold the credentials, in one of the ways the operation
    /// accepts.
    Params(ParamWays),
}

/// The ways an operation without an `Authorization` header may authenticate by parameters.
#[derive(Debug, Clone, Copy)]
struct ParamWays {
    /// `client_id` + `client_secret` in a form body (legacy, opt-in).
    form_credentials: bool,
    /// An `access_token` parameter (janrain-oauth).
    oauth: bool,
    /// A login client's `client_id` (and maybe its `access_token`).
    login_client: bool,
    /// Nothing at all.
    none: bool,
}

/// What phase two established.
struct Outcome<B> {
    params: ParamList,
    held: Held<B>,
    client: Option<Arc<ApiClient>>,
    method: AuthMethod,
    user: Option<Arc<str>>,
    /// The body was rewritten (form credentials removed).
    rewritten: bool,
}

/// Phase two once the parameters are known: finished at once, or left to steps that wait.
/// Small, so that the parameters need not move through it.
enum Settled {
    /// Accepted: the client, authenticated by this method.
    Now(Arc<ApiClient>, AuthMethod),
    /// The replay guard, a token verifier or the client store must answer first.
    Later,
}

/// What phase two's waiting steps need.
struct Remainder<B> {
    params: ParamList,
    held: Held<B>,
    operation: Operation,
    credentials: Credentials,
}

impl Verifier {
    /// Read a body the layer let through untouched, so that it is bounded by the limit even
    /// where it must be handed on as its own type (see [`VerifyLayer::verify`]).
    ///
    /// [`VerifyLayer::verify`]: super::VerifyLayer::verify
    pub(crate) async fn bound<B>(&self, body: B) -> Result<B, Rejection>
    where
        B: Body + From<Bytes>,
        B::Error: Into<BoxError>,
    {
        if body.is_end_stream() || body.size_hint().exact() == Some(0) {
            return Ok(body);
        }
        match self.read_body(body, AuthMethods::HEADER).await {
            Ok(bytes) => Ok(B::from(bytes)),
            Err(rejection) => Err(self.finish(rejection)),
        }
    }

    /// Phase one: everything that needs no body. `None` for an unknown path that is let
    /// through.
    async fn phase_one(
        &self,
        parts: &Parts,
        span: &tracing::Span,
        wait: Wait,
    ) -> Result<Option<Established>, Halt> {
        let (op_path, called_path) = self.paths(parts.uri.path())?;
        span.record("operation", &*op_path);

        // The catalog's paths are static text: naming the operation costs no allocation.
        let (operation, name) = match self.catalog.get(&op_path) {
            Some(op) => (op, op.path_cow().clone()),
            None => match &self.unknown {
                UnknownPaths::Deny => {
                    return Err(Rejection::new(
                        RejectionKind::UnknownOperation,
                        format!("{op_path} is not an operation of this API"),
                    )
                    .into());
                }
                UnknownPaths::Allow => return Ok(None),
                UnknownPaths::Authenticate(op) => (op, Cow::Owned(op_path.clone().into_owned())),
            },
        };
        let accepts = operation.auth();
        if self.enforce_methods && parts.method != operation.method() {
            return Err(refusal(
                RejectionKind::MethodNotAllowed,
                format!(
                    "{op_path} is served with {}, not {}",
                    operation.method(),
                    parts.method
                ),
                accepts,
            )
            .into());
        }

        let mut headers = parts.headers.get_all(AUTHORIZATION).iter();
        let header = headers.next();
        if headers.next().is_some() {
            return Err(refusal(
                RejectionKind::MalformedCredentials,
                "send exactly one Authorization header",
                accepts,
            )
            .into());
        }
        let oauth = header.and_then(|value| oauth_token(value.as_bytes()));
        let credentials = match (header, oauth) {
            (Some(_), Some(token)) => {
                self.require(operation, AuthMethod::OAuth, "janrain-oauth (OAuth)")?;
                Credentials::OAuth(zeroize::Zeroizing::new(token.to_owned()))
            }
            (Some(value), None) => {
                let parsed = Authorization::parse(value.as_bytes()).map_err(|e| {
                    refusal(
                        RejectionKind::MalformedCredentials,
                        format!("malformed Authorization header: {e}"),
                        accepts,
                    )
                })?;
                match parsed {
                    Authorization::Signature(creds) => {
                        // The claimed id, so that refusals are traceable too (ids are not secret).
                        span.record("client_id", creds.client_id());
                        self.require(
                            operation,
                            AuthMethod::Signature,
                            "janrain-signed (Signature)",
                        )?;
                        let mut signature = [0u8; SIGNATURE_LEN];
                        signature.copy_from_slice(creds.signature().as_bytes());
                        let (date, date_text, now) = self.check_date(&parts.headers, accepts)?;
                        let client = self.lookup(creds.client_id(), accepts, wait).await?;
                        Credentials::Signed {
                            client,
                            signature,
                            date,
                            date_text,
                            now,
                        }
                    }
                    Authorization::Basic(creds) => {
                        span.record("client_id", creds.client_id().as_str());
                        self.require(operation, AuthMethod::Basic, "Basic")?;
                        let client = self
                            .basic(creds.client_id(), creds.secret().expose(), operation, wait)
                            .await?;
                        Credentials::Basic(client)
                    }
                    Authorization::Other { scheme } => {
                        return Err(refusal(
                            RejectionKind::UnsupportedAuthScheme,
                            format!(
                                "the {scheme} authorization scheme is none of Basic, Signature \
                                 (janrain-signed) and OAuth (janrain-oauth); {op_path}: {}",
                                how_to_authenticate(accepts)
                            ),
                            accepts,
                        )
                        .into());
                    }
                }
            }
            (None, _) => {
                let ways = ParamWays {
                    form_credentials: self.form_credentials && accepts.contains(AuthMethod::Basic),
                    oauth: accepts.contains(AuthMethod::OAuth),
                    login_client: accepts.contains(AuthMethod::LoginClient)
                        || accepts.contains(AuthMethod::LoginClientWithToken),
                    none: accepts.contains(AuthMethod::None),
                };
                if !(ways.form_credentials || ways.oauth || ways.login_client || ways.none) {
                    return Err(refusal(
                        RejectionKind::MissingCredentials,
                        format!(
                            "{op_path} needs credentials: {}",
                            how_to_authenticate(accepts)
                        ),
                        accepts,
                    )
                    .into());
                }
                Credentials::Params(ways)
            }
        };
        Ok(Some(Established {
            operation: operation.clone(),
            name,
            called_path: match called_path {
                Cow::Owned(path) => Some(path),
                Cow::Borrowed(_) => None,
            },
            credentials,
        }))
    }

    /// The operation path (for the catalog) and the called path (what the client signed).
    fn paths<'p>(&self, seen: &'p str) -> Result<(Cow<'p, str>, Cow<'p, str>), Rejection> {
        match &self.prefix {
            Prefix::None => Ok((Cow::Borrowed(seen), Cow::Borrowed(seen))),
            Prefix::Nested(prefix) => {
                Ok((Cow::Borrowed(seen), Cow::Owned(format!("{prefix}{seen}"))))
            }
            Prefix::Strip(prefix) => match seen.strip_prefix(prefix.as_str()) {
                Some(rest) if rest.starts_with('/') => {
                    Ok((Cow::Borrowed(rest), Cow::Borrowed(seen)))
                }
                _ => Err(Rejection::new(
                    RejectionKind::UnknownOperation,
                    format!("{seen} is not below the API prefix {prefix}"),
                )),
            },
        }
    }

    /// Whether the operation takes `method`. An operation that needs no authentication takes
    /// any valid credentials too (clients that sign every call reach it), and they are then
    /// checked like any other: a wrong signature is never ignored.
    fn require(&self, op: &Operation, method: AuthMethod, name: &str) -> Result<(), Rejection> {
        if op.accepts(method) || op.accepts(AuthMethod::None) {
            return Ok(());
        }
        Err(refusal(
            RejectionKind::AuthMethodNotAccepted,
            format!(
                "{} does not accept {name} authentication; {}",
                op.path(),
                how_to_authenticate(op.auth())
            ),
            op.auth(),
        ))
    }

    /// Give a refusal the layer's answer settings (status style, realm, the clock's time).
    pub(crate) fn finish(&self, rejection: Rejection) -> Rejection {
        rejection.answered_as(self.janrain_status, self.realm.clone(), self.clock.now())
    }
}

/// A refusal that names the methods the operation accepts (for its `WWW-Authenticate`).
fn refusal(kind: RejectionKind, text: impl Into<String>, accepts: AuthMethods) -> Rejection {
    Rejection::new(kind, text).accepting(accepts)
}

/// The token of an `Authorization: OAuth <token>` header (scheme in any letter case; the
/// token is one or more visible ASCII characters).
fn oauth_token(value: &[u8]) -> Option<&str> {
    // Most values are not OAuth: the scheme and its space are looked at before the rest.
    let (scheme, token) = value.split_at_checked(6)?;
    if !(scheme[..5].eq_ignore_ascii_case(b"OAuth") && scheme[5] == b' ') {
        return None;
    }
    let token = std::str::from_utf8(token).ok()?.trim_matches(' ');
    (!token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic())).then_some(token)
}

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
