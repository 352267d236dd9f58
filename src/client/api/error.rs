//! [`Error`]: everything that can go wrong with a [`JanrainClient`](super::JanrainClient) call.

use bytes::Bytes;
use http::StatusCode;

use crate::client::SignError;
use crate::client::encode::EncodeError;
use crate::error::JanrainError;

/// Everything that can go wrong with a call, in one type: the parameters, the signing, the
/// transport, Janrain's refusal, and reading the answer.
///
/// A Janrain `stat:error` answer keeps the whole error object: [`Error::janrain`] gives the
/// [`JanrainError`] with its `code`, and every other field (`argument_name`, `expected_value`,
/// ...) in [`JanrainError::extra`]. The messages never contain a secret or a parameter value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operation name is empty, or holds a query, a fragment, a `.` or `..` segment, spaces
    /// or control characters.
    #[error("operation {operation:?} is not an operation name such as entity.find or /oauth/token")]
    Operation {
        /// The name as given.
        operation: String,
    },
    /// The parameters could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The request could not be signed (a host that is not allowed, a path outside the base
    /// path, ...).
    #[error(transparent)]
    Sign(#[from] SignError),
    /// The request could not be sent or the answer not read: connection, timeout, TLS, or an
    /// error of another middleware in the chain.
    #[error("the request failed: {0}")]
    Transport(#[source] reqwest_middleware::Error),
    /// Janrain answered `stat:error` (at any HTTP status; most are 200).
    #[error("{error} (HTTP {status})")]
    Janrain {
        /// The HTTP status.
        status: StatusCode,
        /// The error object, every field kept.
        #[source]
        error: JanrainError,
    },
    /// The status is not a success and the body is not a Janrain error (a proxy's error page,
    /// say).
    #[error("HTTP {status} without a Janrain error object ({} bytes of body)", body.len())]
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// The body.
        body: Bytes,
    },
    /// The answer is not JSON, or does not have the shape of the type asked for.
    #[error("the answer (HTTP {status}) does not read as the expected type: {source}")]
    Decode {
        /// The HTTP status.
        status: StatusCode,
        /// serde_json's complaint (it names the field).
        #[source]
        source: serde_json::Error,
    },
    /// Paging `entity.find` cannot go on (see [`JanrainClient::find_all`](super::JanrainClient::find_all)).
    #[error("paging entity.find: {0}")]
    Paging(&'static str),
}

impl Error {
    /// The Janrain error object, if Janrain answered `stat:error`.
    pub fn janrain(&self) -> Option<&JanrainError> {
        match self {
            Error::Janrain { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The Janrain error code (`200` invalid_argument, `403` client_permission_error, ...), if
    /// Janrain answered `stat:error`.
    pub fn code(&self) -> Option<u16> {
        self.janrain().map(|e| e.code)
    }

    /// The HTTP status of the answer, if one arrived.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Janrain { status, .. }
            | Error::Status { status, .. }
            | Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A transport error, or the signing error a middleware failed with.
    pub(super) fn transport(error: reqwest_middleware::Error) -> Error {
        match error {
            reqwest_middleware::Error::Middleware(e) => match e.downcast::<SignError>() {
                Ok(sign) => Error::Sign(sign),
                Err(other) => Error::Transport(reqwest_middleware::Error::Middleware(other)),
            },
            other => Error::Transport(other),
        }
    }
}
