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

/// Declares [`RejectionKind`], one row per kind: the variant and its documentation, then the
/// name [`RejectionKind::as_str`] gives, the [`ErrorCode`] it answers with (the module
/// [`crate::error`] tabulates the codes) and its HTTP status.
macro_rules! rejection_kinds {
    ($($(#[$doc:meta])* $kind:ident = $name:literal, $code:ident, $status:ident;)*) => {
        /// Why the verification layer refused a request.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum RejectionKind {
            $($(#[$doc])* $kind,)*
        }

        impl RejectionKind {
            /// Every kind, in the order of the rows.
            #[cfg(test)]
            const ALL: &[RejectionKind] = &[$(RejectionKind::$kind),*];

            /// The Janrain code and error string.
            pub fn code(self) -> ErrorCode {
                match self {
                    $(RejectionKind::$kind => ErrorCode::$code,)*
                }
            }

            /// The HTTP status (unless the layer answers every error with 200).
            pub fn status(self) -> StatusCode {
                match self {
                    $(RejectionKind::$kind => StatusCode::$status,)*
                }
            }

            /// A short stable name for logs and metrics (`signature_mismatch`, ...).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(RejectionKind::$kind => $name,)*
                }
            }
        }
    };
}

rejection_kinds! {
    /// No `Authorization` header where the operation needs one.
    MissingCredentials = "missing_credentials", INVALID_CLIENT_CREDENTIALS, UNAUTHORIZED;
    /// The `Authorization` header could not be parsed.
    MalformedCredentials = "malformed_credentials", INVALID_CLIENT_CREDENTIALS, UNAUTHORIZED;
    /// The client id is unknown, or the Basic secret is wrong: the same answer for both.
    InvalidCredentials = "invalid_credentials", INVALID_CLIENT_CREDENTIALS, UNAUTHORIZED;
    /// The operation does not accept this way of authenticating (Basic, janrain-signed,
    /// janrain-oauth or a login client where another is required).
    AuthMethodNotAccepted = "auth_method_not_accepted", AUTH_METHOD_NOT_ACCEPTED, UNAUTHORIZED;
    /// The `Authorization` scheme is none of Basic, janrain-signed (`Signature`) and
    /// janrain-oauth (`OAuth`).
    UnsupportedAuthScheme = "unsupported_auth_scheme", INVALID_AUTH_METHOD, UNAUTHORIZED;
    /// A request made with a user's access token names another user (`uuid`), or addresses a
    /// record by another key (`id`, `key_attribute`, `key_value`, in any letter case).
    AccessTokenUserMismatch = "access_token_user_mismatch", ACCESS_TOKEN_USER_MISMATCH, FORBIDDEN;
    /// The janrain-signed signature does not match.
    SignatureMismatch = "signature_mismatch", SIGNATURE_DOES_NOT_MATCH, UNAUTHORIZED;
    /// `Date` missing or not `YYYY-MM-DD HH:MM:SS`.
    InvalidDate = "invalid_date", INVALID_DATE, UNAUTHORIZED;
    /// `Date` outside the accepted window.
    DateOutOfWindow = "date_out_of_window", DATE_OUT_OF_WINDOW, UNAUTHORIZED;
    /// The signed request was seen before (replay guard on).
    Replayed = "replayed", REQUEST_REPLAYED, UNAUTHORIZED;
    /// The client holds none of the allowed features.
    PermissionDenied = "permission_denied", CLIENT_PERMISSION_ERROR, FORBIDDEN;
    /// The body is over the limit.
    BodyTooLarge = "body_too_large", REQUEST_TOO_LARGE, PAYLOAD_TOO_LARGE;
    /// The body did not arrive within the timeout.
    BodyTimeout = "body_timeout", REQUEST_TIMEOUT, REQUEST_TIMEOUT;
    /// The body could not be read, or the parameters could not be decoded.
    InvalidParameters = "invalid_parameters", INVALID_ARGUMENT, BAD_REQUEST;
    /// A required parameter (`client_id`, `access_token`) is missing.
    MissingArgument = "missing_argument", MISSING_ARGUMENT, BAD_REQUEST;
    /// The access token is unknown.
    InvalidAccessToken = "invalid_access_token", INVALID_ACCESS_TOKEN, UNAUTHORIZED;
    /// The access token has expired.
    AccessTokenExpired = "access_token_expired", ACCESS_TOKEN_EXPIRED, UNAUTHORIZED;
    /// The access token was issued to another client.
    AccessTokenOtherClient = "access_token_other_client", ACCESS_TOKEN_CLIENT_MISMATCH, UNAUTHORIZED;
    /// The path is not a known operation (and unknown paths are denied).
    UnknownOperation = "unknown_operation", UNKNOWN_OPERATION, NOT_FOUND;
    /// The operation is not served with this HTTP method (method enforcement on).
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED, METHOD_NOT_ALLOWED;
    /// The client store or token verifier could not answer (503: the request may succeed
    /// later).
    StoreUnavailable = "store_unavailable", UNEXPECTED_ERROR, SERVICE_UNAVAILABLE;
    /// The replay guard's store cannot be reached (and the layer fails closed).
    ReplayGuardUnavailable = "replay_guard_unavailable", REPLAY_GUARD_UNAVAILABLE, SERVICE_UNAVAILABLE;
    /// The parameters are not in exactly one place or say two things of who acts: both the
    /// query string and a form body hold some, a GET or HEAD carries a form body,
    /// `client_id` / `access_token` is repeated, an `access_token` comes where it is not the
    /// credential, or a `client_id` names another client than the one that authenticated.
    AmbiguousParameters = "ambiguous_parameters", AMBIGUOUS_PARAMETERS, BAD_REQUEST;
    /// The body cannot be covered by the signature: not a form on a janrain-signed request,
    /// or a `Content-Type` that begins like the form type without being it.
    UnsupportedBody = "unsupported_body", UNSUPPORTED_BODY, UNSUPPORTED_MEDIA_TYPE;
    /// Strict mode: a key holds `=` or a line break, or a value a line break.
    AmbiguousParameterText = "ambiguous_parameter_text", AMBIGUOUS_PARAMETER_TEXT, BAD_REQUEST;
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
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_kind_has_a_distinct_name() {
        use RejectionKind::*;
        let names: HashSet<_> = RejectionKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), RejectionKind::ALL.len());
        // The three date failures are distinct codes.
        let date_codes: HashSet<_> = [InvalidDate, DateOutOfWindow, Replayed]
            .iter()
            .map(|k| k.code().code)
            .collect();
        assert_eq!(date_codes.len(), 3);
        assert_eq!(SignatureMismatch.code().code, 431);
        assert_eq!(PermissionDenied.status(), StatusCode::FORBIDDEN);
    }

    /// One row of the code table in the `error` module's documentation.
    #[derive(Debug, PartialEq)]
    struct DocRow {
        code: u16,
        error: String,
        status: u16,
        own: bool,
    }

    /// The rows of the `error` module's code table, read from its source.
    fn doc_table() -> Vec<DocRow> {
        include_str!("../error.rs")
            .lines()
            .filter_map(|line| line.strip_prefix("//! |"))
            .map(|row| row.split('|').map(str::trim).collect::<Vec<_>>())
            // The header and the rule under it have no number in the first cell.
            .filter(|cells| cells[0].parse::<u16>().is_ok())
            .map(|cells| {
                assert_eq!(cells.len(), 6, "a code table row has five cells: {cells:?}");
                DocRow {
                    code: cells[0].parse().unwrap(),
                    error: cells[1].trim_matches('`').to_owned(),
                    status: cells[2].parse().expect("the HTTP cell is a number"),
                    own: match cells[4] {
                        "crate" => true,
                        "Janrain" => false,
                        other => panic!("origin {other:?} for code {}", cells[0]),
                    },
                }
            })
            .collect()
    }

    #[test]
    fn the_error_module_table_matches_the_rows() {
        let table = doc_table();
        // Every code constant has its row, with its error string and origin, in code order.
        let want: Vec<(u16, &str, bool)> = ErrorCode::ALL
            .iter()
            .map(|(c, own)| (c.code, c.error, *own))
            .collect();
        let got: Vec<(u16, &str, bool)> = table
            .iter()
            .map(|r| (r.code, r.error.as_str(), r.own))
            .collect();
        assert_eq!(got, want, "the table's codes, errors and origins");
        assert!(table.windows(2).all(|w| w[0].code < w[1].code));
        // Every kind answers with a code of the table, at the table's HTTP status.
        for kind in RejectionKind::ALL {
            let row = table
                .iter()
                .find(|r| r.code == kind.code().code)
                .unwrap_or_else(|| panic!("{kind}: code {} not in the table", kind.code().code));
            assert_eq!(row.error, kind.code().error, "{kind}");
            assert_eq!(row.status, kind.status().as_u16(), "{kind}: HTTP status");
        }
        // And every code of the table is some kind's, so that its status was checked.
        for row in &table {
            assert!(
                RejectionKind::ALL.iter().any(|k| k.code().code == row.code),
                "code {} answers no rejection kind",
                row.code
            );
        }
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
        let ids: HashSet<_> = (0..1000).map(|_| request_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(
            ids.iter()
                .all(|id| id.len() == 16 && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        );
    }
}
