//! Replay protection: janrain-signed has no nonce, so within the date window a captured request
//! can be sent again. A [`ReplayGuard`] remembers every accepted signature for as long as the
//! request it signs could still be accepted, and refuses it a second time.
//!
//! The guard is **off by default**: two identical requests in the same second carry the same
//! signature (the `Date` has one-second resolution), so a client that legitimately repeats a
//! request within a second would see the second one refused. Switch it on with
//! [`VerifyLayerBuilder::replay_guard`](super::VerifyLayerBuilder::replay_guard) when clients
//! never do that, or vary a parameter when they do.
//!
//! The layer records a request only **after** its signature verified and its client was found
//! to be allowed, so forged or forbidden requests never fill the store. Entries are keyed on
//! client id + signature and live until the request's `Date` leaves the past side of the window.

use std::time::Duration;

use super::store::BoxFuture;

/// What identifies one signed request: its client and its signature.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplayKey<'a> {
    /// The client id.
    pub client_id: &'a str,
    /// The signature's 28 base64 characters.
    pub signature: &'a str,
}

impl std::fmt::Debug for ReplayKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayKey")
            .field("client_id", &self.client_id)
            .field("signature", &"<redacted>")
            .finish()
    }
}

/// Whether a request was seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayVerdict {
    /// First time: now recorded.
    Fresh,
    /// Already recorded: a replay.
    Replayed,
}

/// The guard could not decide (its store is unreachable, or it is full and refuses to guess).
#[derive(Debug, thiserror::Error)]
#[error("replay guard unavailable: {0}")]
pub struct ReplayGuardError(#[source] Box<dyn std::error::Error + Send + Sync>);

impl ReplayGuardError {
    /// Wrap any error.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ReplayGuardError(error.into())
    }
}

/// Records signed requests and recognises replays.
pub trait ReplayGuard: Send + Sync + 'static {
    /// Record `key` for `ttl` and say whether it was already recorded. Must be atomic: of any
    /// number of concurrent calls with the same key, exactly one sees
    /// [`ReplayVerdict::Fresh`].
    fn check_and_record<'a>(
        &'a self,
        key: ReplayKey<'a>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<ReplayVerdict, ReplayGuardError>>;
}

impl<T: ReplayGuard + ?Sized> ReplayGuard for std::sync::Arc<T> {
    fn check_and_record<'a>(
        &'a self,
        key: ReplayKey<'a>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<ReplayVerdict, ReplayGuardError>> {
        (**self).check_and_record(key, ttl)
    }
}
