//! [`VerifyLayer`] (built with [`VerifyLayerBuilder`]) -> [`Verify`] -> [`ResponseFuture`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use pin_project::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::Rejection;
use super::bodies::{ResponseBody, VerifiedBody};
use super::replay::ReplayGuard;
use super::store::{ClientStore, TokenVerifier};
use super::verify::{Prefix, UnknownPaths, Verification, Verifier};
use crate::permissions::{Catalog, Operation};
use crate::requests::{BoxError, normalize_prefix};
use crate::scheme::{Canonicalization, Clock, SystemClock};

/// Default tolerance for a `Date` in the past: 5 minutes.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
/// Default tolerance for a `Date` in the future: 5 minutes.
pub const DEFAULT_MAX_AHEAD: Duration = Duration::from_secs(300);
/// Default body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// Default time allowed for the body to arrive: 10 seconds.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// A tower layer that verifies Janrain API-client authentication and the permission matrix.
///
/// See the [module documentation](super) for an example. Cloning is cheap (one `Arc`).
#[derive(Clone)]
pub struct VerifyLayer {
    pub(crate) verifier: Arc<Verifier>,
}

impl VerifyLayer {
    /// Start configuring a layer that looks clients up in `store`.
    pub fn builder(store: impl ClientStore) -> VerifyLayerBuilder {
        VerifyLayerBuilder::new(store)
    }

    /// A layer with every default and clients from `store`.
    pub fn new(store: impl ClientStore) -> Self {
        Self::builder(store).build()
    }

    /// Verify one request without wrapping a service: the procedure of the layer, for
    /// places that expect an authorizer, such as `axum::middleware::from_fn`.
    ///
    /// `Ok` gives the request back with the [`AuthenticatedClient`](super::AuthenticatedClient)
    /// and [`VerifiedParams`](super::VerifiedParams) extensions; `Err` is the refusal, whose
    /// [`into_http`](Rejection::into_http) (or axum's `IntoResponse`, with the `axum`
    /// feature) is exactly the response the layer would send. The body comes back as `B`,
    /// made of the bytes the layer read (whole, under the body limit and timeout, as the layer
    /// reads every body).
    ///
    /// ```
    /// # #[cfg(feature = "axum")] {
    /// use axum::{Router, extract::Request, middleware::{self, Next}, response::{IntoResponse, Response}, routing::post};
    /// use janrain_auth::server::{MemoryStore, VerifyLayer, VerifiedParams};
    ///
    /// let verify = VerifyLayer::new(MemoryStore::new());
    /// let app: Router = Router::new()
    ///     .route("/entity.find", post(|params: VerifiedParams| async move { params.len().to_string() }))
    ///     .layer(middleware::from_fn(move |request: Request, next: Next| {
    ///         let verify = verify.clone();
    ///         async move {
    ///             match verify.verify(request).await {
    ///                 Ok(request) => next.run(request).await,
    ///                 Err(rejection) => rejection.into_response(),
    ///             }
    ///         }
    ///     }));
    /// # let _ = app; }
    /// ```
    pub fn verify<B>(
        &self,
        request: Request<B>,
    ) -> impl Future<Output = Result<Request<B>, Rejection>> + Send + 'static
    where
        B: Body + From<Bytes> + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let verification = Verification::new(self.verifier.clone(), request);
        async move {
            let (parts, bytes) = verification.await?;
            Ok(Request::from_parts(parts, B::from(bytes)))
        }
    }
}

impl<S> Layer<S> for VerifyLayer {
    type Service = Verify<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Verify {
            inner,
            verifier: self.verifier.clone(),
        }
    }
}

impl fmt::Debug for VerifyLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyLayer").finish_non_exhaustive()
    }
}

