//! What replay protection costs, in process: the same axum Router and layer called with a
//! typical signed form POST, with no guard, with the in-memory guard and with Redis on
//! loopback.
//!
//! A guard refuses the second identical request, so **every iteration signs a fresh request**
//! (a `nonce` parameter carries a counter) and sends it through the layer: signing, the layer
//! (header, client, body, parameters, signature, permissions) and the guard. The no-guard
//! baseline does the same signing, so the differences are the guard's cost:
//!
//! * `replay/none`: sign + layer, no guard.
//! * `replay/memory`: sign + layer + [`MemoryReplayGuard`] (defaults: 64 shards, cap 3 x 2^20), held
//!   at a steady state of about 300,000 live entries: the guard's clock moves one second
//!   every 1024 requests and entries live 301 s (the default window), so each request also
//!   evicts about one expired entry, as in production.
//! * `replay/redis`: sign + layer + [`RedisReplayGuard`] (one `SET NX PX` round trip to Redis
//!   on loopback, `REDIS_URL` or `redis://127.0.0.1:6379`). Skipped, with a note, when Redis does
//!   not answer. Its keys are deleted at the end.
//!
//! And the guards alone, with fresh keys (no signing, no layer):
//!
//! * `replay/memory/guard_only`, `replay/redis/guard_only`: one `check_and_record`.
//! * `replay/memory/guard_only_2_threads/{64_shards,1_shard}`: two threads recording distinct
//!   keys at once (time per call, both threads together): what sharding buys under contention.
//!
//! `cargo bench --bench replay -- --warm-up-time 1 --measurement-time 3`

mod support;

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use support::{CLIENT_ID, DATE, PARAMS, SECRET};

use axum::Router;
use axum::body::Body;
use axum::routing::post;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
use janrain_auth::params::encode_urlencoded;
use janrain_auth::permissions::Feature;
use janrain_auth::scheme::{ManualClock, SigningKey, StringToSign, signature_header};
use janrain_auth::server::replay::{MemoryReplayGuard, RedisReplayGuard, ReplayGuard, ReplayKey};
use janrain_auth::server::{MemoryStore, VerifyLayer};
use tower::ServiceExt;

/// Requests per second of the guard's clock in the memory benchmarks.
const PER_SECOND: u64 = 1024;
/// Live entries at the steady state: the default window keeps an entry 301 s.
const STEADY: u64 = 301 * PER_SECOND;

async fn handler(body: String) -> String {
    black_box(body);
    String::from("{\"stat\":\"ok\"}")
}

/// A signed request made fresh by `nonce`: the same work for every variant.
struct Maker {
    key: SigningKey,
    id: ClientId,
}

impl Maker {
    fn request(&self, nonce: u64) -> Request<Body> {
        let nonce = nonce.to_string();
        let mut params: Vec<(&str, &str)> = PARAMS.to_vec();
        params.push(("nonce", &nonce));
        let sig = self
            .key
            .sign(&StringToSign::new("/entity.update", DATE, &params));
        let body = encode_urlencoded(&params);
        Request::post("/entity.update")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("content-length", body.len())
            .header("date", DATE)
            .header("authorization", signature_header(&self.id, &sig))
            .body(Body::from(body))
            .unwrap()
    }
}

/// A fresh 28-character key per counter value.
fn signature_for(n: u64) -> [u8; 28] {
    let mut out = *b"AAAAAAAAAAAA0000000000000000";
    for (i, byte) in out[12..].iter_mut().enumerate() {
        *byte = b"0123456789abcdef"[((n >> (60 - 4 * i)) & 0xf) as usize];
    }
    out
}

fn record_now(guard: &MemoryReplayGuard, n: u64) {
    let sig = signature_for(n);
    let key = ReplayKey {
        client_id: CLIENT_ID,
        signature: std::str::from_utf8(&sig).unwrap(),
    };
    let mut future = guard.check_and_record(key, Duration::from_secs(301));
    match std::pin::Pin::new(&mut future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(verdict) => {
            black_box(verdict.expect("the benchmark stays under the cap"));
        }
        Poll::Pending => unreachable!("the in-memory guard never waits"),
    }
}

/// A memory guard at its steady state, and the clock that drives it.
fn steady_memory_guard(shards: usize) -> (Arc<MemoryReplayGuard>, ManualClock, Arc<AtomicU64>) {
    let clock = ManualClock::at(DATE.parse().unwrap());
    let guard = Arc::new(
        MemoryReplayGuard::builder()
            .shards(shards)
            .clock(clock.clone())
            .build(),
    );
    let counter = Arc::new(AtomicU64::new(0));
    for _ in 0..STEADY {
        tick(&guard, &clock, &counter);
    }
    (guard, clock, counter)
}

/// Record one fresh key, moving the guard's clock every `PER_SECOND` keys.
fn tick(guard: &MemoryReplayGuard, clock: &ManualClock, counter: &AtomicU64) {
    let n = counter.fetch_add(1, Ordering::Relaxed);
    if n.is_multiple_of(PER_SECOND) {
        clock.advance(1);
    }
    record_now(guard, n);
}

