//! The tower front end: [`SignLayer`] / [`Sign`] for `http::Request`s whose body is in memory,
//! and [`BufferingSignLayer`] / [`BufferingSign`] that first collects any body under a limit.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::Request;
use http_body::Body;
use http_body_util::{Empty, Full};
use pin_project::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::error::SignError;
use super::request_signer::{RequestSigner, SignOutcome};
use super::skew_retry::Sending;
use crate::BoxError;
use crate::requests::CollectError;

/// A request body whose bytes can be read without consuming it, so the signer can sign the
/// form parameters it carries and still send it.
///
/// Implemented for [`Full<Bytes>`], [`Empty<Bytes>`] and [`String`]. Implement it for your own
/// body type if it can hold its bytes in memory; return `None` for a stream (signing then fails
/// with [`SignError::BodyNotBuffered`]). Other bodies go through [`BufferingSignLayer`]
/// ([`SignLayer::buffering`]), which collects them first.
pub trait BufferedBody: Body {
    /// Call `f` with the complete body (empty for no body), or return `None` if the body is a
    /// stream.
    fn with_buffered<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Option<R>;

    /// A body of this type holding `bytes`, or `None` if the type cannot hold them (the
    /// default). The signer uses it to add the `client_id` parameter to the form body of an
    /// [`AsLoginClient`](super::AsLoginClient) request; when it gives `None`, such a request
    /// fails with [`SignError::BodyNotRewritable`]. A
    /// [`ClockSkewRetryLayer`](super::ClockSkewRetryLayer) uses it to copy a request it may
    /// send twice; when it gives `None`, the request is never retried.
    fn from_bytes(bytes: Bytes) -> Option<Self>
    where
        Self: Sized,
    {
        let _ = bytes;
        None
    }
}

impl BufferedBody for Full<Bytes> {
    fn with_buffered<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        // Cloning a `Full<Bytes>` clones a reference count; a polled `Full` has nothing left.
        Some(match self.clone().into_inner() {
            Some(bytes) => f(&bytes),
            None => f(&[]),
        })
    }

    fn from_bytes(bytes: Bytes) -> Option<Self> {
        Some(Full::new(bytes))
    }
}

impl BufferedBody for Empty<Bytes> {
    fn with_buffered<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        Some(f(&[]))
    }

    fn from_bytes(bytes: Bytes) -> Option<Self> {
        bytes.is_empty().then(Empty::new)
    }
}

impl BufferedBody for String {
    fn with_buffered<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        Some(f(self.as_bytes()))
    }

    fn from_bytes(bytes: Bytes) -> Option<Self> {
        String::from_utf8(bytes.into()).ok()
    }
}

/// A [`Layer`] that signs every request with a [`RequestSigner`], for any tower HTTP client
/// whose request body implements [`BufferedBody`] (hyper-util's legacy `Client` with
/// `Full<Bytes>` bodies, for one).
///
/// The request is signed in `call`, before the inner service sees it; a request that cannot be
/// signed never reaches it and fails with a [`SignError`] (boxed: the service's error type is
/// [`BoxError`](crate::BoxError), downcast to tell them apart). The signer follows the server's clock from the
/// `Date` of every response to a janrain-signed request (see
/// [`SignerBuilder::learn_clock_skew`](super::SignerBuilder::learn_clock_skew)). It never
/// sends a request twice: to retry a request refused for a `Date` out of the server's window,
/// put a [`ClockSkewRetryLayer`](super::ClockSkewRetryLayer) outside it.
///
/// An [`AsUser`](super::AsUser) or [`AsLoginClient`](super::AsLoginClient) extension on a
/// request sends it as a user or as a login client instead (see
/// [Calling as a user or as a login client](super#calling-as-a-user-or-as-a-login-client)).
#[derive(Clone, Debug)]
pub struct SignLayer {
    signer: RequestSigner,
}

impl SignLayer {
    /// A layer that signs with `signer`.
    pub fn new(signer: RequestSigner) -> Self {
        SignLayer { signer }
    }

    /// The signer.
    pub fn signer(&self) -> &RequestSigner {
        &self.signer
    }

    /// The same signer, collecting bodies of any type (up to `limit` bytes) before signing.
    pub fn buffering(self, limit: usize) -> BufferingSignLayer {
        BufferingSignLayer {
            signer: self.signer,
            limit,
        }
    }
}

impl<S> Layer<S> for SignLayer {
    type Service = Sign<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Sign {
            inner,
            signer: self.signer.clone(),
        }
    }
}

/// The service of [`SignLayer`]: signs, then calls the inner service.
#[derive(Clone, Debug)]
pub struct Sign<S> {
    inner: S,
    signer: RequestSigner,
}

impl<S> Sign<S> {
    /// Wrap `inner`.
    pub fn new(inner: S, signer: RequestSigner) -> Self {
        Sign { inner, signer }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwrap the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B, RB> Service<Request<B>> for Sign<S>
where
    S: Service<Request<B>, Response = http::Response<RB>>,
    S::Error: Into<BoxError>,
    B: BufferedBody,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let offset_used = self.signer.clock_offset();
        match self.signer.sign_http(&mut request) {
            Ok(outcome) => ResponseFuture {
                learn: sending(&self.signer, outcome, offset_used, &request),
                state: State::Inner {
                    future: self.inner.call(request),
                },
            },
            Err(error) => ResponseFuture {
                state: State::Failed { error: Some(error) },
                learn: None,
            },
        }
    }
}

