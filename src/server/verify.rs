//! The verification procedure, in two phases: everything that needs no body first, then the
//! body under a limit.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, DATE};
use http::request::Parts;
use http::{HeaderMap, Request};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::replay::{ReplayGuard, ReplayKey, ReplayVerdict};
use super::store::{ClientStore, TokenVerifier};
use super::{AuthenticatedClient, Rejection, RejectionKind};
use crate::credentials::{ApiClient, ClientId};
use crate::params::ParamList;
use crate::permissions::{AuthMethod, AuthMethods, Catalog, Operation};
use crate::scheme::{
    Authorization, Canonicalization, Clock, Datetime, SIGNATURE_LEN, StringToSign,
};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The longest a replay guard is asked to keep an entry: a century, far beyond any useful date
/// window, and within what every store can express (Redis's `PX` stops at 2^63 - 1 ms).
const MAX_REPLAY_TTL: Duration = Duration::from_secs(100 * 365 * 86_400);

/// What the layer does with a path that is in neither the catalog nor the policy.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum UnknownPaths {
    /// Refuse it: 404 `unknown_operation`. The default: nothing gets through by accident.
    Deny,
    /// Let it through without authentication (for routes such as `/health` that share the
    /// router; prefer `route_layer` or a separate router for those).
    Allow,
    /// Authenticate it as this operation (path ignored): e.g. any header auth, owner only.
    Authenticate(Operation),
}

/// Where the API sits below the root of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Prefix {
    None,
    /// The layer runs inside `Router::nest(prefix, ..)`: it sees paths without the prefix.
    Nested(String),
    /// The layer sees full paths and strips the prefix to find the operation.
    Strip(String),
}

/// The layer's configuration, shared by every clone of the service.
pub(crate) struct Verifier {
    pub(crate) store: Arc<dyn ClientStore>,
    pub(crate) tokens: Option<Arc<dyn TokenVerifier>>,
    pub(crate) replay: Option<Arc<dyn ReplayGuard>>,
    pub(crate) replay_fail_open: bool,
    pub(crate) catalog: Catalog,
    pub(crate) unknown: UnknownPaths,
    pub(crate) prefix: Prefix,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) max_age: Duration,
    pub(crate) max_ahead: Duration,
    pub(crate) body_limit: usize,
    pub(crate) body_timeout: Duration,
    pub(crate) max_params: usize,
    pub(crate) forms: Vec<Canonicalization>,
    pub(crate) janrain_status: bool,
    pub(crate) enforce_methods: bool,
    pub(crate) realm: String,
}

/// The request's parameters and its body, read or untouched.
struct Collected<B> {
    params: ParamList,
    body: B,
}

