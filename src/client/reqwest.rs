//! The reqwest-middleware front end: [`JanrainSigner`], and [`JanrainResponseExt`] to read
//! Janrain responses.

use std::future::Future;

use ::reqwest::{Request, Response, ResponseBuilderExt, StatusCode};
use http::Extensions;
use http::header::DATE;
use reqwest_middleware::{Middleware, Next};

use super::builder::AuthMode;
use super::caller::Caller;
use super::error::SignError;
use super::request_signer::{BodyView, RequestSigner, Rewrite, SignOutcome, Target};
use super::response::{ResponseError, janrain_json};
use crate::error::JanrainError;
use crate::scheme::Datetime;

/// Largest response body the middleware reads to look for a date refusal (it reads one only
/// when the response's `Date` shows the request's was off). Larger responses (and responses
/// without a `Content-Length`) are passed on untouched.
pub const MAX_REFUSAL_BODY: u64 = 16 * 1024;

/// A reqwest-middleware [`Middleware`] that signs every request with a [`RequestSigner`].
///
/// * The client is the signer's, or the one in a [`UseClient`](super::UseClient) middleware
///   extension (`reqwest_middleware::RequestBuilder::with_extension`). An
///   [`AsUser`](super::AsUser) extension sends the request as a user, an
///   [`AsLoginClient`](super::AsLoginClient) one as a login client (see
///   [Calling as a user or as a login client](super#calling-as-a-user-or-as-a-login-client)).
/// * A request that cannot be signed fails with `reqwest_middleware::Error::Middleware`, whose
///   message is the [`SignError`]'s (the error downcasts to it).
/// * Clock skew: the signer learns the server's clock from the `Date` of every response to a
///   janrain-signed request, so later requests carry the server's time. When a request is
///   refused (HTTP 401 or 403, or a `stat:error` answer with a code from 400 to 499, whatever
///   the code) and the refusal's `Date` shows that the request's `Date` was more than a minute
///   off, the middleware re-signs the request with the corrected time and sends it once more.
///   Error bodies are read for this only when the status does not tell and the body is JSON of
///   at most [`MAX_REFUSAL_BODY`] bytes. What is learned, its bounds and how to turn it off:
///   [`SignerBuilder::learn_clock_skew`](super::SignerBuilder::learn_clock_skew). A refusal
///   that is not retried reaches the caller with its body intact.
///
/// Attach it **after** (inside) any retry middleware, so that every attempt is signed afresh
/// with a new `Date` (a retried copy of a signed request carries the old `Date` and, behind a
/// replay guard, is refused as a replay):
///
/// ```
/// use janrain_auth::client::{JanrainSigner, RequestSigner};
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
///     .with(RetryOnce) // outer: decides whether to try again
///     .with(JanrainSigner::new(signer)) // inner: signs each attempt
///     .build();
/// # let _ = client;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// With reqwest-retry the chain is the same:
/// `ClientBuilder::new(reqwest::Client::new()).with(RetryTransientMiddleware::new_with_policy(policy)).with(JanrainSigner::new(signer))`.
#[derive(Clone, Debug)]
pub struct JanrainSigner {
    signer: RequestSigner,
}

impl JanrainSigner {
    /// A middleware that signs with `signer`.
    pub fn new(signer: RequestSigner) -> Self {
        JanrainSigner { signer }
    }

    /// The signer (for its learned clock offset, say).
    pub fn signer(&self) -> &RequestSigner {
        &self.signer
    }
}

impl From<RequestSigner> for JanrainSigner {
    fn from(signer: RequestSigner) -> Self {
        JanrainSigner::new(signer)
    }
}

impl RequestSigner {
    /// Sign a `reqwest::Request` in place exactly as [`JanrainSigner`] does before sending it:
    /// with the client of a [`UseClient`](super::UseClient) in `extensions` (the middleware
    /// extensions), or the signer's own; as a user for an [`AsUser`](super::AsUser), as a login
    /// client for an [`AsLoginClient`](super::AsLoginClient) (which may change the URL's query
    /// or the body).
    pub fn sign_reqwest(
        &self,
        request: &mut Request,
        extensions: &Extensions,
    ) -> Result<SignOutcome, SignError> {
        self.sign_reqwest_with(request, Caller::of(extensions)?, false)
    }

