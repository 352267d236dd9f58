//! [`MemoryReplayGuard`]: the in-process guard, sharded, bounded and evicting by time.
//!
//! Layout: `shards` mutexes, each holding a hash set of the live entries and their keys grouped
//! by the second they expire in (an ordered map of per-second buckets, a timing wheel). A
//! request locks one shard (chosen by a keyed hash of the key), evicts a few (at most 8)
//! expired entries from the oldest buckets of that shard, then looks its key up and inserts
//! it, all under that one lock: the decision is atomic. A global counter enforces the cap;
//! only when it is reached are all shards swept for expired entries (one shard locked at a
//! time, never two), so no request pays for a full scan unless the guard is full.
//!
//! Buckets rather than a binary heap: expiries arrive almost in order (`Date + max_age + 1`),
//! so inserting appends to a recent bucket and evicting drains the oldest one, both touching
//! memory in sequence, where each heap pop walks a cache-missing path down to a leaf. With
//! 300,000 live entries (`replay/memory/guard_only`) a heap took about 2.5 times as long per
//! call.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{ReplayGuard, ReplayGuardError, ReplayKey, ReplayVerdict};
use crate::scheme::{Clock, SystemClock};
use crate::server::BoxFuture;

/// The default cap on live entries of a [`MemoryReplayGuard`]: 2^20 = 1,048,576.
///
/// **Memory.** An entry is 24 bytes in a hash set plus 16 in an expiry bucket. Measured with
/// the allocator (`tests/replay.rs`): about 55 bytes per entry just after filling, and at most
/// about 95 bytes per entry of the cap under sustained traffic (hash-set tombstones and bucket
/// slack), so budget **100 bytes per entry: about 100 MiB for a full guard at this cap**. The
/// tables grow as entries arrive and do not shrink, so the cap bounds memory under any
/// traffic.
///
/// **Sizing.** Entries live as long as the date window (`max_age + max_ahead + 1` s at most,
/// 601 s with the layer's defaults; usually `max_age + 1`), so this cap sustains about 1,700
/// signed requests per second per node with the default window. Size it as `peak signed
/// requests per second x (max_age + max_ahead + 1 s)`, or narrow the window.
pub const DEFAULT_CAPACITY: usize = 1 << 20;

/// The default number of shards (independent locks) of a [`MemoryReplayGuard`]: 64.
pub const DEFAULT_SHARDS: usize = 64;

/// How many expired entries one request evicts from its shard, at most, when the guard is not
/// full. More than one, so eviction always outpaces insertion (one per request).
const EVICT_BUDGET: usize = 8;

/// An in-memory [`ReplayGuard`] for a single process, with a cap on its memory.
///
/// ```
/// use janrain_auth::scheme::{ManualClock, Datetime};
/// use janrain_auth::server::{MemoryReplayGuard, ReplayGuard, ReplayKey, ReplayVerdict};
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
/// * **Bounded.** At most [`capacity`](MemoryReplayGuardBuilder::capacity) entries (default
///   [`DEFAULT_CAPACITY`]; about 100 bytes each at most, see there). The tables grow as entries
///   arrive and do not shrink after a peak, so the cap is also the bound on memory.
/// * **Full.** When a new key arrives and the guard is at its cap, every shard is swept for
///   expired entries; if none has expired the guard refuses to decide and returns
///   [`ReplayGuardError`], which the layer answers with 503 `replay_guard_unavailable` (unless
///   it fails open). It never forgets a live entry to make room, since that would let that
///   request be replayed, and a key already recorded is recognised as
///   [`Replayed`](ReplayVerdict::Replayed) even when the guard is full.
/// * **Expiry.** An entry lives for the `ttl` the layer gives (at least 1 s), rounded up to the
///   next whole second of the guard's clock. Give the guard the layer's clock
///   ([`clock`](MemoryReplayGuardBuilder::clock)) when the layer has a non-system clock.
///   Each request evicts a few expired entries of its shard; the tables never hold expired
///   entries for long, and no request scans them all unless the guard is full.
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
    hash_a: RandomState,
    hash_b: RandomState,
}

/// A shard on its own cache lines, so that neighbouring locks do not share one.
#[repr(align(128))]
struct Padded(Mutex<Shard>);

#[derive(Default)]
struct Shard {
    live: HashSet<Slot, BuildHasherDefault<PassThrough>>,
    /// The `(a, b)` of the slots expiring in each second. May hold stale items (the key was
    /// recorded again since); an item evicts only a slot whose expiry is its bucket's second.
    due: BTreeMap<u64, Vec<(u64, u64)>>,
}

