//! The verification procedure, in the two phases the module documentation describes.
//!
//! * [`Verifier::phase_one`] needs no body: the operation, the method, the credentials in the
//!   `Authorization` header, the `Date` and its window, the client (and for Basic its secret
//!   and features). It returns what it [`Established`].
//! * [`Verifier::phase_two`] reads the parameters from their one place (the query string, or a
//!   form body read under the limit), applies the parameter rules, then finishes: the
//!   signature, the features, the replay guard, or the login client and its access token.
//!
//! Every refusal is built by [`Verifier::refuse`] (or carries the operation's accepted methods
//! through [`refusal`]), so each answer names the methods the operation accepts.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{ACCESS_CONTROL_REQUEST_METHOD, AUTHORIZATION, DATE, ORIGIN};
use http::request::Parts;
use http::{HeaderMap, Method, Request};
use http_body::Body;
use tracing::Instrument;

use super::replay::{ReplayGuard, ReplayKey, ReplayVerdict};
use super::store::{ClientStore, TokenVerifier};
use super::{AuthenticatedClient, Rejection, RejectionKind, VerifiedParams};
use crate::body::{self, BodyKind, BoxError, CollectError, LengthError};
use crate::credentials::{ApiClient, ClientId, ClientSecret};
use crate::params::ParamList;
use crate::permissions::{AuthMethod, AuthMethods, Catalog, Operation};
use crate::scheme::{
    Authorization, Canonicalization, Clock, Datetime, SIGNATURE_LEN, StringToSign,
};

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
    /// router). Its body is still bounded by the body limit. Keeping such routes in a router
    /// of their own, merged beside the API's, is clearer: see the [module
    /// documentation](super#keeping-other-routes-open).
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
    pub(crate) realm: Arc<str>,
    pub(crate) strict_parameters: bool,
    pub(crate) allow_unsigned_bodies: bool,
    pub(crate) form_credentials: bool,
}

/// The request body after verification: read whole (a form), or not read at all.
pub(crate) enum Held<B> {
    /// The layer read this body; here are its bytes, unchanged.
    Read(Bytes),
    /// The layer did not read the body.
    Untouched(B),
}

/// A verified request: its parts (with the [`AuthenticatedClient`] and [`VerifiedParams`]
/// extensions, where the operation authenticates) and its body.
pub(crate) type Verified<B> = (Parts, Held<B>);

/// What phase one established without reading the body.
struct Established<'p> {
    operation: &'p Operation,
    /// The operation's name (static for catalog operations: no allocation).
    name: Cow<'static, str>,
    /// The path the client called, and signed.
    called_path: Cow<'p, str>,
    credentials: Credentials<'p>,
}

/// The credentials phase one found and checked as far as it can without the body.
enum Credentials<'p> {
    /// janrain-signed: the client and date are known; the signature needs the parameters.
    Signed {
        client: Arc<ApiClient>,
        signature: [u8; SIGNATURE_LEN],
        date: Datetime,
        now: SystemTime,
    },
    /// Basic: the client is authenticated and permitted.
    Basic(Arc<ApiClient>),
    /// janrain-oauth with the token in the header: the token is checked against the
    /// parameters (no second one, the user it names).
    OAuth(&'p str),
    /// No header: the parameters hold the credentials, in one of the ways the operation
    /// accepts.
    Params(ParamWays),
}

/// The ways an operation without an `Authorization` header may authenticate by parameters.
#[derive(Debug, Clone, Copy)]
struct ParamWays {
    /// `client_id` + `client_secret` in a form body (legacy, opt-in).
    form_credentials: bool,
    /// An `access_token` parameter (janrain-oauth).
    oauth: bool,
    /// A login client's `client_id` (and maybe its `access_token`).
    login_client: bool,
    /// Nothing at all.
    none: bool,
}

/// What phase two established.
struct Outcome<B> {
    params: ParamList,
    held: Held<B>,
    client: Option<Arc<ApiClient>>,
    method: AuthMethod,
    user: Option<Arc<str>>,
}