impl Verifier {
    /// Verify a request. `Ok` carries the request (body restored, [`AuthenticatedClient`]
    /// extension added) for the inner service.
    pub(crate) async fn authorize<B>(&self, request: Request<B>) -> Result<Request<B>, Rejection>
    where
        B: Body + From<Bytes> + Send,
        B::Error: Into<BoxError>,
    {
        let (mut parts, body) = request.into_parts();
        let (op_path, called_path) = self.paths(parts.uri.path())?;
        let span = tracing::Span::current();
        span.record("operation", &*op_path);

        // The catalog's paths are static text: naming the operation costs no allocation.
        let (operation, name) = match self.catalog.get(&op_path) {
            Some(op) => (op, op.path_cow().clone()),
            None => match &self.unknown {
                UnknownPaths::Deny => {
                    return Err(Rejection::new(
                        RejectionKind::UnknownOperation,
                        format!("{op_path} is not an operation of this API"),
                    ));
                }
                UnknownPaths::Allow => return Ok(Request::from_parts(parts, body)),
                UnknownPaths::Authenticate(op) => (op, Cow::Owned(op_path.clone().into_owned())),
            },
        };
        let accepts = operation.auth();
        let reject = |kind, text: String| Rejection::new(kind, text).accepting(accepts);

        if self.enforce_methods && parts.method != operation.method() {
            return Err(reject(
                RejectionKind::MethodNotAllowed,
                format!(
                    "{op_path} is served with {}, not {}",
                    operation.method(),
                    parts.method
                ),
            ));
        }

        let mut headers = parts.headers.get_all(AUTHORIZATION).iter();
        let header = headers.next();
        if headers.next().is_some() {
            return Err(reject(
                RejectionKind::MalformedCredentials,
                "send exactly one Authorization header".into(),
            ));
        }

        let (client, method, body) = match header {
            Some(value) => {
                let parsed = Authorization::parse(value.as_bytes()).map_err(|e| {
                    reject(
                        RejectionKind::MalformedCredentials,
                        format!("malformed Authorization header: {e}"),
                    )
                })?;
                match parsed {
                    Authorization::Signature(creds) => {
                        // The claimed id, so that refusals are traceable too (ids are not secret).
                        span.record("client_id", creds.client_id());
                        self.require(
                            operation,
                            AuthMethod::Signature,
                            "janrain-signed (Signature)",
                        )?;
                        let client_id = creds.client_id().to_owned();
                        let mut signature = [0u8; SIGNATURE_LEN];
                        signature.copy_from_slice(creds.signature().as_bytes());
                        self.signed(
                            &parts,
                            body,
                            operation,
                            &called_path,
                            &client_id,
                            &signature,
                        )
                        .await?
                    }
                    Authorization::Basic(creds) => {
                        span.record("client_id", creds.client_id().as_str());
                        self.require(operation, AuthMethod::Basic, "Basic")?;
                        let client = self
                            .basic(creds.client_id(), creds.secret().expose(), operation)
                            .await?;
                        (client, AuthMethod::Basic, body)
                    }
                    Authorization::Other { scheme } => {
                        return Err(reject(
                            RejectionKind::AuthMethodNotAccepted,
                            format!(
                                "the {scheme} authorization scheme is not accepted by {op_path}; {}",
                                how_to_authenticate(accepts)
                            ),
                        ));
                    }
                }
            }
            None if accepts.contains(AuthMethod::LoginClient)
                || accepts.contains(AuthMethod::LoginClientWithToken) =>
            {
                self.login_client(&parts, body, operation, &op_path).await?
            }
            None if accepts.contains(AuthMethod::None) => {
                span.record("auth", "none");
                return Ok(Request::from_parts(parts, body));
            }
            None => {
                return Err(reject(
                    RejectionKind::MissingCredentials,
                    format!(
                        "{op_path} needs credentials: {}",
                        how_to_authenticate(accepts)
                    ),
                ));
            }
        };
        span.record("client_id", client.id().as_str());
        span.record("auth", method.as_str());
        parts
            .extensions
            .insert(AuthenticatedClient::new(client, method, name));
        Ok(Request::from_parts(parts, body))
    }

