//! janrain-signed: the `Date` and its window and the client before the body; the signature,
//! the features, who acts and the replay guard with the parameters.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, SystemTime};

use super::claim::Found;
use super::principal::{self, Principal};
use super::{Accepted, ClientLookup, Decision, Verifier, invalid_credentials, refusal};
use crate::credentials::ApiClient;
use crate::permissions::{AuthMethod, AuthMethods};
use crate::scheme::{DATETIME_LEN, Datetime, SIGNATURE_LEN, SignatureCredentials, StringToSign};
use crate::server::replay::{ReplayGuardError, ReplayKey, ReplayVerdict};
use crate::server::store::StoreFuture;
use crate::server::{Rejection, RejectionKind};

/// The longest a replay guard is asked to keep an entry: a century, far beyond any useful date
/// window, and within what every store can express (Redis's `PX` stops at 2^63 - 1 ms).
const MAX_REPLAY_TTL: Duration = Duration::from_secs(100 * 365 * 86_400);

/// A janrain-signed request, as far as it is checked.
pub(super) struct Signed {
    signature: [u8; SIGNATURE_LEN],
    date: Datetime,
    /// The `Date` header's text, as signed.
    date_text: [u8; DATETIME_LEN],
    now: SystemTime,
    step: Step,
}

enum Step {
    /// The client store is asked for the client the header names.
    LookingUp(ClientLookup),
    /// The client is known: the signature waits for the parameters.
    Found(Arc<ApiClient>),
    /// The signature holds; the replay guard is asked whether it saw it before.
    Recording(
        Arc<ApiClient>,
        StoreFuture<Result<ReplayVerdict, ReplayGuardError>>,
    ),
}

impl Signed {
    /// The credentials of a `Signature` header: the `Date` is checked, and the client store
    /// asked for the client.
    pub(super) fn claim(
        verifier: &Verifier,
        date: Found<'_>,
        creds: &SignatureCredentials<'_>,
        accepts: AuthMethods,
    ) -> Result<Self, Rejection> {
        let mut signature = [0u8; SIGNATURE_LEN];
        signature.copy_from_slice(creds.signature().as_bytes());
        let (date, date_text, now) = verifier.check_date(date, accepts)?;
        Ok(Signed {
            signature,
            date,
            date_text,
            now,
            step: Step::LookingUp(verifier.store.client(creds.client_id())),
        })
    }

    /// The client the header names: it must exist.
    pub(super) fn poll_client(
        &mut self,
        verifier: &Verifier,
        accepts: AuthMethods,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), Rejection>> {
        if let Step::LookingUp(lookup) = &mut self.step {
            let answer = ready!(Pin::new(lookup).poll(cx));
            match verifier.stored_client(answer)? {
                Some(client) => self.step = Step::Found(client),
                None => return Poll::Ready(Err(invalid_credentials(accepts))),
            }
        }
        Poll::Ready(Ok(()))
    }

    /// The signature over the parameters, against every secret of the client; then its
    /// features, who acts, and the replay guard.
    pub(super) fn poll_decide(
        &mut self,
        verifier: &Verifier,
        request: &Decision<'_>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Accepted, Rejection>> {
        let accepts = request.accepts();
        if let Step::Found(client) = &self.step {
            // `claim` took exactly one Date that parses: ASCII digits and separators.
            let date_text = std::str::from_utf8(&self.date_text).unwrap_or_default();
            let sts = StringToSign::new(request.called_path, date_text, request.params);
            if client
                .verify_signature(&sts, &verifier.forms, &self.signature)
                .is_none()
            {
                return Poll::Ready(Err(signature_mismatch(accepts)));
            }
            verifier.permit(client, request.operation)?;
            principal::check(
                request.params,
                Principal::client(AuthMethod::Signature, client),
                accepts,
            )?;
            let Some(guard) = &verifier.replay else {
                return Poll::Ready(Ok(Accepted::client(client.clone(), AuthMethod::Signature)));
            };
            let key = ReplayKey {
                client_id: client.id().as_str(),
                signature: std::str::from_utf8(&self.signature).unwrap_or_default(),
            };
            let recording = guard.check_and_record(key, verifier.replay_ttl(self.date, self.now));
            self.step = Step::Recording(client.clone(), recording);
        }
        match &mut self.step {
            Step::Recording(client, recording) => {
                let verdict = ready!(Pin::new(recording).poll(cx));
                verifier.replay_verdict(verdict, client, accepts)?;
                Poll::Ready(Ok(Accepted::client(client.clone(), AuthMethod::Signature)))
            }
            // Phase one found the client before phase two began.
            _ => Poll::Ready(Err(invalid_credentials(accepts))),
        }
    }
}

