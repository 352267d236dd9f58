//! Retrying, once, a request the server refused for a `Date` off its clock, after the signer
//! inside has learned the server's time: [`ClockSkewRetry`] for reqwest-middleware chains and
//! [`ClockSkewRetryLayer`] for tower clients.
//!
//! The two front ends share what is decided here. The signer, after the answer to a request it
//! janrain-signed, leaves a [`SignedAttempt`] where the retry further out finds it (the
//! middleware extensions; the response's extensions for tower): when the request was sent, with
//! which clock offset, and what the answer taught. The retry then asks the same questions of
//! the answer's status and, when those do not tell, of its small JSON body.

use http::header::{CONTENT_TYPE, DATE};
use http::{HeaderMap, StatusCode};

use super::request_signer::RequestSigner;
use crate::error::JanrainError;
use crate::scheme::Datetime;

#[cfg(feature = "reqwest")]
mod reqwest;
mod tower;

#[cfg(feature = "reqwest")]
pub use self::reqwest::ClockSkewRetry;
pub use self::tower::{ClockSkewRetryLayer, ClockSkewRetryService, SkewRetryBody};

/// Largest response body the clock-skew retry reads to look for a date refusal (it reads one
/// only when the response's `Date` shows the request's was off and the status alone does not
/// tell). Larger responses (and responses of unknown length) are passed on untouched.
pub const MAX_REFUSAL_BODY: u64 = 16 * 1024;

/// How far, in seconds, a request's `Date` may be from the server's before a refusal of any
/// kind counts as a refusal of the `Date`.
const REFUSAL_SKEW_SECS: i64 = 60;

/// A janrain-signed request on its way out: what the signer must remember to report on its
/// answer.
pub(crate) struct Sending {
    signer: RequestSigner,
    sent_at: Option<Datetime>,
    offset_used: i64,
}

impl Sending {
    /// A request signed by `signer` with the clock offset `offset_used`, with these headers.
    pub(crate) fn new(signer: &RequestSigner, offset_used: i64, headers: &HeaderMap) -> Self {
        Sending {
            signer: signer.clone(),
            sent_at: headers
                .get(DATE)
                .and_then(|v| Datetime::parse_bytes(v.as_bytes()).ok()),
            offset_used,
        }
    }

    /// The answer arrived: the signer learns from its `Date`, and the attempt is reported.
    pub(crate) fn answered(self, headers: &HeaderMap) -> SignedAttempt {
        let server_now = self.signer.observe_response(headers);
        SignedAttempt {
            sent_at: self.sent_at,
            server_now,
            offset_used: self.offset_used,
            offset_now: self.signer.clock_offset(),
        }
    }
}

/// What the signer reports about the answer to a request it janrain-signed. Private to the
/// crate, so nothing else can forge it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SignedAttempt {
    /// The request's `Date`.
    sent_at: Option<Datetime>,
    /// The server's time from the answer's `Date`, when it was readable and within bounds.
    server_now: Option<Datetime>,
    /// The clock offset the request was signed with.
    offset_used: i64,
    /// The clock offset once the answer was seen: what a second attempt is signed with.
    offset_now: i64,
}

impl SignedAttempt {
    /// Say, once for both front ends, that the answer refused the `Date` and the request is
    /// sent again with the corrected clock.
    pub(crate) fn log_retry(&self) {
        tracing::info!(
            clock_offset_secs = self.offset_now,
            "server refused a request whose Date was off its clock; corrected the clock and retrying once"
        );
    }

    /// `None` when a second attempt cannot go differently (the answer did not move the clock,
    /// or had no usable `Date`); else whether the request's `Date` was more than a minute off
    /// the server's clock.
    pub(crate) fn far_off(&self) -> Option<bool> {
        let server_now = self
            .server_now
            .filter(|_| self.offset_now != self.offset_used)?;
        Some(self.sent_at.is_some_and(|sent| {
            (server_now.unix_seconds() - sent.unix_seconds()).abs() > REFUSAL_SKEW_SECS
        }))
    }
}

/// Whether the status alone says the `Date` was refused: HTTP 401 or 403 for a request whose
/// `Date` was `far_off`.
fn refused_by_status(status: StatusCode, far_off: bool) -> bool {
    far_off && (status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN)
}

/// Whether a body of `length` bytes with these headers is worth reading for a Janrain error:
/// a known length of at most [`MAX_REFUSAL_BODY`], and a JSON `Content-Type` (or none).
fn body_worth_reading(length: Option<u64>, headers: &HeaderMap) -> bool {
    length.is_some_and(|n| n <= MAX_REFUSAL_BODY)
        && headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v.to_ascii_lowercase().contains("json"))
}

/// Whether a body refuses the `Date`: this crate's own date codes (432, 433), or, for a request
/// whose `Date` was `far_off`, any `stat:error` code from 400 to 499.
fn refused_by_body(body: &[u8], far_off: bool) -> bool {
    JanrainError::from_body(body)
        .is_some_and(|e| e.is_date_error() || (far_off && (400..500).contains(&e.code)))
}
