//! What finding a client costs: the in-memory store against the Redis store, cached and not.
//!
//! * `store/memory`: [`MemoryStore`] lookup of one of 100 clients (a `HashMap` get and an
//!   `Arc` clone; the future is ready at once).
//! * `store/redis_cached`: [`RedisClientStore`] lookup of one of 100 clients already in its
//!   local cache (a read lock, a clock read, an `Arc` clone; no round trip, no key setup).
//! * `store/redis_uncached`: the same store with a cache TTL of zero, so every lookup is one
//!   `GET` to Redis on loopback plus the SHA-256 of the record (an unchanged record keeps its
//!   keyed client, so no HMAC key setup either).
//!
//! And through the layer, where the lookup is one step of many: the same signed form POST
//! (`/entity.find`, six parameters) verified by a `VerifyLayer` over each store:
//!
//! * `store/layer_memory`, `store/layer_redis_cached`: request built, verified, answered.
//!
//! Redis: `REDIS_URL`, else the one on 127.0.0.1:6379, else a `redis-server` started for the
//! run on a free loopback port. The keys are deleted at the end.
//!
//! `cargo bench --bench store -- --warm-up-time 1 --measurement-time 3`

mod support;

use janrain_auth_test_support::redis_servers;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use support::{DATE, SECRET, signed_post};

use axum::Router;
use axum::routing::post;
use criterion::{Criterion, criterion_group, criterion_main};
use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
use janrain_auth::permissions::{Feature, Features};
use janrain_auth::scheme::ManualClock;
use janrain_auth::server::redis_store::RedisClientStore;
use janrain_auth::server::{ClientStore, MemoryStore, VerifyLayer};
use tower::ServiceExt;

async fn handler(body: String) -> &'static str {
    black_box(body);
    "{\"stat\":\"ok\"}"
}

/// The app over `store`, verified on a clock showing [`DATE`].
fn app(store: impl ClientStore) -> Router {
    let layer = VerifyLayer::builder(store)
        .clock(ManualClock::at(DATE.parse().unwrap()))
        .build();
    Router::new()
        .route("/entity.find", post(handler))
        .layer(layer)
}

const CLIENTS: usize = 100;

fn id(i: usize) -> String {
    format!("bench_client_{i:03}_apkrahlfumwse2e9")
}

/// Poll a future that must be ready at once.
fn now<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("not ready at once"),
    }
}

fn bench(c: &mut Criterion) {
    let ids: Vec<String> = (0..CLIENTS).map(id).collect();
    let secret = ClientSecret::new(SECRET).unwrap();
    let memory: MemoryStore = ids
        .iter()
        .map(|id| {
            ApiClient::new(ClientId::new(id).unwrap(), secret.clone())
                .with_feature(Feature::DirectAccess)
        })
        .collect();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = redis_servers::standalone_url();
    let prefix = format!("janrain-auth-bench:{}:", std::process::id());
    let store = |ttl| {
        RedisClientStore::builder(url.as_str())
            .key_prefix(&prefix)
            .cache_ttl(ttl)
            .build()
            .unwrap()
    };
    let cached = store(Duration::from_secs(3600));
    let uncached = store(Duration::ZERO);
    runtime.block_on(async {
        for id in &ids {
            cached
                .put(
                    &ClientId::new(id).unwrap(),
                    std::slice::from_ref(&secret),
                    Features::from(Feature::DirectAccess),
                )
                .await
                .unwrap();
            assert!(cached.client(id).await.unwrap().is_some());
            assert!(uncached.client(id).await.unwrap().is_some());
        }
    });

    let mut group = c.benchmark_group("store");
    let mut i = 0;
    group.bench_function("memory", |b| {
        b.iter(|| {
            i = (i + 1) % CLIENTS;
            black_box(now(memory.client(black_box(&ids[i]))).unwrap())
        })
    });
    group.bench_function("redis_cached", |b| {
        b.iter(|| {
            i = (i + 1) % CLIENTS;
            black_box(now(cached.client(black_box(&ids[i]))).unwrap())
        })
    });
    group.bench_function("redis_uncached", |b| {
        b.iter(|| {
            i = (i + 1) % CLIENTS;
            black_box(
                runtime
                    .block_on(uncached.client(black_box(&ids[i])))
                    .unwrap(),
            )
        })
    });

    // One signed request, rebuilt per iteration (a request is consumed): the same work for
    // both layers.
    let request = signed_post("/entity.find", &ids[0]);
    for (name, app) in [
        ("layer_memory", app(memory.clone())),
        ("layer_redis_cached", app(cached.clone())),
    ] {
        let response = runtime.block_on(app.clone().oneshot(request())).unwrap();
        assert_eq!(response.status(), 200, "{name}");
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime.block_on(async { black_box(app.clone().oneshot(request()).await.unwrap()) })
            })
        });
    }
    group.finish();

    runtime.block_on(async {
        for id in &ids {
            cached.remove(id).await.unwrap();
        }
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