/// Configures a [`VerifyLayer`].
///
/// | option | default | |
/// |---|---|---|
/// | [`catalog`](Self::catalog) | [`Catalog::identity_cloud`] | operations and their permissions |
/// | [`unknown_paths`](Self::unknown_paths) | [`UnknownPaths::Deny`] | paths in no catalog |
/// | [`date_window`](Self::date_window) | 300 s past, 300 s future | see below |
/// | [`body_limit`](Self::body_limit) | 1 MiB | every request body |
/// | [`body_timeout`](Self::body_timeout) | 10 s | time allowed for that body to arrive |
/// | [`max_params`](Self::max_params) | 1024 | parameters per request |
/// | [`accept_forms`](Self::accept_forms) | canonical only | string-to-sign variants accepted |
/// | [`janrain_status`](Self::janrain_status) | off | answer every error with HTTP 200 |
/// | [`enforce_methods`](Self::enforce_methods) | off | refuse methods other than the documented one |
/// | [`replay_guard`](Self::replay_guard) | none | refuse a signed request seen before |
/// | [`strict_parameters`](Self::strict_parameters) | off | refuse text that makes the string to sign ambiguous |
/// | [`allow_unsigned_bodies`](Self::allow_unsigned_bodies) | off | let signed requests carry non-form bodies |
///
/// **The date window.** Janrain does not publish its tolerance. Five minutes each way is the
/// common choice of HMAC request-signing schemes (Kerberos, and AWS allows 15): wide enough for
/// ordinary clock drift and slow networks, narrow enough that a captured request soon stops
/// working. Tighten it when clients keep their clocks synchronised, especially with no replay
/// guard.
pub struct VerifyLayerBuilder {
    verifier: Verifier,
}

impl VerifyLayerBuilder {
    fn new(store: impl ClientStore) -> Self {
        VerifyLayerBuilder {
            verifier: Verifier {
                store: Arc::new(store),
                tokens: None,
                replay: None,
                replay_fail_open: false,
                catalog: Catalog::identity_cloud(),
                unknown: UnknownPaths::Deny,
                prefix: Prefix::None,
                clock: Arc::new(SystemClock),
                max_age: DEFAULT_MAX_AGE,
                max_ahead: DEFAULT_MAX_AHEAD,
                body_limit: DEFAULT_BODY_LIMIT,
                body_timeout: DEFAULT_BODY_TIMEOUT,
                max_params: crate::params::DEFAULT_MAX_PARAMS,
                forms: vec![Canonicalization::CANONICAL],
                janrain_status: false,
                enforce_methods: false,
                realm: Arc::from("janrain"),
                strict_parameters: false,
                allow_unsigned_bodies: false,
                form_credentials: false,
            },
        }
    }

    /// Replace the operation catalog (default: [`Catalog::identity_cloud`]).
    pub fn catalog(mut self, catalog: Catalog) -> Self {
        self.verifier.catalog = catalog;
        self
    }

    /// Add an operation, or override the catalog's operation at the same path.
    pub fn operation(mut self, operation: Operation) -> Self {
        self.verifier.catalog.insert(operation);
        self
    }

    /// What to do with paths that no operation matches (default: deny with 404).
    pub fn unknown_paths(mut self, unknown: UnknownPaths) -> Self {
        self.verifier.unknown = unknown;
        self
    }

    /// The layer runs inside `Router::nest(prefix, ..)`: it sees `/entity.find` while the
    /// client called (and signed) `{prefix}/entity.find`. The prefix is put back for the
    /// signature; the operation is looked up without it.
    pub fn nested_under(mut self, prefix: impl Into<String>) -> Self {
        self.verifier.prefix = Prefix::Nested(normalize_prefix(&prefix.into()));
        self
    }

