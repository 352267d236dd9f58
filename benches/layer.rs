//! What the verification layer adds to a request, in process: the same axum Router called with
//! the same typical signed form POST, with and without the layer. The difference of the two
//! is the layer's cost (header parsing, client lookup, body read and put back, parameter
//! decoding, signature, permission check).
//!
//! `signed_post_late_body/*` sends the same request with its body one poll late, the way
//! hyper's HTTP/1 server hands a body over (it is read only once polled): the path every
//! request takes over real HTTP, where the first poll of the body waits.
//!
//! `cargo bench --bench layer`
//!
//! Instruction counts, repeatable on a busy machine: with `LAYER_COUNT=N` set, the binary sends
//! `N` requests through each router whose id contains one of its arguments and exits, and
//! `python3 benches/ratios.py --instructions <bench binary> layer/signed_post/with_layer
//! layer/signed_post/without_layer` runs that under callgrind and prints the instructions per
//! request.

mod support;

use std::hint::black_box;
use support::{CLIENT_ID, DATE, PARAMS, SECRET, signed_post, signed_post_late_body};

use axum::Router;
use axum::body::Body;
use axum::routing::post;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
use janrain_auth::params::encode_urlencoded;
use janrain_auth::permissions::Feature;
use janrain_auth::scheme::ManualClock;
use janrain_auth::server::{MemoryStore, VerifyLayer};
use tower::{Service, ServiceExt};

/// What makes a fresh copy of a bench request (each call consumes one).
type MakeRequest = dyn Fn() -> Request<Body>;

async fn handler(body: String) -> String {
    black_box(body);
    String::from("{\"stat\":\"ok\"}")
}

fn bench(c: &mut Criterion) {
    let client = ApiClient::new(
        ClientId::new(CLIENT_ID).unwrap(),
        ClientSecret::new(SECRET).unwrap(),
    )
    .with_feature(Feature::DirectAccess);
    let layer = VerifyLayer::builder(MemoryStore::new().with(client))
        .clock(ManualClock::at(DATE.parse().unwrap()))
        .build();
    // `with_state` readies each route's service once, as `axum::serve` does; without it axum
    // builds them anew for every request, which costs a layered route more than a bare one
    // and would be counted as the layer's.
    let bare: Router = Router::new()
        .route("/entity.update", post(handler))
        .with_state(());
    let verified: Router = Router::new()
        .route("/entity.update", post(handler))
        .layer(layer)
        .with_state(());
    // A layer that does nothing (tower's `Identity`): what axum's `Router::layer` itself adds
    // to a route, whatever the layer (a clone of the boxed route, and its future boxed).
    let identity: Router = Router::new()
        .route("/entity.update", post(handler))
        .layer(tower::layer::util::Identity::new())
        .with_state(());

    let request = signed_post("/entity.update", CLIENT_ID);
    // The same request with its body one poll late, as hyper's server hands bodies over.
    let late = signed_post_late_body("/entity.update", CLIENT_ID);
    // The form body alone, for the decoder's own bench.
    let body = encode_urlencoded(&PARAMS);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The routers and the request each is sent, by bench id (under `layer/`).
    let routers: [(&str, &Router, &MakeRequest); 5] = [
        ("signed_post/without_layer", &bare, &request),
        ("signed_post/with_layer", &verified, &request),
        ("signed_post/identity_layer", &identity, &request),
        ("signed_post_late_body/without_layer", &bare, &late),
        ("signed_post_late_body/with_layer", &verified, &late),
    ];
    // Every router must answer 200 before it is timed.
    for (_, router, request) in routers {
        let response = runtime.block_on(router.clone().oneshot(request())).unwrap();
        assert_eq!(
            response.status(),
            200,
            "the benchmark request must be accepted"
        );
    }

    if let Ok(calls) = std::env::var("LAYER_COUNT") {
        let calls: u64 = calls.parse().expect("LAYER_COUNT is a number of requests");
        let filters: Vec<String> = std::env::args().skip(1).collect();
        for (id, router, request) in routers {
            let id = format!("layer/{id}");
            if filters.iter().any(|f| id.contains(f.as_str())) {
                let mut svc = router.clone();
                counted(calls, || {
                    runtime.block_on(async {
                        let svc = ServiceExt::<Request<Body>>::ready(&mut svc).await.unwrap();
                        svc.call(request()).await.unwrap()
                    })
                });
                println!("{id}: {calls} requests");
            }
        }
        std::process::exit(0);
    }

    let mut group = c.benchmark_group("layer");
    for (id, router, request) in routers {
        group.bench_function(id, |b| {
            let mut svc = router.clone();
            b.iter(|| {
                runtime.block_on(async {
                    let svc = ServiceExt::<Request<Body>>::ready(&mut svc).await.unwrap();
                    black_box(svc.call(request()).await.unwrap())
                })
            })
        });
    }
    // The parameter decoder alone, on the same form body.
    group.bench_function("decode_form/typical", |b| {
        b.iter(|| {
            black_box(
                janrain_auth::params::ParamList::from_urlencoded(black_box(body.as_bytes()))
                    .unwrap(),
            )
        })
    });
    // The same form with every `%` and `+` replaced by `x`: runs of ordinary bytes only, 273
    // of them, more than a list holds inline.
    let plain: Vec<u8> = body
        .bytes()
        .map(|b| if b == b'%' || b == b'+' { b'x' } else { b })
        .collect();
    group.bench_function("decode_form/plain", |b| {
        b.iter(|| {
            black_box(
                janrain_auth::params::ParamList::from_urlencoded(black_box(&plain[..])).unwrap(),
            )
        })
    });
    group.finish();
}

/// The loop callgrind counts (`--toggle-collect='*counted*'`): the routine `calls` times.
#[inline(never)]
fn counted<R>(calls: u64, mut routine: impl FnMut() -> R) {
    for _ in 0..calls {
        black_box(routine());
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
