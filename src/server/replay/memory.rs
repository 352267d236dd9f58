//! [`MemoryReplayGuard`]: the in-process guard, sharded, dense, bounded, evicting by time, and
//! fair to light clients when it nears its cap.
//!
//! Layout: `shards` mutexes, each holding an open-addressing hash table (linear probing,
//! deletion by backward shift, so no tombstones) of 16-byte slots: a keyed 64-bit digest of
//! (client id, signature), the second the entry expires, and the client's counter. A request
//! locks one shard (chosen by the digest), evicts expired entries from the few slots under the
//! shard's sweeping hand, then looks its digest up and inserts it, all under that one lock: the
//! decision is atomic. A global counter enforces the cap; only when it is reached are all
//! shards swept for expired entries (one shard locked at a time, never two), so no request
//! pays for a full scan unless the guard is full.
//!
//! A table grows by half when it is 85% full, so just after growing it is 57% full: at the
//! most entries a shard has held, each cost at most 16 / 0.567 = 28.2 bytes of table, a
//! density that a hash set of keys plus per-second expiry buckets (55 to 100 bytes an entry)
//! could not reach.

mod fairness;
mod table;
#[cfg(test)]
mod tests;

use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{ReplayGuard, ReplayGuardError, ReplayKey, ReplayVerdict};
use crate::scheme::{Clock, SystemClock};
use crate::server::StoreFuture;

use self::fairness::{MAX_OWNERS, OverShare, Owners};
use self::table::{Shard, Slot};

/// The default cap on live entries of a [`MemoryReplayGuard`]: 3 x 2^20 = 3,145,728.
///
/// **Sizing.** Entries live as long as the date window accepts the request
/// (`max_age + 1 s` after its `Date`: 301 s with the layer's defaults; up to
/// `max_age + max_ahead + 1 s` for requests dated ahead), so this cap sustains **10,450
/// signed requests per second** per node with the default window. Size it as `peak signed
/// requests per second x (max_age + 1 s)`, or narrow the window.
///
/// **Memory.** An entry is one 16-byte slot of a hash table that grows by half when 85% full,
/// so a table holds at most 28.2 bytes per entry at its peak (measured with a counting
/// allocator: about 20 bytes per live entry at 2 million entries), plus a fixed 4 bytes per
/// client counter (at most 65,536 counters, 256 KiB). Budget **32 bytes per entry: about 100
/// MiB for a full guard at this cap**. Tables grow as entries arrive and do not shrink after
/// a peak, so the cap bounds memory under any traffic.
pub const DEFAULT_CAPACITY: usize = 3 << 20;

/// The default number of shards (independent locks) of a [`MemoryReplayGuard`]: 64.
pub const DEFAULT_SHARDS: usize = 64;

/// How many slots one request's sweeping hand inspects in its shard, at most, when the guard
/// is not full. A shard's table has at most `entries / 0.567` slots and gets one request per
/// entry it records, so the hand passes every slot within a ninth of an entry's lifetime: an
/// expired entry lingers at most that long (33 s with the default window), about 5% more
/// entries than the live ones on average. A guard that reaches its cap with such entries
/// sweeps them all at once (each shard at most once a second, since a shard knows its
/// earliest expiry), so the cap still sustains `capacity / lifetime` requests per second.
const SWEEP_BUDGET: usize = 16;