    /// The layer sees full paths (`{prefix}/entity.find`) and the API lives under `prefix`: the
    /// operation is looked up without it, and the full path is what the client signed. Paths
    /// outside the prefix are unknown operations.
    pub fn strip_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.verifier.prefix = Prefix::Strip(normalize_prefix(&prefix.into()));
        self
    }

    /// Accept a `Date` up to `max_age` in the past and `max_ahead` in the future of the
    /// layer's clock.
    pub fn date_window(mut self, max_age: Duration, max_ahead: Duration) -> Self {
        self.verifier.max_age = max_age;
        self.verifier.max_ahead = max_ahead;
        self
    }

    /// The clock "now" comes from (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.verifier.clock = Arc::new(clock);
        self
    }

    /// The largest request body that passes the layer (default 1 MiB). A `Content-Length` over
    /// it is refused (413 `request_too_large`) before anything is read; any other body is
    /// refused as soon as it grows past it. The layer reads every body it lets through, so that
    /// the inner service gets it whole and the refusal is the layer's, however it is mounted:
    /// give routes that stream large uploads a router of their own, outside the layer.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.verifier.body_limit = bytes;
        self
    }

    /// How long the body may take to arrive (default 10 s); after that the request is
    /// refused with 408 `request_timeout` and the connection is free again.
    ///
    /// The timer starts when the body makes the layer wait a second time: an HTTP/1 server
    /// hands a body over only once it is read, so the first wait is for bytes already here,
    /// and the layer asks to be polled again at once instead (a timer costs an allocation and
    /// clock readings). The timer is tokio's, so the layer must run on a tokio runtime with
    /// the time driver enabled (`enable_time` or `enable_all`, as `#[tokio::main]` and
    /// `#[tokio::test]` do): without one, a body that is still missing at that second wait
    /// panics.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.verifier.body_timeout = timeout;
        self
    }

    /// The most parameters accepted in one request (default 1024).
    pub fn max_params(mut self, max: usize) -> Self {
        self.verifier.max_params = max;
        self
    }

    /// The string-to-sign forms accepted, tried in order (default: only
    /// [`Canonicalization::CANONICAL`]). Add [`Canonicalization::SAMPLE_CODE`] (or its parts)
    /// to accept clients built on Janrain's Java, JavaScript, PHP or Ruby samples. A form
    /// costs nothing for requests where it gives the same string as one already tried.
    pub fn accept_forms(mut self, forms: impl IntoIterator<Item = Canonicalization>) -> Self {
        let mut list: Vec<Canonicalization> = forms.into_iter().collect();
        if list.is_empty() {
            list.push(Canonicalization::CANONICAL);
        }
        self.verifier.forms = list;
        self
    }

    /// Check access tokens of login-client operations with `verifier`. Without one, those
    /// operations are refused with 503 `unexpected_error` (the server cannot check tokens).
    pub fn token_verifier(mut self, verifier: impl TokenVerifier) -> Self {
        self.verifier.tokens = Some(Arc::new(verifier));
        self
    }

    /// Refuse a signed request that was accepted before (see [`super::replay`]).
    pub fn replay_guard(mut self, guard: impl ReplayGuard) -> Self {
        self.verifier.replay = Some(Arc::new(guard));
        self
    }

    /// When the replay guard cannot be reached, let signed requests through (logged at warn)
    /// instead of refusing them with 503. Off by default: failing closed keeps replays out.
    pub fn replay_fail_open(mut self, fail_open: bool) -> Self {
        self.verifier.replay_fail_open = fail_open;
        self
    }

    /// Answer every error with HTTP 200 and the `stat:error` envelope, as Janrain itself does
    /// (default: off; the statuses of [`crate::error`] are used).
    pub fn janrain_status(mut self, on: bool) -> Self {
        self.verifier.janrain_status = on;
        self
    }

    /// Refuse requests whose HTTP method is not the operation's documented one (default:
    /// off, since janrain-signed does not sign the method and older documentation shows GET
    /// for some operations).
    pub fn enforce_methods(mut self, on: bool) -> Self {
        self.verifier.enforce_methods = on;
        self
    }

    /// The realm named in `WWW-Authenticate` challenges (default `janrain`).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.verifier.realm = Arc::from(realm.into());
        self
    }

    /// Refuse parameters whose text makes the string to sign ambiguous (default: off):
    /// a key holding `=`, a line feed or a carriage return, or a value holding a line feed or
    /// a carriage return, with 400 `ambiguous_parameter_text` (234).
    ///
    /// The string to sign is `key=value` lines, so such text can be regrouped without changing
    /// it: the key `a=b` with the value `c` signs the same line as the key `a` with the value
    /// `b=c`, and a value holding `\n` can stand for several parameters. A signature then
    /// vouches for the bytes, not for which parameters they were. It is off by default because
    /// ordinary clients send multi-line values (addresses, JSON with line breaks); switch it on
    /// when your clients never do, and handlers act on parameter boundaries.
    pub fn strict_parameters(mut self, strict: bool) -> Self {
        self.verifier.strict_parameters = strict;
        self
    }

    /// Accept the legacy third way of authenticating (default: off): `client_id` and
    /// `client_secret` as form-body parameters, wherever Basic is accepted. The secret is
    /// compared in constant time, as Basic's is, and taken out of what the handler receives
    /// (both [`VerifiedParams`](super::VerifiedParams) and the form body handed on).
    ///
    /// Off by default because a secret in a body ends up where bodies are kept: proxy,
    /// load-balancer and access logs, error reports, request dumps. Prefer Basic or
    /// janrain-signed; switch this on only for old clients that cannot change.
    pub fn accept_form_credentials(mut self, accept: bool) -> Self {
        self.verifier.form_credentials = accept;
        self
    }

    /// Let janrain-signed requests to every operation carry a body that is not a form (default:
    /// off; refused with 415 `unsupported_body` (233)). See
    /// [`Operation::allow_unsigned_body`] for one operation at a time, and what it gives up:
    /// the signature covers the parameters, the path and the `Date`, never such a body, so
    /// anyone who can alter or replay a signed request can change it at will.
    pub fn allow_unsigned_bodies(mut self, allow: bool) -> Self {
        self.verifier.allow_unsigned_bodies = allow;
        self
    }

    /// The layer.
    pub fn build(self) -> VerifyLayer {
        VerifyLayer {
            verifier: Arc::new(self.verifier),
        }
    }
}

