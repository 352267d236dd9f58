//! What a running emulator received: every call, in order, and the expectations a test states
//! about them.

use std::fmt;
use std::ops::{Range, RangeFrom, RangeFull, RangeInclusive, RangeTo, RangeToInclusive};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;

use crate::credentials::ClientId;
use crate::error::JanrainError;
use crate::permissions::AuthMethod;
use crate::server::{AuthenticatedClient, VerifiedParams};

/// One call a running emulator received, whether the verification layer let it through or
/// refused it: what was called, by whom, with which verified parameters, and what it was
/// answered.
///
/// `Debug` shows the parameters' keys only: values may be passwords or tokens.
#[derive(Debug, Clone)]
pub struct RecordedCall {
    method: Method,
    operation: String,
    client_id: Option<ClientId>,
    auth: Option<AuthMethod>,
    user: Option<String>,
    params: Option<VerifiedParams>,
    passed_layer: bool,
    status: StatusCode,
    error: Option<JanrainError>,
}

impl RecordedCall {
    /// The request's method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The operation: the path called, such as `/entity.find`.
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// The client the layer authenticated: the API client, the login client, or the one a
    /// user's token was issued to. `None` when the layer refused the call or authenticated
    /// nobody (an open operation).
    pub fn client_id(&self) -> Option<&ClientId> {
        self.client_id.as_ref()
    }

    /// How the call authenticated, when the layer accepted it.
    pub fn auth(&self) -> Option<AuthMethod> {
        self.auth
    }

    /// The user (uuid) a call made with a user's access token acted for.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The parameters the layer verified; `None` when it refused the call (nothing of a
    /// refused call's parameters is kept: they were never proven to be the caller's).
    pub fn params(&self) -> Option<&VerifiedParams> {
        self.params.as_ref()
    }

    /// The first value of the verified parameter `key`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.as_ref().and_then(|p| p.get(key))
    }

    /// Whether the verification layer let the call through to the operation (whose answer
    /// may still be an error).
    pub fn passed_layer(&self) -> bool {
        self.passed_layer
    }

    /// The answer's HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer's Janrain error, if it was one (from the layer or from the operation).
    pub fn error(&self) -> Option<&JanrainError> {
        self.error.as_ref()
    }

    /// The answer's Janrain error code, `None` for an answer that was not an error.
    pub fn code(&self) -> Option<u16> {
        self.error.as_ref().map(|e| e.code)
    }

    /// Whether the answer was a success: no Janrain error, and a 2xx status.
    pub fn is_ok(&self) -> bool {
        self.error.is_none() && self.status.is_success()
    }
}

/// How many calls an expectation wants: a number (`2`), or a range (`1..`, `..=3`, `2..5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    min: u64,
    /// Inclusive; `None`: no bound.
    max: Option<u64>,
}

impl Times {
    fn contains(&self, n: u64) -> bool {
        n >= self.min && self.max.is_none_or(|max| n <= max)
    }
}

impl fmt::Display for Times {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.min, self.max) {
            (min, Some(max)) if min == max => write!(f, "exactly {min}"),
            (0, Some(max)) => write!(f, "at most {max}"),
            (min, None) => write!(f, "at least {min}"),
            (min, Some(max)) => write!(f, "from {min} to {max}"),
        }
    }
}

impl From<u64> for Times {
    fn from(n: u64) -> Self {
        Times {
            min: n,
            max: Some(n),
        }
    }
}

impl From<Range<u64>> for Times {
    fn from(r: Range<u64>) -> Self {
        Times {
            min: r.start,
            max: Some(r.end.saturating_sub(1)),
        }
    }
}

impl From<RangeInclusive<u64>> for Times {
    fn from(r: RangeInclusive<u64>) -> Self {
        Times {
            min: *r.start(),
            max: Some(*r.end()),
        }
    }
}

impl From<RangeFrom<u64>> for Times {
    fn from(r: RangeFrom<u64>) -> Self {
        Times {
            min: r.start,
            max: None,
        }
    }
}

impl From<RangeTo<u64>> for Times {
    fn from(r: RangeTo<u64>) -> Self {
        Times {
            min: 0,
            max: Some(r.end.saturating_sub(1)),
        }
    }
}

impl From<RangeToInclusive<u64>> for Times {
    fn from(r: RangeToInclusive<u64>) -> Self {
        Times {
            min: 0,
            max: Some(r.end),
        }
    }
}

impl From<RangeFull> for Times {
    fn from(_: RangeFull) -> Self {
        Times { min: 0, max: None }
    }
}

/// The expectations of a running emulator that its calls did not meet, with the calls it
/// received: what [`RunningEmulator::verify`](super::RunningEmulator::verify) returns, and
/// what a dropped emulator panics with.
#[derive(Debug, Clone)]
pub struct UnmetExpectations {
    unmet: Vec<String>,
    received: Vec<String>,
}

