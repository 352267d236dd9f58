//! The in-memory replay guard: directly (cap, expiry, atomicity under threads) and behind real
//! axum servers on loopback called with reqwest, two layers of one process sharing one guard.
//! Time is a `ManualClock` shared by the layers and the guard, so nothing sleeps.

use janrain_auth_test_support as support;

use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::counting::{held_now, memory_exclusive};
use janrain_auth::error::JanrainError;
use janrain_auth::scheme::{Datetime, ManualClock};
use janrain_auth::server::replay::{MemoryReplayGuard, ReplayGuard, ReplayKey, ReplayVerdict};
use support::{
    DIRECT, READER, Signed, assert_error, assert_ok, assert_replayed, assert_unavailable, builder,
    captured_logs, clock, log_lines_with, race, send_unrecordable, serve,
};

/// `/entity.find` by the reader, dated by `clock`.
fn find(tag: &str, clock: &ManualClock) -> Signed {
    Signed::find(tag, &clock.datetime().to_string())
}

/// `/entity.find` dated by `clock`, by the reader for even `i` and the direct client for odd:
/// two clients, so that the guard's whole cap can be taken (a client alone stops at seven
/// eighths of it).
fn find_by_either(i: usize, tag: &str, clock: &ManualClock) -> Signed {
    if i.is_multiple_of(2) {
        find(tag, clock)
    } else {
        Signed {
            client_id: DIRECT.0,
            secret: DIRECT.1,
            ..find(tag, clock)
        }
    }
}

fn shared_guard(clock: &ManualClock, capacity: usize) -> Arc<MemoryReplayGuard> {
    Arc::new(
        MemoryReplayGuard::builder()
            .capacity(capacity)
            .clock(clock.clone())
            .build(),
    )
}

/// A guard as [`shared_guard`] gives, one that counts the two clients of these tests apart:
/// one guard in 64 of this size counts them as one, and the fairness its tests check is
/// between two clients.
fn guard_for_two_clients(clock: &ManualClock, capacity: usize) -> Arc<MemoryReplayGuard> {
    std::iter::repeat_with(|| shared_guard(clock, capacity))
        .take(16)
        .find(|guard| guard.counts_apart(READER.0, DIRECT.0))
        .expect("sixteen guards in a row counted the two clients as one")
}

fn key(signature: &str) -> ReplayKey<'_> {
    ReplayKey {
        client_id: "some_client",
        signature,
    }
}

/// `check_and_record` outside a server: the in-memory guard's future is ready at once.
fn record(guard: &MemoryReplayGuard, signature: &str, ttl: Duration) -> Option<ReplayVerdict> {
    let mut future = guard.check_and_record(key(signature), ttl);
    match std::pin::Pin::new(&mut future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result.ok(),
        Poll::Pending => panic!("the in-memory guard never waits"),
    }
}

// ---------------------------------------------------------------------------------------------
// Behind the layer.

