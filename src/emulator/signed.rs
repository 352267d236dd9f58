//! Correctly signed requests for handler tests, made by the client's own signer.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{Method, Request};
use http_body_util::Full;

use crate::client::{AuthMode, ConfigError, RequestSigner, SignError};
use crate::credentials::ApiClient;
use crate::params::encode_urlencoded;
use crate::scheme::{Datetime, ManualClock};

/// An `http::Request` to an operation, signed for an API client as the crate's client signs
/// it, at a time of your choice: the input of a test that drives a router (or any tower
/// service) behind the verification layer without a network.
///
/// POST with a form body by default; [`get`](Self::get) puts the parameters in the query
/// string. The URI is the path alone (`/entity.find`), as a router sees it.
///
/// ```
/// use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
/// use janrain_auth::emulator::SignedRequest;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = ApiClient::new(ClientId::new("reader")?, ClientSecret::new("reader-secret")?);
/// let request = SignedRequest::new(client, "/entity.find")
///     .param("type_name", "user")
///     .at("2026-03-01 12:00:00".parse()?)
///     .build()?;
/// assert_eq!(request.uri(), "/entity.find");
/// assert_eq!(request.headers()["date"], "2026-03-01 12:00:00");
/// let authorization = request.headers()["authorization"].to_str()?;
/// assert!(authorization.starts_with("Signature reader:"));
/// # Ok(())
/// # }
/// ```
///
/// `Debug` shows the parameters' keys only: values may be passwords or tokens.
#[derive(Clone)]
pub struct SignedRequest {
    client: Arc<ApiClient>,
    path: String,
    params: Vec<(String, String)>,
    at: Option<Datetime>,
    method: Method,
    basic: bool,
}

impl fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedRequest")
            .field("client", &self.client)
            .field("path", &self.path)
            .field(
                "keys",
                &self.params.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("at", &self.at)
            .field("method", &self.method)
            .field("basic", &self.basic)
            .finish()
    }
}

/// Why a [`SignedRequest`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignedRequestError {
    /// The signer refused its configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The signer could not sign the request.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// The path and parameters do not make a request URI.
    #[error("not a request URI: {0}")]
    Uri(#[from] http::Error),
}

impl SignedRequest {
    /// A request to `path` (such as `/entity.update`) signed for `client` (janrain-signed,
    /// with its first secret).
    pub fn new(client: impl Into<Arc<ApiClient>>, path: impl Into<String>) -> Self {
        SignedRequest {
            client: client.into(),
            path: path.into(),
            params: Vec::new(),
            at: None,
            method: Method::POST,
            basic: false,
        }
    }

    /// Add the parameter `key` = `value` (a key may repeat).
    pub fn param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((key.into(), value.into()));
        self
    }

    /// Sign at `at` (default: now), the `Date` the request carries.
    pub fn at(mut self, at: Datetime) -> Self {
        self.at = Some(at);
        self
    }

    /// GET, the parameters in the query string.
    pub fn get(mut self) -> Self {
        self.method = Method::GET;
        self
    }

    /// Basic credentials instead of a signature.
    pub fn basic(mut self) -> Self {
        self.basic = true;
        self
    }

    /// The signed request.
    pub fn build(self) -> Result<Request<Full<Bytes>>, SignedRequestError> {
        let mut signer = RequestSigner::builder(self.client)
            .allow_any_host()
            .learn_clock_skew(false);
        if let Some(at) = self.at {
            signer = signer.clock(ManualClock::at(at));
        }
        if self.basic {
            signer = signer.mode(AuthMode::Basic);
        }
        let signer = signer.build()?;
        let encoded = encode_urlencoded(&self.params);
        let mut request = if self.method == Method::GET {
            let uri = match encoded.is_empty() {
                true => self.path,
                false => format!("{}?{encoded}", self.path),
            };
            Request::get(uri).body(Full::new(Bytes::new()))?
        } else {
            Request::post(self.path)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Full::new(Bytes::from(encoded)))?
        };
        signer.sign_http(&mut request)?;
        Ok(request)
    }
}
