//! Fairness when the guard nears its cap: per-client entry counts, the clients a full guard
//! refused, and the share each may hold in the last eighth of the cap.

use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use super::MemoryReplayGuard;

/// The top eighth of the cap is where fairness applies: once the guard holds more than
/// `capacity - capacity / FAIR_RESERVE_DIVISOR` entries, a client holding at least its share
/// (the cap divided among the clients holding entries or recently refused) is refused.
const FAIR_RESERVE_DIVISOR: usize = 8;

/// The most client counters; clients are mapped onto them by a keyed hash of their id.
pub(super) const MAX_OWNERS: usize = 1 << 16;

/// The most clients remembered as refused by a full guard at once.
const MAX_WAITING: usize = 256;

/// Per-client entry counts, and how many clients hold at least one entry.
pub(super) struct Owners {
    pub(super) live: Box<[AtomicU32]>,
    pub(super) active: AtomicUsize,
}

impl Owners {
    pub(super) fn new(count: usize) -> Self {
        Owners {
            live: (0..count).map(|_| AtomicU32::new(0)).collect(),
            active: AtomicUsize::new(0),
        }
    }

    pub(super) fn live(&self, owner: u16) -> usize {
        self.live
            .get(usize::from(owner))
            .map_or(0, |n| n.load(Ordering::Relaxed) as usize)
    }

    pub(super) fn add(&self, owner: u16) {
        if let Some(n) = self.live.get(usize::from(owner))
            && n.fetch_add(1, Ordering::Relaxed) == 0
        {
            self.active.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(super) fn remove(&self, owner: u16) {
        if let Some(n) = self.live.get(usize::from(owner))
            && n.fetch_sub(1, Ordering::Relaxed) == 1
        {
            self.active.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl MemoryReplayGuard {
    /// Whether `owner` may take a new entry, as far as fairness goes: always, unless the guard
    /// holds more than seven eighths of its cap and the client already holds its share (all
    /// of it, for a client alone: the last eighth is for the others).
    pub(super) fn within_share(&self, owner: u16, now: u32) -> bool {
        let threshold = self.capacity - self.capacity / FAIR_RESERVE_DIVISOR;
        if self.len() < threshold.max(1) {
            return true;
        }
        let held = self.owners.live(owner);
        if held == 0 {
            return true;
        }
        let mut clients = self.owners.active.load(Ordering::Relaxed).max(1);
        {
            let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
            waiting.retain(|&(o, until)| until > now && self.owners.live(o) == 0);
            clients += waiting.len();
        }
        // A client alone stops at the top eighth: the rest is kept for clients that hold
        // nothing, so that one client cannot shut every other out for a whole window.
        clients > 1 && held < self.capacity / clients
    }

    /// Remember a client a full guard refused while it held nothing, so that it counts when
    /// the cap is shared out, until its request would have expired.
    pub(super) fn note_waiting(&self, owner: u16, until: u32) {
        if self.owners.live(owner) != 0 {
            return;
        }
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = waiting.iter_mut().find(|(o, _)| *o == owner) {
            entry.1 = entry.1.max(until);
        } else if waiting.len() < MAX_WAITING {
            waiting.push((owner, until));
        }
    }
}

/// The error for a client over its share of a nearly full guard.
#[derive(Debug)]
pub(super) struct OverShare {
    pub(super) capacity: usize,
}

impl fmt::Display for OverShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the in-memory replay guard is nearly at its cap of {} entries and this client holds \
             more than its share; raise the cap or narrow the date window",
            self.capacity
        )
    }
}

impl std::error::Error for OverShare {}
