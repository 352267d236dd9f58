//! The verification procedure, in the two phases the module documentation describes, driven
//! by one future, [`Verification`].
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
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{ACCESS_CONTROL_REQUEST_METHOD, AUTHORIZATION, DATE, ORIGIN};
use http::request::Parts;
use http::{HeaderMap, Method, Request};
use http_body::Body;
use pin_project::pin_project;

mod credentials;
mod parameters;

use super::replay::ReplayGuard;
use super::store::{BoxFuture, ClientStore, TokenVerifier};
use super::{AuthenticatedClient, Rejection, RejectionKind, VerifiedParams};
use crate::body::{self, BodyKind, BoxError, Collect};
use crate::credentials::ApiClient;
use crate::params::ParamList;
use crate::permissions::{AuthMethod, AuthMethods, Catalog, Operation};
use crate::scheme::{
    Authorization, Canonicalization, Clock, Datetime, SIGNATURE_LEN, StringToSign,
};
use credentials::store_unavailable;
use parameters::Plan;

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
enum Settled<B> {
    /// Accepted.
    Now(Outcome<B>),
    /// The replay guard, a token verifier or the client store must answer first.
    Later(Remainder<B>),
}

/// What phase two's waiting steps need.
struct Remainder<B> {
    params: ParamList,
    held: Held<B>,
    operation: Operation,
    credentials: Credentials,
}

/// The verification of one request, as a future: [`Verify`](super::Verify) and
/// [`VerifyLayer::verify`](super::VerifyLayer::verify) both await it.
///
/// Every step runs as far as it can when polled. A request whose client the store has at
/// once, whose body has fully arrived and which needs no replay guard or token verifier (a
/// typical signed form POST to a server with its clients in memory) is verified in one poll,
/// with nothing boxed. A step that must wait keeps its place: the body is read in this
/// future; a client store that cannot answer at once, the replay guard and the token checks
/// run in a boxed future of their own.
#[pin_project]
pub(crate) struct Verification<B> {
    verifier: Arc<Verifier>,
    span: tracing::Span,
    /// The request's parts, kept here from start to answer so that the stages (which move
    /// as the verification goes on) stay small; `None` once handed on.
    parts: Option<Parts>,
    #[pin]
    stage: Stage<B>,
}

// Each stage is held unboxed on purpose: boxing them is the allocation this saves.
#[allow(clippy::large_enum_variant)]
#[pin_project(project = StageProj)]
enum Stage<B> {
    /// Nothing done yet: the body.
    Start(Option<B>),
    /// Phase one waits for the client store (with the parts, given back at the end).
    PhaseOne {
        body: Option<B>,
        future: BoxFuture<'static, (Parts, Result<Option<Established>, Rejection>)>,
    },
    /// The body is being read (a form, or a body of unknown length on a signed request).
    Reading {
        waiting: Option<AwaitingBody>,
        #[pin]
        read: Collect<B>,
    },
    /// Phase two waits for the replay guard, a token verifier or the client store (with the
    /// parts, given back at the end).
    Finishing(BoxFuture<'static, (Parts, Result<Held<B>, Rejection>)>),
    /// The answer was given.
    Done,
}

/// A request whose body is being read.
struct AwaitingBody {
    established: Established,
    /// `None`: the body is a form, and holds the parameters. Else the query string's
    /// parameters (boxed: this case is rare, and the stage stays small), and the body must
    /// turn out empty.
    query: Option<Box<ParamList>>,
}

/// Where a step leaves the verification: the body to hand on (with the parts), or the stage
/// to go on with.
#[allow(clippy::large_enum_variant)]
enum Next<B> {
    Done(Result<Held<B>, Rejection>),
    Stage(Stage<B>),
}

impl<B> Verification<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// Start verifying `request` (nothing runs until the future is polled).
    pub(crate) fn new(verifier: Arc<Verifier>, request: Request<B>) -> Self {
        let span = tracing::debug_span!(
            "janrain_verify",
            operation = tracing::field::Empty,
            client_id = tracing::field::Empty,
            auth = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        let (parts, body) = request.into_parts();
        Verification {
            verifier,
            span,
            parts: Some(parts),
            stage: Stage::Start(Some(body)),
        }
    }
}

impl<B> Future for Verification<B>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// The verified request, or the refusal ready to answer with the layer's settings.
    type Output = Result<Verified<B>, Rejection>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let _entered = this.span.enter();
        let verifier = &*this.verifier;
        // Polled after its answer: it has none left to give.
        let Some(parts) = this.parts.as_mut() else {
            return Poll::Pending;
        };
        loop {
            let next = match this.stage.as_mut().project() {
                StageProj::Start(body) => match body.take() {
                    Some(body) => verifier.start(parts, body),
                    None => return Poll::Pending,
                },
                StageProj::PhaseOne { body, future } => {
                    let (given_back, established) = ready!(future.as_mut().poll(cx));
                    *parts = given_back;
                    match body.take() {
                        Some(body) => verifier.after_phase_one(parts, body, established),
                        None => return Poll::Pending,
                    }
                }
                StageProj::Reading { waiting, read } => {
                    let read = ready!(read.poll(cx));
                    match waiting.take() {
                        Some(waiting) => verifier.after_read(parts, waiting, read),
                        None => return Poll::Pending,
                    }
                }
                StageProj::Finishing(future) => {
                    let (given_back, held) = ready!(future.as_mut().poll(cx));
                    *parts = given_back;
                    Next::Done(held)
                }
                StageProj::Done => return Poll::Pending,
            };
            match next {
                Next::Stage(stage) => this.stage.set(stage),
                Next::Done(result) => {
                    this.stage.set(Stage::Done);
                    let result = match this.parts.take() {
                        Some(parts) => result.map(|held| (parts, held)),
                        None => return Poll::Pending,
                    };
                    return Poll::Ready(verifier.answered(result));
                }
            }
        }
    }
}

