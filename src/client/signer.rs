//! The signing core shared by the reqwest middleware and the tower layer: which client signs,
//! how, for which hosts, with which endpoint and parameters, and at what time.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use http::header::{AUTHORIZATION, DATE};
use http::{HeaderMap, HeaderValue, Uri};

use super::allowlist::{AllowedHost, parse_base_url, parse_host};
pub(crate) use super::caller::Caller;
pub use super::caller::{AsLoginClient, AsUser, UseClient};
use super::rewrite::{add_client_id, oauth_header, request_params, with_query};
use crate::credentials::ApiClient;
use crate::params::ParamsError;
use crate::scheme::{
    Clock, Datetime, DatetimeError, StringToSign, SystemClock, basic_header, signature_header,
};

/// How outbound requests authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AuthMode {
    /// janrain-signed: `Date: YYYY-MM-DD HH:MM:SS` and
    /// `Authorization: Signature <client_id>:<base64 HMAC-SHA1>`. The default: the secret never
    /// travels, and a captured request is only good within the server's date window.
    #[default]
    Signed,
    /// `Authorization: Basic base64(client_id:client_secret)`. The secret travels with every
    /// request: use it over HTTPS only. No `Date` is set and the body is never read.
    Basic,
}

/// What happens to a request for a host the signer is not allowed to send credentials to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum UnlistedHost {
    /// Fail the request with [`SignError::HostNotAllowed`]. The default: a misconfigured base
    /// URL shows up as an error that names the host, never as a request that silently went out
    /// without (or with the wrong) credentials.
    #[default]
    Fail,
    /// Send the request on unchanged, without credentials: for a client shared between the
    /// Janrain API and other services.
    SendUnsigned,
}

/// What the signer did to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignOutcome {
    /// `Authorization` (and, for janrain-signed, `Date`) were set.
    Signed,
    /// `Authorization: OAuth <token>` was set, for an [`AsUser`] request.
    AsUser,
    /// The `client_id` parameter was added, for an [`AsLoginClient`] request.
    AsLoginClient,
    /// The request already carried an `Authorization` header and the signer is not configured
    /// to overwrite it: the request was left exactly as it was.
    KeptAuthorization,
    /// The host is not allowed and the signer is configured with
    /// [`UnlistedHost::SendUnsigned`]: the request was left exactly as it was.
    SentUnsigned,
}

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
    /// The request carries more than one of [`UseClient`], [`AsUser`] and [`AsLoginClient`].
    #[error(
        "the request carries more than one of UseClient, AsUser and AsLoginClient; choose one way for it to authenticate"
    )]
    ConflictingCredentials,
    /// An [`AsLoginClient`] request already carries a `client_id` parameter.
    #[error(
        "the request already has a client_id parameter, and AsLoginClient adds one: the server refuses a repeated client_id, so leave it out of the parameters (or send the request without AsLoginClient)"
    )]
    RepeatedClientId,
    /// The `client_id` of an [`AsLoginClient`] request belongs in the form body, and the
    /// body's type cannot be rebuilt with it.
    #[error(
        "cannot add client_id to this request's form body: its body type cannot be rebuilt from bytes (use http_body_util::Full<Bytes> or String, or SignLayer::buffering)"
    )]
    BodyNotRewritable,
    /// The `client_id` parameter could not be added to the request URI.
    #[error("cannot add client_id to the request URI: {0}")]
    Uri(&'static str),
}

/// Why a [`SignerBuilder`] could not build a signer.
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

