//! Janrain's error envelope and the error codes this crate answers with.
//!
//! Every failure is answered, and every `stat:error` response read, as
//!
//! ```json
//! {"stat":"error","code":402,"error":"invalid_client_credentials",
//!  "error_description":"...","request_id":"..."}
//! ```
//!
//! Janrain sends most of these with HTTP 200; clients must look at `stat`.
//! [`JanrainError::from_body`] reads one from any response body.
//!
//! # Codes
//!
//! Janrain documents the codes marked *Janrain*; the others are this crate's own choices for
//! cases Janrain never documented (the `Date` codes sit in the 43x block, beside Janrain's
//! 431 for a wrong signature). The HTTP status is the verification layer's default; it can answer 200 instead.
//!
//! | code | error | HTTP | when | origin |
//! |---|---|---|---|---|
//! | 100 | `missing_argument` | 400 | a required parameter (`client_id`, `access_token`) is missing | Janrain |
//! | 200 | `invalid_argument` | 400 | the parameters cannot be read (too many, bad form body) | Janrain |
//! | 205 | `invalid_auth_method` | 401 | an `Authorization` scheme other than Basic, janrain-signed (`Signature`) and janrain-oauth (`OAuth`) | Janrain |
//! | 230 | `request_too_large` | 413 | the body is over the limit | crate |
//! | 231 | `request_timeout` | 408 | the body did not arrive in time | crate |
//! | 232 | `ambiguous_parameters` | 400 | parameters in both the query string and a form body, a form body on GET or HEAD, `client_id` / `access_token` repeated, an `access_token` where it is not the credential, a `client_id` naming another client than the one that authenticated | crate |
//! | 233 | `unsupported_body` | 415 | a janrain-signed request with a body that is not a form (unless the operation or layer allows it), or a `Content-Type` that begins like the form type without being it | crate |
//! | 234 | `ambiguous_parameter_text` | 400 | strict mode: a key holding `=` or a line break, or a value holding a line break | crate |
//! | 402 | `invalid_client_credentials` | 401 | credentials missing or malformed, unknown client, wrong Basic secret | Janrain |
//! | 403 | `client_permission_error` | 403 | the client holds none of the features the operation allows | Janrain |
//! | 404 | `unknown_operation` | 404 | the path is in neither the catalog nor the policy (when unknown paths are denied) | crate |
//! | 405 | `method_not_allowed` | 405 | the operation is not served with this HTTP method (when methods are enforced) | crate |
//! | 412 | `invalid_access_token` | 401 | the access token is unknown | crate |
//! | 414 | `access_token_expired` | 401 | the access token has expired | Janrain |
//! | 419 | `access_token_client_mismatch` | 401 | the access token was issued to another client | crate |
//! | 422 | `access_token_user_mismatch` | 403 | a request made with a user's access token names another user (`uuid`) or addresses a record by another key (`id`, `key_attribute`, `key_value`, in any letter case) | crate |
//! | 424 | `auth_method_not_accepted` | 401 | the operation does not accept this way of authenticating (Basic, janrain-signed, janrain-oauth or a login client) | crate |
//! | 431 | `signature_does_not_match` | 401 | the janrain-signed signature is wrong | Janrain |
//! | 432 | `invalid_date` | 401 | `Date` missing, or not `YYYY-MM-DD HH:MM:SS` UTC | crate |
//! | 433 | `date_out_of_window` | 401 | `Date` too far in the past or future (clock skew) | crate |
//! | 434 | `request_replayed` | 401 | the same signed request was already accepted | crate |
//! | 500 | `unexpected_error` | 503 | the client store or token verifier cannot answer (in time), or the server is misconfigured (no token verifier, a route not behind the layer): try again later | Janrain |
//! | 504 | `replay_guard_unavailable` | 503 | the replay guard's store cannot be reached | crate |

use std::fmt;

use serde::{Deserialize, Serialize};

/// A Janrain error code and its `error` string (they map one to one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode {
    /// The numeric `code`.
    pub code: u16,
    /// The `error` string.
    pub error: &'static str,
}

/// Declares the [`ErrorCode`] constants, one row per code: its constant, number, `error` string
/// and origin (`Janrain` for the codes Janrain documents, `Crate` for this crate's own).
macro_rules! error_codes {
    (@origin Janrain) => { "" };
    (@origin Crate) => { " (this crate's code)" };
    (@own Janrain) => { false };
    (@own Crate) => { true };
    ($($name:ident = $code:literal $error:literal $origin:ident;)*) => {
        impl ErrorCode {
            $(
                #[doc = concat!(stringify!($code), " `", $error, "`", error_codes!(@origin $origin), ".")]
                pub const $name: ErrorCode = ErrorCode::new($code, $error);
            )*

            /// Every code and whether it is this crate's own, as the rows above declare them.
            #[cfg(test)]
            pub(crate) const ALL: &[(ErrorCode, bool)] =
                &[$((ErrorCode::$name, error_codes!(@own $origin))),*];
        }
    };
}

