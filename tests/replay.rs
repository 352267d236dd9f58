//! The in-memory replay guard: directly (cap, expiry, atomicity under threads) and behind real
//! axum servers on loopback called with reqwest, two layers of one process sharing one guard.
//! Time is a `ManualClock` shared by the layers and the guard, so nothing sleeps.

mod support;

use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use janrain_auth::error::JanrainError;
use janrain_auth::scheme::{Datetime, ManualClock};
use janrain_auth::server::{MemoryReplayGuard, ReplayGuard, ReplayKey, ReplayVerdict};
use support::{
    READER, Signed, assert_error, assert_ok, assert_replayed, assert_unavailable, builder,
    captured_logs, clock, log_lines_with, race, send_unrecordable, serve,
};

/// `/entity.find` by the reader, dated by `clock`.
fn find(tag: &str, clock: &ManualClock) -> Signed {
    Signed::find(tag, &clock.datetime().to_string())
}

fn shared_guard(clock: &ManualClock, capacity: usize) -> Arc<MemoryReplayGuard> {
    Arc::new(
        MemoryReplayGuard::builder()
            .capacity(capacity)
            .clock(clock.clone())
            .build(),
    )
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
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
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
    let guard = shared_guard(&clock, CAP);
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
        .map(|i| find(&format!("fill-{i}"), &clock))
        .collect();
    for (i, request) in recorded.iter().enumerate() {
        assert_ok(&request.send(bases[i % 2]).await);
    }
    assert_eq!(guard.len(), CAP);
    // Full: a new request is refused (fail closed) on either layer, every replay is refused.
    let next = find("one-too-many", &clock);
    for base in bases {
        assert_unavailable(&next.send(base).await);
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
    const CAP: usize = 7; // the warnings of this test are the ones that name a cap of 7
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
        .map(|i| find(&format!("fill-{i}"), &clock))
        .collect();
    for request in &recorded {
        assert_ok(&request.send(&base).await);
    }
    // Full, failing open: a new request is let through, unrecorded.
    let extra = find("let-through", &clock);
    assert_ok(&extra.send(&base).await);
    // A recorded request is still recognised: the guard looks before it counts.
    for request in &recorded {
        assert_replayed(&request.send(&base).await);
    }
    let lines = log_lines_with(&logs, "cap of 7 unexpired");
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
    for sig in &sigs {
        assert_eq!(record(&guard, sig, ttl), Some(ReplayVerdict::Fresh));
    }
    assert_eq!(guard.len(), 100);
    assert_eq!(record(&guard, "one-more", ttl), None, "full: no decision");
    for sig in &sigs {
        assert_eq!(record(&guard, sig, ttl), Some(ReplayVerdict::Replayed));
    }
    clock.advance(4);
    assert_eq!(record(&guard, "one-more", ttl), None, "nothing expired yet");
    clock.advance(1);
    assert_eq!(record(&guard, "one-more", ttl), Some(ReplayVerdict::Fresh));
    assert_eq!(
        record(&guard, "one-more", ttl),
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
    const CAP: usize = 777;
    let guard = Arc::new(MemoryReplayGuard::builder().capacity(CAP).build());
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let guard = guard.clone();
            std::thread::spawn(move || {
                (0..PER_THREAD)
                    .filter(|i| {
                        record(&guard, &format!("{t}-{i}"), Duration::from_secs(60)).is_some()
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

/// Counts the bytes held by allocations of the current thread, so that tests running on other
/// threads do not disturb the measurement.
struct CountingAllocator;

thread_local! {
    static HELD: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
}

fn held(delta: isize) {
    let _ = HELD.try_with(|held| held.set(held.get() + delta));
}

unsafe impl std::alloc::GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        held(layout.size() as isize);
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        held(-(layout.size() as isize));
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        held(new_size as isize - layout.size() as isize);
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

#[test]
fn a_full_guard_costs_about_a_hundred_bytes_per_entry_and_churn_does_not_grow_it() {
    const CAP: usize = 50_000;
    let clock = clock();
    let before = HELD.with(|h| h.get());
    let guard = MemoryReplayGuard::builder()
        .capacity(CAP)
        .clock(clock.clone())
        .build();
    let mut sig = *b"AAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let mut fill = |round: usize| {
        for i in 0..CAP {
            let text = format!("{round:04}{i:08}");
            sig[..12].copy_from_slice(text.as_bytes());
            let verdict = record(
                &guard,
                std::str::from_utf8(&sig).unwrap(),
                Duration::from_secs(301),
            );
            assert_eq!(verdict, Some(ReplayVerdict::Fresh));
        }
    };
    fill(0);
    let full = HELD.with(|h| h.get()) - before;
    let per_entry = full as f64 / CAP as f64;
    // Keep the figure documented on DEFAULT_CAPACITY honest.
    assert!(per_entry <= 70.0, "{per_entry:.1} bytes per entry");
    // Traffic goes on at the cap for several lifetimes: memory stays where it was.
    // (The hash sets grow once, as deletions leave tombstones, then stay put.)
    let mut most = full;
    for round in 1..=6 {
        clock.advance(301);
        fill(round);
        most = most.max(HELD.with(|h| h.get()) - before);
    }
    let most_per_entry = most as f64 / CAP as f64;
    println!(
        "{per_entry:.1} bytes per entry when filled once; at most {most_per_entry:.1} under churn"
    );
    assert!(
        most_per_entry <= 110.0,
        "{most_per_entry:.1} bytes per entry under churn"
    );
    drop(guard);

    // Steady traffic instead: a new request every tick, entries expiring as they arrive, the
    // guard held just under its cap for three lifetimes.
    let before = HELD.with(|h| h.get());
    let guard = MemoryReplayGuard::builder()
        .capacity(CAP)
        .clock(clock.clone())
        .build();
    let per_second = CAP / 102;
    let mut most = 0;
    for second in 0..300 {
        for i in 0..per_second {
            let text = format!("{second:04}{i:08}");
            sig[..12].copy_from_slice(text.as_bytes());
            let verdict = record(
                &guard,
                std::str::from_utf8(&sig).unwrap(),
                Duration::from_secs(100),
            );
            assert_eq!(verdict, Some(ReplayVerdict::Fresh));
        }
        clock.advance(1);
        most = most.max(HELD.with(|h| h.get()) - before);
    }
    let steady_per_entry = most as f64 / CAP as f64;
    println!("at most {steady_per_entry:.1} bytes per entry of the cap under steady traffic");
    assert!(
        steady_per_entry <= 110.0,
        "{steady_per_entry:.1} bytes per entry under steady traffic"
    );
}