impl Verifier {
    /// The `Date` header: exactly one, in the strict form, inside the window. Its text is
    /// kept, as signed, so that the string to sign needs no second look at the headers.
    fn check_date(
        &self,
        date: Found<'_>,
        accepts: AuthMethods,
    ) -> Result<(Datetime, [u8; DATETIME_LEN], SystemTime), Rejection> {
        let invalid = |text: &str| refusal(RejectionKind::InvalidDate, text, accepts);
        let value = date.first.ok_or_else(|| {
            invalid("the Date header is missing; send the current UTC time as YYYY-MM-DD HH:MM:SS, the same text that is signed")
        })?;
        if date.more {
            return Err(invalid("send exactly one Date header"));
        }
        let date = Datetime::parse_bytes(value.as_bytes()).map_err(|e| {
            refusal(
                RejectionKind::InvalidDate,
                format!("invalid Date header: {e}"),
                accepts,
            )
        })?;
        // The strict form is exactly `DATETIME_LEN` bytes.
        let text = <[u8; DATETIME_LEN]>::try_from(value.as_bytes()).unwrap_or([0; DATETIME_LEN]);
        let now = self.clock.now();
        self.check_window(date, now, accepts)?;
        Ok((date, text, now))
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

    /// How long the replay guard keeps a request dated `date`: until the date is `max_age`
    /// old (plus the second it names, since dates are truncated). A window too wide for the
    /// clock to express (a `max_age` of `Duration::MAX`, say) keeps it for
    /// [`MAX_REPLAY_TTL`].
    fn replay_ttl(&self, date: Datetime, now: SystemTime) -> Duration {
        let keep = self.max_age.saturating_add(Duration::from_secs(1));
        match date.to_system_time().checked_add(keep) {
            Some(until) => until.duration_since(now).unwrap_or(Duration::ZERO),
            None => MAX_REPLAY_TTL,
        }
        .clamp(Duration::from_secs(1), MAX_REPLAY_TTL)
    }

    /// The replay guard's answer: a replay is refused; a guard that cannot answer refuses
    /// (503), or lets the request through where the layer fails open.
    fn replay_verdict(
        &self,
        verdict: Result<ReplayVerdict, ReplayGuardError>,
        client: &ApiClient,
        accepts: AuthMethods,
    ) -> Result<(), Rejection> {
        let client_id = client.id().as_str();
        match verdict {
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
}

/// The refusal of a signature that does not match.
fn signature_mismatch(accepts: AuthMethods) -> Rejection {
    refusal(
        RejectionKind::SignatureMismatch,
        "the request signature we calculated does not match the signature you provided; sign \
         \"endpoint\\ndatetime\\n\" plus every parameter as a sorted key=value line ending in \
         \\n, with the client secret, HMAC-SHA1, base64",
        accepts,
    )
}

#[cfg(test)]
mod tests {
    use crate::scheme::Datetime;
    use crate::server::{MemoryStore, VerifyLayer};
    use std::time::Duration;

    const YEAR: Duration = Duration::from_secs(365 * 86_400);

    /// The replay guard keeps a request as long as its date is inside the window (and the
    /// second it names), however wide the window, up to a century for a window wider than the
    /// clock can express.
    #[test]
    fn a_replay_is_kept_as_long_as_the_window_lets_it_be_sent_again() {
        let date: Datetime = "2026-03-01 12:00:00".parse().unwrap();
        let sent = date.to_system_time();
        for (window, at, kept) in [
            (Duration::from_secs(300), sent, Duration::from_secs(301)),
            (
                Duration::from_secs(300),
                sent + Duration::from_secs(100),
                Duration::from_secs(201),
            ),
            (
                Duration::from_secs(300),
                sent + Duration::from_secs(400),
                Duration::from_secs(1),
            ),
            (2 * YEAR, sent, 2 * YEAR + Duration::from_secs(1)),
            (50 * YEAR, sent, 50 * YEAR + Duration::from_secs(1)),
            (Duration::MAX, sent, 100 * YEAR),
        ] {
            let layer = VerifyLayer::builder(MemoryStore::new())
                .date_window(window, Duration::from_secs(300))
                .build();
            assert_eq!(
                layer.verifier.replay_ttl(date, at),
                kept,
                "window {window:?}"
            );
        }
    }

    /// A replay guard that cannot answer: 503 by default, the request let through where the
    /// layer fails open; a replay is refused either way.
    #[test]
    fn a_guard_that_cannot_answer_refuses_unless_the_layer_fails_open() {
        use crate::credentials::{ApiClient, ClientId, ClientSecret};
        use crate::permissions::AuthMethods;
        use crate::server::RejectionKind;
        use crate::server::replay::{ReplayGuardError, ReplayVerdict};
        let client = ApiClient::new(
            ClientId::new("client").unwrap(),
            ClientSecret::new("secret").unwrap(),
        );
        for fail_open in [false, true] {
            let layer = VerifyLayer::builder(MemoryStore::new())
                .replay_fail_open(fail_open)
                .build();
            let verdict = |v| {
                layer
                    .verifier
                    .replay_verdict(v, &client, AuthMethods::HEADER)
            };
            assert!(verdict(Ok(ReplayVerdict::Fresh)).is_ok());
            let replayed = verdict(Ok(ReplayVerdict::Replayed)).unwrap_err();
            assert_eq!(replayed.kind(), RejectionKind::Replayed);
            match verdict(Err(ReplayGuardError::new("connection refused"))) {
                Ok(()) => assert!(fail_open),
                Err(refused) => {
                    assert!(!fail_open);
                    assert_eq!(refused.kind(), RejectionKind::ReplayGuardUnavailable);
                }
            }
        }
    }
}