impl Verifier {
    /// Verify a request in the `janrain_verify` span, recording the outcome; a refusal comes
    /// back ready to answer with the layer's settings.
    pub(crate) async fn run<B>(&self, request: Request<B>) -> Result<Verified<B>, Rejection>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let span = tracing::debug_span!(
            "janrain_verify",
            operation = tracing::field::Empty,
            client_id = tracing::field::Empty,
            auth = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        let (parts, body) = request.into_parts();
        async move {
            let result = self.authorize(parts, body).await;
            let span = tracing::Span::current();
            match result {
                Ok(verified) => {
                    span.record("outcome", "accepted");
                    tracing::debug!("request accepted");
                    Ok(verified)
                }
                Err(rejection) => {
                    span.record("outcome", rejection.kind().as_str());
                    tracing::debug!(reason = %rejection.kind(), "request refused");
                    Err(self.finish(rejection))
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Read a body the layer let through untouched, so that it is bounded by the limit even
    /// where it must be handed on as its own type (see [`VerifyLayer::verify`]).
    ///
    /// [`VerifyLayer::verify`]: super::VerifyLayer::verify
    pub(crate) async fn bound<B>(&self, body: B) -> Result<B, Rejection>
    where
        B: Body + From<Bytes>,
        B::Error: Into<BoxError>,
    {
        if body.is_end_stream() || body.size_hint().exact() == Some(0) {
            return Ok(body);
        }
        match self.read_body(body, AuthMethods::HEADER).await {
            Ok(bytes) => Ok(B::from(bytes)),
            Err(rejection) => Err(self.finish(rejection)),
        }
    }

    /// Verify a request: `Ok` carries its parts (extensions added) and its body.
    async fn authorize<B>(&self, mut parts: Parts, body: B) -> Result<Verified<B>, Rejection>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        // Nothing inside the layer (a trace, a log of headers) may print the credentials.
        mark_sensitive(&mut parts.headers);
        if is_preflight(&parts) {
            // A CORS preflight carries no credentials and no parameters: CORS answers it.
            return Ok((parts, Held::Untouched(body)));
        }
        let Some(established) = self.phase_one(&parts).await? else {
            // An unknown path let through (`UnknownPaths::Allow`).
            self.check_declared_length(&parts.headers)?;
            return Ok((parts, Held::Untouched(body)));
        };
        let name = established.name.clone();
        let outcome = self.phase_two(&parts, body, established).await?;
        let span = tracing::Span::current();
        span.record("auth", outcome.method.as_str());
        if let Some(client) = outcome.client {
            span.record("client_id", client.id().as_str());
            let mut authenticated = AuthenticatedClient::new(client, outcome.method, name);
            if let Some(user) = outcome.user {
                authenticated = authenticated.with_user(user);
            }
            parts.extensions.insert(authenticated);
        }
        parts.extensions.insert(VerifiedParams::new(outcome.params));
        Ok((parts, outcome.held))
    }

    /// Phase one: everything that needs no body. `None` for an unknown path that is let
    /// through.
    async fn phase_one<'p>(
        &'p self,
        parts: &'p Parts,
    ) -> Result<Option<Established<'p>>, Rejection> {
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
                UnknownPaths::Allow => return Ok(None),
                UnknownPaths::Authenticate(op) => (op, Cow::Owned(op_path.clone().into_owned())),
            },
        };
        let accepts = operation.auth();
        if self.enforce_methods && parts.method != operation.method() {
            return Err(refusal(
                RejectionKind::MethodNotAllowed,
                format!(
                    "{op_path} is served with {}, not {}",
                    operation.method(),
                    parts.method
                ),
                accepts,
            ));
        }