#[tokio::test]
async fn two_layers_sharing_one_guard_refuse_a_replay_on_either() {
    let clock = clock();
    let guard = shared_guard(&clock, 1000);
    let first = serve(builder(&clock).replay_guard(guard.clone()).build()).await;
    let second = serve(builder(&clock).replay_guard(guard.clone()).build()).await;
    let request = find("two-layers", &clock);

    assert_ok(&request.send(&first).await);
    assert_replayed(&request.send(&second).await);
    assert_replayed(&request.send(&first).await);
    assert_ok(&find("another", &clock).send(&second).await);
    assert_eq!(guard.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_concurrent_identical_requests_on_two_layers_exactly_one_is_accepted() {
    const N: usize = 32;
    let clock = clock();
    let guard = shared_guard(&clock, 1000);
    let servers = [
        serve(builder(&clock).replay_guard(guard.clone()).build()).await,
        serve(builder(&clock).replay_guard(guard.clone()).build()).await,
    ];
    let request = find("concurrent", &clock);
    let accepted = race(&request, &servers, N).await;
    assert_eq!(
        accepted, 1,
        "exactly one of {N} identical requests is accepted"
    );
    assert_eq!(guard.len(), 1);
}

#[tokio::test]
async fn forged_and_forbidden_requests_are_never_recorded() {
    let clock = clock();
    let guard = shared_guard(&clock, 1000);
    let base = serve(builder(&clock).replay_guard(guard.clone()).build()).await;
    let genuine = find("genuine", &clock);

    // What a guard must never record: the genuine signature on tampered parameters (seen in
    // flight and sent first), a wrong secret, a valid signature on a forbidden operation.
    send_unrecordable(&base, &genuine).await;
    // Out of the window.
    let mut stale = genuine.clone();
    stale.date = "2026-03-01 11:00:00".into();
    assert_error(&stale.send(&base).await, 401, 433, "date_out_of_window");
    assert!(guard.is_empty(), "nothing recorded");

    assert_ok(&genuine.send(&base).await);
    assert_eq!(guard.len(), 1);
    assert_replayed(&genuine.send(&base).await);
}

#[tokio::test]
async fn an_entry_lives_exactly_as_long_as_the_date_window_accepts_the_request() {
    let clock = clock();
    let guard = shared_guard(&clock, 1000);
    let window = Duration::from_secs(2);
    let base = serve(
        builder(&clock)
            .date_window(window, window)
            .replay_guard(guard.clone())
            .build(),
    )
    .await;
    let request = find("window", &clock);
    assert_ok(&request.send(&base).await);
    // The last second the Date is acceptable (age == max_age): still remembered.
    clock.advance(2);
    assert_replayed(&request.send(&base).await);
    assert_eq!(guard.evict_expired(), 0);
    // One second later the window refuses it, and the entry has expired with it.
    clock.advance(1);
    assert_error(&request.send(&base).await, 401, 433, "date_out_of_window");
    assert_eq!(guard.evict_expired(), 1);
    assert!(guard.is_empty());

    // A request dated in the future is kept until its own Date is max_age old.
    let ahead = Signed {
        date: Datetime::from_unix_seconds(clock.datetime().unix_seconds() + 2)
            .unwrap()
            .to_string(),
        ..find("ahead", &clock)
    };
    assert_ok(&ahead.send(&base).await);
    clock.advance(4); // the Date is now exactly max_age old
    assert_replayed(&ahead.send(&base).await);
    clock.advance(1);
    assert_error(&ahead.send(&base).await, 401, 433, "date_out_of_window");
    assert_eq!(guard.evict_expired(), 1);
}

#[tokio::test]
async fn at_the_cap_new_requests_get_503_and_replays_never_get_through() {
    const CAP: usize = 8;
    let clock = clock();
    let guard = guard_for_two_clients(&clock, CAP);
    let window = Duration::from_secs(10);
    let first = serve(
        builder(&clock)
            .date_window(window, window)
            .replay_guard(guard.clone())
            .build(),
    )
    .await;
    let second = serve(
        builder(&clock)
            .date_window(window, window)
            .replay_guard(guard.clone())
            .build(),
    )
    .await;
    let bases = [first.as_str(), second.as_str()];

    let recorded: Vec<Signed> = (0..CAP)
        .map(|i| find_by_either(i, &format!("fill-{i}"), &clock))
        .collect();
    for (i, request) in recorded.iter().enumerate() {
        let got = request.send(bases[i % 2]).await;
        assert_eq!(got.0, 200, "fill {i}: {} (len {})", got.1, guard.len());
    }
    assert_eq!(guard.len(), CAP);
    // Full: a new request of either client is refused (fail closed) on either layer, every
    // replay is refused.
    for next in [0, 1].map(|i| find_by_either(i, "one-too-many", &clock)) {
        for base in bases {
            assert_unavailable(&next.send(base).await);
        }
    }
    let replays_refused = |expected: u16| {
        let recorded = recorded.clone();
        async move {
            for (i, request) in recorded.iter().enumerate() {
                let got = request.send(bases[i % 2]).await;
                assert_ne!(got.0, 200, "a replay got through: {}", got.1);
                assert_eq!(
                    JanrainError::from_body(got.1.to_string().as_bytes())
                        .unwrap()
                        .code,
                    expected
                );
            }
        }
    };
    replays_refused(434).await;

    // The last second the recorded requests are acceptable: still full, still refused.
    clock.advance(10);
    let still_full = find("still-full", &clock);
    assert_unavailable(&still_full.send(&first).await);
    replays_refused(434).await;

    // They expire with the window: the guard makes room by itself, no maintenance needed.
    clock.advance(1);
    let after = find("after-expiry", &clock);
    assert_ok(&after.send(&second).await);
    assert_replayed(&after.send(&first).await);
    replays_refused(433).await;
    assert!(guard.len() <= CAP);
}

#[tokio::test]
async fn fail_open_at_the_cap_admits_new_requests_with_a_warning_but_not_recorded_replays() {
    let logs = captured_logs();
    const CAP: usize = 6; // the warnings of this test are the ones that name a cap of 6
    let clock = clock();
    let guard = shared_guard(&clock, CAP);
    let base = serve(
        builder(&clock)
            .replay_guard(guard.clone())
            .replay_fail_open(true)
            .build(),
    )
    .await;
    let recorded: Vec<Signed> = (0..CAP)
        .map(|i| find_by_either(i, &format!("fill-{i}"), &clock))
        .collect();
    for request in &recorded {
        assert_ok(&request.send(&base).await);
    }
    // Full, failing open: a new request (of a third client, under its share) is let through,
    // unrecorded.
    let extra = Signed {
        client_id: "rotating_client",
        secret: "rotating-new-secret-8e1d",
        ..find("let-through", &clock)
    };
    assert_ok(&extra.send(&base).await);
    // A recorded request is still recognised: the guard looks before it counts.
    for request in &recorded {
        assert_replayed(&request.send(&base).await);
    }
    // The warning names the cap: the guard is full, or (when the third client's counter is
    // one the keyed hash also gave a client that filled it, which the guard's documentation
    // allows) that client counts as over its share of a nearly full guard. Either way one
    // request was let through, with one warning.
    let lines = log_lines_with(&logs, "cap of 6 ");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("WARN") && lines[0].contains("fail open"),
        "{}",
        lines[0]
    );
    assert!(!lines[0].contains(READER.1), "{}", lines[0]);
}

// ---------------------------------------------------------------------------------------------
// The guard alone.

#[test]
fn the_cap_is_exact_across_shards_and_expiry_makes_room() {
    let clock = clock();
    let guard = MemoryReplayGuard::builder()
        .capacity(100)
        .shards(16)
        .clock(clock.clone())
        .build();
    let ttl = Duration::from_secs(5);
    let sigs: Vec<String> = (0..100).map(|i| format!("signature-{i}")).collect();
    // Two clients, alternating, so that the whole cap can be taken (a client alone stops at
    // seven eighths of it).
    let record = |guard: &MemoryReplayGuard, sig: &str, ttl| {
        let client = if sig.bytes().last().unwrap_or(0).is_multiple_of(2) {
            "even"
        } else {
            "odd"
        };
        record_for(guard, client, sig, ttl)
    };
    for sig in &sigs {
        assert_eq!(record(&guard, sig, ttl), Some(ReplayVerdict::Fresh));
    }
    assert_eq!(guard.len(), 100);
    assert_eq!(record(&guard, "one-more-0", ttl), None, "full: no decision");
    for sig in &sigs {
        assert_eq!(record(&guard, sig, ttl), Some(ReplayVerdict::Replayed));
    }
    clock.advance(4);
    assert_eq!(
        record(&guard, "one-more-0", ttl),
        None,
        "nothing expired yet"
    );
    clock.advance(1);
    assert_eq!(
        record(&guard, "one-more-0", ttl),
        Some(ReplayVerdict::Fresh)
    );
    assert_eq!(
        record(&guard, "one-more-0", ttl),
        Some(ReplayVerdict::Replayed)
    );
    // Expired entries leave as requests pass by their shards (or all at once, here).
    assert!(guard.len() <= 100);
    guard.evict_expired();
    assert_eq!(guard.len(), 1);
    // Fill up again, then expire everything and fill with new keys: each finds room, whether
    // its own shard had expired entries to evict or the guard had to sweep every shard.
    for sig in &sigs[1..] {
        assert_eq!(record(&guard, sig, ttl), Some(ReplayVerdict::Fresh));
    }
    assert_eq!(record(&guard, "signature-0", ttl), None);
    clock.advance(5);
    for i in 0..100 {
        assert_eq!(
            record(&guard, &format!("new-{i}"), ttl),
            Some(ReplayVerdict::Fresh)
        );
    }
    assert_eq!(guard.len(), 100);
    // A cap of 0 decides nothing new.
    let none = MemoryReplayGuard::builder()
        .capacity(0)
        .clock(clock)
        .build();
    assert_eq!(record(&none, "x", ttl), None);
}

#[test]
fn memory_stays_bounded_under_steady_traffic_without_ever_filling() {
    // 500 new requests per second, each kept 2 s: about 1000 live entries, under a cap of 1200.
    // Eviction as requests go keeps up, so the guard never refuses.
    let clock = clock();
    let guard = MemoryReplayGuard::builder()
        .capacity(1200)
        .clock(clock.clone())
        .build();
    let mut most = 0;
    for second in 0..200 {
        for i in 0..500 {
            let sig = format!("{second}-{i}");
            assert_eq!(
                record(&guard, &sig, Duration::from_secs(2)),
                Some(ReplayVerdict::Fresh)
            );
            most = most.max(guard.len());
        }
        clock.advance(1);
    }
    assert!(most <= 1200, "{most}");
    assert!(guard.len() <= 1200);
}

#[test]
fn of_concurrent_identical_calls_exactly_one_is_fresh() {
    const THREADS: usize = 8;
    const KEYS: usize = 200;
    let guard = Arc::new(
        MemoryReplayGuard::builder()
            .capacity(10_000)
            .shards(4)
            .build(),
    );
    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (guard, barrier) = (guard.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut fresh = vec![0usize; KEYS];
                barrier.wait();
                for (k, count) in fresh.iter_mut().enumerate() {
                    let sig = format!("key-{k}");
                    if record(&guard, &sig, Duration::from_secs(60)) == Some(ReplayVerdict::Fresh) {
                        *count += 1;
                    }
                }
                fresh
            })
        })
        .collect();
    let mut totals = vec![0usize; KEYS];
    for thread in threads {
        for (total, n) in totals.iter_mut().zip(thread.join().unwrap()) {
            *total += n;
        }
    }
    assert!(totals.iter().all(|&n| n == 1), "{totals:?}");
    assert_eq!(guard.len(), KEYS);
}