error_codes! {
    MISSING_ARGUMENT = 100 "missing_argument" Janrain;
    INVALID_ARGUMENT = 200 "invalid_argument" Janrain;
    INVALID_AUTH_METHOD = 205 "invalid_auth_method" Janrain;
    REQUEST_TOO_LARGE = 230 "request_too_large" Crate;
    REQUEST_TIMEOUT = 231 "request_timeout" Crate;
    AMBIGUOUS_PARAMETERS = 232 "ambiguous_parameters" Crate;
    UNSUPPORTED_BODY = 233 "unsupported_body" Crate;
    AMBIGUOUS_PARAMETER_TEXT = 234 "ambiguous_parameter_text" Crate;
    INVALID_CLIENT_CREDENTIALS = 402 "invalid_client_credentials" Janrain;
    CLIENT_PERMISSION_ERROR = 403 "client_permission_error" Janrain;
    UNKNOWN_OPERATION = 404 "unknown_operation" Crate;
    METHOD_NOT_ALLOWED = 405 "method_not_allowed" Crate;
    INVALID_ACCESS_TOKEN = 412 "invalid_access_token" Crate;
    ACCESS_TOKEN_EXPIRED = 414 "access_token_expired" Janrain;
    ACCESS_TOKEN_CLIENT_MISMATCH = 419 "access_token_client_mismatch" Crate;
    ACCESS_TOKEN_USER_MISMATCH = 422 "access_token_user_mismatch" Crate;
    AUTH_METHOD_NOT_ACCEPTED = 424 "auth_method_not_accepted" Crate;
    SIGNATURE_DOES_NOT_MATCH = 431 "signature_does_not_match" Janrain;
    INVALID_DATE = 432 "invalid_date" Crate;
    DATE_OUT_OF_WINDOW = 433 "date_out_of_window" Crate;
    REQUEST_REPLAYED = 434 "request_replayed" Crate;
    UNEXPECTED_ERROR = 500 "unexpected_error" Janrain;
    REPLAY_GUARD_UNAVAILABLE = 504 "replay_guard_unavailable" Crate;
}

impl ErrorCode {
    const fn new(code: u16, error: &'static str) -> Self {
        ErrorCode { code, error }
    }

    /// Whether a refusal with this code is about the request's `Date` (so a client may correct
    /// its clock and retry).
    pub fn is_date_error(self) -> bool {
        self.code == Self::INVALID_DATE.code || self.code == Self::DATE_OUT_OF_WINDOW.code
    }
}