        let mut headers = parts.headers.get_all(AUTHORIZATION).iter();
        let header = headers.next();
        if headers.next().is_some() {
            return Err(refusal(
                RejectionKind::MalformedCredentials,
                "send exactly one Authorization header",
                accepts,
            ));
        }
        let credentials = match header {
            Some(value) if oauth_token(value.as_bytes()).is_some() => {
                self.require(operation, AuthMethod::OAuth, "janrain-oauth (OAuth)")?;
                // Checked just above; the header outlives phase two.
                Credentials::OAuth(oauth_token(value.as_bytes()).unwrap_or_default())
            }
            Some(value) => {
                let parsed = Authorization::parse(value.as_bytes()).map_err(|e| {
                    refusal(
                        RejectionKind::MalformedCredentials,
                        format!("malformed Authorization header: {e}"),
                        accepts,
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
                        let mut signature = [0u8; SIGNATURE_LEN];
                        signature.copy_from_slice(creds.signature().as_bytes());
                        let (date, now) = self.check_date(&parts.headers, accepts)?;
                        let client = self.lookup(creds.client_id(), accepts).await?;
                        Credentials::Signed {
                            client,
                            signature,
                            date,
                            now,
                        }
                    }
                    Authorization::Basic(creds) => {
                        span.record("client_id", creds.client_id().as_str());
                        self.require(operation, AuthMethod::Basic, "Basic")?;
                        let client = self
                            .basic(creds.client_id(), creds.secret().expose(), operation)
                            .await?;
                        Credentials::Basic(client)
                    }
                    Authorization::Other { scheme } => {
                        return Err(refusal(
                            RejectionKind::UnsupportedAuthScheme,
                            format!(
                                "the {scheme} authorization scheme is none of Basic, Signature \
                                 (janrain-signed) and OAuth (janrain-oauth); {op_path}: {}",
                                how_to_authenticate(accepts)
                            ),
                            accepts,
                        ));
                    }
                }
            }
            None => {
                let ways = ParamWays {
                    form_credentials: self.form_credentials && accepts.contains(AuthMethod::Basic),
                    oauth: accepts.contains(AuthMethod::OAuth),
                    login_client: accepts.contains(AuthMethod::LoginClient)
                        || accepts.contains(AuthMethod::LoginClientWithToken),
                    none: accepts.contains(AuthMethod::None),
                };
                if !(ways.form_credentials || ways.oauth || ways.login_client || ways.none) {
                    return Err(refusal(
                        RejectionKind::MissingCredentials,
                        format!(
                            "{op_path} needs credentials: {}",
                            how_to_authenticate(accepts)
                        ),
                        accepts,
                    ));
                }
                Credentials::Params(ways)
            }
        };
        Ok(Some(Established {
            operation,
            name,
            called_path,
            credentials,
        }))
    }

    /// Phase two: the parameters, then what needed them.
    async fn phase_two<B>(
        &self,
        parts: &Parts,
        body: B,
        established: Established<'_>,
    ) -> Result<Outcome<B>, Rejection>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let op = established.operation;
        let accepts = op.auth();
        let signed = matches!(established.credentials, Credentials::Signed { .. });
        let unsigned_body_allowed = self.allow_unsigned_bodies || op.allows_unsigned_body();
        let (params, held) = self
            .parameters(parts, body, signed && !unsigned_body_allowed, accepts)
            .await?;
        let outcome = |params, held, client, method| Outcome {
            params,
            held,
            client: Some(client),
            method,
            user: None,
        };
        match established.credentials {
            Credentials::Signed {
                client,
                signature,
                date,
                now,
            } => {
                // Phase one checked that there is exactly one Date, and that it parses.
                let date_text = parts
                    .headers
                    .get(DATE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let sts = StringToSign::new(&established.called_path, date_text, &params);
                if client
                    .verify_signature(&sts, &self.forms, &signature)
                    .is_none()
                {
                    return Err(refusal(
                        RejectionKind::SignatureMismatch,
                        "the request signature we calculated does not match the signature you \
                         provided; sign \"endpoint\\ndatetime\\n\" plus every parameter as a \
                         sorted key=value line ending in \\n, with the client secret, HMAC-SHA1, \
                         base64",
                        accepts,
                    ));
                }
                self.permit(&client, op)?;
                if let Some(guard) = &self.replay {
                    self.record(guard.as_ref(), client.id(), &signature, date, now, accepts)
                        .await?;
                }
                Ok(outcome(params, held, client, AuthMethod::Signature))
            }
            Credentials::Basic(client) => Ok(outcome(params, held, client, AuthMethod::Basic)),
            Credentials::OAuth(token) => {
                if params.get(b"access_token").is_some() {
                    return Err(refusal(
                        RejectionKind::AmbiguousParameters,
                        "the access token is both in the Authorization header and in the \
                         access_token parameter; send it once",
                        accepts,
                    ));
                }
                self.oauth(token, params, held, op).await
            }
            Credentials::Params(ways) => {
                let form_body = matches!(held, Held::Read(_));
                if ways.form_credentials && form_body && params.get(b"client_secret").is_some() {
                    return self.form_credentials(params, op).await;
                }
                if ways.oauth
                    && let Some(token) = params.get(b"access_token")
                {
                    // Parameters are UTF-8 (checked with the rest).
                    let token = std::str::from_utf8(token).unwrap_or_default().to_owned();
                    let token = zeroize::Zeroizing::new(token);
                    return self.oauth(&token, params, held, op).await;
                }
                if ways.login_client {
                    let (client, method) = self.login_client(&params, op).await?;
                    return Ok(outcome(params, held, client, method));
                }
                if ways.none {
                    return Ok(Outcome {
                        params,
                        held,
                        client: None,
                        method: AuthMethod::None,
                        user: None,
                    });
                }
                Err(refusal(
                    RejectionKind::MissingCredentials,
                    format!(
                        "{} needs credentials: {}",
                        op.path(),
                        how_to_authenticate(accepts)
                    ),
                    accepts,
                ))
            }
        }
    }