impl fmt::Debug for VerifyLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyLayerBuilder").finish_non_exhaustive()
    }
}

/// The service [`VerifyLayer`] wraps around an inner service.
#[derive(Clone)]
pub struct Verify<S> {
    inner: S,
    verifier: Arc<Verifier>,
}

impl<S: fmt::Debug> fmt::Debug for Verify<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verify")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, B, ResBody> Service<Request<B>> for Verify<S>
where
    S: Service<Request<VerifiedBody>, Response = Response<ResBody>> + Clone,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The clone is not ready; keep the ready one for this request (tower's advice).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture {
            state: State::Authorize {
                verification: Verification::new(self.verifier.clone(), request),
            },
            inner: Some(inner),
        }
    }
}

/// The future [`Verify`] returns: verification, then the inner service.
///
/// The verification is a future of the layer's own, held here unboxed: a request whose client
/// the store has at once and whose body has arrived is verified in one poll, with nothing
/// boxed.
#[pin_project]
pub struct ResponseFuture<S, B>
where
    S: Service<Request<VerifiedBody>>,
{
    #[pin]
    state: State<S::Future, B>,
    inner: Option<S>,
}

// The verification is held unboxed on purpose: boxing it is the allocation this saves.
#[allow(clippy::large_enum_variant)]
#[pin_project(project = StateProj)]
enum State<F, B> {
    Authorize {
        #[pin]
        verification: Verification<B>,
    },
    Inner {
        #[pin]
        future: F,
    },
}

impl<S, B, ResBody> Future for ResponseFuture<S, B>
where
    S: Service<Request<VerifiedBody>, Response = Response<ResBody>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Authorize { verification } => match ready!(verification.poll(cx)) {
                    Ok((parts, bytes)) => {
                        // Taken exactly once: the state moves on to `Inner` right after.
                        let mut inner = this.inner.take().expect("inner service taken once");
                        let future =
                            inner.call(Request::from_parts(parts, VerifiedBody::new(bytes)));
                        this.state.set(State::Inner { future });
                    }
                    Err(rejection) => return Poll::Ready(Ok(rejection.into_http())),
                },
                StateProj::Inner { future } => {
                    return future
                        .poll(cx)
                        .map(|result| result.map(|response| response.map(ResponseBody::inner)));
                }
            }
        }
    }
}

impl<S, B> fmt::Debug for ResponseFuture<S, B>
where
    S: Service<Request<VerifiedBody>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