/// Builds a [`RequestSigner`]. Start with [`RequestSigner::builder`].
///
/// | option | default | |
/// |---|---|---|
/// | [`mode`](Self::mode) | [`AuthMode::Signed`] | janrain-signed; Basic on request |
/// | [`base_url`](Self::base_url) | none | allows its scheme, host and port, and makes its path the prefix |
/// | [`path_prefix`](Self::path_prefix) | the base URL's path | removed from the request path to give the signed endpoint |
/// | [`allow_host`](Self::allow_host) / [`allow_any_host`](Self::allow_any_host) | none | more destinations for credentials |
/// | [`unlisted_host`](Self::unlisted_host) | [`UnlistedHost::Fail`] | a request elsewhere is an error |
/// | [`overwrite_authorization`](Self::overwrite_authorization) | `false` | a request with its own `Authorization` is left alone |
/// | [`clock`](Self::clock) | [`SystemClock`] | where "now" comes from |
/// | [`learn_clock_skew`](Self::learn_clock_skew) | `true` | the reqwest middleware corrects its clock from date refusals and retries once |
#[must_use]
pub struct SignerBuilder {
    client: Arc<ApiClient>,
    mode: AuthMode,
    base_url: Option<String>,
    prefix: Option<String>,
    hosts: Vec<String>,
    any_host: bool,
    unlisted: UnlistedHost,
    overwrite: bool,
    clock: Arc<dyn Clock>,
    learn_skew: bool,
}

impl fmt::Debug for SignerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignerBuilder")
            .field("client", &self.client.id())
            .field("mode", &self.mode)
            .field("base_url", &self.base_url)
            .field("prefix", &self.prefix)
            .field("hosts", &self.hosts)
            .field("any_host", &self.any_host)
            .field("unlisted", &self.unlisted)
            .field("overwrite", &self.overwrite)
            .field("learn_skew", &self.learn_skew)
            .finish_non_exhaustive()
    }
}

impl SignerBuilder {
    /// janrain-signed (the default) or Basic.
    pub fn mode(mut self, mode: AuthMode) -> Self {
        self.mode = mode;
        self
    }

    /// The API's base URL, e.g. `https://myapp.janraincapture.com` or, behind a proxy that
    /// mounts the API under a path, `https://gateway.example/capture/`.
    ///
    /// Credentials may go to its scheme, host and port (in addition to any
    /// [`allow_host`](Self::allow_host)), and its path, without a trailing slash, becomes the
    /// [`path_prefix`](Self::path_prefix) unless one is set explicitly: with the second URL above,
    /// a request to `https://gateway.example/capture/entity.find` is signed for the endpoint
    /// `/entity.find`. A root path (`/` or none) means no prefix.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The part of the URL path to remove before signing, e.g. `/capture`; `""` for none. A
    /// leading `/` is added and trailing ones are removed. The prefix matches whole path segments
    /// (`/capture` matches `/capture/entity`, not `/captures/entity`); a request outside it fails
    /// with [`SignError::PathOutsidePrefix`]. Overrides the base URL's path.
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Allow credentials to go to `host` (its scheme's default port) or `host:port`, with any
    /// scheme. Can be called several times.
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        self.hosts.push(host.into());
        self
    }

    /// Allow credentials to go to any host. Only for signers whose requests are all built by
    /// code that already fixes the destination.
    pub fn allow_any_host(mut self) -> Self {
        self.any_host = true;
        self
    }

    /// What to do with a request to a host that is not allowed. Default
    /// [`UnlistedHost::Fail`].
    pub fn unlisted_host(mut self, policy: UnlistedHost) -> Self {
        self.unlisted = policy;
        self
    }