    /// janrain-oauth: the token resolves to a grant (the login client it was issued to, its
    /// user, its expiry); the request then acts for that user only.
    async fn oauth<B>(
        &self,
        token: &str,
        params: ParamList,
        held: Held<B>,
        op: &Operation,
    ) -> Result<Outcome<B>, Rejection> {
        let accepts = op.auth();
        let reject = |kind, text: &str| refusal(kind, text, accepts);
        let record = self.token_record(token, accepts).await?;
        if record.is_expired_at(self.clock.now()) {
            return Err(reject(
                RejectionKind::AccessTokenExpired,
                "the access_token has expired; sign the user in again",
            ));
        }
        if let Some(claimed) = params.get(b"client_id")
            && claimed != record.client_id.as_str().as_bytes()
        {
            return Err(reject(
                RejectionKind::AccessTokenOtherClient,
                "the access_token was issued to another client than the client_id sent with it",
            ));
        }
        let Some(user) = record.uuid.as_deref() else {
            return Err(reject(
                RejectionKind::InvalidAccessToken,
                "the access_token was not issued for a user, so it cannot act for one",
            ));
        };
        if let Some(named) = params.get(b"uuid")
            && named != user.as_bytes()
        {
            return Err(reject(
                RejectionKind::AccessTokenUserMismatch,
                "the uuid parameter names another user than the one the access_token was \
                 issued for; a user's token reaches that user's record only",
            ));
        }
        if params.get(b"id").is_some() || params.get(b"key_attribute").is_some() {
            return Err(reject(
                RejectionKind::AccessTokenUserMismatch,
                "a request made with a user's access_token addresses that user; send no id or \
                 key_attribute (the uuid, if any, must be the token's)",
            ));
        }
        let Some(client) = self.lookup_optional(record.client_id.as_str()).await? else {
            return Err(reject(
                RejectionKind::InvalidAccessToken,
                "the access_token is not valid",
            ));
        };
        tracing::Span::current().record("client_id", client.id().as_str());
        Ok(Outcome {
            params,
            held,
            client: Some(client),
            method: AuthMethod::OAuth,
            user: Some(Arc::from(user)),
        })
    }

    /// Legacy form credentials: `client_id` and `client_secret` in a form body, checked as
    /// Basic is; the secret is then taken out of what the handler sees.
    async fn form_credentials<B>(
        &self,
        params: ParamList,
        op: &Operation,
    ) -> Result<Outcome<B>, Rejection> {
        let accepts = op.auth();
        let id = params
            .get(b"client_id")
            .and_then(|id| std::str::from_utf8(id).ok())
            .ok_or_else(|| {
                refusal(
                    RejectionKind::MissingArgument,
                    "the client_id parameter is missing; send it with the client_secret",
                    accepts,
                )
            })?;
        let id = ClientId::new(id).map_err(|_| invalid_credentials(accepts))?;
        tracing::Span::current().record("client_id", id.as_str());
        let secret = params
            .get(b"client_secret")
            .and_then(|s| std::str::from_utf8(s).ok())
            .unwrap_or_default();
        let client = self.basic(&id, secret, op).await?;
        let params = params.without(&[b"client_secret"]);
        let pairs: Vec<(&[u8], &[u8])> = params.iter().collect();
        let body = Bytes::from(crate::params::encode_urlencoded(&pairs));
        Ok(Outcome {
            params,
            held: Held::Read(body),
            client: Some(client),
            method: AuthMethod::FormCredentials,
            user: None,
        })
    }

