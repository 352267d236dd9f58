//! The dense table of one shard: open addressing with linear probing and deletion by backward
//! shift, 16-byte slots, a sweeping hand that evicts expired entries as requests pass.

use super::fairness::Owners;

/// Tables grow when `len * GROW_DEN > slots * GROW_NUM` after an insert: at 85% full.
pub(super) const GROW_NUM: usize = 17;
pub(super) const GROW_DEN: usize = 20;

/// One table slot: `tag == 0` is empty.
#[derive(Clone, Copy, Default)]
pub(super) struct Slot {
    /// The keyed digest of (client id, signature), never 0.
    pub(super) tag: u64,
    /// The second (relative to the guard's epoch) from which the entry is expired.
    pub(super) expires: u32,
    /// The client's counter.
    pub(super) owner: u16,
}

/// One shard's table and its sweeping hand.
pub(super) struct Shard {
    pub(super) slots: Vec<Slot>,
    pub(super) len: usize,
    /// Where the sweeping hand is.
    hand: usize,
    /// No entry expires before this second: a full sweep of a shard whose entries are all
    /// live costs nothing. Kept by inserts, and made exact again by each full sweep.
    pub(super) earliest: u32,
}

impl Default for Shard {
    fn default() -> Self {
        Shard {
            slots: Vec::new(),
            len: 0,
            hand: 0,
            earliest: u32::MAX,
        }
    }
}

impl Shard {
    /// The slot a digest starts probing from.
    #[inline]
    fn home(&self, tag: u64) -> usize {
        ((u128::from(tag) * self.slots.len() as u128) >> 64) as usize
    }

    #[inline]
    fn next(&self, i: usize) -> usize {
        if i + 1 == self.slots.len() { 0 } else { i + 1 }
    }

    /// The index of `tag`'s slot, if it is held.
    pub(super) fn find(&self, tag: u64) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mut i = self.home(tag);
        loop {
            let slot = self.slots.get(i)?;
            if slot.tag == tag {
                return Some(i);
            }
            if slot.tag == 0 {
                return None;
            }
            i = self.next(i);
        }
    }

    /// Empty slot `i` and close the gap behind it (backward-shift deletion), so that every
    /// held digest stays reachable from its home slot without tombstones.
    fn remove_at(&mut self, mut i: usize) {
        let n = self.slots.len();
        let mut j = i;
        loop {
            j = self.next(j);
            let Some(&slot) = self.slots.get(j) else {
                return;
            };
            if slot.tag == 0 || j == i {
                break;
            }
            let home = self.home(slot.tag);
            // `slot` may move back to `i` unless its home lies cyclically in (i, j].
            let stays = if i <= j {
                i < home && home <= j
            } else {
                i < home || home <= j
            };
            if !stays {
                self.slots[i] = slot;
                i = j;
            }
            debug_assert!(i < n);
        }
        self.slots[i] = Slot::default();
        self.len -= 1;
    }

    /// Evict expired entries among the next `budget` slots under the hand (every slot for
    /// `usize::MAX`); returns how many were evicted.
    pub(super) fn sweep(&mut self, now: u32, budget: usize, owners: &Owners) -> usize {
        let n = self.slots.len();
        if n == 0 || self.len == 0 {
            return 0;
        }
        let mut removed = 0;
        let steps = budget.min(n);
        let mut i = self.hand % n;
        for _ in 0..steps {
            // A removal may pull a later slot back into `i`: look at `i` again, a bounded
            // number of times, before moving on.
            let mut again = 0;
            while again < 8 {
                let slot = self.slots[i];
                if slot.tag == 0 || slot.expires > now {
                    break;
                }
                owners.remove(slot.owner);
                self.remove_at(i);
                removed += 1;
                again += 1;
            }
            i = self.next(i);
        }
        self.hand = i;
        removed
    }

    /// Evict every expired entry, unless none can have expired yet.
    pub(super) fn sweep_all(&mut self, now: u32, owners: &Owners) -> usize {
        if self.earliest > now {
            return 0;
        }
        let mut removed = 0;
        let mut earliest = u32::MAX;
        let mut i = 0;
        // A removal pulls later entries back into `i` (or, for a run that wraps, from the
        // table's start to its end, still ahead): `i` is looked at again until it holds a
        // live entry or nothing. Every step either advances or removes, so this ends.
        while let Some(&slot) = self.slots.get(i) {
            if slot.tag != 0 && slot.expires <= now {
                owners.remove(slot.owner);
                self.remove_at(i);
                removed += 1;
            } else {
                if slot.tag != 0 {
                    earliest = earliest.min(slot.expires);
                }
                i += 1;
            }
        }
        // Every entry was looked at: those moved back into places already passed came from
        // places already passed too.
        self.earliest = earliest;
        removed
    }

    /// Insert a digest known to be absent, growing the table when needed. Growing drops the
    /// expired entries; returns how many.
    pub(super) fn insert(&mut self, slot: Slot, now: u32, owners: &Owners) -> usize {
        let mut removed = 0;
        if (self.len + 1) * GROW_DEN > self.slots.len() * GROW_NUM {
            removed = self.grow(now, owners);
        }
        self.place(slot);
        removed
    }

    fn place(&mut self, slot: Slot) {
        let mut i = self.home(slot.tag);
        while self.slots[i].tag != 0 {
            i = self.next(i);
        }
        self.slots[i] = slot;
        self.len += 1;
        self.earliest = self.earliest.min(slot.expires);
    }

    /// Rebuild the table half as large again (at least 8 slots), without its expired entries.
    #[cold]
    fn grow(&mut self, now: u32, owners: &Owners) -> usize {
        let old = std::mem::take(&mut self.slots);
        let size = (old.len() + old.len() / 2).max(8);
        self.slots = vec![Slot::default(); size];
        self.len = 0;
        self.hand = 0;
        let mut removed = 0;
        for slot in old {
            if slot.tag == 0 {
                continue;
            }
            if slot.expires <= now {
                owners.remove(slot.owner);
                removed += 1;
            } else {
                self.place(slot);
            }
        }
        removed
    }
}