/// What to remember about a request signed with `outcome`, if its answer teaches the clock.
fn sending<B>(
    signer: &RequestSigner,
    outcome: SignOutcome,
    offset_used: i64,
    request: &Request<B>,
) -> Option<Sending> {
    signer
        .learns_from(outcome)
        .then(|| Sending::new(signer, offset_used, request.headers()))
}

/// The answer to a janrain-signed request: the signer learns from its `Date`, and the attempt
/// is reported in its extensions for a [`ClockSkewRetryLayer`](super::ClockSkewRetryLayer)
/// further out.
fn answered<RB>(sending: Sending, response: &mut http::Response<RB>) {
    let attempt = sending.answered(response.headers());
    response.extensions_mut().insert(attempt);
}

/// The future of [`Sign`]: the inner service's, or the signing error. The response's `Date`
/// goes to [`RequestSigner::observe_response`] on the way out.
#[pin_project]
pub struct ResponseFuture<F> {
    #[pin]
    state: State<F>,
    learn: Option<Sending>,
}

#[pin_project(project = StateProj)]
enum State<F> {
    Failed {
        error: Option<SignError>,
    },
    Inner {
        #[pin]
        future: F,
    },
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Failed { .. } => "failed",
            State::Inner { .. } => "inner",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

impl<F, RB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<RB>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<http::Response<RB>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.state.project() {
            StateProj::Failed { error } => Poll::Ready(Err(match error.take() {
                Some(e) => e.into(),
                None => "ResponseFuture polled after completion".into(),
            })),
            StateProj::Inner { future } => {
                let mut response = std::task::ready!(future.poll(cx)).map_err(Into::into)?;
                if let Some(sending) = this.learn.take() {
                    answered(sending, &mut response);
                }
                Poll::Ready(Ok(response))
            }
        }
    }
}

/// Collect a request's body, up to `limit` bytes, into a [`Full<Bytes>`] that
/// [`SignLayer`] can sign.
///
/// A `Content-Length` over the limit fails before anything is read; a body that turns out longer
/// fails as soon as it passes the limit. Both are [`SignError::BodyTooLarge`]; a body that fails
/// to arrive is [`SignError::BodyRead`].
async fn buffer_request<B>(
    request: Request<B>,
    limit: usize,
) -> Result<Request<Full<Bytes>>, SignError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    // The same length check and limited read as the verification layer's, with no timeout
    // (the body is the caller's own). A Content-Length that is not a number is left to the
    // server to judge.
    if crate::requests::declared_length(request.headers(), limit)
        == Err(crate::requests::LengthError::TooLarge)
    {
        return Err(SignError::BodyTooLarge { limit });
    }
    let (parts, body) = request.into_parts();
    let bytes = crate::requests::collect_limited(body, limit, None)
        .await
        .map_err(|e| match e {
            CollectError::TooLarge => SignError::BodyTooLarge { limit },
            CollectError::Timeout => SignError::BodyRead("the body did not arrive in time".into()),
            CollectError::Failed(e) => SignError::BodyRead(e),
        })?;
    Ok(Request::from_parts(parts, Full::new(bytes)))
}

/// A [`Layer`] that collects the body of every request (under a limit) into a [`Full<Bytes>`],
/// signs it, and passes it on: for tower clients whose bodies are streams.
///
/// ```
/// use janrain_auth::client::{RequestSigner, SignLayer};
/// # let client = janrain_auth::credentials::ApiClient::new("id".parse()?, janrain_auth::credentials::ClientSecret::new("s")?);
/// let signer = RequestSigner::builder(client).base_url("http://127.0.0.1:8080").build()?;
/// // Bodies up to 64 KiB; larger ones fail with SignError::BodyTooLarge.
/// let layer = SignLayer::new(signer).buffering(64 * 1024);
/// # let _ = layer;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct BufferingSignLayer {
    signer: RequestSigner,
    limit: usize,
}

impl BufferingSignLayer {
    /// A layer that buffers up to `limit` bytes and signs with `signer`.
    pub fn new(signer: RequestSigner, limit: usize) -> Self {
        BufferingSignLayer { signer, limit }
    }
}

impl<S> Layer<S> for BufferingSignLayer {
    type Service = BufferingSign<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BufferingSign {
            inner,
            signer: self.signer.clone(),
            limit: self.limit,
        }
    }
}

/// The service of [`BufferingSignLayer`].
#[derive(Clone, Debug)]
pub struct BufferingSign<S> {
    inner: S,
    signer: RequestSigner,
    limit: usize,
}

impl<S> BufferingSign<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwrap the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// The future of [`BufferingSign`]. Boxed: it reads a body and then calls the inner service,
/// and the allocation is small next to the buffered body.
type BufferingFuture<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send + 'static>>;

impl<S, B, RB> Service<Request<B>> for BufferingSign<S>
where
    S: Service<Request<Full<Bytes>>, Response = http::Response<RB>> + Clone + Send + 'static,
    S::Future: Send,
    RB: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BufferingFuture<S::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The ready service goes into the future; a fresh clone waits for the next poll_ready.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let signer = self.signer.clone();
        let limit = self.limit;
        Box::pin(async move {
            let mut request = buffer_request(request, limit).await?;
            let offset_used = signer.clock_offset();
            let outcome = signer.sign_http(&mut request)?;
            let learn = sending(&signer, outcome, offset_used, &request);
            let mut response = inner.call(request).await.map_err(Into::into)?;
            if let Some(sending) = learn {
                answered(sending, &mut response);
            }
            Ok(response)
        })
    }
}
