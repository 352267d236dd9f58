//! Every way a request can be refused, and the response it gets: Janrain's JSON envelope, an
//! HTTP status, and on 401 a `WWW-Authenticate` challenge.
//!
//! The code table is in [`crate::error`]. Descriptions say what to fix; they never contain a
//! secret, a signature or a token. What is hidden and what is not: an unknown client id and a
//! wrong Basic secret get the same answer (402, same description) and cost the same MAC work;
//! but a janrain-signed request from a known id with a wrong signature gets 431, as Janrain
//! answers, so client ids can be probed: they are not secrets.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, DATE, HeaderValue, WWW_AUTHENTICATE};
use http::{Response, StatusCode};

use crate::error::{ErrorCode, JanrainError};
use crate::permissions::{AuthMethod, AuthMethods};

/// Why the verification layer refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionKind {
    /// No `Authorization` header where the operation needs one.
    MissingCredentials,
    /// The `Authorization` header could not be parsed.
    MalformedCredentials,
    /// The client id is unknown, or the Basic secret is wrong: the same answer for both.
    InvalidCredentials,
    /// The operation does not accept this way of authenticating (Basic, janrain-signed,
    /// janrain-oauth or a login client where another is required).
    AuthMethodNotAccepted,
    /// The `Authorization` scheme is none of Basic, janrain-signed (`Signature`) and
    /// janrain-oauth (`OAuth`).
    UnsupportedAuthScheme,
    /// A request made with a user's access token names another user (`uuid`), or addresses a
    /// record by another key (`id`, `key_attribute`).
    AccessTokenUserMismatch,
    /// The janrain-signed signature does not match.
    SignatureMismatch,
    /// `Date` missing or not `YYYY-MM-DD HH:MM:SS`.
    InvalidDate,
    /// `Date` outside the accepted window.
    DateOutOfWindow,
    /// The signed request was seen before (replay guard on).
    Replayed,
    /// The client holds none of the allowed features.
    PermissionDenied,
    /// The body is over the limit.
    BodyTooLarge,
    /// The body did not arrive within the timeout.
    BodyTimeout,
    /// The body could not be read, or the parameters could not be decoded.
    InvalidParameters,
    /// A required parameter (`client_id`, `access_token`) is missing.
    MissingArgument,
    /// The access token is unknown.
    InvalidAccessToken,
    /// The access token has expired.
    AccessTokenExpired,
    /// The access token was issued to another client.
    AccessTokenOtherClient,
    /// The path is not a known operation (and unknown paths are denied).
    UnknownOperation,
    /// The operation is not served with this HTTP method (method enforcement on).
    MethodNotAllowed,
    /// The client store or token verifier could not answer (503: the request may succeed
    /// later).
    StoreUnavailable,
    /// The replay guard's store cannot be reached (and the layer fails closed).
    ReplayGuardUnavailable,
    /// The parameters are not in exactly one place: both the query string and a form body
    /// hold some, a GET or HEAD carries a form body, or `client_id` / `access_token` is
    /// repeated.
    AmbiguousParameters,
    /// The body cannot be covered by the signature: not a form on a janrain-signed request,
    /// or a `Content-Type` that begins like the form type without being it.
    UnsupportedBody,
    /// Strict mode: a key holds `=` or a line break, or a value a line break.
    AmbiguousParameterText,
}

