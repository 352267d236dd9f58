//! Replay protection: janrain-signed has no nonce, so within the date window a captured request
//! can be sent again. A [`ReplayGuard`] remembers every accepted signature for as long as the
//! request it signs could still be accepted, and refuses it a second time.
//!
//! Two guards come with the crate:
//!
//! * [`MemoryReplayGuard`]: in the process; sharded locks, a cap on its entries, expiry by
//!   time. For a single node (or nodes behind sticky routing that can live with a replay
//!   reaching another node).
//! * [`RedisReplayGuard`] (feature `redis`): one atomic `SET NX PX` per request in a Redis
//!   that every node shares; nothing lives on the node, so any number of nodes can share it.
//!
//! ```
//! use janrain_auth::scheme::ManualClock;
//! use janrain_auth::server::{MemoryStore, VerifyLayer};
//! use janrain_auth::server::replay::MemoryReplayGuard;
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! let clock = ManualClock::at("2026-03-01 12:00:00".parse().unwrap());
//! // One guard for both layers of this process (an `Arc` is a guard too).
//! let guard = Arc::new(
//!     MemoryReplayGuard::builder()
//!         .capacity(100_000)
//!         .clock(clock.clone()) // the layer's clock, so both agree on expiry
//!         .build(),
//! );
//! let public = VerifyLayer::builder(MemoryStore::new())
//!     .clock(clock.clone())
//!     .date_window(Duration::from_secs(60), Duration::from_secs(60))
//!     .replay_guard(guard.clone())
//!     .build();
//! let admin = VerifyLayer::builder(MemoryStore::new())
//!     .clock(clock)
//!     .replay_guard(guard)
//!     .build();
//! # let _ = (public, admin);
//! ```
//!
//! ```no_run
//! # #[cfg(feature = "redis")]
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use janrain_auth::server::{MemoryStore, VerifyLayer};
//! use janrain_auth::server::replay::RedisReplayGuard;
//!
//! // Every node: the same Redis, the same prefix. Nothing connects until the first request.
//! let guard = RedisReplayGuard::builder("redis://replay-cache.internal:6379")
//!     .key_prefix("accounts-api:replay:")
//!     .build()?;
//! let layer = VerifyLayer::builder(MemoryStore::new())
//!     .replay_guard(guard)
//!     .replay_fail_open(false) // the default: no Redis, no signed requests (503)
//!     .build();
//! # let _ = layer; Ok(()) }
//! ```
//!
//! # Why it is off by default
//!
//! Two identical requests in the same second carry the same signature: the `Date` has
//! one-second resolution and nothing else in the signed string changes. A client that
//! legitimately sends the same request twice within a second (a retry, a poll) would see the
//! second one refused with 401 `request_replayed` (434). Switch the guard on with
//! [`VerifyLayerBuilder::replay_guard`](super::VerifyLayerBuilder::replay_guard) when your clients
//! never do that, or when they vary a parameter (a request id) between such requests.
//!
//! # What is recorded, and for how long
//!
//! The layer records a request only **after** its signature verified and its client was found
//! to be allowed the operation, so forged, tampered or forbidden requests never fill the store
//! (nor "burn" a genuine signature seen in flight). Entries are keyed on client id + signature:
//! the client id is not in the signed string, so two clients sharing a secret must not share
//! entries.
//!
//! An entry lives until the request's `Date` leaves the past side of the window: its TTL is
//! `Date + max_age + 1 s - now` (the extra second because dates are truncated to the second),
//! at least 1 s. A request dated in the future is kept correspondingly longer. After that the
//! date window refuses the request anyway, so nothing needs remembering.
//!
//! # When the guard cannot decide: failing closed or open
//!
//! A guard that cannot decide (Redis unreachable or too slow, the in-memory guard full)
//! returns [`ReplayGuardError`]. By default the layer then **fails closed**: signed requests
//! are refused with 503 `replay_guard_unavailable` (504) and a warning is logged, since
//! letting them through would let replays through. With
//! [`replay_fail_open(true)`](super::VerifyLayerBuilder::replay_fail_open) the layer logs a
//! warning (client id and error; never the signature) and lets the request through
//! **unrecorded**, so a replay of it is not recognised later either: availability over replay
//! protection while the guard is down. Basic and login-client requests never consult the guard.
//!
//! # The in-memory guard at its cap
//!
//! [`MemoryReplayGuard`] holds at most its capacity of entries. When a new request finds it
//! full, it evicts every expired entry; if it is still full it refuses to decide
//! ([`ReplayGuardError`], hence 503 by default) rather than forget a live entry, which would
//! let that request be replayed. A request already recorded is still recognised as a replay
//! when the guard is full. Near its cap it is fair: a client holding more than its share is
//! refused (503) first, while clients with few entries are still recorded. See
//! [`DEFAULT_CAPACITY`] for the memory cost and sizing.
//!
//! # A fleet
//!
//! Point every node at the same Redis, with the same [key prefix][key-prefix]: a request
//! accepted by one node is refused by all of them, and `SET NX` is atomic across nodes. Use a
//! primary (or a proxy or Sentinel address that follows the primary), not a read replica: the
//! guard writes. For Redis Cluster, build the guard with [`RedisReplayGuard::cluster`]; each key
//! is independent, so keys spread over all slots and all masters, and a master that is down
//! only fails (closed) the requests whose keys hash to its slots. After a failover,
//! entries not yet replicated to the new primary are lost, which can admit a replay within
//! the window; size the window accordingly. Keys expire by themselves and take about 150
//! bytes each in Redis 7 (with a 32-character client id and the default prefix): a fleet
//! serving 1,000 signed requests per second with the default window holds about 300,000
//! keys, 45 MB.
//!
#![cfg_attr(
    feature = "redis",
    doc = "[key-prefix]: RedisReplayGuardBuilder::key_prefix"
)]
#![cfg_attr(
    not(feature = "redis"),
    doc = "[`RedisReplayGuard`]: https://docs.rs/janrain-auth/latest/janrain_auth/server/replay/struct.RedisReplayGuard.html",
    doc = "[`RedisReplayGuard::cluster`]: https://docs.rs/janrain-auth/latest/janrain_auth/server/replay/struct.RedisReplayGuard.html#method.cluster",
    doc = "[key-prefix]: https://docs.rs/janrain-auth/latest/janrain_auth/server/replay/struct.RedisReplayGuardBuilder.html#method.key_prefix"
)]