#[test]
fn concurrent_distinct_calls_never_exceed_the_cap() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 500;
    // One client per thread: together they may take the whole cap.
    const CAP: usize = 776;
    let guard = Arc::new(MemoryReplayGuard::builder().capacity(CAP).build());
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let guard = guard.clone();
            std::thread::spawn(move || {
                let client = format!("client-{t}");
                (0..PER_THREAD)
                    .filter(|i| {
                        let sig = format!("{t}-{i}");
                        record_for(&guard, &client, &sig, Duration::from_secs(60)).is_some()
                    })
                    .count()
            })
        })
        .collect();
    let fresh: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(fresh, CAP, "exactly the cap was recorded, the rest refused");
    assert_eq!(guard.len(), CAP);
}

#[test]
fn clients_sharing_a_secret_do_not_share_entries() {
    let guard = MemoryReplayGuard::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let ttl = Duration::from_secs(10);
    let sig = "Mwp6X1jBUzB8TQTMxlwhJ4v+lT0=";
    for client_id in ["first_client", "second_client"] {
        let key = ReplayKey {
            client_id,
            signature: sig,
        };
        assert_eq!(
            runtime.block_on(guard.check_and_record(key, ttl)).unwrap(),
            ReplayVerdict::Fresh
        );
        assert_eq!(
            runtime.block_on(guard.check_and_record(key, ttl)).unwrap(),
            ReplayVerdict::Replayed
        );
    }
    let debug = format!("{guard:?}");
    assert!(debug.contains("len: 2") && !debug.contains(sig), "{debug}");
}

