//! [`ClockSkewRetry`]: the reqwest-middleware front end of the retry.

use ::reqwest::{Request, Response, ResponseBuilderExt};
use http::Extensions;
use reqwest_middleware::{Middleware, Next};

use super::{SignedAttempt, body_worth_reading, refused_by_body, refused_by_status};

/// A reqwest-middleware [`Middleware`] that retries, once, a janrain-signed request the server
/// refused because its `Date` was off the server's clock.
///
/// It goes **outside** (before, in `ClientBuilder::with` order) a
/// [`JanrainSigner`](crate::client::JanrainSigner), and works with whichever signer is inside:
///
/// 1. it keeps a copy of the request (before it is signed) and runs the rest of the chain;
/// 2. the signer signs, and learns the server's clock from the answer's `Date` (as it does for
///    every answer, see
///    [`SignerBuilder::learn_clock_skew`](crate::client::SignerBuilder::learn_clock_skew));
/// 3. when that answer moved the signer's clock and is a refusal of the request's `Date`, the
///    copy is sent through the rest of the chain once more, so the signer signs it with the
///    corrected time.
///
/// A refusal of the `Date` is HTTP 401 or 403, or a `stat:error` answer with a code from 400 to
/// 499 at any status, when the answer's `Date` shows the request's was more than a minute off;
/// or this crate's own date codes (432, 433) in any case. The body is read for this only when
/// the status does not tell and the body is JSON (or untyped) of at most [`MAX_REFUSAL_BODY`](super::MAX_REFUSAL_BODY)
/// bytes; it is then handed on as it arrived, status, headers and URL included.
///
/// Nothing is retried when the signer did not janrain-sign the request (Basic mode, a user or
/// login-client request, a request with its own `Authorization`, a host that is not allowed),
/// when it learns no clock ([`learn_clock_skew(false)`](crate::client::SignerBuilder::learn_clock_skew)),
/// or when the request cannot be copied (a streaming body): the answer is handed on intact.
/// Placed inside the signer, it sees no signed attempt and does nothing.
///
/// [`JanrainClient`](crate::client::JanrainClient) installs it. With reqwest-retry, put the transient
/// retry outermost, then this middleware, then the signer, so that every attempt is signed
/// afresh with its own `Date` (a copy of a signed request carries the old `Date` and, behind a
/// replay guard, is refused as a replay):
///
/// ```
/// use janrain_auth::client::{ClockSkewRetry, JanrainSigner, RequestSigner};
/// use janrain_auth::credentials::{ApiClient, ClientSecret};
/// use reqwest_middleware::{ClientBuilder, Middleware, Next};
///
/// /// A stand-in for `reqwest_retry::RetryTransientMiddleware`: retries 5xx once.
/// struct RetryOnce;
///
/// #[async_trait::async_trait]
/// impl Middleware for RetryOnce {
///     async fn handle(
///         &self,
///         req: reqwest::Request,
///         ext: &mut http::Extensions,
///         next: Next<'_>,
///     ) -> reqwest_middleware::Result<reqwest::Response> {
///         let copy = req.try_clone();
///         let response = next.clone().run(req, ext).await?;
///         match copy {
///             Some(copy) if response.status().is_server_error() => next.run(copy, ext).await,
///             _ => Ok(response),
///         }
///     }
/// }
///
/// let api = ApiClient::new("my_client_id".parse()?, ClientSecret::new("my_secret")?);
/// let signer = RequestSigner::builder(api)
///     .base_url("https://myapp.janraincapture.com")
///     .build()?;
/// let client = ClientBuilder::new(reqwest::Client::new())
///     .with(RetryOnce) // outermost: transient failures
///     .with(ClockSkewRetry::new()) // then: a refused Date, once the clock is corrected
///     .with(JanrainSigner::new(signer)) // innermost: signs each attempt
///     .build();
/// # let _ = client;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// With reqwest-retry the chain is the same:
/// `ClientBuilder::new(reqwest::Client::new()).with(RetryTransientMiddleware::new_with_policy(policy)).with(ClockSkewRetry::new()).with(JanrainSigner::new(signer))`.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct ClockSkewRetry;

impl ClockSkewRetry {
    /// The middleware.
    pub fn new() -> Self {
        ClockSkewRetry
    }
}

#[async_trait::async_trait]
impl Middleware for ClockSkewRetry {
    async fn handle(
        &self,
        request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let Some(copy) = request.try_clone() else {
            return next.run(request, extensions).await;
        };
        extensions.remove::<SignedAttempt>();
        let response = next.clone().run(request, extensions).await?;
        let Some(attempt) = extensions.remove::<SignedAttempt>() else {
            return Ok(response);
        };
        let Some(far_off) = attempt.far_off() else {
            return Ok(response);
        };
        let (response, refused) = date_refusal(response, far_off).await?;
        if !refused {
            return Ok(response);
        }
        attempt.log_retry();
        let response = next.run(copy, extensions).await;
        extensions.remove::<SignedAttempt>();
        response
    }
}

/// Whether `response` refuses the request because of its `Date` (see [`refused_by_status`] and
/// [`refused_by_body`]); the response handed back is equivalent to the one received.
async fn date_refusal(
    mut response: Response,
    far_off: bool,
) -> reqwest_middleware::Result<(Response, bool)> {
    let status = response.status();
    if refused_by_status(status, far_off) {
        return Ok((response, true));
    }
    if !body_worth_reading(response.content_length(), response.headers()) {
        return Ok((response, false));
    }
    let version = response.version();
    let url = response.url().clone();
    let headers = std::mem::take(response.headers_mut());
    let extensions = std::mem::take(response.extensions_mut());
    let body = response.bytes().await?;
    let refused = refused_by_body(&body, far_off);
    // `ResponseBuilderExt::url` keeps `Response::url` as it was.
    let mut rebuilt = http::Response::builder()
        .url(url)
        .body(body)
        .map_err(reqwest_middleware::Error::middleware)?;
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    rebuilt.extensions_mut().extend(extensions);
    Ok((Response::from(rebuilt), refused))
}
