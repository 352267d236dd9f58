//! What the verification layer adds to a request, in process: the same axum Router called with
//! the same typical signed form POST, with and without the layer. The difference of the two
//! is the layer's cost (header parsing, client lookup, body read and put back, parameter
//! decoding, signature, permission check).
//!
//! `cargo bench --bench layer`

mod support;

use std::hint::black_box;
use support::{DATE, PARAMS};

use axum::Router;
use axum::body::Body;
use axum::routing::post;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
use janrain_auth::params::encode_urlencoded;
use janrain_auth::permissions::Feature;
use janrain_auth::scheme::{ManualClock, SigningKey, StringToSign, signature_header};
use janrain_auth::server::{MemoryStore, VerifyLayer};
use tower::{Service, ServiceExt};

async fn handler(body: String) -> String {
    black_box(body);
    String::from("{\"stat\":\"ok\"}")
}

fn bench(c: &mut Criterion) {
    let client = ApiClient::new(
        ClientId::new("apkrahlfumwse2e9nvrrotv6vchuptzw").unwrap(),
        ClientSecret::new("rylicq8ydkz0vmki3gqaoxbk4gyrr05t").unwrap(),
    )
    .with_feature(Feature::DirectAccess);
    let sig = SigningKey::new("rylicq8ydkz0vmki3gqaoxbk4gyrr05t").sign(&StringToSign::new(
        "/entity.update",
        DATE,
        &PARAMS,
    ));
    let authorization = signature_header(client.id(), &sig);
    let body = bytes::Bytes::from(encode_urlencoded(&PARAMS));
    let layer = VerifyLayer::builder(MemoryStore::new().with(client))
        .clock(ManualClock::at(DATE.parse().unwrap()))
        .build();
    let bare: Router = Router::new().route("/entity.update", post(handler));
    let verified: Router = Router::new()
        .route("/entity.update", post(handler))
        .layer(layer);

    let request = || {
        Request::post("/entity.update")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("content-length", body.len())
            .header("date", DATE)
            .header("authorization", authorization.clone())
            .body(Body::from(body.clone()))
            .unwrap()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Both routers must answer 200 before they are timed.
    for router in [&bare, &verified] {
        let response = runtime.block_on(router.clone().oneshot(request())).unwrap();
        assert_eq!(
            response.status(),
            200,
            "the benchmark request must be accepted"
        );
    }

    let mut group = c.benchmark_group("layer");
    group.bench_function("signed_post/without_layer", |b| {
        let mut svc = bare.clone();
        b.iter(|| {
            runtime.block_on(async {
                let svc = ServiceExt::<Request<Body>>::ready(&mut svc).await.unwrap();
                black_box(svc.call(request()).await.unwrap())
            })
        })
    });
    group.bench_function("signed_post/with_layer", |b| {
        let mut svc = verified.clone();
        b.iter(|| {
            runtime.block_on(async {
                let svc = ServiceExt::<Request<Body>>::ready(&mut svc).await.unwrap();
                black_box(svc.call(request()).await.unwrap())
            })
        })
    });
    // The parameter decoder alone, on the same form body.
    group.bench_function("decode_form/typical", |b| {
        b.iter(|| {
            black_box(janrain_auth::params::ParamList::from_urlencoded(black_box(&body)).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