    /// The operation path (for the catalog) and the called path (what the client signed).
    fn paths<'p>(&self, seen: &'p str) -> Result<(Cow<'p, str>, Cow<'p, str>), Rejection> {
        match &self.prefix {
            Prefix::None => Ok((Cow::Borrowed(seen), Cow::Borrowed(seen))),
            Prefix::Nested(prefix) => {
                Ok((Cow::Borrowed(seen), Cow::Owned(format!("{prefix}{seen}"))))
            }
            Prefix::Strip(prefix) => match seen.strip_prefix(prefix.as_str()) {
                Some(rest) if rest.starts_with('/') => {
                    Ok((Cow::Borrowed(rest), Cow::Borrowed(seen)))
                }
                _ => Err(Rejection::new(
                    RejectionKind::UnknownOperation,
                    format!("{seen} is not below the API prefix {prefix}"),
                )),
            },
        }
    }

    fn require(&self, op: &Operation, method: AuthMethod, name: &str) -> Result<(), Rejection> {
        if op.accepts(method) {
            return Ok(());
        }
        Err(Rejection::new(
            RejectionKind::AuthMethodNotAccepted,
            format!(
                "{} does not accept {name} authentication; {}",
                op.path(),
                how_to_authenticate(op.auth())
            ),
        )
        .accepting(op.auth()))
    }

    async fn lookup(&self, id: &str, accepts: AuthMethods) -> Result<Arc<ApiClient>, Rejection> {
        match self.store.client(id).await {
            Ok(Some(client)) => Ok(client),
            Ok(None) => Err(invalid_credentials(accepts)),
            Err(e) => {
                tracing::warn!(error = %e, "client store failed");
                Err(Rejection::new(
                    RejectionKind::StoreUnavailable,
                    "the client store is unavailable; try again later",
                ))
            }
        }
    }

    async fn basic(
        &self,
        id: &ClientId,
        password: &str,
        op: &Operation,
    ) -> Result<Arc<ApiClient>, Rejection> {
        let client = self.lookup(id.as_str(), op.auth()).await?;
        if !client.verify_basic_secret(password) {
            return Err(invalid_credentials(op.auth()));
        }
        self.permit(&client, op)?;
        Ok(client)
    }

    async fn signed<B>(
        &self,
        parts: &Parts,
        body: B,
        op: &Operation,
        called_path: &str,
        client_id: &str,
        signature: &[u8; SIGNATURE_LEN],
    ) -> Result<(Arc<ApiClient>, AuthMethod, B), Rejection>
    where
        B: Body + From<Bytes> + Send,
        B::Error: Into<BoxError>,
    {
        let accepts = op.auth();
        let date_text = self.check_date(&parts.headers, accepts)?;
        let date = Datetime::parse_bytes(date_text.as_bytes()).map_err(|e| {
            Rejection::new(
                RejectionKind::InvalidDate,
                format!("invalid Date header: {e}"),
            )
            .accepting(accepts)
        })?;
        let now = self.clock.now();
        self.check_window(date, now, accepts)?;
        let client = self.lookup(client_id, accepts).await?;

        let collected = self.collect(parts, body).await?;
        let sts = StringToSign::new(called_path, date_text, &collected.params);
        if client
            .verify_signature(&sts, &self.forms, signature)
            .is_none()
        {
            return Err(Rejection::new(
                RejectionKind::SignatureMismatch,
                "the request signature we calculated does not match the signature you provided; \
                 sign \"endpoint\\ndatetime\\n\" plus every parameter as a sorted key=value line \
                 ending in \\n, with the client secret, HMAC-SHA1, base64",
            )
            .accepting(accepts));
        }
        self.permit(&client, op)?;
        if let Some(guard) = &self.replay {
            self.record(guard.as_ref(), client_id, signature, date, now, accepts)
                .await?;
        }
        Ok((client, AuthMethod::Signature, collected.body))
    }

    fn check_date<'h>(
        &self,
        headers: &'h HeaderMap,
        accepts: AuthMethods,
    ) -> Result<&'h str, Rejection> {
        let invalid =
            |text: &str| Rejection::new(RejectionKind::InvalidDate, text).accepting(accepts);
        let mut dates = headers.get_all(DATE).iter();
        let value = dates.next().ok_or_else(|| {
            invalid("the Date header is missing; send the current UTC time as YYYY-MM-DD HH:MM:SS, the same text that is signed")
        })?;
        if dates.next().is_some() {
            return Err(invalid("send exactly one Date header"));
        }
        value
            .to_str()
            .map_err(|_| invalid("invalid Date header: it must be YYYY-MM-DD HH:MM:SS (UTC)"))
    }

    fn check_window(
        &self,
        date: Datetime,
        now: SystemTime,
        accepts: AuthMethods,
    ) -> Result<(), Rejection> {
        let when = date.to_system_time();
        let out =
            |text: String| Rejection::new(RejectionKind::DateOutOfWindow, text).accepting(accepts);
        match now.duration_since(when) {
            Ok(age) if age > self.max_age => Err(out(format!(
                "the Date {date} is {} s in the past; requests are accepted up to {} s old: check the client's clock",
                age.as_secs(),
                self.max_age.as_secs()
            ))),
            Err(ahead) if ahead.duration() > self.max_ahead => Err(out(format!(
                "the Date {date} is {} s in the future; at most {} s ahead is accepted: check the client's clock",
                ahead.duration().as_secs(),
                self.max_ahead.as_secs()
            ))),
            _ => Ok(()),
        }
    }

    fn permit(&self, client: &ApiClient, op: &Operation) -> Result<(), Rejection> {
        if op.permits(client.features()) {
            return Ok(());
        }
        Err(Rejection::new(
            RejectionKind::PermissionDenied,
            format!(
                "this client does not have permission to call {}; it needs one of the features: {}",
                op.path(),
                op.allowed()
            ),
        )
        .accepting(op.auth()))
    }

    async fn record(
        &self,
        guard: &dyn ReplayGuard,
        client_id: &str,
        signature: &[u8; SIGNATURE_LEN],
        date: Datetime,
        now: SystemTime,
        accepts: AuthMethods,
    ) -> Result<(), Rejection> {
        // The request stays acceptable until its date is max_age old (plus the second it
        // names, since dates are truncated). A window too wide for the clock to express (a
        // `max_age` of `Duration::MAX`, say) keeps the entry for MAX_REPLAY_TTL.
        let keep = self.max_age.saturating_add(Duration::from_secs(1));
        let ttl = match date.to_system_time().checked_add(keep) {
            Some(until) => until.duration_since(now).unwrap_or(Duration::ZERO),
            None => MAX_REPLAY_TTL,
        }
        .clamp(Duration::from_secs(1), MAX_REPLAY_TTL);
        let key = ReplayKey {
            client_id,
            signature: std::str::from_utf8(signature).unwrap_or_default(),
        };
        match guard.check_and_record(key, ttl).await {
            Ok(ReplayVerdict::Fresh) => Ok(()),
            Ok(ReplayVerdict::Replayed) => Err(Rejection::new(
                RejectionKind::Replayed,
                "this signed request was already accepted; sign each request afresh",
            )
            .accepting(accepts)),
            Err(e) if self.replay_fail_open => {
                tracing::warn!(error = %e, client_id, "replay guard unavailable; request let through (fail open)");
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, client_id, "replay guard unavailable; request refused (fail closed)");
                Err(Rejection::new(
                    RejectionKind::ReplayGuardUnavailable,
                    "replay protection is unavailable, so signed requests cannot be accepted; try again later",
                ))
            }
        }
    }

    async fn login_client<B>(
        &self,
        parts: &Parts,
        body: B,
        op: &Operation,
        op_path: &str,
    ) -> Result<(Arc<ApiClient>, AuthMethod, B), Rejection>
    where
        B: Body + From<Bytes> + Send,
        B::Error: Into<BoxError>,
    {
        let accepts = op.auth();
        let collected = self.collect(parts, body).await?;
        let params = &collected.params;
        let missing = |name: &str| {
            Rejection::new(
                RejectionKind::MissingArgument,
                format!("the {name} parameter is missing; {op_path} takes the client_id of a login client{}",
                    if accepts.contains(AuthMethod::LoginClientWithToken) { " and an access_token issued to it" } else { "" }),
            )
            .accepting(accepts)
        };
        let raw_id = params
            .get(b"client_id")
            .ok_or_else(|| missing("client_id"))?;
        let id = std::str::from_utf8(raw_id)
            .ok()
            .and_then(|s| ClientId::new(s).ok())
            .ok_or_else(|| invalid_credentials(accepts))?;
        tracing::Span::current().record("client_id", id.as_str());
        let client = self.lookup(id.as_str(), accepts).await?;
        self.permit(&client, op)?;

        let token = params.get(b"access_token");
        let needs_token = accepts.contains(AuthMethod::LoginClientWithToken)
            && !accepts.contains(AuthMethod::LoginClient);
        let method = match token {
            None if needs_token => return Err(missing("access_token")),
            Some(token) if accepts.contains(AuthMethod::LoginClientWithToken) => {
                self.check_token(token, client.id(), accepts).await?;
                AuthMethod::LoginClientWithToken
            }
            _ => AuthMethod::LoginClient,
        };
        Ok((client, method, collected.body))
    }

    async fn check_token(
        &self,
        token: &[u8],
        client_id: &ClientId,
        accepts: AuthMethods,
    ) -> Result<(), Rejection> {
        let reject = |kind, text: &str| Rejection::new(kind, text).accepting(accepts);
        let Some(verifier) = &self.tokens else {
            tracing::warn!(
                "an operation needs an access token but no token verifier is configured"
            );
            return Err(Rejection::new(
                RejectionKind::StoreUnavailable,
                "access tokens cannot be checked: the server has no token verifier",
            ));
        };
        let Ok(token) = std::str::from_utf8(token) else {
            return Err(reject(
                RejectionKind::InvalidAccessToken,
                "the access_token is not valid",
            ));
        };
        match verifier.lookup(token).await {
            Ok(Some(record)) if record.client_id != *client_id => Err(reject(
                RejectionKind::AccessTokenOtherClient,
                "the access_token was issued to another client; use the login client that obtained it",
            )),
            Ok(Some(record)) if record.is_expired_at(self.clock.now()) => Err(reject(
                RejectionKind::AccessTokenExpired,
                "the access_token has expired; sign the user in again",
            )),
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(reject(
                RejectionKind::InvalidAccessToken,
                "the access_token is not valid",
            )),
            Err(e) => {
                tracing::warn!(error = %e, "token verifier failed");
                Err(Rejection::new(
                    RejectionKind::StoreUnavailable,
                    "access tokens cannot be checked right now; try again later",
                ))
            }
        }
    }

    /// Collect the parameters: the query string, plus the body when it is a form. A form body
    /// is read under the size limit and the timeout, then handed back unchanged.
    async fn collect<B>(&self, parts: &Parts, body: B) -> Result<Collected<B>, Rejection>
    where
        B: Body + From<Bytes> + Send,
        B::Error: Into<BoxError>,
    {
        let mut params = ParamList::with_limit(self.max_params);
        let too_many = |e: crate::params::ParamsError| {
            Rejection::new(
                RejectionKind::InvalidParameters,
                format!("cannot read the parameters: {e}"),
            )
        };
        if let Some(query) = parts.uri.query() {
            params
                .extend_urlencoded(query.as_bytes())
                .map_err(too_many)?;
        }
        if !is_form(&parts.headers) {
            return Ok(Collected { params, body });
        }
        let too_large = || {
            Rejection::new(
                RejectionKind::BodyTooLarge,
                format!("the request body is larger than {} bytes", self.body_limit),
            )
        };
        if let Some(length) = parts.headers.get(CONTENT_LENGTH) {
            let length = length
                .to_str()
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| {
                    Rejection::new(
                        RejectionKind::InvalidParameters,
                        "invalid Content-Length header",
                    )
                })?;
            if length > self.body_limit as u64 {
                return Err(too_large());
            }
        }
        let mut read = std::pin::pin!(Limited::new(body, self.body_limit).collect());
        // A body that is already here (the usual case for small forms) needs no timer.
        let first = std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
        let outcome = match first {
            Poll::Ready(result) => Ok(result),
            Poll::Pending => tokio::time::timeout(self.body_timeout, read).await,
        };
        let bytes = match outcome {
            Err(_) => {
                return Err(Rejection::new(
                    RejectionKind::BodyTimeout,
                    format!(
                        "the request body did not arrive within {} s",
                        self.body_timeout.as_secs_f32()
                    ),
                ));
            }
            Ok(Err(e)) if e.is::<LengthLimitError>() => return Err(too_large()),
            Ok(Err(_)) => {
                return Err(Rejection::new(
                    RejectionKind::InvalidParameters,
                    "the request body could not be read",
                ));
            }
            Ok(Ok(collected)) => collected.to_bytes(),
        };
        params.extend_urlencoded(&bytes).map_err(too_many)?;
        Ok(Collected {
            params,
            body: B::from(bytes),
        })
    }
}

fn invalid_credentials(accepts: AuthMethods) -> Rejection {
    Rejection::new(
        RejectionKind::InvalidCredentials,
        "the client id does not exist or the client secret was wrong",
    )
    .accepting(accepts)
}

/// Whether the body is `application/x-www-form-urlencoded` (parameters may follow).
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

fn how_to_authenticate(accepts: AuthMethods) -> String {
    let mut ways = Vec::new();
    if accepts.contains(AuthMethod::Basic) {
        ways.push("Basic (client id and secret)");
    }
    if accepts.contains(AuthMethod::Signature) {
        ways.push("janrain-signed (Authorization: Signature and Date)");
    }
    if accepts.contains(AuthMethod::LoginClientWithToken) {
        ways.push("no Authorization header, with the client_id of a login client and an access_token issued to it");
    } else if accepts.contains(AuthMethod::LoginClient) {
        ways.push("no Authorization header, with the client_id parameter of a login client");
    }
    if accepts.contains(AuthMethod::None) {
        ways.push("no authentication");
    }
    if ways.is_empty() {
        return "it accepts no authentication method".into();
    }
    format!("use {}", ways.join(" or "))
}