    /// The request's parameters, from their one place, and its body.
    ///
    /// * A form body (`application/x-www-form-urlencoded`, any case, any parameters) on a
    ///   method other than GET and HEAD: the parameters are the body's; the query string must
    ///   hold none. The body is read under the limit and the timeout and handed on as read.
    /// * Otherwise the parameters are the query string's. A GET or HEAD must not carry a form
    ///   body; a body that is not a form is not parameters, and on a janrain-signed request
    ///   (`refuse_other_bodies`) a non-empty one is refused, since nothing signs it.
    /// * A type that starts like the form type but is not it is refused.
    ///
    /// Then: at most one `client_id` and one `access_token`, text only, and in strict mode no
    /// key or value that could be regrouped without changing the string to sign.
    async fn parameters<B>(
        &self,
        parts: &Parts,
        body: B,
        refuse_other_bodies: bool,
        accepts: AuthMethods,
    ) -> Result<(ParamList, Held<B>), Rejection>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let declared = self.check_declared_length(&parts.headers)?;
        let empty =
            declared == Some(0) || body.is_end_stream() || body.size_hint().exact() == Some(0);
        let mut params = ParamList::with_limit(self.max_params);
        if let Some(query) = parts.uri.query() {
            params
                .extend_urlencoded(query.as_bytes())
                .map_err(|e| unreadable(e, accepts))?;
        }
        let get_like = parts.method == Method::GET || parts.method == Method::HEAD;
        let held = match body::body_kind(&parts.headers) {
            BodyKind::LooksLikeForm => {
                return Err(refusal(
                    RejectionKind::UnsupportedBody,
                    "the Content-Type begins like application/x-www-form-urlencoded but is not \
                     it; send exactly that type (parameters such as charset may follow a ;)",
                    accepts,
                ));
            }
            BodyKind::Form if get_like => {
                if !empty {
                    return Err(refusal(
                        RejectionKind::AmbiguousParameters,
                        format!(
                            "a {} request carries its parameters in the query string; send no form body",
                            parts.method
                        ),
                        accepts,
                    ));
                }
                Held::Untouched(body)
            }
            BodyKind::Form => {
                if !params.is_empty() {
                    return Err(refusal(
                        RejectionKind::AmbiguousParameters,
                        "the request has parameters in both the query string and the form body; \
                         send them all in the body",
                        accepts,
                    ));
                }
                let bytes = self.read_body(body, accepts).await?;
                params
                    .extend_urlencoded(&bytes)
                    .map_err(|e| unreadable(e, accepts))?;
                Held::Read(bytes)
            }
            BodyKind::Other if refuse_other_bodies && !empty => {
                let unsigned = || {
                    refusal(
                        RejectionKind::UnsupportedBody,
                        "a janrain-signed request may carry only an application/x-www-form-urlencoded \
                         body: the signature covers its parameters and nothing else",
                        accepts,
                    )
                };
                if body.size_hint().exact().is_some() {
                    return Err(unsigned());
                }
                // A body of unknown length (a layer outside may hide it) is read, under the
                // limit, to tell an empty one from one the signature would not cover.
                let bytes = self.read_body(body, accepts).await?;
                if !bytes.is_empty() {
                    return Err(unsigned());
                }
                Held::Read(bytes)
            }
            BodyKind::Other => Held::Untouched(body),
        };
        self.check_parameters(&params, accepts)?;
        Ok((params, held))
    }

    /// The rules every parameter list must pass, whatever its origin.
    fn check_parameters(&self, params: &ParamList, accepts: AuthMethods) -> Result<(), Rejection> {
        let mut client_ids = 0;
        let mut tokens = 0;
        let mut secrets = 0;
        for (key, value) in params.iter() {
            if std::str::from_utf8(key).is_err() || std::str::from_utf8(value).is_err() {
                return Err(refusal(
                    RejectionKind::InvalidParameters,
                    "a parameter is not UTF-8 text; percent-encode the UTF-8 bytes of every key and value",
                    accepts,
                ));
            }
            client_ids += usize::from(key == b"client_id");
            tokens += usize::from(key == b"access_token");
            secrets += usize::from(key == b"client_secret");
            if self.strict_parameters && !is_unambiguous(key, value) {
                return Err(refusal(
                    RejectionKind::AmbiguousParameterText,
                    "a parameter key holds =, a line break or a carriage return, or a value holds \
                     a line break or a carriage return: such text can be regrouped without \
                     changing the string to sign, so this server refuses it",
                    accepts,
                ));
            }
        }
        let repeated = [
            (client_ids, "client_id"),
            (tokens, "access_token"),
            (secrets, "client_secret"),
        ]
        .into_iter()
        .find(|(count, _)| *count > 1);
        if let Some((_, name)) = repeated {
            return Err(refusal(
                RejectionKind::AmbiguousParameters,
                format!("the {name} parameter appears more than once; send it exactly once"),
                accepts,
            ));
        }
        Ok(())
    }

    /// The `Content-Length`, refused when it is over the limit or not a length.
    fn check_declared_length(&self, headers: &HeaderMap) -> Result<Option<u64>, Rejection> {
        body::declared_length(headers, self.body_limit).map_err(|e| match e {
            LengthError::TooLarge => self.too_large(),
            LengthError::Invalid => Rejection::new(
                RejectionKind::InvalidParameters,
                "invalid Content-Length header",
            ),
        })
    }

    fn too_large(&self) -> Rejection {
        Rejection::new(
            RejectionKind::BodyTooLarge,
            format!("the request body is larger than {} bytes", self.body_limit),
        )
    }

    /// Read a form body whole, under the limit and the timeout.
    async fn read_body<B>(&self, body: B, accepts: AuthMethods) -> Result<Bytes, Rejection>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        body::collect_limited(body, self.body_limit, Some(self.body_timeout))
            .await
            .map_err(|e| match e {
                CollectError::TooLarge => self.too_large(),
                CollectError::Timeout => Rejection::new(
                    RejectionKind::BodyTimeout,
                    format!(
                        "the request body did not arrive within {} s",
                        self.body_timeout.as_secs_f32()
                    ),
                ),
                CollectError::Failed(e) => {
                    tracing::debug!(error = %e, "the request body could not be read");
                    refusal(
                        RejectionKind::InvalidParameters,
                        "the request body could not be read",
                        accepts,
                    )
                }
            })
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

    /// Whether the operation takes `method`. An operation that needs no authentication takes
    /// any valid credentials too (clients that sign every call reach it), and they are then
    /// checked like any other: a wrong signature is never ignored.
    fn require(&self, op: &Operation, method: AuthMethod, name: &str) -> Result<(), Rejection> {
        if op.accepts(method) || op.accepts(AuthMethod::None) {
            return Ok(());
        }
        Err(refusal(
            RejectionKind::AuthMethodNotAccepted,
            format!(
                "{} does not accept {name} authentication; {}",
                op.path(),
                how_to_authenticate(op.auth())
            ),
            op.auth(),
        ))
    }

    async fn lookup(&self, id: &str, accepts: AuthMethods) -> Result<Arc<ApiClient>, Rejection> {
        match self.lookup_optional(id).await? {
            Some(client) => Ok(client),
            None => Err(invalid_credentials(accepts)),
        }
    }

    async fn lookup_optional(&self, id: &str) -> Result<Option<Arc<ApiClient>>, Rejection> {
        self.store.client(id).await.map_err(|e| {
            tracing::warn!(error = %e, "client store failed");
            Rejection::new(
                RejectionKind::StoreUnavailable,
                "the client store is unavailable; try again later",
            )
        })
    }

    /// Basic: the client, its secret and its features. An unknown client id costs the same
    /// MAC work as a known one with one secret (against a fixed stand-in), so the time taken
    /// does not tell the two apart; the answers do differ (402 for both an unknown id and a
    /// wrong secret, as Janrain answers).
    async fn basic(
        &self,
        id: &ClientId,
        password: &str,
        op: &Operation,
    ) -> Result<Arc<ApiClient>, Rejection> {
        let Some(client) = self.lookup_optional(id.as_str()).await? else {
            let _ = stand_in_client().verify_basic_secret(password);
            return Err(invalid_credentials(op.auth()));
        };
        if !client.verify_basic_secret(password) {
            return Err(invalid_credentials(op.auth()));
        }
        self.permit(&client, op)?;
        Ok(client)
    }

    /// The `Date` header: exactly one, in the strict form, inside the window.
    fn check_date(
        &self,
        headers: &HeaderMap,
        accepts: AuthMethods,
    ) -> Result<(Datetime, SystemTime), Rejection> {
        let invalid = |text: &str| refusal(RejectionKind::InvalidDate, text, accepts);
        let mut dates = headers.get_all(DATE).iter();
        let value = dates.next().ok_or_else(|| {
            invalid("the Date header is missing; send the current UTC time as YYYY-MM-DD HH:MM:SS, the same text that is signed")
        })?;
        if dates.next().is_some() {
            return Err(invalid("send exactly one Date header"));
        }
        let date = Datetime::parse_bytes(value.as_bytes()).map_err(|e| {
            refusal(
                RejectionKind::InvalidDate,
                format!("invalid Date header: {e}"),
                accepts,
            )
        })?;
        let now = self.clock.now();
        self.check_window(date, now, accepts)?;
        Ok((date, now))
    }

    fn check_window(
        &self,
        date: Datetime,
        now: SystemTime,
        accepts: AuthMethods,
    ) -> Result<(), Rejection> {
        let when = date.to_system_time();
        let out = |text: String| refusal(RejectionKind::DateOutOfWindow, text, accepts);
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
        // An operation anyone may call without credentials is open to every client with them.
        if op.permits(client.features()) || op.accepts(AuthMethod::None) {
            return Ok(());
        }
        Err(refusal(
            RejectionKind::PermissionDenied,
            format!(
                "this client does not have permission to call {}; it needs one of the features: {}",
                op.path(),
                op.allowed()
            ),
            op.auth(),
        ))
    }

    async fn record(
        &self,
        guard: &dyn ReplayGuard,
        client_id: &ClientId,
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
        let client_id = client_id.as_str();
        let key = ReplayKey {
            client_id,
            signature: std::str::from_utf8(signature).unwrap_or_default(),
        };
        match guard.check_and_record(key, ttl).await {
            Ok(ReplayVerdict::Fresh) => Ok(()),
            Ok(ReplayVerdict::Replayed) => Err(refusal(
                RejectionKind::Replayed,
                "this signed request was already accepted; sign each request afresh",
                accepts,
            )),
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

    /// A login-client operation: the `client_id` parameter (exactly one, checked by
    /// [`Self::check_parameters`]) names a `login_client` client; where the operation takes
    /// one, the `access_token` must have been issued to it.
    async fn login_client(
        &self,
        params: &ParamList,
        op: &Operation,
    ) -> Result<(Arc<ApiClient>, AuthMethod), Rejection> {
        let accepts = op.auth();
        let missing = |name: &str| {
            refusal(
                RejectionKind::MissingArgument,
                format!(
                    "the {name} parameter is missing; {} takes the client_id of a login client{}",
                    op.path(),
                    if accepts.contains(AuthMethod::LoginClientWithToken) {
                        " and an access_token issued to it"
                    } else {
                        ""
                    }
                ),
                accepts,
            )
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
        Ok((client, method))
    }

    async fn check_token(
        &self,
        token: &[u8],
        client_id: &ClientId,
        accepts: AuthMethods,
    ) -> Result<(), Rejection> {
        let reject = |kind, text: &str| refusal(kind, text, accepts);
        // Parameters are UTF-8 (checked with the rest).
        let token = std::str::from_utf8(token).unwrap_or_default();
        let record = self.token_record(token, accepts).await?;
        if record.client_id != *client_id {
            return Err(reject(
                RejectionKind::AccessTokenOtherClient,
                "the access_token was issued to another client; use the login client that obtained it",
            ));
        }
        if record.is_expired_at(self.clock.now()) {
            return Err(reject(
                RejectionKind::AccessTokenExpired,
                "the access_token has expired; sign the user in again",
            ));
        }
        Ok(())
    }

    /// What the token verifier recorded for `token`: unknown tokens are 412, a verifier that
    /// cannot answer (or none configured) 503. The token itself is never logged.
    async fn token_record(
        &self,
        token: &str,
        accepts: AuthMethods,
    ) -> Result<super::store::TokenRecord, Rejection> {
        let Some(verifier) = &self.tokens else {
            tracing::warn!(
                "an operation needs an access token but no token verifier is configured"
            );
            return Err(Rejection::new(
                RejectionKind::StoreUnavailable,
                "access tokens cannot be checked: the server has no token verifier",
            ));
        };
        match verifier.lookup(token).await {
            Ok(Some(record)) => Ok(record),
            Ok(None) => Err(refusal(
                RejectionKind::InvalidAccessToken,
                "the access_token is not valid",
                accepts,
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

    /// Give a refusal the layer's answer settings (status style, realm, the clock's time).
    pub(crate) fn finish(&self, rejection: Rejection) -> Rejection {
        rejection.answered_as(self.janrain_status, self.realm.clone(), self.clock.now())
    }
}

/// A refusal that names the methods the operation accepts (for its `WWW-Authenticate`).
fn refusal(kind: RejectionKind, text: impl Into<String>, accepts: AuthMethods) -> Rejection {
    Rejection::new(kind, text).accepting(accepts)
}

fn unreadable(e: crate::params::ParamsError, accepts: AuthMethods) -> Rejection {
    refusal(
        RejectionKind::InvalidParameters,
        format!("cannot read the parameters: {e}"),
        accepts,
    )
}

fn invalid_credentials(accepts: AuthMethods) -> Rejection {
    refusal(
        RejectionKind::InvalidCredentials,
        "the client id does not exist or the client secret was wrong",
        accepts,
    )
}

/// Whether the request is a CORS preflight: `OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`, which browsers send without credentials or parameters.
fn is_preflight(parts: &Parts) -> bool {
    parts.method == Method::OPTIONS
        && parts.headers.contains_key(ORIGIN)
        && parts.headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD)
}

/// The token of an `Authorization: OAuth <token>` header (scheme in any letter case; the
/// token is one or more visible ASCII characters).
fn oauth_token(value: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(value).ok()?;
    let (scheme, token) = text.split_once(' ')?;
    let token = token.trim_matches(' ');
    (scheme.eq_ignore_ascii_case("OAuth")
        && !token.is_empty()
        && token.bytes().all(|b| b.is_ascii_graphic()))
    .then_some(token)
}

/// Mark every `Authorization` value sensitive, so that layers inside this one (and `Debug` of
/// the headers) never print it.
fn mark_sensitive(headers: &mut HeaderMap) {
    if let http::header::Entry::Occupied(mut entry) = headers.entry(AUTHORIZATION) {
        for value in entry.iter_mut() {
            value.set_sensitive(true);
        }
    }
}

/// Whether a parameter's text can only be read one way in the string to sign: no `=` or line
/// break in the key (which would move the key/value boundary), no line break in the value
/// (which would merge or split lines).
pub(crate) fn is_unambiguous(key: &[u8], value: &[u8]) -> bool {
    !key.iter().any(|b| matches!(b, b'=' | b'\n' | b'\r'))
        && !value.iter().any(|b| matches!(b, b'\n' | b'\r'))
}

/// The client a Basic password of an unknown id is checked against, so that the work does not
/// depend on whether the id exists. Its secret is random and never used for anything else.
fn stand_in_client() -> &'static ApiClient {
    static STAND_IN: OnceLock<ApiClient> = OnceLock::new();
    STAND_IN.get_or_init(|| {
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let secret = format!("stand-in-{seed:x}-{:p}", &STAND_IN);
        let id = ClientId::new("stand_in_for_unknown_clients").expect("a valid client id");
        let secret = ClientSecret::new(secret).expect("a valid secret");
        ApiClient::new(id, secret)
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
    if accepts.contains(AuthMethod::OAuth) {
        ways.push("a user's access token (Authorization: OAuth, or the access_token parameter)");
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
