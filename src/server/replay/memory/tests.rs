//! The in-memory guard's unit tests: the table, the fairness policy and expiry together.

use super::table::{GROW_DEN, GROW_NUM};
use super::*;
use crate::scheme::ManualClock;

fn key(sig: &str) -> ReplayKey<'_> {
    ReplayKey {
        client_id: "client",
        signature: sig,
    }
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
    (guard.digest(key(sig)) as usize) & (guard.shards.len() - 1)
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

/// The table against a plain model, through inserts, lookups, sweeps and growth, with
/// digests crowded into a few home slots so that probe runs wrap and shift.
#[test]
fn the_table_matches_a_model() {
    let owners = Owners::new(64);
    let mut shard = Shard::default();
    let mut model: std::collections::HashMap<u64, u32> = std::collections::HashMap::new();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for now in 0..400u32 {
        for _ in 0..20 {
            // Digests from a small set, high bits mostly equal: long runs, wrap-around.
            let r = rand();
            let tag = ((r % 300) + 1) | ((r >> 62) << 62);
            let expires = now + 1 + (rand() % 5) as u32;
            match shard.find(tag) {
                Some(i) => {
                    assert_eq!(model.get(&tag), Some(&shard.slots[i].expires));
                    if shard.slots[i].expires <= now {
                        shard.slots[i].expires = expires;
                        model.insert(tag, expires);
                    }
                }
                None => {
                    let live_before = model.len();
                    assert!(!model.contains_key(&tag), "lost {tag}");
                    owners.add(0);
                    let removed = shard.insert(
                        Slot {
                            tag,
                            expires,
                            owner: 0,
                        },
                        now,
                        &owners,
                    );
                    model.retain(|_, e| *e > now || removed == 0);
                    model.insert(tag, expires);
                    assert!(model.len() <= live_before + 1);
                }
            }
            let removed = shard.sweep(now, SWEEP_BUDGET, &owners);
            if removed > 0 {
                model.retain(|t, e| *e > now || shard.find(*t).is_some());
            }
            assert_eq!(shard.len, model.len());
        }
        if now % 50 == 0 {
            shard.sweep_all(now, &owners);
            model.retain(|_, e| *e > now);
            assert_eq!(shard.len, model.len());
        }
        for (&tag, &e) in &model {
            let i = shard.find(tag).expect("every held digest is reachable");
            assert_eq!(shard.slots[i].expires, e);
        }
        assert!(shard.len * GROW_DEN <= shard.slots.len() * GROW_NUM);
    }
    assert_eq!(owners.live(0), shard.len);
}

#[test]
fn a_full_sweep_skips_a_shard_with_nothing_expired_and_then_removes_every_expired_entry() {
    let owners = Owners::new(64);
    let mut shard = Shard::default();
    // Crowded digests, so that runs are long and wrap around the table's end.
    for t in 0..40u64 {
        let tag = (t + 1) | (3 << 62);
        owners.add(0);
        shard.insert(
            Slot {
                tag,
                expires: 10 + (t % 3) as u32,
                owner: 0,
            },
            0,
            &owners,
        );
    }
    assert_eq!(shard.earliest, 10);
    assert_eq!(shard.sweep_all(9, &owners), 0);
    assert_eq!(shard.sweep_all(10, &owners), 14);
    assert_eq!(shard.earliest, 11);
    assert_eq!(shard.sweep_all(11, &owners), 13);
    assert_eq!(shard.earliest, 12);
    for t in 0..40u64 {
        let held = shard.find((t + 1) | (3 << 62)).is_some();
        assert_eq!(held, t % 3 == 2, "{t}");
    }
    assert_eq!(shard.sweep_all(12, &owners), 13);
    assert_eq!((shard.len, shard.earliest), (0, u32::MAX));
    assert_eq!(owners.live(0), 0);
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