    /// Whether to replace an `Authorization` header the request already has. Default `false`:
    /// such a request (one whose header was set by hand, say) is sent exactly as it is, whatever
    /// its [`UseClient`], [`AsUser`] or [`AsLoginClient`]. With `true` the header is replaced,
    /// and removed from an [`AsLoginClient`] request, which carries none.
    pub fn overwrite_authorization(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// The clock that gives the `Date` (before the learned offset). Default [`SystemClock`].
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Whether the signer follows the server's clock. Default `true`.
    ///
    /// **What is learned**: the offset between the server's clock and the signer's, in whole
    /// seconds, from the `Date` header of every response to a janrain-signed request that goes
    /// through the reqwest middleware or the tower layer (or that you hand to
    /// [`RequestSigner::observe_response`]). The next `Date` the signer writes is its clock
    /// plus that offset, so once one answer has come back from a server whose clock differs,
    /// later requests carry the server's time.
    ///
    /// **How it is bounded**: a `Date` that is not a valid HTTP date, or that is more than a day
    /// away from the signer's clock, is ignored (a broken proxy or a test server must not move
    /// the clock by years); a change of a second or less is the `Date` header's own rounding
    /// and is ignored too. Responses to requests the signer did not sign (a host that is not
    /// allowed, with [`UnlistedHost::SendUnsigned`]) teach nothing.
    ///
    /// **The retry on first contact**: when a janrain-signed request is refused (HTTP 401 or
    /// 403, or a `stat:error` answer with an authentication code, 400 to 499, at any status)
    /// and the refusal's `Date` shows that the request's `Date` was more than a minute off (or
    /// the code is this crate's own date refusal, 432 or 433), the reqwest middleware signs the
    /// request again with the corrected time and sends it once more, whatever the code.
    ///
    /// **Switching it off**: `false` keeps the offset at what
    /// [`RequestSigner::set_clock_offset`] sets (0 by default) and never retries.
    pub fn learn_clock_skew(mut self, learn: bool) -> Self {
        self.learn_skew = learn;
        self
    }

    /// Check the configuration and build the signer.
    pub fn build(self) -> Result<RequestSigner, ConfigError> {
        let mut allowed = Vec::new();
        let mut prefix = None;
        if let Some(url) = &self.base_url {
            let (host, path) = parse_base_url(url)?;
            allowed.push(host);
            prefix = normalize_prefix(&path);
        }
        if let Some(p) = &self.prefix {
            prefix = normalize_prefix(p);
        }
        for h in &self.hosts {
            allowed.push(parse_host(h)?);
        }
        if allowed.is_empty() && !self.any_host {
            return Err(ConfigError::NoHosts);
        }
        Ok(RequestSigner {
            inner: Arc::new(Inner {
                base_url: self.base_url.map(String::into_boxed_str),
                client: self.client,
                mode: self.mode,
                prefix,
                allowed,
                any_host: self.any_host,
                unlisted: self.unlisted,
                overwrite: self.overwrite,
                clock: self.clock,
                learn_skew: self.learn_skew,
                offset: AtomicI64::new(0),
            }),
        })
    }
}

fn normalize_prefix(p: &str) -> Option<Box<str>> {
    let prefix = crate::body::normalize_prefix(p);
    (!prefix.is_empty()).then(|| prefix.into_boxed_str())
}

/// The signing core: everything both front ends ([`crate::client::SignLayer`] and, with feature
/// `reqwest`, `JanrainSigner`) do to a request, so they behave identically.
///
/// Cheap to clone; clones share the learned clock offset. `Debug` shows the client id and the
/// options, never a secret.
#[derive(Clone)]
pub struct RequestSigner {
    inner: Arc<Inner>,
}

struct Inner {
    base_url: Option<Box<str>>,
    client: Arc<ApiClient>,
    mode: AuthMode,
    prefix: Option<Box<str>>,
    allowed: Vec<AllowedHost>,
    any_host: bool,
    unlisted: UnlistedHost,
    overwrite: bool,
    clock: Arc<dyn Clock>,
    learn_skew: bool,
    /// Seconds to add to the clock: server time minus local time, learned from refusals.
    offset: AtomicI64,
}

impl fmt::Debug for RequestSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("RequestSigner")
            .field("client", i.client.id())
            .field("base_url", &i.base_url)
            .field("mode", &i.mode)
            .field("prefix", &i.prefix)
            .field("allowed", &i.allowed)
            .field("any_host", &i.any_host)
            .field("unlisted", &i.unlisted)
            .field("overwrite", &i.overwrite)
            .field("learn_skew", &i.learn_skew)
            .field("clock_offset", &self.clock_offset())
            .finish_non_exhaustive()
    }
}