/// A `stat:error` response from Janrain (or from this crate's verification layer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct JanrainError {
    /// The numeric code.
    pub code: u16,
    /// The error name, e.g. `invalid_client_credentials`.
    pub error: String,
    /// What went wrong, in words.
    #[serde(default)]
    pub error_description: String,
    /// The request id Janrain logs (`request_id`, or `request_token` in older responses).
    #[serde(
        default,
        alias = "request_token",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_id: Option<String>,
    /// Every other field of the error object, as sent: `argument_name` (the parameter Janrain
    /// rejected), `expected_value` and `supplied_value`, `sub_error`, `message`, and whatever
    /// else an operation adds. `stat` is not kept here.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl JanrainError {
    /// Read a response body: `Some` when it is a JSON object with `"stat":"error"` and a
    /// code, `None` for anything else (success, not JSON, another shape).
    pub fn from_body(body: &[u8]) -> Option<JanrainError> {
        #[derive(Deserialize)]
        struct Envelope {
            stat: String,
            #[serde(flatten)]
            error: JanrainError,
        }
        let envelope: Envelope = serde_json::from_slice(body).ok()?;
        (envelope.stat == "error").then_some(envelope.error)
    }

    /// The JSON envelope, `stat` first.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Envelope<'a> {
            stat: &'static str,
            #[serde(flatten)]
            error: &'a JanrainError,
        }
        serde_json::to_string(&Envelope {
            stat: "error",
            error: self,
        })
        .unwrap_or_else(|_| {
            String::from(r#"{"stat":"error","code":500,"error":"unexpected_error"}"#)
        })
    }

    /// One of the [extra fields](JanrainError::extra), e.g. `argument_name`.
    pub fn field(&self, name: &str) -> Option<&serde_json::Value> {
        self.extra.get(name)
    }

    /// Whether this is a refusal of the request's `Date`.
    pub fn is_date_error(&self) -> bool {
        self.code == ErrorCode::INVALID_DATE.code || self.code == ErrorCode::DATE_OUT_OF_WINDOW.code
    }

    /// An error of `code` (its number and its name) saying `description`, with no request id
    /// and no other field: add them with [`with_request_id`](Self::with_request_id) and
    /// [`with_field`](Self::with_field).
    ///
    /// ```
    /// use janrain_auth::error::{ErrorCode, JanrainError};
    ///
    /// let e = JanrainError::new(ErrorCode { code: 361, error: "unique_violation" }, "email is taken")
    ///     .with_argument_name("email");
    /// assert_eq!(
    ///     e.to_json(),
    ///     r#"{"stat":"error","code":361,"error":"unique_violation","error_description":"email is taken","argument_name":"email"}"#,
    /// );
    /// ```
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        JanrainError {
            code: code.code,
            error: code.error.to_owned(),
            error_description: description.into(),
            request_id: None,
            extra: serde_json::Map::new(),
        }
    }

    /// 100 `missing_argument` for the parameter `name`, as Janrain words it:
    /// `missing required argument: NAME`, with `argument_name`.
    pub fn missing_argument(name: &str) -> Self {
        JanrainError::new(
            ErrorCode::MISSING_ARGUMENT,
            format!("missing required argument: {name}"),
        )
        .with_argument_name(name)
    }

    /// 200 `invalid_argument` for the parameter `name`, as Janrain words it:
    /// `NAME was not valid for the following reason: REASON`, with `argument_name`.
    pub fn invalid_argument(name: &str, reason: impl fmt::Display) -> Self {
        JanrainError::new(
            ErrorCode::INVALID_ARGUMENT,
            format!("{name} was not valid for the following reason: {reason}"),
        )
        .with_argument_name(name)
    }

    /// 201 `duplicate_argument`: `name` conflicts with `other`, sent in the same call (`id`
    /// with `uuid`, say, or one parameter twice); `argument_name` is `name`.
    pub fn duplicate_argument(name: &str, other: &str) -> Self {
        let description = if name == other {
            format!("{name} was sent more than once; send it once")
        } else {
            format!("{name} cannot be sent with {other}; send one of them")
        };
        JanrainError::new(
            ErrorCode {
                code: 201,
                error: "duplicate_argument",
            },
            description,
        )
        .with_argument_name(name)
    }

    /// 310 `record_not_found`: no record matches what the call named.
    pub fn record_not_found(description: impl Into<String>) -> Self {
        JanrainError::new(
            ErrorCode {
                code: 310,
                error: "record_not_found",
            },
            description,
        )
    }

    /// 403 `client_permission_error`: the caller may not do this.
    pub fn client_permission_error(description: impl Into<String>) -> Self {
        JanrainError::new(ErrorCode::CLIENT_PERMISSION_ERROR, description)
    }

    /// 500 `unexpected_error`.
    pub fn unexpected_error(description: impl Into<String>) -> Self {
        JanrainError::new(ErrorCode::UNEXPECTED_ERROR, description)
    }

    /// The same error with the field `name` set to `value` (in [`extra`](Self::extra);
    /// `argument_name`, `expected_value`, `sub_error`, ...). The envelope's own fields (`stat`,
    /// `code`, `error`, `error_description`, `request_id`) are not extras: set those directly.
    pub fn with_field(
        mut self,
        name: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }

    /// The same error naming the parameter it is about (`argument_name`).
    pub fn with_argument_name(self, name: impl Into<String>) -> Self {
        self.with_field("argument_name", name.into())
    }

    /// The same error with `request_id` set.
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }
}

/// The `stat:error` envelope with HTTP 200, as Identity Cloud answers most errors; for another
/// status, answer `(status, error)`.
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl axum_core::response::IntoResponse for JanrainError {
    fn into_response(self) -> axum_core::response::Response {
        (
            [(http::header::CONTENT_TYPE, "application/json")],
            self.to_json(),
        )
            .into_response()
    }
}

impl fmt::Display for JanrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Janrain error {} {}", self.code, self.error)?;
        if !self.error_description.is_empty() {
            write!(f, ": {}", self.error_description)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request_id {id})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_janrain_shapes() {
        let body = br#"{"argument_name":"verification_code","request_id":"fvdfxwpxew2qe76p","code":200,"error_description":"verification code not recognized","error":"invalid_argument","stat":"error"}"#;
        let e = JanrainError::from_body(body).unwrap();
        assert_eq!(e.code, 200);
        assert_eq!(e.error, "invalid_argument");
        assert_eq!(e.request_id.as_deref(), Some("fvdfxwpxew2qe76p"));
        assert_eq!(e.field("argument_name"), Some(&"verification_code".into()));
        assert_eq!(e.extra.len(), 1, "stat and the named fields are not extras");
        assert!(e.to_string().contains("verification code not recognized"));
        let old = br#"{"stat":"error","code":431,"error":"signature_does_not_match","request_token":"abc"}"#;
        assert_eq!(
            JanrainError::from_body(old).unwrap().request_id.as_deref(),
            Some("abc")
        );
        assert_eq!(JanrainError::from_body(br#"{"stat":"ok"}"#), None);
        assert_eq!(JanrainError::from_body(b"not json"), None);
        assert_eq!(JanrainError::from_body(br#"{"stat":"error"}"#), None);
    }

    #[test]
    fn writes_the_envelope() {
        let e = JanrainError {
            code: 433,
            error: "date_out_of_window".into(),
            error_description: "too old".into(),
            request_id: Some("r".into()),
            extra: serde_json::Map::from_iter([("argument_name".to_owned(), "date".into())]),
        };
        let json = e.to_json();
        assert!(json.starts_with(r#"{"stat":"error","code":433"#), "{json}");
        assert_eq!(JanrainError::from_body(json.as_bytes()), Some(e.clone()));
        assert!(e.is_date_error());
    }
}
