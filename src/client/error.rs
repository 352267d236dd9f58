//! The client's errors: why a request could not be signed ([`SignError`]), why a signer or a
//! client could not be built ([`ConfigError`]), and everything that can go wrong with a call
//! ([`Error`]), the one type every front end reads Janrain's answers into.

use bytes::Bytes;
use http::StatusCode;

use crate::BoxError;
use crate::client::encode::EncodeError;
use crate::error::JanrainError;
use crate::params::ParamsError;
use crate::scheme::DatetimeError;

/// Why a request could not be signed. The messages say what to change; they never contain a
/// secret, a signature or a parameter value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The request goes to a host the signer may not send credentials to.
    #[error(
        "refusing to send Janrain credentials to {host}: it is neither the base URL's host nor an allowed host (configure it with SignerBuilder::base_url or allow_host, or choose UnlistedHost::SendUnsigned)"
    )]
    HostNotAllowed {
        /// `scheme://host:port` of the request.
        host: String,
    },
    /// The request URI has no host, so the allowlist cannot be checked.
    #[error(
        "the request URI has no host, so the Janrain signer cannot check it against the allowed hosts; use an absolute URI (http://host/path) or SignerBuilder::allow_any_host"
    )]
    NoHost,
    /// The request path does not start with the configured base path, so there is no endpoint to
    /// sign.
    #[error(
        "request path {path} is outside the base path {prefix}: the signed endpoint is the path after the base path, so requests must stay under it (or change SignerBuilder::path_prefix)"
    )]
    PathOutsidePrefix {
        /// The request's path.
        path: String,
        /// The configured base path.
        prefix: String,
    },
    /// The body cannot be read (a stream or multipart), and janrain-signed must sign the
    /// parameters it carries.
    #[error(
        "cannot sign a request whose body is a stream or multipart form: janrain-signed signs every parameter the server will read, so the body must be in memory. Send the parameters as a url-encoded form (.form(&params)) or in the query string (.query(&params)), or buffer the body (.body(bytes)) before sending"
    )]
    BodyNotBuffered,
    /// The body is larger than the buffering limit.
    #[error(
        "request body is larger than the signing buffer limit of {limit} bytes; raise the limit or send fewer parameters"
    )]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Reading the body to buffer it failed.
    #[error("reading the request body to sign it failed: {0}")]
    BodyRead(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The request's parameters are not in exactly one place, so a verifier would refuse it
    /// (and could not tell which parameters were meant).
    #[error(
        "cannot sign this request: {0}. janrain-signed parameters go in a form body \
         (Content-Type: application/x-www-form-urlencoded) or in the query string, never both"
    )]
    AmbiguousParameters(&'static str),
    /// The parameters could not be decoded.
    #[error("request parameters cannot be signed: {0}")]
    Params(#[from] ParamsError),
    /// The clock (plus the learned offset) gives an instant outside the years 0000-9999.
    #[error("the clock gives a time that cannot be put in the Date header: {0}")]
    Clock(#[from] DatetimeError),
    /// The request carries more than one of [`UseClient`](super::UseClient), [`AsUser`](super::AsUser) and [`AsLoginClient`](super::AsLoginClient).
    #[error(
        "the request carries more than one of UseClient, AsUser and AsLoginClient; choose one way for it to authenticate"
    )]
    ConflictingCredentials,
    /// An [`AsLoginClient`](super::AsLoginClient) request already carries a `client_id` parameter.
    #[error(
        "the request already has a client_id parameter, and AsLoginClient adds one: the server refuses a repeated client_id, so leave it out of the parameters (or send the request without AsLoginClient)"
    )]
    RepeatedClientId,
    /// A request sent with [`AuthMode::FormCredentials`](super::AuthMode::FormCredentials)
    /// already carries a `client_id` or `client_secret` parameter.
    #[error(
        "the request already has a {name} parameter, and the signer adds client_id and client_secret (AuthMode::FormCredentials): leave them out of the parameters"
    )]
    RepeatedCredentialParameter {
        /// The parameter: `client_id` or `client_secret`.
        name: &'static str,
    },
    /// The `client_id` of an [`AsLoginClient`](super::AsLoginClient) request belongs in the form body, and the
    /// body's type cannot be rebuilt with it.
    #[error(
        "cannot add client_id to this request's form body: its body type cannot be rebuilt from bytes (use http_body_util::Full<Bytes> or String, or SignLayer::buffering)"
    )]
    BodyNotRewritable,
    /// The `client_id` parameter could not be added to the request URI.
    #[error("cannot add client_id to the request URI: {0}")]
    Uri(&'static str),
}

/// Why a [`SignerBuilder`](super::SignerBuilder) could not build a signer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The base URL is not an absolute `http://` or `https://` URL without a query.
    #[error(
        "base URL {url:?} must be an absolute http:// or https:// URL with a host and no query or fragment ({reason})"
    )]
    BaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An allowed host is not `host` or `host:port`.
    #[error("allowed host {host:?} must be host or host:port, without scheme, path or user")]
    Host {
        /// The host as given.
        host: String,
    },
    /// No base URL, no allowed host, and not `allow_any_host`: every request would fail.
    #[error(
        "the signer may send credentials to no host: set SignerBuilder::base_url, allow_host, or allow_any_host"
    )]
    NoHosts,
    /// The HTTP client could not be built (reqwest's TLS setup failed, say).
    #[error("the HTTP client could not be built: {reason}")]
    HttpClient {
        /// reqwest's complaint.
        reason: String,
    },
    /// A client that calls operations by name needs the signer's base URL to know where they
    /// are.
    #[error(
        "the Identity Cloud client calls operations under the signer's base URL, and this signer has none: set SignerBuilder::base_url"
    )]
    NoBaseUrl,
}