/// A request as the core sees it: where it goes, and its body.
pub(crate) struct Target<'a> {
    pub(crate) scheme: Option<&'a str>,
    pub(crate) host: Option<&'a str>,
    pub(crate) port: Option<u16>,
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
}

/// The body, as far as the core can see it.
#[derive(Clone, Copy)]
pub(crate) enum BodyView<'a> {
    /// No body.
    Empty,
    /// The complete body.
    Bytes(&'a [u8]),
    /// A stream: not readable without consuming it.
    Unreadable,
}

impl RequestSigner {
    /// Start building a signer for `client` (an [`ApiClient`] or an `Arc` of one).
    pub fn builder(client: impl Into<Arc<ApiClient>>) -> SignerBuilder {
        SignerBuilder {
            client: client.into(),
            mode: AuthMode::Signed,
            base_url: None,
            prefix: None,
            hosts: Vec::new(),
            any_host: false,
            unlisted: UnlistedHost::Fail,
            overwrite: false,
            clock: Arc::new(SystemClock),
            learn_skew: true,
        }
    }

    /// The base URL, as given to [`SignerBuilder::base_url`].
    pub fn base_url(&self) -> Option<&str> {
        self.inner.base_url.as_deref()
    }

    /// The client that signs requests without a [`UseClient`] extension.
    pub fn client(&self) -> &Arc<ApiClient> {
        &self.inner.client
    }

    /// The mode.
    pub fn mode(&self) -> AuthMode {
        self.inner.mode
    }

    /// The path prefix removed before signing, if any (no trailing slash).
    pub fn path_prefix(&self) -> Option<&str> {
        self.inner.prefix.as_deref()
    }

    /// Whether the signer learns the server's clock (see [`SignerBuilder::learn_clock_skew`]).
    pub fn learns_clock_skew(&self) -> bool {
        self.inner.learn_skew
    }

    /// Seconds added to the clock for the `Date` (server time minus local time), as learned.
    pub fn clock_offset(&self) -> i64 {
        self.inner.offset.load(Ordering::Relaxed)
    }

    /// Set the clock offset (seconds added to the clock).
    pub fn set_clock_offset(&self, secs: i64) {
        self.inner.offset.store(secs, Ordering::Relaxed);
    }

    /// Take a server's current time as given, unconditionally (no bounds, whatever
    /// [`SignerBuilder::learn_clock_skew`] says): store `server_now - local_now` and return it.
    /// [`RequestSigner::observe_response`] does this from a response's `Date`, with bounds.
    pub fn learn_server_date(&self, server_now: Datetime) -> Result<i64, SignError> {
        let local = Datetime::from_system_time(self.inner.clock.now())?;
        let offset = server_now.unix_seconds() - local.unix_seconds();
        self.set_clock_offset(offset);
        Ok(offset)
    }

    /// Learn the server's clock from a response's `Date` header, as the reqwest middleware and
    /// the tower layer do for every response to a janrain-signed request (call it yourself for
    /// responses that reach you another way). The header is read as an RFC 9110 HTTP date (any of
    /// its three forms); an unreadable `Date`, one more than a day from the signer's clock, a
    /// change of a second or less, and a signer built with
    /// [`learn_clock_skew(false)`](SignerBuilder::learn_clock_skew) leave the offset as it is.
    /// Returns the server's time when the header was readable and within a day.
    pub fn observe_response(&self, headers: &HeaderMap) -> Option<Datetime> {
        if !self.inner.learn_skew {
            return None;
        }
        let server = response_date(headers)?;
        let local = Datetime::from_system_time(self.inner.clock.now()).ok()?;
        let offset = server.unix_seconds() - local.unix_seconds();
        if offset.abs() > MAX_LEARNED_OFFSET {
            tracing::debug!(
                offset_secs = offset,
                "response Date more than a day from the local clock; ignored"
            );
            return None;
        }
        if (offset - self.clock_offset()).abs() > 1 {
            tracing::debug!(clock_offset_secs = offset, "learned the server's clock");
            self.set_clock_offset(offset);
        }
        Some(server)
    }

