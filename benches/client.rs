//! The client middleware's own cost per request, network excluded: what `JanrainSigner` does to
//! a `reqwest::Request` before handing it on (decode the query and the form body, read the
//! clock, sign, insert `Date` and `Authorization`), against a bare clone of the request (the
//! baseline every iteration pays, since signing needs a fresh unsigned request).
//!
//! ```text
//! cargo bench --bench client
//! ```

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use http::Extensions;
use janrain_auth::client::RequestSigner;
use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};

fn requests() -> Vec<(&'static str, reqwest::Request)> {
    let http = reqwest::Client::new();
    let base = "https://myapp.janraincapture.com";
    // An entity.find as a Capture client sends it: four form parameters, 150 bytes of body.
    let typical = http
        .post(format!("{base}/entity.find"))
        .form(&[
            ("type_name", "user"),
            ("filter", "email = 'someone@example.com'"),
            (
                "attributes",
                r#"["uuid", "email", "givenName", "familyName"]"#,
            ),
            ("max_results", "10"),
        ])
        .build()
        .unwrap();
    let query = http
        .get(format!("{base}/entity.count"))
        .query(&[
            ("type_name", "user"),
            ("filter", "lastUpdated >= '2016-01-01'"),
        ])
        .build()
        .unwrap();
    let pairs: Vec<(String, String)> = (0..32)
        .map(|i| {
            (
                format!("attribute_{i:02}"),
                format!("value number {i} with some text"),
            )
        })
        .collect();
    let large = http
        .post(format!("{base}/entity.update"))
        .form(&pairs)
        .build()
        .unwrap();
    vec![
        ("typical", typical),
        ("query", query),
        ("large_32_params", large),
    ]
}

fn bench(c: &mut Criterion) {
    let api = ApiClient::new(
        ClientId::new("apkrahlfumwse2e9nvrrotv6vchuptzw").unwrap(),
        ClientSecret::new("rylicq8ydkz0vmki3gqaoxbk4gyrr05t").unwrap(),
    );
    let signer = RequestSigner::builder(api)
        .base_url("https://myapp.janraincapture.com")
        .build()
        .unwrap();
    let extensions = Extensions::new();
    let mut group = c.benchmark_group("client");
    for (name, request) in requests() {
        group.bench_with_input(
            BenchmarkId::new("baseline", name),
            &request,
            |b, request| b.iter(|| black_box(request.try_clone().unwrap())),
        );
        group.bench_with_input(
            BenchmarkId::new("sign_request", name),
            &request,
            |b, request| {
                b.iter(|| {
                    let mut request = request.try_clone().unwrap();
                    signer.sign_reqwest(&mut request, &extensions).unwrap();
                    black_box(request)
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