    fn sign_reqwest_with(
        &self,
        request: &mut Request,
        caller: Caller<'_>,
        force: bool,
    ) -> Result<SignOutcome, SignError> {
        // Take the headers out (no allocation) while the URL and the body are read.
        let mut headers = std::mem::take(request.headers_mut());
        let url = request.url();
        let target = Target {
            scheme: Some(url.scheme()),
            host: url.host_str(),
            port: url.port(),
            path: url.path(),
            query: url.query(),
        };
        let body = match request.body() {
            None => BodyView::Empty,
            Some(body) => match body.as_bytes() {
                Some([]) => BodyView::Empty,
                Some(bytes) => BodyView::Bytes(bytes),
                None => BodyView::Unreadable,
            },
        };
        let result = self.sign_parts(&target, &mut headers, body, caller, force);
        *request.headers_mut() = headers;
        let signed = result?;
        match signed.rewrite {
            None => {}
            Some(Rewrite::Query(query)) => request.url_mut().set_query(Some(&query)),
            Some(Rewrite::Body(bytes)) => *request.body_mut() = Some(bytes.into()),
        }
        Ok(signed.outcome)
    }
}

#[async_trait::async_trait]
impl Middleware for JanrainSigner {
    async fn handle(
        &self,
        mut request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let offset_used = self.signer.clock_offset();
        let (outcome, chosen) = Caller::of(extensions)
            .and_then(|caller| {
                let outcome = self.signer.sign_reqwest_with(&mut request, caller, false)?;
                Ok((outcome, caller.client()))
            })
            .map_err(reqwest_middleware::Error::middleware)?;
        let learn = outcome == SignOutcome::Signed
            && self.signer.mode() == AuthMode::Signed
            && self.signer.learns_clock_skew();
        if !learn {
            return next.run(request, extensions).await;
        }
        let sent_at = request
            .headers()
            .get(DATE)
            .and_then(|v| Datetime::parse_bytes(v.as_bytes()).ok());
        // The body is in memory (signing read it), so the copy always succeeds.
        let retry = request.try_clone();
        let response = next.clone().run(request, extensions).await?;
        let Some(server_now) = self.signer.observe_response(response.headers()) else {
            return Ok(response);
        };
        // Only an answer that moved the clock can make a second attempt go differently.
        let learned = self.signer.clock_offset();
        let Some(mut retry) = retry.filter(|_| learned != offset_used) else {
            return Ok(response);
        };
        let far_off = sent_at.is_some_and(|sent| {
            (server_now.unix_seconds() - sent.unix_seconds()).abs() > REFUSAL_SKEW_SECS
        });
        let (response, refused) = date_refusal(response, far_off).await?;
        if !refused {
            return Ok(response);
        }
        tracing::info!(
            clock_offset_secs = learned,
            "server refused a request whose Date was off its clock; corrected the clock and retrying once"
        );
        self.signer
            .sign_reqwest_with(&mut retry, chosen.as_ref().into(), true)
            .map_err(reqwest_middleware::Error::middleware)?;
        next.run(retry, extensions).await
    }
}

/// How far, in seconds, a request's `Date` may be from the server's before a refusal of any
/// kind counts as a refusal of the `Date`.
const REFUSAL_SKEW_SECS: i64 = 60;

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

/// Read a `reqwest::Response` as a Janrain answer: `stat:error` envelopes (HTTP 200 included)
/// become [`ResponseError::Janrain`]. See [`janrain_json`](super::janrain_json).
///
/// ```no_run
/// use janrain_auth::client::JanrainResponseExt;
///
/// # async fn run(client: reqwest_middleware::ClientWithMiddleware) -> Result<(), Box<dyn std::error::Error>> {
/// let response = client.post("https://myapp.janraincapture.com/entity.count").send().await?;
/// match response.janrain_json().await {
///     Ok(value) => println!("{} users", value["total_count"]),
///     Err(e) => match e.janrain() {
///         Some(janrain) if janrain.code == 403 => eprintln!("this client lacks a feature"),
///         _ => return Err(e.into()),
///     },
/// }
/// # Ok(())
/// # }
/// ```
pub trait JanrainResponseExt {
    /// Read the body and check it for a Janrain error envelope.
    fn janrain_json(self) -> impl Future<Output = Result<serde_json::Value, ResponseError>> + Send;
}

impl JanrainResponseExt for Response {
    async fn janrain_json(self) -> Result<serde_json::Value, ResponseError> {
        let status = self.status();
        let body = self
            .bytes()
            .await
            .map_err(|e| ResponseError::Transport(Box::new(e)))?;
        janrain_json(status, &body)
    }
}