impl RejectionKind {
    /// The Janrain code and error string.
    pub fn code(self) -> ErrorCode {
        use RejectionKind::*;
        match self {
            MissingCredentials | MalformedCredentials | InvalidCredentials => {
                ErrorCode::INVALID_CLIENT_CREDENTIALS
            }
            AuthMethodNotAccepted => ErrorCode::AUTH_METHOD_NOT_ACCEPTED,
            UnsupportedAuthScheme => ErrorCode::INVALID_AUTH_METHOD,
            AccessTokenUserMismatch => ErrorCode::ACCESS_TOKEN_USER_MISMATCH,
            SignatureMismatch => ErrorCode::SIGNATURE_DOES_NOT_MATCH,
            InvalidDate => ErrorCode::INVALID_DATE,
            DateOutOfWindow => ErrorCode::DATE_OUT_OF_WINDOW,
            Replayed => ErrorCode::REQUEST_REPLAYED,
            PermissionDenied => ErrorCode::CLIENT_PERMISSION_ERROR,
            BodyTooLarge => ErrorCode::REQUEST_TOO_LARGE,
            BodyTimeout => ErrorCode::REQUEST_TIMEOUT,
            InvalidParameters => ErrorCode::INVALID_ARGUMENT,
            MissingArgument => ErrorCode::MISSING_ARGUMENT,
            InvalidAccessToken => ErrorCode::INVALID_ACCESS_TOKEN,
            AccessTokenExpired => ErrorCode::ACCESS_TOKEN_EXPIRED,
            AccessTokenOtherClient => ErrorCode::ACCESS_TOKEN_CLIENT_MISMATCH,
            UnknownOperation => ErrorCode::UNKNOWN_OPERATION,
            MethodNotAllowed => ErrorCode::METHOD_NOT_ALLOWED,
            StoreUnavailable => ErrorCode::UNEXPECTED_ERROR,
            ReplayGuardUnavailable => ErrorCode::REPLAY_GUARD_UNAVAILABLE,
            AmbiguousParameters => ErrorCode::AMBIGUOUS_PARAMETERS,
            UnsupportedBody => ErrorCode::UNSUPPORTED_BODY,
            AmbiguousParameterText => ErrorCode::AMBIGUOUS_PARAMETER_TEXT,
        }
    }