/// One recorded key: two independent 64-bit keyed hashes of (client id, signature) and the
/// second (Unix time) from which it is expired. Equality and hashing ignore the expiry.
///
/// Identical keys always give identical slots, so a replay is always recognised. Two different
/// keys share a slot only if both 64-bit hashes collide (keyed with secrets drawn per guard, so
/// no one can aim for it): that would refuse a genuine request, never admit a replay.
#[derive(Clone, Copy)]
struct Slot {
    a: u64,
    b: u64,
    expires: u64,
}

impl PartialEq for Slot {
    fn eq(&self, other: &Self) -> bool {
        self.a == other.a && self.b == other.b
    }
}

impl Eq for Slot {}

impl Hash for Slot {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.a);
    }
}

/// The slot's `a` is already a keyed hash: use it as is.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not reached (Slot writes one u64); a correct fallback all the same.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl Shard {
    /// Evict up to `budget` expired entries; returns how many live entries were removed.
    fn evict(&mut self, now: u64, budget: usize) -> usize {
        let mut removed = 0;
        let mut popped = 0;
        while popped < budget {
            let Some(mut bucket) = self.due.first_entry() else {
                break;
            };
            let at = *bucket.key();
            if at > now {
                break;
            }
            while popped < budget {
                let Some((a, b)) = bucket.get_mut().pop() else {
                    break;
                };
                popped += 1;
                if let Some(slot) = self.live.take(&Slot { a, b, expires: 0 }) {
                    if slot.expires == at {
                        removed += 1;
                    } else {
                        // Recorded again since: this item is stale.
                        self.live.insert(slot);
                    }
                }
            }
            if bucket.get().is_empty() {
                bucket.remove();
            }
        }
        removed
    }

    fn insert(&mut self, slot: Slot) {
        self.live.replace(slot);
        self.due
            .entry(slot.expires)
            .or_default()
            .push((slot.a, slot.b));
    }
}

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

    /// Evict every expired entry now (each shard locked in turn) and return how many were
    /// evicted. Never needed for correctness: requests evict as they go and a full guard sweeps
    /// by itself; useful before reading [`len`](Self::len), or from a maintenance task after a
    /// burst so that memory counts reflect live entries.
    pub fn evict_expired(&self) -> usize {
        self.sweep(unix_secs_floor(self.clock.now()))
    }

    fn sweep(&self, now: u64) -> usize {
        let mut total = 0;
        for shard in self.shards.iter() {
            let removed = lock(&shard.0).evict(now, usize::MAX);
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

    /// The synchronous decision behind [`ReplayGuard::check_and_record`].
    fn decide(&self, key: ReplayKey<'_>, ttl: Duration) -> Result<ReplayVerdict, ReplayGuardError> {
        let id = (key.client_id, key.signature);
        let (a, b) = (self.hash_a.hash_one(id), self.hash_b.hash_one(id));
        let shard = &self.shards[(b as usize) & (self.shards.len() - 1)].0;
        let now_time = self.clock.now();
        let now = unix_secs_floor(now_time);
        let expires = unix_secs_ceil(now_time, ttl).max(now + 1);
        let slot = Slot { a, b, expires };

        for attempt in 0..2 {
            {
                let mut shard = lock(shard);
                let removed = shard.evict(now, EVICT_BUDGET);
                self.forget(removed);
                match shard.live.get(&slot) {
                    Some(held) if held.expires > now => return Ok(ReplayVerdict::Replayed),
                    Some(_) => {
                        // Expired but not evicted yet: reuse its place (and its unit of the cap).
                        shard.insert(slot);
                        return Ok(ReplayVerdict::Fresh);
                    }
                    None if self.reserve() => {
                        shard.insert(slot);
                        return Ok(ReplayVerdict::Fresh);
                    }
                    None => {}
                }
            }
            // Full: sweep every shard for expired entries (this shard's lock released, so no
            // two locks are ever held), then decide again.
            if attempt == 0 {
                self.sweep(now);
            }
        }
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
    fn check_and_record<'a>(
        &'a self,
        key: ReplayKey<'a>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<ReplayVerdict, ReplayGuardError>> {
        Box::pin(std::future::ready(self.decide(key, ttl)))
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
        MemoryReplayGuard {
            shards: (0..shards).map(|_| Padded(Mutex::default())).collect(),
            len: AtomicUsize::new(0),
            capacity: self.capacity,
            clock: self.clock,
            hash_a: RandomState::new(),
            hash_b: RandomState::new(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::ManualClock;

    fn key(sig: &str) -> ReplayKey<'_> {
        ReplayKey {
            client_id: "client",
            signature: sig,
        }
    }

    #[test]
    fn stale_bucket_items_do_not_evict_a_newer_record() {
        let clock = ManualClock::at("2026-03-01 12:00:00".parse().unwrap());
        let guard = MemoryReplayGuard::builder()
            .shards(1)
            .clock(clock.clone())
            .build();
        let ttl = Duration::from_secs(10);
        assert_eq!(guard.decide(key("x"), ttl).unwrap(), ReplayVerdict::Fresh);
        // Expired; recorded again before anything evicted the first record. Fill the shard's
        // budget with other expired keys first so the first record is still there.
        for i in 0..EVICT_BUDGET {
            let sig = format!("filler{i}");
            guard.decide(key(&sig), Duration::from_secs(1)).unwrap();
        }
        clock.advance(10);
        assert_eq!(guard.decide(key("x"), ttl).unwrap(), ReplayVerdict::Fresh);
        // The fillers went in that request's eviction; the first record's bucket item is stale.
        assert_eq!(guard.len(), 1);
        assert_eq!(guard.evict_expired(), 0);
        assert_eq!(guard.len(), 1);
        // The stale item (bucket +10) was drained without removing the new record (+20).
        assert_eq!(
            guard.decide(key("x"), ttl).unwrap(),
            ReplayVerdict::Replayed
        );
        clock.advance(10);
        assert_eq!(guard.evict_expired(), 1);
        assert!(guard.is_empty());
    }

    #[test]
    fn ttl_is_rounded_up_to_whole_seconds_and_at_least_one() {
        let clock = ManualClock::at("2026-03-01 12:00:00".parse().unwrap());
        let guard = MemoryReplayGuard::builder().clock(clock.clone()).build();
        assert_eq!(
            guard.decide(key("z"), Duration::ZERO).unwrap(),
            ReplayVerdict::Fresh
        );
        assert_eq!(
            guard.decide(key("z"), Duration::ZERO).unwrap(),
            ReplayVerdict::Replayed
        );
        assert_eq!(
            guard.decide(key("h"), Duration::from_millis(1500)).unwrap(),
            ReplayVerdict::Fresh
        );
        clock.advance(1);
        assert_eq!(
            guard.decide(key("z"), Duration::ZERO).unwrap(),
            ReplayVerdict::Fresh
        );
        assert_eq!(
            guard.decide(key("h"), Duration::ZERO).unwrap(),
            ReplayVerdict::Replayed
        );
        clock.advance(1);
        assert_eq!(
            guard.decide(key("h"), Duration::ZERO).unwrap(),
            ReplayVerdict::Fresh
        );
    }

    fn shard_of(guard: &MemoryReplayGuard, sig: &str) -> usize {
        (guard.hash_b.hash_one(("client", sig)) as usize) & (guard.shards.len() - 1)
    }

    #[test]
    fn a_full_guard_sweeps_other_shards_for_room() {
        let clock = ManualClock::at("2026-03-01 12:00:00".parse().unwrap());
        let guard = MemoryReplayGuard::builder()
            .capacity(2)
            .shards(2)
            .clock(clock.clone())
            .build();
        let names: Vec<String> = (0..64).map(|i| format!("sig{i}")).collect();
        let zero: Vec<&String> = names.iter().filter(|s| shard_of(&guard, s) == 0).collect();
        let one: Vec<&String> = names.iter().filter(|s| shard_of(&guard, s) == 1).collect();
        let (old_a, old_b, new) = (zero[0], zero[1], one[0]);
        let ttl = Duration::from_secs(1);
        assert_eq!(guard.decide(key(old_a), ttl).unwrap(), ReplayVerdict::Fresh);
        assert_eq!(guard.decide(key(old_b), ttl).unwrap(), ReplayVerdict::Fresh);
        assert!(guard.decide(key(new), ttl).is_err(), "full");
        clock.advance(1);
        // Shard 1 has nothing to evict; the sweep finds shard 0's expired entries.
        assert_eq!(guard.decide(key(new), ttl).unwrap(), ReplayVerdict::Fresh);
        assert_eq!(guard.len(), 1);
    }

    #[test]
    fn shard_count_is_a_power_of_two() {
        for (asked, got) in [
            (0, 1),
            (1, 1),
            (3, 4),
            (64, 64),
            (100, 128),
            (1 << 20, 4096),
        ] {
            assert_eq!(
                MemoryReplayGuard::builder()
                    .shards(asked)
                    .build()
                    .shards
                    .len(),
                got
            );
        }
    }
}
