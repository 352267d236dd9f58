//! [`ClockSkewRetry`]: a reqwest-middleware middleware that sends a request once more when the
//! server refused it for a `Date` off its clock, after the signer inside has learned the
//! server's time.

use ::reqwest::{Request, Response, ResponseBuilderExt, StatusCode};
use http::Extensions;
use reqwest_middleware::{Middleware, Next};

use super::reqwest::SignedAttempt;
use crate::error::JanrainError;

/// Largest response body [`ClockSkewRetry`] reads to look for a date refusal (it reads one only
/// when the response's `Date` shows the request's was off and the status alone does not tell).
/// Larger responses (and responses without a `Content-Length`) are passed on untouched.
pub const MAX_REFUSAL_BODY: u64 = 16 * 1024;

/// How far, in seconds, a request's `Date` may be from the server's before a refusal of any
/// kind counts as a refusal of the `Date`.
const REFUSAL_SKEW_SECS: i64 = 60;

/// A reqwest-middleware [`Middleware`] that retries, once, a janrain-signed request the server
/// refused because its `Date` was off the server's clock.
///
/// It goes **outside** (before, in `ClientBuilder::with` order) a
/// [`JanrainSigner`](super::JanrainSigner), and works with whichever signer is inside:
///
/// 1. it keeps a copy of the request (before it is signed) and runs the rest of the chain;
/// 2. the signer signs, and learns the server's clock from the answer's `Date` (as it does for
///    every answer, see
///    [`SignerBuilder::learn_clock_skew`](super::SignerBuilder::learn_clock_skew));
/// 3. when that answer moved the signer's clock and is a refusal of the request's `Date`, the
///    copy is sent through the rest of the chain once more, so the signer signs it with the
///    corrected time.
///
/// A refusal of the `Date` is HTTP 401 or 403, or a `stat:error` answer with a code from 400 to
/// 499 at any status, when the answer's `Date` shows the request's was more than a minute off;
/// or this crate's own date codes (432, 433) in any case. The body is read for this only when
/// the status does not tell and the body is JSON (or untyped) of at most [`MAX_REFUSAL_BODY`]
/// bytes; it is then handed on as it arrived, status, headers and URL included.
///
/// Nothing is retried when the signer did not janrain-sign the request (Basic mode, a user or
/// login-client request, a request with its own `Authorization`, a host that is not allowed),
/// when it learns no clock ([`learn_clock_skew(false)`](super::SignerBuilder::learn_clock_skew)),
/// or when the request cannot be copied (a streaming body): the answer is handed on intact.
/// Placed inside the signer, it sees no signed attempt and does nothing.
///
/// [`JanrainClient`](super::JanrainClient) installs it. With reqwest-retry, put the transient
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
        // Only an answer that moved the clock can make a second attempt go differently.
        let Some(server_now) = attempt
            .server_now
            .filter(|_| attempt.offset_now != attempt.offset_used)
        else {
            return Ok(response);
        };
        let far_off = attempt.sent_at.is_some_and(|sent| {
            (server_now.unix_seconds() - sent.unix_seconds()).abs() > REFUSAL_SKEW_SECS
        });
        let (response, refused) = date_refusal(response, far_off).await?;
        if !refused {
            return Ok(response);
        }
        tracing::info!(
            clock_offset_secs = attempt.offset_now,
            "server refused a request whose Date was off its clock; corrected the clock and retrying once"
        );
        let response = next.run(copy, extensions).await;
        extensions.remove::<SignedAttempt>();
        response
    }
}

/// Whether `response` refuses the request because of its `Date`: a refusal (HTTP 401 or 403,
/// or a `stat:error` answer with a code from 400 to 499 at any status) when the request's `Date`
/// was `far_off` the server's clock, or this crate's own date codes (432, 433) in any case. The
/// body is read only when the status alone does not tell, and only for bodies of a known, small
/// length whose `Content-Type` is JSON (or absent); the response handed back is equivalent to
/// the one received.
async fn date_refusal(
    mut response: Response,
    far_off: bool,
) -> reqwest_middleware::Result<(Response, bool)> {
    let status = response.status();
    if far_off && (status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN) {
        return Ok((response, true));
    }
    if response
        .content_length()
        .is_none_or(|n| n > MAX_REFUSAL_BODY)
    {
        return Ok((response, false));
    }
    let json = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.to_ascii_lowercase().contains("json"));
    if !json {
        return Ok((response, false));
    }
    let version = response.version();
    let url = response.url().clone();
    let headers = std::mem::take(response.headers_mut());
    let extensions = std::mem::take(response.extensions_mut());
    let body = response.bytes().await?;
    let refused = JanrainError::from_body(&body)
        .is_some_and(|e| e.is_date_error() || (far_off && (400..500).contains(&e.code)));
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