impl<B> fmt::Debug for Verification<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verification").finish_non_exhaustive()
    }
}

/// The parts of a request, taken for a step that waits in a boxed future (which gives them
/// back); an empty request's parts stand in meanwhile.
fn take_parts(parts: &mut Parts) -> Parts {
    std::mem::replace(parts, Request::new(()).into_parts().0)
}

/// Poll `future` once, for steps that never wait (the store lookups of [`Wait::Never`]):
/// `None` if it did not finish, which such a step never does.
fn at_once<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(std::task::Waker::noop()))
    {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

impl Verifier {
    /// Record the outcome in the span; a refusal comes back ready to answer with the layer's
    /// settings.
    fn answered<B>(
        &self,
        result: Result<Verified<B>, Rejection>,
    ) -> Result<Verified<B>, Rejection> {
        let span = tracing::Span::current();
        match result {
            Ok(verified) => {
                span.record("outcome", "accepted");
                tracing::debug!("request accepted");
                Ok(verified)
            }
            Err(rejection) => {
                span.record("outcome", rejection.kind().as_str());
                tracing::debug!(reason = %rejection.kind(), "request refused");
                Err(self.finish(rejection))
            }
        }
    }

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

    /// The first step: phase one, if the store answers at once; else phase one waits for it
    /// in a boxed future (and asks the store again there: a store's future does nothing until
    /// it is polled, and the one it gave first was not).
    fn start<B>(self: &Arc<Self>, parts: &mut Parts, body: B) -> Next<B>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        // Nothing inside the layer (a trace, a log of headers) may print the credentials.
        mark_sensitive(&mut parts.headers);
        if is_preflight(parts) {
            // A CORS preflight carries no credentials and no parameters: CORS answers it. It
            // goes on with no body and no extensions, so a handler it reaches (a route taking
            // OPTIONS) has nothing unverified to act on.
            return Next::Done(Ok(Held::Read(Bytes::new())));
        }
        match at_once(self.phase_one(parts, Wait::Never)) {
            Some(Ok(established)) => self.after_phase_one(parts, body, Ok(established)),
            Some(Err(Halt::Refused(rejection))) => Next::Done(Err(rejection)),
            Some(Err(Halt::MustWait)) | None => {
                let verifier = self.clone();
                let parts = take_parts(parts);
                let future = Box::pin(async move {
                    let established = verifier
                        .phase_one(&parts, Wait::Allowed)
                        .await
                        .map_err(Halt::refusal);
                    (parts, established)
                });
                Next::Stage(Stage::PhaseOne {
                    body: Some(body),
                    future,
                })
            }
        }
    }

    /// After phase one: the parameters, read from the body where they are there.
    fn after_phase_one<B>(
        self: &Arc<Self>,
        parts: &mut Parts,
        body: B,
        established: Result<Option<Established>, Rejection>,
    ) -> Next<B>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let established = match established {
            Ok(Some(established)) => established,
            Ok(None) => {
                // An unknown path let through (`UnknownPaths::Allow`).
                return Next::Done(
                    self.check_declared_length(&parts.headers)
                        .map(|_| Held::Untouched(body)),
                );
            }
            Err(rejection) => return Next::Done(Err(rejection)),
        };
        let op = &established.operation;
        let signed = matches!(established.credentials, Credentials::Signed { .. });
        let unsigned_body_allowed = self.allow_unsigned_bodies || op.allows_unsigned_body();
        match self.plan_parameters(parts, body, signed && !unsigned_body_allowed, op.auth()) {
            Err(rejection) => Next::Done(Err(rejection)),
            Ok(Plan::Ready(params, held)) => self.phase_two(parts, params, held, established),
            Ok(Plan::Read { query, body }) => Next::Stage(Stage::Reading {
                read: self.read(body),
                waiting: Some(AwaitingBody { established, query }),
            }),
        }
    }

    /// After the body was read: its parameters, then phase two.
    fn after_read<B>(
        self: &Arc<Self>,
        parts: &mut Parts,
        waiting: AwaitingBody,
        read: Result<Bytes, body::CollectError>,
    ) -> Next<B>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let AwaitingBody { established, query } = waiting;
        let accepts = established.operation.auth();
        let read = read
            .map_err(|e| self.read_refusal(e, accepts))
            .and_then(|bytes| self.parameters_read(query, bytes, accepts));
        match read {
            Ok((params, held)) => self.phase_two(parts, params, held, established),
            Err(rejection) => Next::Done(Err(rejection)),
        }
    }

    /// Phase two: what needed the parameters, at once where nothing must wait.
    fn phase_two<B>(
        self: &Arc<Self>,
        parts: &mut Parts,
        params: ParamList,
        held: Held<B>,
        established: Established,
    ) -> Next<B>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let name = established.name.clone();
        match self.settle(parts, params, held, established) {
            Err(rejection) => Next::Done(Err(rejection)),
            Ok(Settled::Now(outcome)) => Next::Done(Ok(self.conclude(parts, name, outcome))),
            Ok(Settled::Later(remainder)) => {
                let verifier = self.clone();
                let mut parts = take_parts(parts);
                Next::Stage(Stage::Finishing(Box::pin(async move {
                    let held = match verifier.settle_later(&parts, remainder).await {
                        Ok(outcome) => Ok(verifier.conclude(&mut parts, name, outcome)),
                        Err(rejection) => Err(rejection),
                    };
                    (parts, held)
                })))
            }
        }
    }

    /// Hand the verified request on: its extensions, and the `Content-Length` of a body that
    /// was rewritten.
    fn conclude<B>(
        &self,
        parts: &mut Parts,
        name: Cow<'static, str>,
        outcome: Outcome<B>,
    ) -> Held<B> {
        let span = tracing::Span::current();
        span.record("auth", outcome.method.as_str());
        if let Some(client) = outcome.client {
            span.record("client_id", client.id().as_str());
            let mut authenticated = AuthenticatedClient::new(client, outcome.method, name);
            if let Some(user) = outcome.user {
                authenticated = authenticated.with_user(user);
            }
            parts.extensions.insert(authenticated);
        }
        if outcome.rewritten
            && let Held::Read(bytes) = &outcome.held
        {
            // The body handed on is not the one that arrived (a secret was taken out).
            parts
                .headers
                .insert(http::header::CONTENT_LENGTH, bytes.len().into());
        }
        parts.extensions.insert(VerifiedParams::new(outcome.params));
        outcome.held
    }

    /// Phase one: everything that needs no body. `None` for an unknown path that is let
    /// through.
    async fn phase_one(&self, parts: &Parts, wait: Wait) -> Result<Option<Established>, Halt> {
        let (op_path, called_path) = self.paths(parts.uri.path())?;
        let span = tracing::Span::current();
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
                        let (date, now) = self.check_date(&parts.headers, accepts)?;
                        let client = self.lookup(creds.client_id(), accepts, wait).await?;
                        Credentials::Signed {
                            client,
                            signature,
                            date,
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

    /// Phase two's checks that need no waiting: the signature and the features of a
    /// janrain-signed request, an OAuth header's token against the parameters. What must wait
    /// is left to [`Self::settle_later`].
    fn settle<B>(
        &self,
        parts: &Parts,
        params: ParamList,
        held: Held<B>,
        established: Established,
    ) -> Result<Settled<B>, Rejection> {
        let op = &established.operation;
        let accepts = op.auth();
        let later = |params, held, established: Established| {
            Settled::Later(Remainder {
                params,
                held,
                operation: established.operation,
                credentials: established.credentials,
            })
        };
        match &established.credentials {
            Credentials::Signed {
                client, signature, ..
            } => {
                // Phase one checked that there is exactly one Date, and that it parses.
                let date_text = parts
                    .headers
                    .get(DATE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let called_path = established
                    .called_path
                    .as_deref()
                    .unwrap_or(parts.uri.path());
                let sts = StringToSign::new(called_path, date_text, &params);
                if client
                    .verify_signature(&sts, &self.forms, signature)
                    .is_none()
                {
                    return Err(refusal(
                        RejectionKind::SignatureMismatch,
                        "the request signature we calculated does not match the signature you \
                         provided; sign \"endpoint\\ndatetime\\n\" plus every parameter as a \
                         sorted key=value line ending in \\n, with the client secret, HMAC-SHA1, \
                         base64",
                        accepts,
                    ));
                }
                self.permit(client, op)?;
                if self.replay.is_some() {
                    return Ok(later(params, held, established));
                }
                let client = client.clone();
                Ok(Settled::Now(accepted(
                    params,
                    held,
                    client,
                    AuthMethod::Signature,
                )))
            }
            Credentials::Basic(client) => {
                let client = client.clone();
                Ok(Settled::Now(accepted(
                    params,
                    held,
                    client,
                    AuthMethod::Basic,
                )))
            }
            Credentials::OAuth(_) => {
                if params.get(b"access_token").is_some() {
                    return Err(refusal(
                        RejectionKind::AmbiguousParameters,
                        "the access token is both in the Authorization header and in the \
                         access_token parameter; send it once",
                        accepts,
                    ));
                }
                Ok(later(params, held, established))
            }
            Credentials::Params(_) => Ok(later(params, held, established)),
        }
    }

    /// Phase two's steps that wait: the replay guard, the access token of an OAuth header,
    /// and the credentials given as parameters.
    async fn settle_later<B>(
        &self,
        parts: &Parts,
        remainder: Remainder<B>,
    ) -> Result<Outcome<B>, Rejection> {
        let Remainder {
            params,
            held,
            operation: op,
            credentials,
        } = remainder;
        let op = &op;
        let accepts = op.auth();
        match credentials {
            Credentials::Signed {
                client,
                signature,
                date,
                now,
            } => {
                if let Some(guard) = &self.replay {
                    self.record(guard.as_ref(), client.id(), &signature, date, now, accepts)
                        .await?;
                }
                Ok(accepted(params, held, client, AuthMethod::Signature))
            }
            Credentials::Basic(client) => Ok(accepted(params, held, client, AuthMethod::Basic)),
            Credentials::OAuth(token) => self.oauth(&token, params, held, op).await,
            Credentials::Params(ways) => {
                // Form credentials come from a form body only (never the query string).
                let form_body = matches!(held, Held::Read(_))
                    && body::body_kind(&parts.headers) == BodyKind::Form;
                if ways.form_credentials && form_body && params.get(b"client_secret").is_some() {
                    return self.form_credentials(params, op).await;
                }
                if ways.oauth
                    && let Some(token) = params.get(b"access_token")
                {
                    // Parameters are UTF-8 (checked with the rest).
                    let token = std::str::from_utf8(token).unwrap_or_default().to_owned();
                    let token = zeroize::Zeroizing::new(token);
                    return self.oauth(&token, params, held, op).await;
                }
                if ways.login_client {
                    let (client, method) = self.login_client(&params, op).await?;
                    return Ok(accepted(params, held, client, method));
                }
                if ways.none {
                    return Ok(Outcome {
                        params,
                        held,
                        client: None,
                        method: AuthMethod::None,
                        user: None,
                        rewritten: false,
                    });
                }
                Err(refusal(
                    RejectionKind::MissingCredentials,
                    format!(
                        "{} needs credentials: {}",
                        op.path(),
                        how_to_authenticate(accepts)
                    ),
                    accepts,
                ))
            }
        }
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

/// An accepted request's outcome for `client`, authenticated by `method`.
fn accepted<B>(
    params: ParamList,
    held: Held<B>,
    client: Arc<ApiClient>,
    method: AuthMethod,
) -> Outcome<B> {
    Outcome {
        params,
        held,
        client: Some(client),
        method,
        user: None,
        rewritten: false,
    }
}

/// A refusal that names the methods the operation accepts (for its `WWW-Authenticate`).
fn refusal(kind: RejectionKind, text: impl Into<String>, accepts: AuthMethods) -> Rejection {
    Rejection::new(kind, text).accepting(accepts)
}

/// Whether the request is a CORS preflight: `OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`, which browsers send without credentials or parameters.
fn is_preflight(parts: &Parts) -> bool {
    parts.method == Method::OPTIONS
        && parts.headers.contains_key(ORIGIN)
        && parts.headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD)
}

/// The token of an `Authorization: OAuth <token>` header (scheme in any letter case; the
/// token is one or more visible ASCII characters).
fn oauth_token(value: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(value).ok()?;
    let (scheme, token) = text.split_once(' ')?;
    let token = token.trim_matches(' ');
    (scheme.eq_ignore_ascii_case("OAuth")
        && !token.is_empty()
        && token.bytes().all(|b| b.is_ascii_graphic()))
    .then_some(token)
}

/// Mark every `Authorization` value sensitive, so that layers inside this one (and `Debug` of
/// the headers) never print it.
fn mark_sensitive(headers: &mut HeaderMap) {
    if let http::header::Entry::Occupied(mut entry) = headers.entry(AUTHORIZATION) {
        for value in entry.iter_mut() {
            value.set_sensitive(true);
        }
    }
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