impl fmt::Display for UnmetExpectations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the emulator's expectations were not met:")?;
        for line in &self.unmet {
            writeln!(f, "  - {line}")?;
        }
        if self.received.is_empty() {
            write!(f, "it received no call")
        } else {
            write!(f, "it received, in order:")?;
            for line in &self.received {
                write!(f, "\n  {line}")?;
            }
            Ok(())
        }
    }
}

impl std::error::Error for UnmetExpectations {}

type Matcher = Box<dyn Fn(&RecordedCall) -> bool + Send + Sync>;

struct Expectation {
    what: String,
    matches: Matcher,
    times: Times,
}

/// The calls and expectations of one running emulator, shared with its recording middleware.
pub(super) struct CallLog {
    calls: Mutex<Vec<RecordedCall>>,
    expectations: Mutex<Vec<Expectation>>,
    /// Whether calls are recorded at all (`EmulatorBuilder::record_calls`).
    recording: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl CallLog {
    pub(super) fn new(recording: bool) -> Self {
        CallLog {
            calls: Mutex::default(),
            expectations: Mutex::default(),
            recording,
        }
    }

    pub(super) fn calls(&self) -> Vec<RecordedCall> {
        lock(&self.calls).clone()
    }

    pub(super) fn clear(&self) {
        lock(&self.calls).clear();
    }

    pub(super) fn expect(
        &self,
        what: String,
        matches: impl Fn(&RecordedCall) -> bool + Send + Sync + 'static,
        times: Times,
    ) {
        assert!(
            self.recording,
            "the emulator was built with record_calls(false): it keeps no calls, so it cannot \
             count them for the expectation {what:?}; build it without record_calls(false)"
        );
        lock(&self.expectations).push(Expectation {
            what,
            matches: Box::new(matches),
            times,
        });
    }

    pub(super) fn has_expectations(&self) -> bool {
        !lock(&self.expectations).is_empty()
    }

    pub(super) fn verify(&self) -> Result<(), UnmetExpectations> {
        let calls = self.calls();
        let unmet: Vec<String> = lock(&self.expectations)
            .iter()
            .filter_map(|e| {
                let n = calls.iter().filter(|c| (e.matches)(c)).count() as u64;
                (!e.times.contains(n))
                    .then(|| format!("expected {} call(s) of {}, received {n}", e.times, e.what))
            })
            .collect();
        if unmet.is_empty() {
            return Ok(());
        }
        let received = calls
            .iter()
            .map(|c| {
                let answer = match c.code() {
                    Some(code) => format!("error {code}"),
                    None => format!("HTTP {}", c.status.as_u16()),
                };
                let who = c.client_id().map_or("-", ClientId::as_str);
                format!("{} {} by {who}: {answer}", c.method, c.operation)
            })
            .collect();
        Err(UnmetExpectations { unmet, received })
    }
}

/// Who and what the layer verified, as the handler gets them.
type Verified = (Option<AuthenticatedClient>, Option<VerifiedParams>);

/// What the layer verified, passed from inside the layer to the recorder outside it; `None`
/// while the layer has not let the call through.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Option<Verified>>>);

/// Outside the verification layer: record every call and its answer.
pub(super) async fn record(
    State(log): State<Arc<CallLog>>,
    mut request: Request,
    next: Next,
) -> Response {
    let seen = Seen::default();
    request.extensions_mut().insert(seen.clone());
    let method = request.method().clone();
    let operation = request.uri().path().to_owned();
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    // The emulator's answers are in memory already; one that cannot be read is recorded as
    // its status alone.
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let verified = lock(&seen.0).take();
    let passed_layer = verified.is_some();
    let (client, params) = verified.unwrap_or_default();
    let call = RecordedCall {
        method,
        operation,
        client_id: client.as_ref().map(|c| c.client_id().clone()),
        auth: client.as_ref().map(AuthenticatedClient::method),
        user: client.as_ref().and_then(|c| c.user().map(str::to_owned)),
        params,
        passed_layer,
        status: parts.status,
        error: JanrainError::from_body(&bytes),
    };
    lock(&log.calls).push(call);
    Response::from_parts(parts, Body::from(bytes))
}

/// Inside the verification layer: hand what it verified to the recorder.
pub(super) async fn note_verified(request: Request, next: Next) -> Response {
    if let Some(seen) = request.extensions().get::<Seen>() {
        let client = request.extensions().get::<AuthenticatedClient>().cloned();
        let params = request.extensions().get::<VerifiedParams>().cloned();
        *lock(&seen.0) = Some((client, params));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_they_are_written() {
        for (times, text, inside, outside) in [
            (Times::from(2), "exactly 2", 2, 3),
            (Times::from(1..), "at least 1", 5, 0),
            (Times::from(..=3), "at most 3", 3, 4),
            (Times::from(..3), "at most 2", 0, 3),
            (Times::from(2..5), "from 2 to 4", 4, 5),
            (Times::from(2..=5), "from 2 to 5", 5, 1),
        ] {
            assert_eq!(times.to_string(), text);
            assert!(times.contains(inside) && !times.contains(outside), "{text}");
        }
        assert!(Times::from(..).contains(0));
    }
}
