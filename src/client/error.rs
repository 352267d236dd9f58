//! Why a request could not be signed, and why a signer could not be built.

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
    /// A client that calls operations by name needs the signer's base URL to know where they
    /// are.
    #[error(
        "the Identity Cloud client calls operations under the signer's base URL, and this signer has none: set SignerBuilder::base_url"
    )]
    NoBaseUrl,
}