use std::time::Duration;

use super::store::StoreFuture;

mod memory;
#[cfg(feature = "redis")]
mod redis;

pub use memory::{DEFAULT_CAPACITY, DEFAULT_SHARDS, MemoryReplayGuard, MemoryReplayGuardBuilder};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis::{DEFAULT_KEY_PREFIX, DEFAULT_TIMEOUT, RedisReplayGuard, RedisReplayGuardBuilder};

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
    fn check_and_record(
        &self,
        key: ReplayKey<'_>,
        ttl: Duration,
    ) -> StoreFuture<Result<ReplayVerdict, ReplayGuardError>>;
}

impl<T: ReplayGuard + ?Sized> ReplayGuard for std::sync::Arc<T> {
    fn check_and_record(
        &self,
        key: ReplayKey<'_>,
        ttl: Duration,
    ) -> StoreFuture<Result<ReplayVerdict, ReplayGuardError>> {
        (**self).check_and_record(key, ttl)
    }
}

impl<T: ReplayGuard> ReplayGuard for super::store::Deferred<T> {
    fn check_and_record(
        &self,
        key: ReplayKey<'_>,
        ttl: Duration,
    ) -> StoreFuture<Result<ReplayVerdict, ReplayGuardError>> {
        Self::later(self.0.check_and_record(key, ttl))
    }
}