// ---------------------------------------------------------------------------------------------
// Log capture.

// ---------------------------------------------------------------------------------------------
// Memory.

/// A 28-character signature, unique per `n`, written without allocating.
fn numbered(n: u64) -> [u8; 28] {
    let mut sig = *b"AAAAAAAAAAAA0000000000000000";
    for (i, byte) in sig[12..].iter_mut().enumerate() {
        *byte = b"0123456789abcdef"[((n >> (60 - 4 * i)) & 0xf) as usize];
    }
    sig
}

#[test]
fn two_million_live_entries_take_at_most_32_bytes_each_and_churn_does_not_grow_them() {
    let _alone = memory_exclusive();
    const N: u64 = 2_000_000;
    let clock = clock();
    let before = held_now();
    // The default cap (3 x 2^20) and shards.
    let guard = MemoryReplayGuard::builder().clock(clock.clone()).build();
    assert!(
        guard.capacity() >= 10_000 * 301,
        "sustains 10,000 signed requests/s"
    );
    let fill = |round: u64| {
        for i in 0..N {
            let sig = numbered((round << 32) | i);
            let verdict = record(
                &guard,
                std::str::from_utf8(&sig).unwrap(),
                Duration::from_secs(301),
            );
            assert_eq!(verdict, Some(ReplayVerdict::Fresh));
        }
    };
    fill(0);
    assert_eq!(guard.len(), N as usize);
    let per_entry = (held_now() - before) as f64 / N as f64;
    println!("{per_entry:.1} bytes per live entry at {N} entries");
    assert!(per_entry <= 32.0, "{per_entry:.1} bytes per entry");

    // Traffic goes on for two more lifetimes: the expired entries make room for the new ones.
    let mut most = held_now() - before;
    for round in 1..=2 {
        clock.advance(301);
        fill(round);
        most = most.max(held_now() - before);
    }
    guard.evict_expired();
    assert_eq!(guard.len(), N as usize);
    let most_per_entry = most as f64 / N as f64;
    println!("at most {most_per_entry:.1} bytes per live entry under churn");
    assert!(
        most_per_entry <= 32.0,
        "{most_per_entry:.1} bytes per entry under churn"
    );
}