/// An in-memory [`ReplayGuard`] for a single process, with a cap on its memory.
///
/// ```
/// use janrain_auth::scheme::{ManualClock, Datetime};
/// use janrain_auth::server::replay::{MemoryReplayGuard, ReplayGuard, ReplayKey, ReplayVerdict};
/// use std::time::Duration;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let clock = ManualClock::at("2026-03-01 12:00:00".parse::<Datetime>().unwrap());
/// let guard = MemoryReplayGuard::builder().capacity(10_000).clock(clock.clone()).build();
/// let key = ReplayKey { client_id: "my_client", signature: "Mwp6X1jBUzB8TQTMxlwhJ4v+lT0=" };
///
/// let ttl = Duration::from_secs(301);
/// assert_eq!(guard.check_and_record(key, ttl).await.unwrap(), ReplayVerdict::Fresh);
/// assert_eq!(guard.check_and_record(key, ttl).await.unwrap(), ReplayVerdict::Replayed);
/// clock.advance(301);
/// assert_eq!(guard.check_and_record(key, ttl).await.unwrap(), ReplayVerdict::Fresh);
/// # });
/// ```
///
/// * **Bounded and dense.** At most [`capacity`](MemoryReplayGuardBuilder::capacity) entries
///   (default [`DEFAULT_CAPACITY`], about 10,450 signed requests per second with the default
///   window), at most about 32 bytes each (see there). The tables grow as entries arrive and
///   do not shrink after a peak, so the cap is also the bound on memory.
/// * **Full.** When a new key arrives and the guard is at its cap, every shard is swept for
///   expired entries; if none has expired the guard refuses to decide and returns
///   [`ReplayGuardError`], which the layer answers with 503 `replay_guard_unavailable` (unless
///   it fails open). It never forgets a live entry to make room, since that would let that
///   request be replayed, and a key already recorded is recognised as
///   [`Replayed`](ReplayVerdict::Replayed) even when the guard is full.
/// * **Fair when nearly full.** Each client's entries are counted. Once the guard holds more
///   than seven eighths of its cap, a client holding at least its share (the cap divided by
///   the number of clients holding entries, plus those a full guard refused within their
///   request's lifetime) is refused in the same way, while clients under their share are still
///   recorded in the last eighth. A client alone stops at seven eighths: the last eighth is
///   kept for clients that hold nothing, so a client that filled the guard never shuts the
///   others out. Should the guard still fill (many clients at once), a client it refused while
///   holding nothing is remembered, and the room expiring entries free goes to it rather than
///   to a client over its share. Clients are mapped onto at most 65,536
///   counters by a keyed hash, so two clients rarely share one (then fairness treats them as
///   one client; replay detection is unaffected).
/// * **Expiry.** An entry lives for the `ttl` the layer gives (at least 1 s), rounded up to the
///   next whole second of the guard's clock. Give the guard the layer's clock
///   ([`clock`](MemoryReplayGuardBuilder::clock)) when the layer has a non-system clock.
///   Each request evicts the expired entries among a few slots of its shard, so the tables
///   never hold expired entries for long, and no request scans them all unless the guard is
///   full.
/// * **Digests, not keys.** An entry holds a 64-bit digest of (client id, signature), keyed
///   with secrets drawn per guard, so no one can aim for a collision. Identical keys always
///   give identical digests, so a replay is always recognised; two different keys share a
///   digest with probability 2^-64, and then the second is refused as a replay although it is
///   fresh (401, never an admitted replay). With `n` live entries a fresh request meets one of
///   them with probability about `n / 2^64`: 1.7 x 10^-13 at the default cap, so about one
///   false refusal in 5.9 x 10^12 requests at that fill (one in 18 years at 10,000 signed
///   requests per second).
/// * **Atomic.** The lookup and the insert happen under one shard lock, so of any number of
///   concurrent identical requests exactly one is [`Fresh`](ReplayVerdict::Fresh).
/// * **Single process.** Each process has its own memory; behind a load balancer a replay sent
///   to another node is not recognised. Share one guard between layers of the same process with
///   an `Arc`, and use `RedisReplayGuard` (feature `redis`) for a fleet.
pub struct MemoryReplayGuard {
    shards: Box<[Padded]>,
    len: AtomicUsize,
    capacity: usize,
    clock: Arc<dyn Clock>,
    /// Unix second that relative expiries count from.
    epoch: u64,
    owners: Owners,
    digest: RandomState,
    owner_hash: RandomState,
    /// Clients a full guard refused while they held nothing, and until when they count.
    waiting: Mutex<Vec<(u16, u32)>>,
}