fn bench(c: &mut Criterion) {
    let client = ApiClient::new(
        ClientId::new(CLIENT_ID).unwrap(),
        ClientSecret::new(SECRET).unwrap(),
    )
    .with_feature(Feature::DirectAccess);
    let maker = Maker {
        key: SigningKey::new(SECRET),
        id: client.id().clone(),
    };
    let store = MemoryStore::new().with(client);
    let layer_clock = ManualClock::at(DATE.parse().unwrap());
    let router = |guard: Option<Arc<dyn ReplayGuard>>| -> Router {
        let mut builder = VerifyLayer::builder(store.clone()).clock(layer_clock.clone());
        if let Some(guard) = guard {
            builder = builder.replay_guard(guard);
        }
        Router::new()
            .route("/entity.update", post(handler))
            .layer(builder.build())
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let redis_url =
        std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = format!("janrain-auth-bench:{}:", std::process::id());
    let redis = RedisReplayGuard::builder(redis_url.as_str())
        .key_prefix(&prefix)
        .build()
        .ok()
        .map(Arc::new);
    let redis = match redis {
        Some(guard) if runtime.block_on(guard.ping()).is_ok() => Some(guard),
        _ => {
            println!(
                "note: Redis at {redis_url} does not answer; the replay/redis benchmarks are skipped"
            );
            None
        }
    };

    let (memory, memory_clock, memory_counter) =
        steady_memory_guard(janrain_auth::server::replay::DEFAULT_SHARDS);
    let bare = router(None);
    let with_memory = router(Some(memory.clone()));
    let with_redis = redis.clone().map(|guard| router(Some(guard)));

    // Every variant must accept a fresh request before it is timed.
    let nonce = AtomicU64::new(0);
    let fresh = || maker.request(nonce.fetch_add(1, Ordering::Relaxed));
    for app in [Some(&bare), Some(&with_memory), with_redis.as_ref()]
        .into_iter()
        .flatten()
    {
        let response = runtime.block_on(app.clone().oneshot(fresh())).unwrap();
        assert_eq!(
            response.status(),
            200,
            "the benchmark request must be accepted"
        );
    }

    let mut group = c.benchmark_group("replay");
    group.bench_function("none", |b| {
        b.iter(|| {
            runtime.block_on(async { black_box(bare.clone().oneshot(fresh()).await.unwrap()) })
        })
    });
    group.bench_function("memory", |b| {
        b.iter(|| {
            if memory_counter
                .fetch_add(1, Ordering::Relaxed)
                .is_multiple_of(PER_SECOND)
            {
                memory_clock.advance(1);
            }
            let response =
                runtime.block_on(async { with_memory.clone().oneshot(fresh()).await.unwrap() });
            debug_assert_eq!(response.status(), 200);
            black_box(response)
        })
    });
    if let Some(app) = &with_redis {
        group.bench_function("redis", |b| {
            b.iter(|| {
                let response =
                    runtime.block_on(async { app.clone().oneshot(fresh()).await.unwrap() });
                debug_assert_eq!(response.status(), 200);
                black_box(response)
            })
        });
    }

    group.bench_function("memory/guard_only", |b| {
        b.iter(|| tick(&memory, &memory_clock, &memory_counter))
    });
    if let Some(guard) = &redis {
        let counter = AtomicU64::new(1 << 40);
        group.bench_function("redis/guard_only", |b| {
            b.iter(|| {
                let sig = signature_for(counter.fetch_add(1, Ordering::Relaxed));
                let key = ReplayKey {
                    client_id: CLIENT_ID,
                    signature: std::str::from_utf8(&sig).unwrap(),
                };
                black_box(
                    runtime
                        .block_on(guard.check_and_record(key, Duration::from_secs(301)))
                        .unwrap(),
                )
            })
        });
    }
    drop((with_memory, memory));

    for (name, shards) in [("64_shards", 64), ("1_shard", 1)] {
        let (guard, clock, counter) = steady_memory_guard(shards);
        group.bench_function(format!("memory/guard_only_2_threads/{name}"), |b| {
            b.iter_custom(|iters| {
                let started = Instant::now();
                std::thread::scope(|scope| {
                    for _ in 0..2 {
                        scope.spawn(|| {
                            for _ in 0..iters / 2 {
                                tick(&guard, &clock, &counter);
                            }
                        });
                    }
                });
                started.elapsed()
            })
        });
    }
    group.finish();

    if redis.is_some() {
        runtime.block_on(delete_keys(&redis_url, &prefix));
    }
}

/// Remove the benchmark's keys (they would expire within 301 s anyway).
async fn delete_keys(url: &str, prefix: &str) {
    let Ok(client) = redis::Client::open(url) else {
        return;
    };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
        return;
    };
    let mut cursor: u64 = 0;
    loop {
        let Ok((next, keys)): Result<(u64, Vec<String>), _> = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(10_000)
            .query_async(&mut conn)
            .await
        else {
            return;
        };
        if !keys.is_empty() {
            let _: Result<i64, _> = redis::cmd("UNLINK").arg(&keys).query_async(&mut conn).await;
        }
        if next == 0 {
            return;
        }
        cursor = next;
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
