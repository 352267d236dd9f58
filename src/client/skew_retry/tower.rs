//! [`ClockSkewRetryLayer`]: the tower front end of the retry.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{Either, Full};
use tower_layer::Layer;
use tower_service::Service;

use super::{
    MAX_REFUSAL_BODY, SignedAttempt, body_worth_reading, refused_by_body, refused_by_status,
};
use crate::client::BufferedBody;
use crate::requests::{BoxError, CollectError, collect_limited};

/// A tower [`Layer`] that retries, once, a janrain-signed request the server refused because
/// its `Date` was off the server's clock: the tower counterpart of
/// [`ClockSkewRetry`](crate::client::ClockSkewRetry), with the same rules.
///
/// It goes **outside** a [`SignLayer`](crate::client::SignLayer) (or
/// [`BufferingSignLayer`](crate::client::BufferingSignLayer)): it keeps a copy of the request,
/// the signer inside signs it and learns the server's clock from the answer, and when that
/// answer moved the clock and refuses the request's `Date`, the copy goes through the inner
/// service once more and is signed with the corrected time.
///
/// * The request body is copied through [`BufferedBody`]: a body type that cannot be rebuilt
///   from bytes ([`BufferedBody::from_bytes`] gives `None`) or that is a stream is never
///   retried, and its answer is handed on intact.
/// * The response body is `Either<B, Full<Bytes>>` ([`SkewRetryBody`]): the inner service's
///   body untouched, or, when the retry had to read a small JSON answer (at most
///   [`MAX_REFUSAL_BODY`] bytes of known length) to see whether it refuses the `Date`, the
///   bytes it read.
/// * Nothing is retried for a request the signer did not janrain-sign, or when it learns no
///   clock ([`learn_clock_skew(false)`](crate::client::SignerBuilder::learn_clock_skew)).
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
/// use janrain_auth::client::{ClockSkewRetryLayer, RequestSigner, SignLayer};
/// use janrain_auth::credentials::{ApiClient, ClientSecret};
/// use tower::ServiceBuilder;
///
/// # fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let api = ApiClient::new("my_client_id".parse()?, ClientSecret::new("my_secret")?);
/// let signer = RequestSigner::builder(api).base_url("http://127.0.0.1:8080").build()?;
/// let client = ServiceBuilder::new()
///     .layer(ClockSkewRetryLayer::new()) // outer: a refused Date goes once more
///     .layer(SignLayer::new(signer)) // inner: signs each attempt
///     .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct ClockSkewRetryLayer;

impl ClockSkewRetryLayer {
    /// The layer.
    pub fn new() -> Self {
        ClockSkewRetryLayer
    }
}

impl<S> Layer<S> for ClockSkewRetryLayer {
    type Service = ClockSkewRetryService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClockSkewRetryService { inner }
    }
}

/// The service of [`ClockSkewRetryLayer`].
#[derive(Clone, Debug)]
pub struct ClockSkewRetryService<S> {
    inner: S,
}

impl<S> ClockSkewRetryService<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwrap the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// The response body of [`ClockSkewRetryService`]: the inner service's, or the bytes of a small
/// answer the retry read.
pub type SkewRetryBody<B> = Either<B, Full<Bytes>>;

/// The future of [`ClockSkewRetryService`]. Boxed: it may call the inner service twice.
type SkewRetryFuture<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send + 'static>>;

impl<S, B, RB> Service<Request<B>> for ClockSkewRetryService<S>
where
    S: Service<Request<B>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: BufferedBody + Send + 'static,
    RB: Body<Data = Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
{
    type Response = Response<SkewRetryBody<RB>>;
    type Error = BoxError;
    type Future = SkewRetryFuture<Self::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The ready service goes into the future; a fresh clone waits for the next poll_ready.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let copy = copy_request(&request);
            let mut response = inner.call(request).await.map_err(Into::into)?;
            let attempt = response.extensions_mut().remove::<SignedAttempt>();
            let (Some(copy), Some(attempt)) = (copy, attempt) else {
                return Ok(response.map(Either::Left));
            };
            let Some(far_off) = attempt.far_off() else {
                return Ok(response.map(Either::Left));
            };
            let (response, refused) = date_refusal(response, far_off).await?;
            if !refused {
                return Ok(response);
            }
            attempt.log_retry();
            std::future::poll_fn(|cx| inner.poll_ready(cx))
                .await
                .map_err(Into::into)?;
            let mut response = inner.call(copy).await.map_err(Into::into)?;
            response.extensions_mut().remove::<SignedAttempt>();
            Ok(response.map(Either::Left))
        })
    }
}

/// A copy of `request`, if its body can be rebuilt from its bytes.
fn copy_request<B: BufferedBody>(request: &Request<B>) -> Option<Request<B>> {
    let body = request
        .body()
        .with_buffered(|bytes| B::from_bytes(Bytes::copy_from_slice(bytes)))??;
    let mut copy = Request::new(body);
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    *copy.extensions_mut() = request.extensions().clone();
    Some(copy)
}

/// Whether `response` refuses the request because of its `Date`, by the rules the reqwest
/// middleware follows; a body read for it is handed on as the bytes read.
async fn date_refusal<RB>(
    response: Response<RB>,
    far_off: bool,
) -> Result<(Response<SkewRetryBody<RB>>, bool), BoxError>
where
    RB: Body<Data = Bytes>,
    RB::Error: Into<BoxError>,
{
    if refused_by_status(response.status(), far_off) {
        return Ok((response.map(Either::Left), true));
    }
    if !body_worth_reading(response.body().size_hint().exact(), response.headers()) {
        return Ok((response.map(Either::Left), false));
    }
    let (parts, body) = response.into_parts();
    // The limit only guards against a body longer than its declared length.
    let limit = usize::try_from(MAX_REFUSAL_BODY).unwrap_or(usize::MAX);
    let bytes = collect_limited(body, limit, None)
        .await
        .map_err(|e| -> BoxError {
            match e {
                CollectError::Failed(e) => e,
                CollectError::TooLarge => "the response body is longer than its length".into(),
                CollectError::Timeout => "the response body did not arrive in time".into(),
            }
        })?;
    let refused = refused_by_body(&bytes, far_off);
    Ok((
        Response::from_parts(parts, Either::Right(Full::new(bytes))),
        refused,
    ))
}