    /// The HTTP status (unless the layer answers every error with 200).
    pub fn status(self) -> StatusCode {
        use RejectionKind::*;
        match self {
            MissingCredentials
            | MalformedCredentials
            | InvalidCredentials
            | AuthMethodNotAccepted
            | UnsupportedAuthScheme
            | SignatureMismatch
            | InvalidDate
            | DateOutOfWindow
            | Replayed
            | InvalidAccessToken
            | AccessTokenExpired
            | AccessTokenOtherClient => StatusCode::UNAUTHORIZED,
            PermissionDenied | AccessTokenUserMismatch => StatusCode::FORBIDDEN,
            BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            InvalidParameters | MissingArgument | AmbiguousParameters | AmbiguousParameterText => {
                StatusCode::BAD_REQUEST
            }
            UnsupportedBody => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            UnknownOperation => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ReplayGuardUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A short stable name for logs and metrics (`signature_mismatch`, ...).
    pub fn as_str(self) -> &'static str {
        use RejectionKind::*;
        match self {
            MissingCredentials => "missing_credentials",
            MalformedCredentials => "malformed_credentials",
            InvalidCredentials => "invalid_credentials",
            AuthMethodNotAccepted => "auth_method_not_accepted",
            UnsupportedAuthScheme => "unsupported_auth_scheme",
            AccessTokenUserMismatch => "access_token_user_mismatch",
            SignatureMismatch => "signature_mismatch",
            InvalidDate => "invalid_date",
            DateOutOfWindow => "date_out_of_window",
            Replayed => "replayed",
            PermissionDenied => "permission_denied",
            BodyTooLarge => "body_too_large",
            BodyTimeout => "body_timeout",
            InvalidParameters => "invalid_parameters",
            MissingArgument => "missing_argument",
            InvalidAccessToken => "invalid_access_token",
            AccessTokenExpired => "access_token_expired",
            AccessTokenOtherClient => "access_token_other_client",
            UnknownOperation => "unknown_operation",
            MethodNotAllowed => "method_not_allowed",
            StoreUnavailable => "store_unavailable",
            ReplayGuardUnavailable => "replay_guard_unavailable",
            AmbiguousParameters => "ambiguous_parameters",
            UnsupportedBody => "unsupported_body",
            AmbiguousParameterText => "ambiguous_parameter_text",
        }
    }
}

impl fmt::Display for RejectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal: its kind, a description, the auth methods the operation accepts (for the
/// challenge), and how the layer that refused answers (status style, realm, its clock).
///
/// [`Rejection::into_http`] (and, with the `axum` feature, axum's `IntoResponse`) builds
/// exactly the response the layer sends.
#[derive(Debug, Clone)]
pub struct Rejection {
    kind: RejectionKind,
    description: String,
    accepts: AuthMethods,
    janrain_status: bool,
    realm: Option<Arc<str>>,
    at: Option<SystemTime>,
}

impl Rejection {
    /// A refusal of `kind` described by `description`.
    pub fn new(kind: RejectionKind, description: impl Into<String>) -> Self {
        Rejection {
            kind,
            description: description.into(),
            accepts: AuthMethods::HEADER,
            janrain_status: false,
            realm: None,
            at: None,
        }
    }

    pub(crate) fn accepting(mut self, accepts: AuthMethods) -> Self {
        self.accepts = accepts;
        self
    }

    /// Answer as a layer with these settings does: HTTP 200 for every error when
    /// `janrain_status`, challenges in `realm`, `Date` from `now`.
    pub(crate) fn answered_as(
        mut self,
        janrain_status: bool,
        realm: Arc<str>,
        now: SystemTime,
    ) -> Self {
        self.janrain_status = janrain_status;
        self.realm = Some(realm);
        self.at = Some(now);
        self
    }

    /// The kind.
    pub fn kind(&self) -> RejectionKind {
        self.kind
    }

    /// The description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The Janrain error this refusal answers with (a fresh `request_id` each time).
    pub fn to_janrain_error(&self) -> JanrainError {
        let code = self.kind.code();
        JanrainError {
            code: code.code,
            error: code.error.to_owned(),
            error_description: self.description.clone(),
            request_id: Some(request_id()),
            extra: serde_json::Map::new(),
        }
    }

    /// The HTTP response the layer sends for this refusal: the JSON envelope, the status of
    /// the code table (or 200 when the layer answers as Janrain does), a `WWW-Authenticate`
    /// challenge per accepted method on 401, and a `Date` header from the layer's clock, so a
    /// client can learn how far off its own clock is. A refusal made outside a layer answers
    /// with the statuses of the table, the realm `janrain` and the system clock.
    pub fn into_http<B: From<Bytes>>(self) -> Response<B> {
        let status = self.kind.status();
        let body = Bytes::from(self.to_janrain_error().to_json());
        let mut response = Response::new(B::from(body));
        *response.status_mut() = if self.janrain_status {
            StatusCode::OK
        } else {
            status
        };
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let now = self.at.unwrap_or_else(SystemTime::now);
        if let Ok(value) = HeaderValue::from_str(&httpdate::fmt_http_date(now)) {
            headers.insert(DATE, value);
        }
        if status == StatusCode::UNAUTHORIZED {
            let realm = self.realm.as_deref().unwrap_or("janrain");
            for challenge in challenges(self.accepts, realm) {
                headers.append(WWW_AUTHENTICATE, challenge);
            }
        }
        response
    }
}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for Rejection {
    /// The same response the layer sends (see [`Rejection::into_http`]).
    fn into_response(self) -> axum_core::response::Response {
        self.into_http::<axum_core::body::Body>()
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.description)
    }
}

impl std::error::Error for Rejection {}

/// One challenge per accepted scheme. Operations authenticated by parameters get a
/// `LoginClient` challenge naming the parameters, since HTTP requires one on every 401.
fn challenges(accepts: AuthMethods, realm: &str) -> Vec<HeaderValue> {
    let realm = realm.replace(['"', '\\'], "");
    let mut texts = Vec::with_capacity(2);
    if accepts.contains(AuthMethod::Signature) {
        texts.push(format!("Signature realm=\"{realm}\""));
    }
    if accepts.contains(AuthMethod::Basic) {
        texts.push(format!("Basic realm=\"{realm}\", charset=\"UTF-8\""));
    }
    if accepts.contains(AuthMethod::OAuth) {
        texts.push(format!("OAuth realm=\"{realm}\""));
    }
    if accepts.contains(AuthMethod::LoginClientWithToken) {
        texts.push(format!(
            "LoginClient realm=\"{realm}\", params=\"client_id access_token\""
        ));
    } else if accepts.contains(AuthMethod::LoginClient) {
        texts.push(format!(
            "LoginClient realm=\"{realm}\", params=\"client_id\""
        ));
    }
    if texts.is_empty() {
        texts.push(format!("Signature realm=\"{realm}\""));
    }
    texts
        .iter()
        .filter_map(|t| HeaderValue::from_str(t).ok())
        .collect()
}

/// A 16-character `[a-z0-9]` id like Janrain's, unique within the process: a counter run
/// through a mixing function (not a secret, just distinct and unguessable enough for logs).
fn request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let seed = *SEED.get_or_init(|| {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        t.as_nanos() as u64 ^ u64::from(std::process::id()) << 32
    });
    let mut z = seed.wrapping_add(
        COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    // splitmix64 finaliser
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut id = String::with_capacity(16);
    let mut v = z;
    for i in 0..16 {
        if i == 12 {
            v = z.rotate_left(29) ^ seed;
        }
        id.push(ALPHABET[(v % 36) as usize] as char);
        v /= 36;
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_distinct_meaning() {
        use RejectionKind::*;
        let all = [
            MissingCredentials,
            MalformedCredentials,
            InvalidCredentials,
            AuthMethodNotAccepted,
            UnsupportedAuthScheme,
            AccessTokenUserMismatch,
            SignatureMismatch,
            InvalidDate,
            DateOutOfWindow,
            Replayed,
            PermissionDenied,
            BodyTooLarge,
            BodyTimeout,
            InvalidParameters,
            MissingArgument,
            InvalidAccessToken,
            AccessTokenExpired,
            AccessTokenOtherClient,
            UnknownOperation,
            MethodNotAllowed,
            StoreUnavailable,
            ReplayGuardUnavailable,
            AmbiguousParameters,
            UnsupportedBody,
            AmbiguousParameterText,
        ];
        let names: std::collections::HashSet<_> = all.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), all.len());
        // The three date failures are distinct codes.
        let date_codes: std::collections::HashSet<_> = [InvalidDate, DateOutOfWindow, Replayed]
            .iter()
            .map(|k| k.code().code)
            .collect();
        assert_eq!(date_codes.len(), 3);
        assert_eq!(SignatureMismatch.code().code, 431);
        assert_eq!(PermissionDenied.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn response_shape() {
        let now = UNIX_EPOCH + std::time::Duration::from_secs(1_456_513_724);
        let r = Rejection::new(
            RejectionKind::SignatureMismatch,
            "the signature does not match",
        )
        .answered_as(false, "janrain".into(), now)
        .into_http::<Bytes>();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(r.headers()[DATE], "Fri, 26 Feb 2016 19:08:44 GMT");
        let challenges: Vec<_> = r.headers().get_all(WWW_AUTHENTICATE).iter().collect();
        assert_eq!(challenges.len(), 2);
        let e = JanrainError::from_body(r.body()).unwrap();
        assert_eq!(
            (e.code, e.error.as_str()),
            (431, "signature_does_not_match")
        );
        assert_eq!(e.request_id.as_ref().map(String::len), Some(16));
        let r = Rejection::new(RejectionKind::PermissionDenied, "x")
            .answered_as(true, "r".into(), now)
            .into_http::<Bytes>();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers().get(WWW_AUTHENTICATE).is_none());
    }

    #[test]
    fn request_ids_differ() {
        let ids: std::collections::HashSet<_> = (0..1000).map(|_| request_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(
            ids.iter()
                .all(|id| id.len() == 16 && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        );
    }
}
