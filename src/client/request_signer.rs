//! The signing core shared by the reqwest middleware and the tower layer: which client signs,
//! how, for which hosts, with which endpoint and parameters, and at what time.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use http::header::{AUTHORIZATION, DATE};
use http::{HeaderMap, HeaderValue, Method, Uri};

use super::allowlist::AllowedHost;
use super::builder::{AuthMode, UnlistedHost};
use super::caller::Caller;
use super::error::SignError;
use super::rewrite::{add_params, oauth_header, request_params, with_query};
use crate::credentials::ApiClient;
use crate::scheme::{Clock, Datetime, StringToSign, basic_header, signature_header};

/// What the signer did to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignOutcome {
    /// `Authorization` (and, for janrain-signed, `Date`) were set.
    Signed,
    /// `Authorization: OAuth <token>` was set, for an [`AsUser`](super::AsUser) request.
    AsUser,
    /// The `client_id` parameter was added, for an [`AsLoginClient`](super::AsLoginClient) request.
    AsLoginClient,
    /// The `client_id` and `client_secret` parameters were added
    /// ([`AuthMode::FormCredentials`]).
    FormCredentials,
    /// The request already carried an `Authorization` header and the signer is not configured
    /// to overwrite it: the request was left exactly as it was.
    KeptAuthorization,
    /// The host is not allowed and the signer is configured with
    /// [`UnlistedHost::SendUnsigned`]: the request was left exactly as it was.
    SentUnsigned,
}

/// The signing core: everything both front ends ([`crate::client::SignLayer`] and, with feature
/// `reqwest`, `JanrainSigner`) do to a request, so they behave identically.
///
/// Cheap to clone; clones share the learned clock offset. `Debug` shows the client id and the
/// options, never a secret.
#[derive(Clone)]
pub struct RequestSigner {
    pub(super) inner: Arc<Inner>,
}

/// The configuration a [`SignerBuilder`](super::SignerBuilder) checked, and the learned offset.
pub(super) struct Inner {
    pub(super) base_url: Option<Box<str>>,
    pub(super) client: Arc<ApiClient>,
    pub(super) mode: AuthMode,
    pub(super) prefix: Option<Box<str>>,
    pub(super) allowed: Vec<AllowedHost>,
    pub(super) any_host: bool,
    pub(super) unlisted: UnlistedHost,
    pub(super) overwrite: bool,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) learn_skew: bool,
    /// Seconds to add to the clock: server time minus local time, learned from responses.
    pub(super) offset: AtomicI64,
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

/// A request's method and URL as the core sees them, the URL in parts: where the request goes
/// (scheme, host, port, checked against the allowlist), the path it signs, and the query
/// string that may hold its parameters. Each front end fills it from its own request type.
pub(crate) struct RequestLine<'a> {
    pub(crate) method: &'a Method,
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
    /// The base URL, as given to [`SignerBuilder::base_url`](super::SignerBuilder::base_url)
    /// (`https://` added to a bare host).
    pub fn base_url(&self) -> Option<&str> {
        self.inner.base_url.as_deref()
    }

    /// The client that signs requests without a [`UseClient`](super::UseClient) extension.
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

    /// Whether the signer learns the server's clock (see [`SignerBuilder::learn_clock_skew`](super::SignerBuilder::learn_clock_skew)).
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
    /// [`SignerBuilder::learn_clock_skew`](super::SignerBuilder::learn_clock_skew) says): store `server_now - local_now` and return it.
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
    /// [`learn_clock_skew(false)`](super::SignerBuilder::learn_clock_skew) leave the offset as it is.
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

    /// Whether the answer to a request signed with `outcome` teaches the clock: only
    /// janrain-signed requests that were signed, and only when learning is on.
    pub(crate) fn learns_from(&self, outcome: SignOutcome) -> bool {
        outcome == SignOutcome::Signed
            && self.inner.mode == AuthMode::Signature
            && self.inner.learn_skew
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
    /// with the client of a [`UseClient`](super::UseClient) extension or the signer's own; as a user for an
    /// [`AsUser`](super::AsUser) extension, as a login client for an [`AsLoginClient`](super::AsLoginClient) one (which may change
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
            let line = request_line(request.method(), request.uri());
            let signed = request.body().with_buffered(|bytes| {
                let view = if bytes.is_empty() {
                    BodyView::Empty
                } else {
                    BodyView::Bytes(bytes)
                };
                self.sign_parts(&line, &mut headers, view, caller)
            });
            match signed {
                Some(result) => result,
                None => self.sign_parts(&line, &mut headers, BodyView::Unreadable, caller),
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

    /// Apply the configuration to one request. A login-client request comes back with the query or body to send instead (its
    /// `Content-Length`, if the request has one, already set to match).
    pub(crate) fn sign_parts(
        &self,
        line: &RequestLine<'_>,
        headers: &mut HeaderMap,
        body: BodyView<'_>,
        caller: Caller<'_>,
    ) -> Result<Signed, SignError> {
        let i = &*self.inner;
        let done = |outcome| {
            Ok(Signed {
                outcome,
                rewrite: None,
            })
        };
        if !i.overwrite && headers.contains_key(AUTHORIZATION) {
            tracing::debug!("request already has an Authorization header; left unsigned");
            return done(SignOutcome::KeptAuthorization);
        }
        if !i.any_host {
            let (Some(scheme), Some(host)) = (line.scheme, line.host) else {
                return Err(SignError::NoHost);
            };
            if !self.host_allowed(scheme, host, line.port) {
                return match i.unlisted {
                    UnlistedHost::SendUnsigned => {
                        tracing::debug!(host, "host not allowed; request sent without credentials");
                        done(SignOutcome::SentUnsigned)
                    }
                    UnlistedHost::Fail => Err(SignError::HostNotAllowed {
                        host: match line.port {
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
                let pairs = [("client_id", id.as_str())];
                let rewrite =
                    add_params(line, headers, body, &pairs, |_| SignError::RepeatedClientId)?;
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
            AuthMode::FormCredentials => {
                let pairs = [
                    ("client_id", client.id().as_str()),
                    ("client_secret", client.secret().expose()),
                ];
                let rewrite = add_params(line, headers, body, &pairs, |name| {
                    SignError::RepeatedCredentialParameter { name }
                })?;
                headers.remove(AUTHORIZATION);
                tracing::debug!(client_id = %client.id(), "form credentials added (legacy)");
                return Ok(Signed {
                    outcome: SignOutcome::FormCredentials,
                    rewrite: Some(rewrite),
                });
            }
            AuthMode::Signature => {
                let endpoint = self.endpoint(line.path)?;
                let (params, _) = request_params(line, headers, body)?;
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

/// An `http::Request`'s method and URI, in the parts the core reads.
pub(crate) fn request_line<'a>(method: &'a Method, uri: &'a Uri) -> RequestLine<'a> {
    RequestLine {
        method,
        scheme: uri.scheme_str(),
        host: uri.host(),
        port: uri.port_u16(),
        path: uri.path(),
        query: uri.query(),
    }
}
