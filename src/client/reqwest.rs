//! The reqwest-middleware front end: [`JanrainSigner`].

use ::reqwest::{Request, Response};
use http::Extensions;
use reqwest_middleware::{Middleware, Next};

use super::caller::Caller;
use super::error::SignError;
use super::request_signer::{BodyView, RequestLine, RequestSigner, Rewrite, SignOutcome};
use super::skew_retry::Sending;

/// A reqwest-middleware [`Middleware`] that signs every request with a [`RequestSigner`].
///
/// * The client is the signer's, or the one in a [`UseClient`](super::UseClient) middleware
///   extension (`reqwest_middleware::RequestBuilder::with_extension`). An
///   [`AsUser`](super::AsUser) extension sends the request as a user, an
///   [`AsLoginClient`](super::AsLoginClient) one as a login client (see
///   [Calling as a user or as a login client](super#calling-as-a-user-or-as-a-login-client)).
/// * A request that cannot be signed fails with `reqwest_middleware::Error::Middleware`, whose
///   message is the [`SignError`]'s (the error downcasts to it).
/// * Clock: the signer learns the server's clock from the `Date` of every response to a
///   janrain-signed request, so later requests carry the server's time (see
///   [`SignerBuilder::learn_clock_skew`](super::SignerBuilder::learn_clock_skew)). The
///   middleware never reads a response body and never sends a request twice: to retry a
///   request refused for a `Date` out of the server's window, with the corrected clock, put a
///   [`ClockSkewRetry`](super::ClockSkewRetry) outside it ([`JanrainClient`](super::JanrainClient)
///   does).
///
/// Attach it **after** (inside) any retry middleware, [`ClockSkewRetry`](super::ClockSkewRetry)
/// included, so that every attempt is signed afresh with a new `Date` (a retried copy of a
/// signed request carries the old `Date` and, behind a replay guard, is refused as a replay):
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
///     .with(RetryOnce) // outer: decides whether to try again
///     .with(ClockSkewRetry::new()) // retries a refused Date once the clock is corrected
///     .with(JanrainSigner::new(signer)) // inner: signs each attempt
///     .build();
/// # let _ = client;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// With reqwest-retry the chain is the same:
/// `ClientBuilder::new(reqwest::Client::new()).with(RetryTransientMiddleware::new_with_policy(policy)).with(ClockSkewRetry::new()).with(JanrainSigner::new(signer))`.
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
        self.sign_reqwest_with(request, Caller::of(extensions)?)
    }

    fn sign_reqwest_with(
        &self,
        request: &mut Request,
        caller: Caller<'_>,
    ) -> Result<SignOutcome, SignError> {
        // Take the headers out (no allocation) while the URL and the body are read.
        let mut headers = std::mem::take(request.headers_mut());
        let parsed = request.url();
        let line = RequestLine {
            method: request.method(),
            scheme: Some(parsed.scheme()),
            host: parsed.host_str(),
            port: parsed.port(),
            path: parsed.path(),
            query: parsed.query(),
        };
        let body = match request.body() {
            None => BodyView::Empty,
            Some(body) => match body.as_bytes() {
                Some([]) => BodyView::Empty,
                Some(bytes) => BodyView::Bytes(bytes),
                None => BodyView::Unreadable,
            },
        };
        let result = self.sign_parts(&line, &mut headers, body, caller);
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
        let outcome = Caller::of(extensions)
            .and_then(|caller| self.signer.sign_reqwest_with(&mut request, caller))
            .map_err(reqwest_middleware::Error::middleware)?;
        if !self.signer.learns_from(outcome) {
            return next.run(request, extensions).await;
        }
        let sending = Sending::new(&self.signer, offset_used, request.headers());
        let response = next.run(request, extensions).await?;
        extensions.insert(sending.answered(response.headers()));
        Ok(response)
    }
}