    /// The time the next `Date` will show: the clock plus the learned offset.
    pub fn now(&self) -> Result<Datetime, SignError> {
        Ok(Datetime::from_system_time(self.inner.clock.now())?
            .saturating_add_seconds(self.clock_offset()))
    }

    /// The endpoint to sign for a request path: the path with the prefix removed (`/` if
    /// nothing is left).
    pub fn endpoint<'p>(&self, path: &'p str) -> Result<&'p str, SignError> {
        let path = if path.is_empty() { "/" } else { path };
        let Some(prefix) = self.inner.prefix.as_deref() else {
            return Ok(path);
        };
        match path.strip_prefix(prefix) {
            Some("") => Ok("/"),
            Some(rest) if rest.starts_with('/') => Ok(rest),
            _ => Err(SignError::PathOutsidePrefix {
                path: path.to_owned(),
                prefix: prefix.to_owned(),
            }),
        }
    }

    /// Whether credentials may go to `scheme://host:port` (`None` port: the scheme's default).
    pub fn host_allowed(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        self.inner.any_host
            || self
                .inner
                .allowed
                .iter()
                .any(|a| a.matches(scheme, host, port))
    }

    /// Sign an `http::Request` whose body is in memory, as [`crate::client::SignLayer`] does:
    /// with the client of a [`UseClient`] extension or the signer's own; as a user for an
    /// [`AsUser`] extension, as a login client for an [`AsLoginClient`] one (which may change
    /// the URI's query or the body).
    pub fn sign_http<B: crate::client::BufferedBody>(
        &self,
        request: &mut http::Request<B>,
    ) -> Result<SignOutcome, SignError> {
        // The request lends one part at a time: take the headers and the extensions out (no
        // allocation) while the URI and the body are read, and put them back whatever happens.
        let mut headers = std::mem::take(request.headers_mut());
        let extensions = std::mem::take(request.extensions_mut());
        let result = Caller::of(&extensions).and_then(|caller| {
            let target = uri_target(request.uri());
            let signed = request.body().with_buffered(|bytes| {
                let view = if bytes.is_empty() {
                    BodyView::Empty
                } else {
                    BodyView::Bytes(bytes)
                };
                self.sign_parts(&target, &mut headers, view, caller, false)
            });
            match signed {
                Some(result) => result,
                None => self.sign_parts(&target, &mut headers, BodyView::Unreadable, caller, false),
            }
        });
        let result = result.and_then(|signed| {
            match signed.rewrite {
                None => {}
                Some(Rewrite::Query(query)) => {
                    let uri = with_query(request.uri(), &query)?;
                    *request.uri_mut() = uri;
                }
                Some(Rewrite::Body(bytes)) => {
                    *request.body_mut() =
                        B::from_bytes(bytes.into()).ok_or(SignError::BodyNotRewritable)?;
                }
            }
            Ok(signed.outcome)
        });
        *request.headers_mut() = headers;
        *request.extensions_mut() = extensions;
        result
    }

    /// Apply the configuration to one request. `force` signs even over an existing
    /// `Authorization` (the middleware's own retry, which carries the first attempt's header).
    /// A login-client request comes back with the query or body to send instead (its
    /// `Content-Length`, if the request has one, already set to match).
    pub(crate) fn sign_parts(
        &self,
        target: &Target<'_>,
        headers: &mut HeaderMap,
        body: BodyView<'_>,
        caller: Caller<'_>,
        force: bool,
    ) -> Result<Signed, SignError> {
        let i = &*self.inner;
        let done = |outcome| {
            Ok(Signed {
                outcome,
                rewrite: None,
            })
        };
        if !force && !i.overwrite && headers.contains_key(AUTHORIZATION) {
            tracing::debug!("request already has an Authorization header; left unsigned");
            return done(SignOutcome::KeptAuthorization);
        }
        if !i.any_host {
            let (Some(scheme), Some(host)) = (target.scheme, target.host) else {
                return Err(SignError::NoHost);
            };
            if !self.host_allowed(scheme, host, target.port) {
                return match i.unlisted {
                    UnlistedHost::SendUnsigned => {
                        tracing::debug!(host, "host not allowed; request sent without credentials");
                        done(SignOutcome::SentUnsigned)
                    }
                    UnlistedHost::Fail => Err(SignError::HostNotAllowed {
                        host: match target.port {
                            Some(p) => format!("{scheme}://{host}:{p}"),
                            None => format!("{scheme}://{host}"),
                        },
                    }),
                };
            }
        }
        let client = match caller {
            Caller::Signer => &i.client,
            Caller::Client(client) => client,
            Caller::User(token) => {
                headers.insert(AUTHORIZATION, oauth_header(token));
                tracing::debug!("request sent as a user (janrain-oauth)");
                return done(SignOutcome::AsUser);
            }
            Caller::LoginClient(id) => {
                let rewrite = add_client_id(target, headers, body, id)?;
                headers.remove(AUTHORIZATION);
                tracing::debug!(client_id = %id, "request sent as a login client");
                return Ok(Signed {
                    outcome: SignOutcome::AsLoginClient,
                    rewrite: Some(rewrite),
                });
            }
        };
        match i.mode {
            AuthMode::Basic => {
                headers.insert(AUTHORIZATION, basic_header(client.id(), client.secret()));
                tracing::debug!(client_id = %client.id(), "Basic credentials set");
            }
            AuthMode::Signed => {
                let endpoint = self.endpoint(target.path)?;
                let (params, _) = request_params(target, headers, body)?;
                let date = self.now()?.to_bytes();
                // ASCII digits and separators by construction.
                let date_text = std::str::from_utf8(&date).unwrap_or_default();
                let signature = client
                    .signing_key()
                    .sign(&StringToSign::new(endpoint, date_text, &params));
                headers.insert(AUTHORIZATION, signature_header(client.id(), &signature));
                headers.insert(
                    DATE,
                    HeaderValue::from_bytes(&date).unwrap_or(HeaderValue::from_static("")),
                );
                tracing::debug!(
                    client_id = %client.id(),
                    endpoint,
                    params = params.len(),
                    "janrain-signed request"
                );
            }
        }
        done(SignOutcome::Signed)
    }
}

/// What [`RequestSigner::sign_parts`] did, and what the front end must change in the request.
pub(crate) struct Signed {
    pub(crate) outcome: SignOutcome,
    pub(crate) rewrite: Option<Rewrite>,
}

/// A part of the request to replace.
pub(crate) enum Rewrite {
    /// The whole query string (without the `?`).
    Query(String),
    /// The whole body.
    Body(Vec<u8>),
}

/// Largest clock offset, in seconds, learned from a response `Date`: a day.
const MAX_LEARNED_OFFSET: i64 = 86_400;

/// A response's `Date` header as an instant, read by the `httpdate` crate (the three forms RFC
/// 9110 allows a recipient to accept).
pub(crate) fn response_date(headers: &HeaderMap) -> Option<Datetime> {
    let text = headers.get(DATE)?.to_str().ok()?;
    let time = httpdate::parse_http_date(text).ok()?;
    Datetime::from_system_time(time).ok()
}

/// The core's view of an `http::Request`'s URI.
pub(crate) fn uri_target(uri: &Uri) -> Target<'_> {
    Target {
        scheme: uri.scheme_str(),
        host: uri.host(),
        port: uri.port_u16(),
        path: uri.path(),
        query: uri.query(),
    }
}
