//! Reading Janrain responses: `stat:error` bodies (which Janrain sends with HTTP 200) become
//! typed errors.

use bytes::Bytes;
use http::StatusCode;

use super::BoxError;
use crate::error::JanrainError;

/// Why a Janrain response is not a success.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The body is a Janrain error envelope (`"stat":"error"`), whatever the HTTP status (most
    /// are 200).
    #[error("{error} (HTTP {status})")]
    Janrain {
        /// The HTTP status.
        status: StatusCode,
        /// The envelope.
        #[source]
        error: JanrainError,
    },
    /// The status is not a success and the body is no Janrain envelope (a proxy's error page,
    /// say).
    #[error("HTTP {status} without a Janrain error envelope ({} bytes of body)", body.len())]
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// The body.
        body: Bytes,
    },
    /// The status is a success but the body is not JSON.
    #[error("HTTP {status} with a body that is not JSON: {source}")]
    NotJson {
        /// The HTTP status.
        status: StatusCode,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// The body could not be read.
    #[error("reading the response body failed: {0}")]
    Transport(#[source] BoxError),
}

impl ResponseError {
    /// The Janrain envelope, if that is what the server sent.
    pub fn janrain(&self) -> Option<&JanrainError> {
        match self {
            ResponseError::Janrain { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Read a complete Janrain response: `Err(ResponseError::Janrain)` for a `stat:error`
/// envelope whatever the status, `Err(ResponseError::Status)` for any other non-2xx, the JSON
/// value otherwise.
///
/// ```
/// use http::StatusCode;
/// use janrain_auth::client::{janrain_json, ResponseError};
///
/// let ok = janrain_json(StatusCode::OK, br#"{"stat":"ok","result_count":1}"#)?;
/// assert_eq!(ok["result_count"], 1);
///
/// let refused = br#"{"stat":"error","code":403,"error":"client_permission_error"}"#;
/// let err = janrain_json(StatusCode::OK, refused).unwrap_err();
/// assert_eq!(err.janrain().map(|e| e.code), Some(403));
/// # Ok::<(), ResponseError>(())
/// ```
pub fn janrain_json(status: StatusCode, body: &[u8]) -> Result<serde_json::Value, ResponseError> {
    if let Some(error) = JanrainError::from_body(body) {
        return Err(ResponseError::Janrain { status, error });
    }
    if !status.is_success() {
        return Err(ResponseError::Status {
            status,
            body: Bytes::copy_from_slice(body),
        });
    }
    serde_json::from_slice(body).map_err(|source| ResponseError::NotJson { status, source })
}