#[test]
fn memory_stays_dense_under_steady_traffic_near_the_cap() {
    let _alone = memory_exclusive();
    // A new request every tick, entries expiring as they arrive, the guard held just under its
    // cap for three lifetimes.
    const CAP: usize = 50_000;
    let clock = clock();
    let before = held_now();
    let guard = MemoryReplayGuard::builder()
        .capacity(CAP)
        .clock(clock.clone())
        .build();
    let per_second = CAP as u64 / 102;
    let mut most = 0;
    for second in 0..300u64 {
        for i in 0..per_second {
            let sig = numbered((second << 32) | i);
            // Four clients in turn: none alone nears the cap (a client alone stops at seven
            // eighths of it).
            let verdict = record_for(
                &guard,
                ["a", "b", "c", "d"][(i % 4) as usize],
                std::str::from_utf8(&sig).unwrap(),
                Duration::from_secs(100),
            );
            assert_eq!(verdict, Some(ReplayVerdict::Fresh));
        }
        clock.advance(1);
        most = most.max(held_now() - before);
    }
    let per_entry = most as f64 / CAP as f64;
    println!("at most {per_entry:.1} bytes per entry of the cap under steady traffic");
    assert!(
        per_entry <= 40.0,
        "{per_entry:.1} bytes per entry of the cap"
    );
}

// ---------------------------------------------------------------------------------------------
// Fairness.

fn record_for(
    guard: &MemoryReplayGuard,
    client_id: &str,
    signature: &str,
    ttl: Duration,
) -> Option<ReplayVerdict> {
    let key = ReplayKey {
        client_id,
        signature,
    };
    let mut future = guard.check_and_record(key, ttl);
    match std::pin::Pin::new(&mut future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result.ok(),
        Poll::Pending => panic!("the in-memory guard never waits"),
    }
}