/// A shard on its own cache lines, so that neighbouring locks do not share one.
#[repr(align(128))]
struct Padded(Mutex<Shard>);

impl MemoryReplayGuard {
    /// A guard with every default: [`DEFAULT_CAPACITY`], [`DEFAULT_SHARDS`], the system clock.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Configure a guard.
    pub fn builder() -> MemoryReplayGuardBuilder {
        MemoryReplayGuardBuilder {
            capacity: DEFAULT_CAPACITY,
            shards: DEFAULT_SHARDS,
            clock: Arc::new(SystemClock),
        }
    }

    /// The number of entries held, including expired ones not evicted yet.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cap on entries.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether the fairness rule counts clients `a` and `b` apart. Clients are counted on
    /// counters chosen by a keyed hash, so two may share one (in a guard of up to 64 entries,
    /// one pair in 64); fairness then treats them as one client. Replay detection is the same
    /// either way.
    pub fn counts_apart(&self, a: &str, b: &str) -> bool {
        self.owner(a) != self.owner(b)
    }

    /// Evict every expired entry now (each shard locked in turn) and return how many were
    /// evicted. Never needed for correctness: requests evict as they go and a full guard sweeps
    /// by itself; useful before reading [`len`](Self::len), or from a maintenance task after a
    /// burst so that memory counts reflect live entries.
    pub fn evict_expired(&self) -> usize {
        let now = self.relative(unix_secs_floor(self.clock.now()));
        self.sweep(now)
    }

    fn sweep(&self, now: u32) -> usize {
        let mut total = 0;
        for shard in self.shards.iter() {
            let removed = lock(&shard.0).sweep_all(now, &self.owners);
            self.forget(removed);
            total += removed;
        }
        total
    }

    fn forget(&self, removed: usize) {
        if removed > 0 {
            self.len.fetch_sub(removed, Ordering::AcqRel);
        }
    }

    /// Take one unit of the cap, if any is left.
    fn reserve(&self) -> bool {
        self.len
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.capacity).then_some(n + 1)
            })
            .is_ok()
    }

    /// A Unix second as seconds since the guard's epoch.
    fn relative(&self, unix: u64) -> u32 {
        u32::try_from(unix.saturating_sub(self.epoch)).unwrap_or(u32::MAX)
    }

    /// The digest of a key: never 0, which marks an empty slot.
    fn digest(&self, key: ReplayKey<'_>) -> u64 {
        self.digest.hash_one((key.client_id, key.signature)).max(1)
    }

    fn owner(&self, client_id: &str) -> u16 {
        let mask = self.owners.live.len() - 1;
        // The mask keeps the index below MAX_OWNERS, so it fits.
        u16::try_from(self.owner_hash.hash_one(client_id) as usize & mask).unwrap_or(0)
    }

    /// The synchronous decision behind [`ReplayGuard::check_and_record`].
    fn decide(&self, key: ReplayKey<'_>, ttl: Duration) -> Result<ReplayVerdict, ReplayGuardError> {
        let tag = self.digest(key);
        let owner = self.owner(key.client_id);
        let shard = &self.shards[(tag as usize) & (self.shards.len() - 1)].0;
        let now_time = self.clock.now();
        let now_unix = unix_secs_floor(now_time);
        let now = self.relative(now_unix);
        let expires = self.relative(unix_secs_ceil(now_time, ttl).max(now_unix + 1));
        let slot = Slot {
            tag,
            expires,
            owner,
        };

        for attempt in 0..2 {
            {
                let mut shard = lock(shard);
                let removed = shard.sweep(now, SWEEP_BUDGET, &self.owners);
                self.forget(removed);
                match shard.find(tag) {
                    Some(i) if shard.slots[i].expires > now => {
                        return Ok(ReplayVerdict::Replayed);
                    }
                    Some(i) => {
                        // Expired but not evicted yet: reuse its place (and its unit of the
                        // cap).
                        self.owners.remove(shard.slots[i].owner);
                        self.owners.add(owner);
                        shard.slots[i] = slot;
                        shard.earliest = shard.earliest.min(expires);
                        return Ok(ReplayVerdict::Fresh);
                    }
                    // The counts hold entries expired but not yet evicted: they are swept once
                    // (below) before the client is refused.
                    None if !self.within_share(owner, now) && attempt == 1 => {
                        return Err(ReplayGuardError::new(OverShare {
                            capacity: self.capacity,
                        }));
                    }
                    None if !self.within_share(owner, now) => {}
                    None if self.reserve() => {
                        let removed = shard.insert(slot, now, &self.owners);
                        self.owners.add(owner);
                        self.forget(removed);
                        return Ok(ReplayVerdict::Fresh);
                    }
                    None => {}
                }
            }
            // Full, or the client over its share: sweep every shard for expired entries (this
            // shard's lock released, so no two locks are ever held), then decide again.
            if attempt == 0 {
                self.sweep(now);
            }
        }
        self.note_waiting(owner, expires);
        Err(ReplayGuardError::new(GuardFull {
            capacity: self.capacity,
        }))
    }
}

