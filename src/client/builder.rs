//! [`SignerBuilder`]: a [`RequestSigner`]'s options, checked once when it is built.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use super::allowlist::{parse_base_url, parse_host, with_default_scheme};
use super::error::ConfigError;
use super::request_signer::{Inner, RequestSigner};
use crate::credentials::ApiClient;
use crate::scheme::{Clock, SystemClock};

/// How outbound requests authenticate. The variants are named as the server side names the
/// same schemes ([`AuthMethod`](crate::permissions::AuthMethod)): `Signature` and `Basic`, the
/// words of the `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AuthMode {
    /// janrain-signed: `Date: YYYY-MM-DD HH:MM:SS` and
    /// `Authorization: Signature <client_id>:<base64 HMAC-SHA1>`. The default: the secret never
    /// travels, and a captured request is only good within the server's date window.
    #[default]
    Signature,
    /// `Authorization: Basic base64(client_id:client_secret)`. The secret travels with every
    /// request: use it over HTTPS only. No `Date` is set and the body is never read.
    Basic,
    /// **Legacy**: no `Authorization` header; `client_id` and `client_secret` are added to the
    /// request's parameters where they are: to the form body when the `Content-Type` is
    /// `application/x-www-form-urlencoded` (an empty body too, unless the request is a GET or
    /// HEAD or its query string holds parameters), else to the query string. This is what
    /// Janrain's
    /// Python client sends with signing switched off (`capture-api -x`), and what Identity
    /// Cloud accepts where it accepts Basic.
    ///
    /// Prefer [`AuthMode::Signature`]: here the secret travels in every request's body (or
    /// URL), where proxies and servers log parameters, and a captured request is good forever.
    /// The host allowlist applies as for signing, so the secret goes nowhere else. A request
    /// that already carries either parameter fails with
    /// [`SignError::RepeatedCredentialParameter`](super::SignError::RepeatedCredentialParameter);
    /// the parameters must be readable, as for janrain-signed.
    FormCredentials,
}

/// What happens to a request for a host the signer is not allowed to send credentials to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum UnlistedHost {
    /// Fail the request with [`SignError::HostNotAllowed`](super::SignError::HostNotAllowed). The default: a misconfigured base
    /// URL shows up as an error that names the host, never as a request that silently went out
    /// without (or with the wrong) credentials.
    #[default]
    Fail,
    /// Send the request on unchanged, without credentials: for a client shared between the
    /// Janrain API and other services.
    SendUnsigned,
}

/// Builds a [`RequestSigner`]. Start with [`RequestSigner::builder`].
///
/// | option | default | |
/// |---|---|---|
/// | [`mode`](Self::mode) | [`AuthMode::Signature`] | janrain-signed; Basic on request |
/// | [`base_url`](Self::base_url) | none | allows its scheme, host and port, and makes its path the prefix |
/// | [`path_prefix`](Self::path_prefix) | the base URL's path | removed from the request path to give the signed endpoint |
/// | [`allow_host`](Self::allow_host) / [`allow_any_host`](Self::allow_any_host) | none | more destinations for credentials |
/// | [`unlisted_host`](Self::unlisted_host) | [`UnlistedHost::Fail`] | a request elsewhere is an error |
/// | [`overwrite_authorization`](Self::overwrite_authorization) | `false` | a request with its own `Authorization` is left alone |
/// | [`clock`](Self::clock) | [`SystemClock`] | where "now" comes from |
/// | [`learn_clock_skew`](Self::learn_clock_skew) | `true` | the `Date` follows the server's clock, learned from its answers |
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
    /// mounts the API under a path, `https://gateway.example/capture/`. A bare host
    /// (`myapp.janraincapture.com`, no `://`) means `https://` on it, as in Janrain's own
    /// clients.
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
    /// with [`SignError::PathOutsidePrefix`](super::SignError::PathOutsidePrefix). Overrides the base URL's path.
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
    /// its [`UseClient`](super::UseClient), [`AsUser`](super::AsUser) or [`AsLoginClient`](super::AsLoginClient). With `true` the header is replaced,
    /// and removed from an [`AsLoginClient`](super::AsLoginClient) request, which carries none.
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
    /// **The retry on first contact**: the offset is learned by the signer itself, from every
    /// answer, and is shared by its clones and every middleware that holds one. Retrying a
    /// request the server refused for its `Date` is another middleware's job:
    /// [`ClockSkewRetry`](super::ClockSkewRetry) (feature `reqwest`), which
    /// [`JanrainClient`](super::JanrainClient) installs, or
    /// [`ClockSkewRetryLayer`](super::ClockSkewRetryLayer) for tower clients. On such a refusal
    /// it sends the request through the signer once more, and the signer signs it with the
    /// corrected time.
    ///
    /// **Switching it off**: `false` keeps the offset at what
    /// [`RequestSigner::set_clock_offset`] sets (0 by default); with nothing learned, the
    /// retry middlewares never retry.
    pub fn learn_clock_skew(mut self, learn: bool) -> Self {
        self.learn_skew = learn;
        self
    }

    /// Check the configuration and build the signer.
    pub fn build(self) -> Result<RequestSigner, ConfigError> {
        let mut allowed = Vec::new();
        let mut prefix = None;
        let base_url = self.base_url.map(with_default_scheme);
        if let Some(url) = &base_url {
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
                base_url: base_url.map(String::into_boxed_str),
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
    let prefix = crate::requests::normalize_prefix(p);
    (!prefix.is_empty()).then(|| prefix.into_boxed_str())
}

impl RequestSigner {
    /// Start building a signer for `client` (an [`ApiClient`] or an `Arc` of one).
    pub fn builder(client: impl Into<Arc<ApiClient>>) -> SignerBuilder {
        SignerBuilder {
            client: client.into(),
            mode: AuthMode::Signature,
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
}