#[test]
fn nearly_full_a_client_over_its_share_is_refused_first_and_a_light_one_is_served() {
    const CAP: usize = 1000;
    let clock = clock();
    let guard = MemoryReplayGuard::builder()
        .capacity(CAP)
        .clock(clock.clone())
        .build();
    let ttl = Duration::from_secs(301);
    for i in 0..3 {
        let sig = format!("light-{i}");
        assert_eq!(
            record_for(&guard, "light", &sig, ttl),
            Some(ReplayVerdict::Fresh)
        );
    }
    // The heavy client records until it is refused.
    let mut heavy = 0;
    while record_for(&guard, "heavy", &format!("heavy-{heavy}"), ttl).is_some() {
        heavy += 1;
        assert!(heavy <= CAP, "never refused");
    }
    // Refused in the last eighth of the cap, holding more than its half.
    assert!(
        heavy >= CAP / 2 && guard.len() < CAP,
        "{heavy} / {}",
        guard.len()
    );
    assert!(guard.len() >= CAP - CAP / 8, "{}", guard.len());
    // The light client is still served, and the heavy one still refused; replays are still
    // recognised for both.
    for i in 3..60 {
        let sig = format!("light-{i}");
        assert_eq!(
            record_for(&guard, "light", &sig, ttl),
            Some(ReplayVerdict::Fresh),
            "light request {i}"
        );
        assert_eq!(
            record_for(&guard, "heavy", &format!("heavy-more-{i}"), ttl),
            None
        );
    }
    assert_eq!(
        record_for(&guard, "heavy", "heavy-0", ttl),
        Some(ReplayVerdict::Replayed)
    );
    assert_eq!(
        record_for(&guard, "light", "light-0", ttl),
        Some(ReplayVerdict::Replayed)
    );
}

#[test]
fn a_client_alone_stops_short_of_the_cap_so_a_newcomer_is_served() {
    const CAP: usize = 100;
    const KEPT: usize = CAP / 8;
    let clock = clock();
    let guard = MemoryReplayGuard::builder()
        .capacity(CAP)
        .clock(clock.clone())
        .build();
    let ttl = Duration::from_secs(10);
    // One client alone: served up to seven eighths of the cap, then refused.
    let mut heavy = 0;
    while record_for(&guard, "heavy", &format!("early-{heavy}"), ttl).is_some() {
        heavy += 1;
        assert!(heavy <= CAP, "a client alone filled the whole guard");
    }
    assert_eq!(
        guard.len(),
        CAP - KEPT,
        "a client alone stops at seven eighths"
    );
    // A newcomer is served from the part kept for others, while the heavy client is not.
    for i in 0..KEPT {
        assert_eq!(
            record_for(&guard, "light", &format!("light-{i}"), ttl),
            Some(ReplayVerdict::Fresh),
            "the newcomer's request {i}"
        );
        assert_eq!(
            record_for(&guard, "heavy", &format!("again-{i}"), ttl),
            None
        );
    }
    assert_eq!(guard.len(), CAP);
    // Full: a third client is refused, and remembered.
    assert_eq!(record_for(&guard, "third", "third-0", ttl), None);
    // The heavy client's entries expire: the room they free goes to the one the full guard
    // shut out, not to the client over its share.
    clock.advance(11);
    assert_eq!(
        record_for(&guard, "third", "third-1", ttl),
        Some(ReplayVerdict::Fresh)
    );
    guard.evict_expired();
    assert!(guard.len() < CAP - KEPT, "{}", guard.len());
    // No longer nearly full: everyone is served again.
    assert_eq!(
        record_for(&guard, "heavy", "heavy-next", ttl),
        Some(ReplayVerdict::Fresh)
    );
}

#[tokio::test]
async fn behind_the_layer_the_client_over_its_share_gets_503_and_a_light_one_200() {
    const CAP: usize = 16;
    let clock = clock();
    let guard = guard_for_two_clients(&clock, CAP);
    let base = serve(builder(&clock).replay_guard(guard.clone()).build()).await;
    let light = |tag: &str| Signed {
        client_id: DIRECT.0,
        secret: DIRECT.1,
        ..find(tag, &clock)
    };
    assert_ok(&light("light-0").send(&base).await);
    let mut heavy = 0;
    loop {
        let got = find(&format!("heavy-{heavy}"), &clock).send(&base).await;
        if got.0 != 200 {
            assert_unavailable(&got);
            break;
        }
        heavy += 1;
        assert!(heavy < CAP, "never refused");
    }
    assert!(guard.len() < CAP, "refused before the guard was full");
    assert_ok(&light("light-1").send(&base).await);
    assert_replayed(&light("light-1").send(&base).await);
    assert_unavailable(&find("heavy-again", &clock).send(&base).await);
}