impl Default for MemoryReplayGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryReplayGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryReplayGuard")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

impl ReplayGuard for MemoryReplayGuard {
    fn check_and_record(
        &self,
        key: ReplayKey<'_>,
        ttl: Duration,
    ) -> StoreFuture<Result<ReplayVerdict, ReplayGuardError>> {
        StoreFuture::ready(self.decide(key, ttl))
    }
}

/// Configures a [`MemoryReplayGuard`].
pub struct MemoryReplayGuardBuilder {
    capacity: usize,
    shards: usize,
    clock: Arc<dyn Clock>,
}

impl MemoryReplayGuardBuilder {
    /// The most entries held at once (default [`DEFAULT_CAPACITY`]). When it is reached and none
    /// has expired, new requests are refused (the guard returns [`ReplayGuardError`]); replays
    /// are still recognised. 0 refuses every new request.
    pub fn capacity(mut self, entries: usize) -> Self {
        self.capacity = entries;
        self
    }

    /// The number of independent locks (default [`DEFAULT_SHARDS`]), rounded up to a power of
    /// two between 1 and 4096. More shards, less contention between cores.
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards;
        self
    }

    /// The clock expiry is measured with (default: the system clock). Use the layer's clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The guard.
    pub fn build(self) -> MemoryReplayGuard {
        let shards = self.shards.clamp(1, 4096).next_power_of_two();
        let owners = self
            .capacity
            .clamp(64, MAX_OWNERS)
            .next_power_of_two()
            .min(MAX_OWNERS);
        let epoch = unix_secs_floor(self.clock.now());
        MemoryReplayGuard {
            shards: (0..shards).map(|_| Padded(Mutex::default())).collect(),
            len: AtomicUsize::new(0),
            capacity: self.capacity,
            clock: self.clock,
            epoch,
            owners: Owners::new(owners),
            digest: RandomState::new(),
            owner_hash: RandomState::new(),
            waiting: Mutex::new(Vec::new()),
        }
    }
}

impl fmt::Debug for MemoryReplayGuardBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryReplayGuardBuilder")
            .field("capacity", &self.capacity)
            .field("shards", &self.shards)
            .finish_non_exhaustive()
    }
}

/// The error of a full guard.
#[derive(Debug)]
struct GuardFull {
    capacity: usize,
}

impl fmt::Display for GuardFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the in-memory replay guard holds its cap of {} unexpired entries; raise the cap or \
             narrow the date window",
            self.capacity
        )
    }
}

impl std::error::Error for GuardFull {}

/// A shard's lock. A panic while it was held cannot leave it inconsistent in a way that admits
/// a replay (an insert is the last step), so a poisoned lock is used as is.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn unix_secs_floor(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn unix_secs_ceil(t: SystemTime, ttl: Duration) -> u64 {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let end = since.saturating_add(ttl);
    end.as_secs()
        .saturating_add(u64::from(end.subsec_nanos() > 0))
}
