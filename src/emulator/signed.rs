//! Correctly signed requests for handler tests, made by the client's own signer.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{Method, Request};
use http_body_util::Full;

use crate::client::{AsLoginClient, AsUser, AuthMode, ConfigError, RequestSigner, SignError};
use crate::credentials::{AccessToken, ApiClient, ClientId, ClientSecret};
use crate::params::encode_urlencoded;
use crate::scheme::{Datetime, ManualClock};

/// An `http::Request` to an operation, made as the crate's client makes it, at a time of your
/// choice: the input of a test that drives a router (or any tower service) behind the
/// verification layer without a network.
///
/// Four ways to call, as Identity Cloud takes them:
///
/// * [`SignedRequest::new`]: janrain-signed by an API client (its first secret);
/// * [`basic`](Self::basic): the same client with Basic credentials;
/// * [`SignedRequest::for_user`] (or [`as_user`](Self::as_user)): as a user, with an access
///   token (`Authorization: OAuth <token>`, no signature, no `Date`);
/// * [`as_login_client`](Self::as_login_client): as a login client, its id as the
///   `client_id` parameter and no `Authorization` header (add the user's
///   `param("access_token", ...)` where the operation takes one).
///
/// POST with a form body by default; [`get`](Self::get) puts the parameters in the query
/// string. The URI is the path alone (`/entity.find`), as a router sees it.
///
/// ```
/// use janrain_auth::credentials::{AccessToken, ApiClient, ClientId, ClientSecret};
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
///
/// let as_user = SignedRequest::for_user(AccessToken::new("y2bz7eq8xx7mkdqk")?, "/entity")
///     .param("type_name", "user")
///     .build()?;
/// assert_eq!(as_user.headers()["authorization"], "OAuth y2bz7eq8xx7mkdqk");
///
/// let login = ApiClient::new(ClientId::new("login_client")?, ClientSecret::new("unused")?);
/// let as_login = SignedRequest::new(login, "/oauth/update_profile_native")
///     .param("access_token", "y2bz7eq8xx7mkdqk")
///     .as_login_client()
///     .build()?;
/// assert!(as_login.headers().get("authorization").is_none());
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
    caller: Caller,
}

/// How a [`SignedRequest`] authenticates.
#[derive(Clone)]
enum Caller {
    Signature,
    Basic,
    User(AccessToken),
    LoginClient,
}

impl fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let caller = match self.caller {
            Caller::Signature => "janrain-signed",
            Caller::Basic => "basic",
            Caller::User(_) => "as a user (access token redacted)",
            Caller::LoginClient => "as a login client",
        };
        f.debug_struct("SignedRequest")
            .field("client", &self.client)
            .field("path", &self.path)
            .field(
                "keys",
                &self.params.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("at", &self.at)
            .field("method", &self.method)
            .field("caller", &caller)
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
            caller: Caller::Signature,
        }
    }

    /// A request to `path` made as the user `token` was issued for: see
    /// [`as_user`](Self::as_user).
    pub fn for_user(token: AccessToken, path: impl Into<String>) -> Self {
        static NOBODY: std::sync::OnceLock<Arc<ApiClient>> = std::sync::OnceLock::new();
        let nobody = NOBODY.get_or_init(|| {
            let id = ClientId::new("signed_request_user").expect("a valid client id");
            let secret = ClientSecret::new("never used to sign").expect("a valid secret");
            Arc::new(ApiClient::new(id, secret))
        });
        SignedRequest::new(nobody.clone(), path).as_user(token)
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

    /// Basic credentials of the client instead of a signature.
    pub fn basic(mut self) -> Self {
        self.caller = Caller::Basic;
        self
    }

    /// As the user `token` was issued for (janrain-oauth): `Authorization: OAuth <token>`,
    /// no signature and no `Date`; the client is not used (the token names its login client).
    pub fn as_user(mut self, token: AccessToken) -> Self {
        self.caller = Caller::User(token);
        self
    }

    /// As the login client: its id as the `client_id` parameter, no `Authorization` header
    /// and no signature (its secret is not used).
    pub fn as_login_client(mut self) -> Self {
        self.caller = Caller::LoginClient;
        self
    }

    /// The request, made by the client's own signer.
    pub fn build(self) -> Result<Request<Full<Bytes>>, SignedRequestError> {
        let mut signer = RequestSigner::builder(self.client.clone())
            .allow_any_host()
            .learn_clock_skew(false);
        if let Some(at) = self.at {
            signer = signer.clock(ManualClock::at(at));
        }
        if let Caller::Basic = self.caller {
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
        match self.caller {
            Caller::Signature | Caller::Basic => {}
            Caller::User(token) => {
                request.extensions_mut().insert(AsUser(token));
            }
            Caller::LoginClient => {
                request
                    .extensions_mut()
                    .insert(AsLoginClient(self.client.id().clone()));
            }
        }
        signer.sign_http(&mut request)?;
        // The choice was the signer's to read; the request goes on without it.
        request.extensions_mut().remove::<AsUser>();
        request.extensions_mut().remove::<AsLoginClient>();
        Ok(request)
    }
}