/// Everything that can go wrong with a call, in one type: the parameters, the signing, the
/// transport, Janrain's refusal, and reading the answer. [`JanrainClient`](super::JanrainClient)
/// (feature `reqwest`) returns it, and so does
/// [`JanrainResponseExt::janrain_json`](super::JanrainResponseExt::janrain_json) for a response
/// of either front end: an answer is read one way, whoever sent the request.
///
/// A Janrain `stat:error` answer keeps the whole error object: [`Error::janrain`] gives the
/// [`JanrainError`] with its `code`, and every other field (`argument_name`, `expected_value`,
/// ...) in [`JanrainError::extra`]. The messages never contain a secret or a parameter value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operation name is empty, or holds a query, a fragment, a `.` or `..` segment, spaces
    /// or control characters.
    #[error("operation {operation:?} is not an operation name such as entity.find or /oauth/token")]
    Operation {
        /// The name as given.
        operation: String,
    },
    /// The parameters could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The request could not be signed (a host that is not allowed, a path outside the base
    /// path, ...).
    #[error(transparent)]
    Sign(#[from] SignError),
    /// The request could not be sent or the answer not read: connection, timeout, TLS, or an
    /// error of another middleware in the chain. With feature `reqwest` the source is the
    /// `reqwest_middleware::Error` (or the `reqwest::Error`) as it came, to downcast.
    #[error("the request failed: {0}")]
    Transport(#[source] BoxError),
    /// The URL is `https://` and the reqwest this program was built with has no TLS backend, so
    /// nothing was sent. The fix is in `Cargo.toml`: a TLS feature of reqwest.
    #[error(
        "cannot call {origin}: it is an https:// URL and this build of reqwest has no TLS backend. Add one of reqwest's TLS features to Cargo.toml: reqwest = {{ version = \"0.13\", features = [\"rustls\"] }} (or \"native-tls\")"
    )]
    NoTls {
        /// `https://host[:port]` of the request (never its path or query).
        origin: String,
    },
    /// Janrain answered `stat:error` (at any HTTP status; most are 200).
    #[error("{error} (HTTP {status})")]
    Janrain {
        /// The HTTP status.
        status: StatusCode,
        /// The error object, every field kept.
        #[source]
        error: JanrainError,
    },
    /// The status is not a success and the body is not a Janrain error object (a proxy's error
    /// page, say).
    #[error("HTTP {status} without a Janrain error object ({} bytes of body)", body.len())]
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// The body.
        body: Bytes,
    },
    /// The answer is not JSON, or does not have the shape of the type asked for.
    #[error("the answer (HTTP {status}) does not read as the expected type: {source}")]
    Decode {
        /// The HTTP status.
        status: StatusCode,
        /// serde_json's complaint (it names the field).
        #[source]
        source: serde_json::Error,
    },
    /// Paging `entity.find` cannot go on (see `JanrainClient::find_all`, feature `reqwest`).
    #[error("paging entity.find: {0}")]
    Paging(&'static str),
}

impl Error {
    /// The Janrain error object, if Janrain answered `stat:error`.
    pub fn janrain(&self) -> Option<&JanrainError> {
        match self {
            Error::Janrain { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The Janrain error code (`200` invalid_argument, `403` client_permission_error, ...), if
    /// Janrain answered `stat:error`.
    pub fn code(&self) -> Option<u16> {
        self.janrain().map(|e| e.code)
    }

    /// The HTTP status of the answer, if one arrived.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Janrain { status, .. }
            | Error::Status { status, .. }
            | Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A failed send through a reqwest-middleware chain: the [`SignError`] a
/// [`JanrainSigner`](super::JanrainSigner) failed with, [`Error::NoTls`] for an `https://` URL
/// that this build of reqwest cannot call, or [`Error::Transport`].
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
impl From<reqwest_middleware::Error> for Error {
    fn from(error: reqwest_middleware::Error) -> Self {
        match error {
            reqwest_middleware::Error::Middleware(e) => match e.downcast::<SignError>() {
                Ok(sign) => Error::Sign(sign),
                Err(other) => Error::Transport(reqwest_middleware::Error::Middleware(other).into()),
            },
            reqwest_middleware::Error::Reqwest(e) => Error::from(e),
        }
    }
}

/// A failed send or read of a `reqwest` request: [`Error::NoTls`] for an `https://` URL that
/// this build of reqwest cannot call, else [`Error::Transport`].
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
impl From<reqwest::Error> for Error {
    fn from(error: reqwest::Error) -> Self {
        match no_tls_origin(&error) {
            Some(origin) => Error::NoTls { origin },
            None => Error::Transport(error.into()),
        }
    }
}

/// The origin of an `https://` request that failed because reqwest was built without TLS.
///
/// reqwest has no way to ask whether it has a TLS backend; without one, its connector is
/// hyper-util's plain `HttpConnector`, which refuses any scheme but `http` before connecting,
/// with the message matched here. Should that message ever change, the failure stays a plain
/// [`Error::Transport`], which still carries it.
#[cfg(feature = "reqwest")]
fn no_tls_origin(error: &reqwest::Error) -> Option<String> {
    let url = error.url()?;
    if url.scheme() != "https" || !error.is_connect() {
        return None;
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if e.to_string() == "invalid URL, scheme is not http" {
            return Some(url.origin().ascii_serialization());
        }
        cause = e.source();
    }
    None
}
