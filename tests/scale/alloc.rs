//! Signing and verifying a typical request allocates nothing, and neither does writing the
//! string to sign into a buffer with room. The verification layer adds at most three
//! allocations to a typical signed form POST through an axum router.
//!
//! The binary's counting allocator (`counting.rs`) counts the allocations made by the current
//! thread while a thread-local flag is up, so the test harness's other threads (and other tests
//! running in parallel) never disturb the count.

use std::hint::black_box;

use crate::counting::allocations;
use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
use janrain_auth::params::{ParamList, encode_urlencoded};
use janrain_auth::scheme::{Canonicalization, ParamOrder, SigningKey, StringToSign};

const SECRET: &str = "rylicq8ydkz0vmki3gqaoxbk4gyrr05t";
const ENDPOINT: &str = "/oauth/auth_native_traditional";
const DATE: &str = "2021-03-04 05:06:07";

/// A traditional sign-in, in the order a form sends it: 6 parameters, about 250 bytes to sign.
const TYPICAL: [(&str, &str); 6] = [
    ("flow", "standard"),
    ("flow_version", "9d5d7b1c-3c36-4bce-bd1f-54c9b2a0ee34"),
    ("locale", "en-US"),
    ("redirect_uri", "https://www.example.com/janrain/cb"),
    ("signInEmailAddress", "jane.doe@example.com"),
    ("currentPassword", "correct horse battery staple"),
];

#[test]
fn the_counter_counts() {
    let (n, v) = allocations(|| vec![1u8; 10]);
    assert_eq!(n, 1);
    drop(v);
    let (n, _) = allocations(|| 1 + 1);
    assert_eq!(n, 0);
}

#[test]
fn the_typical_request_is_typical() {
    let sts = StringToSign::new(ENDPOINT, DATE, &TYPICAL);
    let len = sts.len();
    assert!((230..=280).contains(&len), "{len} bytes");
}

#[test]
fn sign_and_verify_an_array_allocate_nothing() {
    let key = SigningKey::new(SECRET);
    let expected = key.sign(&StringToSign::new(ENDPOINT, DATE, &TYPICAL));

    let (n, sig) = allocations(|| {
        let sts = StringToSign::new(black_box(ENDPOINT), black_box(DATE), black_box(&TYPICAL));
        key.sign(&sts)
    });
    assert_eq!(n, 0, "SigningKey::sign of a [(&str, &str); 6] allocated");
    assert_eq!(sig, expected);

    let (n, ok) = allocations(|| {
        let sts = StringToSign::new(black_box(ENDPOINT), black_box(DATE), black_box(&TYPICAL));
        key.verify(&sts, black_box(expected.as_bytes()))
    });
    assert_eq!(n, 0, "SigningKey::verify allocated");
    assert!(ok);

    // A slice, and a rejected signature, too.
    let (n, ok) = allocations(|| {
        let sts = StringToSign::new(ENDPOINT, DATE, black_box(&TYPICAL[..]));
        key.verify(&sts, black_box(b"AAAAAAAAAAAAAAAAAAAAAAAAAAA="))
    });
    assert_eq!(n, 0, "a refused verification allocated");
    assert!(!ok);
}

#[test]
fn sign_and_verify_a_param_list_allocate_nothing() {
    let key = SigningKey::new(SECRET);
    // Built (and so allocated) before counting, as a verifier gets it from the request body.
    let body = encode_urlencoded(&TYPICAL);
    let list = ParamList::from_urlencoded(body.as_bytes()).unwrap();
    let expected = key.sign(&StringToSign::new(ENDPOINT, DATE, &TYPICAL));

    let (n, sig) = allocations(|| key.sign(&StringToSign::new(ENDPOINT, DATE, black_box(&list))));
    assert_eq!(n, 0, "SigningKey::sign of a ParamList allocated");
    assert_eq!(sig, expected);

    let (n, ok) = allocations(|| {
        key.verify(
            &StringToSign::new(ENDPOINT, DATE, black_box(&list)),
            black_box(expected.as_bytes()),
        )
    });
    assert_eq!(n, 0, "SigningKey::verify of a ParamList allocated");
    assert!(ok);
}

#[test]
fn verifying_with_every_variant_allocates_nothing() {
    let client = ApiClient::new(
        ClientId::new("apkrahlfumwse2e9nvrrotv6vchuptzw").unwrap(),
        ClientSecret::new(SECRET).unwrap(),
    )
    .with_secret(ClientSecret::new("a-second-secret-during-rotation").unwrap());
    let forms = [
        Canonicalization::CANONICAL,
        Canonicalization::CANONICAL.with_order(ParamOrder::Key),
        Canonicalization::SAMPLE_CODE,
    ];
    // Parameters whose line and key orders differ, so every form is really computed.
    let params = [
        ("birthdate", "1990-01-01"),
        ("birthdate.year", "1990"),
        ("key", "a"),
        ("key1", "b"),
    ];
    let key_order = Canonicalization::CANONICAL.with_order(ParamOrder::Key);
    let sig = SigningKey::new(SECRET)
        .sign(&StringToSign::new(ENDPOINT, DATE, &params).with_form(key_order));

    let (n, found) = allocations(|| {
        client.verify_signature(
            &StringToSign::new(ENDPOINT, DATE, black_box(&params)),
            black_box(&forms),
            black_box(sig.as_bytes()),
        )
    });
    assert_eq!(n, 0, "ApiClient::verify_signature with variants allocated");
    assert_eq!(found, Some(key_order));
}

#[test]
fn a_long_request_allocates_nothing_either() {
    // 32 parameters (the most sorted on the stack), 4 KiB: the MAC's buffer spills repeatedly.
    let owned: Vec<(String, String)> = (0..32)
        .rev()
        .map(|i| (format!("attribute_{i:02}"), "x".repeat(120)))
        .collect();
    let key = SigningKey::new(SECRET);
    let expected = key.sign(&StringToSign::new("/entity.update", DATE, &owned));
    let (n, sig) = allocations(|| {
        key.sign(&StringToSign::new(
            "/entity.update",
            DATE,
            black_box(&owned),
        ))
    });
    assert_eq!(n, 0, "signing 32 parameters allocated");
    assert_eq!(sig, expected);
}

#[test]
fn writing_the_string_into_a_reused_buffer_allocates_nothing() {
    let mut buf = Vec::with_capacity(4096);
    for form in [
        Canonicalization::CANONICAL,
        Canonicalization::CANONICAL.with_order(ParamOrder::Key),
        Canonicalization::SAMPLE_CODE,
    ] {
        let sts = StringToSign::new(ENDPOINT, DATE, &TYPICAL).with_form(form);
        let (n, ()) = allocations(|| {
            buf.clear();
            sts.write_into(black_box(&mut buf));
        });
        assert_eq!(n, 0, "write_into with room allocated ({form:?})");
        assert_eq!(buf, sts.to_bytes());
    }
}

/// The typical signed form POST through the same axum router, with and without the layer.
///
/// Around the router, the layer makes at most three allocations more. They are
///
/// 1. the request extension [`AuthenticatedClient`](janrain_auth::server::AuthenticatedClient)
///    (`http::Extensions` boxes every value it holds),
/// 2. the request extension [`VerifiedParams`](janrain_auth::server::VerifiedParams) (boxed
///    likewise; a small form's decoded parameters live inside it, in no buffer of their own),
/// 3. the router boxing the body the layer hands on (it takes any body type, and boxes every
///    one that is not its own).
///
/// Reading the form body, decoding it, the client lookup, the signature, the verification's
/// own future and the answer allocate nothing.
///
/// Inside the router (`Router::layer`), axum adds three of its own, as it would for any layer
/// with body types of its own: it clones the boxed layered route for each request, and boxes
/// the response body too (and the request body, as above).
#[test]
fn the_layer_adds_at_most_three_allocations_to_a_signed_post() {
    let (without, around, inside) = allocations_per_request(LayerFor::Builtin);
    println!(
        "allocations: {without} without the layer, {around} with it around the router, \
         {inside} with it inside (Router::layer)"
    );
    assert!(
        around <= without + 3,
        "the layer added {} allocations ({without} without it, {around} with it)",
        around.saturating_sub(without)
    );
    assert!(
        inside <= around + 3,
        "axum added {} allocations for the layer inside the router ({around} around, {inside} inside)",
        inside.saturating_sub(around)
    );
}

/// An operation of the server's own whose path is an owned `String` costs one allocation
/// more than a built-in one (the operation's name, handed to the handler as text of its own),
/// never a copy of the operation per request.
#[test]
fn an_owned_custom_operation_adds_one_allocation_at_most() {
    let (_, builtin, _) = allocations_per_request(LayerFor::Builtin);
    let (without, custom, _) = allocations_per_request(LayerFor::OwnedCustom);
    println!(
        "allocations: {without} without the layer, {custom} with it for an owned custom operation"
    );
    assert!(
        custom <= builtin + 1,
        "an owned custom operation costs {custom} allocations, a built-in one {builtin}"
    );
}

/// Which operation the request of [`allocations_per_request`] calls.
#[derive(Clone, Copy)]
enum LayerFor {
    /// The built-in `/entity.update`.
    Builtin,
    /// `/entity.update` replaced by an operation of the server's own, its path a `String`.
    OwnedCustom,
}

/// The allocations of the typical signed form POST through an axum router: without the
/// layer, with it around the router, and with it inside (`Router::layer`).
fn allocations_per_request(operation: LayerFor) -> (usize, usize, usize) {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::post;
    use janrain_auth::permissions::{AuthMethods, Feature, Features, Operation};
    use janrain_auth::scheme::{ManualClock, signature_header};
    use janrain_auth::server::{MemoryStore, VerifyLayer};
    use tower::{Layer, Service, ServiceExt};

    async fn handler(body: String) -> String {
        black_box(body);
        String::from("{\"stat\":\"ok\"}")
    }

    const PATH: &str = "/entity.update";
    const BENCH_DATE: &str = "2026-03-01 12:00:00";
    const CLIENT_ID: &str = "apkrahlfumwse2e9nvrrotv6vchuptzw";
    // The benches' typical request: six parameters, a 261-byte string to sign.
    const PARAMS: [(&str, &str); 6] = [
        ("type_name", "user"),
        ("uuid", "7d19b8a2-5c4e-4f7b-9a61-2f0c3e8d1b44"),
        (
            "attributes",
            r#"["uuid", "email", "givenName", "familyName"]"#,
        ),
        ("value", r#"{"givenName": "Zoë", "familyName": "Example"}"#),
        ("include_record", "true"),
        ("created", "2016-02-26 19:08:44"),
    ];

    let client = ApiClient::new(
        ClientId::new(CLIENT_ID).unwrap(),
        ClientSecret::new(SECRET).unwrap(),
    )
    .with_feature(Feature::DirectAccess);
    let signature = SigningKey::new(SECRET).sign(&StringToSign::new(PATH, BENCH_DATE, &PARAMS));
    let authorization = signature_header(client.id(), &signature);
    let body = bytes::Bytes::from(encode_urlencoded(&PARAMS));
    let request = || {
        http::Request::post(PATH)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("content-length", body.len())
            .header("date", BENCH_DATE)
            .header("authorization", authorization.clone())
            .body(Body::from(body.clone()))
            .unwrap()
    };
    let mut builder = VerifyLayer::builder(MemoryStore::new().with(client))
        .clock(ManualClock::at(BENCH_DATE.parse().unwrap()));
    if let LayerFor::OwnedCustom = operation {
        builder = builder.operation(
            Operation::new(
                String::from(PATH),
                AuthMethods::HEADER,
                Features::of(&[Feature::DirectAccess]),
            )
            .named(String::from("update a record")),
        );
    }
    let layer = builder.build();
    // `with_state` readies the routes once, as `axum::serve` does; a router without it builds
    // each route's service anew on every request, and a layered route costs more to build.
    let bare: Router = Router::new().route(PATH, post(handler)).with_state(());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    // The allocations of one request (built beforehand) through `service`, answer dropped;
    // the first calls warm up what is set up once (lazy statics, the runtime).
    fn count<S, B>(
        runtime: &tokio::runtime::Runtime,
        service: S,
        request: &dyn Fn() -> http::Request<Body>,
    ) -> usize
    where
        S: Service<http::Request<Body>, Response = http::Response<B>> + Clone,
        S::Error: std::fmt::Debug,
    {
        let mut service = service;
        let mut last = 0;
        for _ in 0..3 {
            let request = request();
            let (n, status) = allocations(|| {
                runtime.block_on(async {
                    let ready = ServiceExt::<http::Request<Body>>::ready(&mut service)
                        .await
                        .unwrap();
                    let response = ready.call(request).await.unwrap();
                    let status = response.status();
                    drop(response);
                    status
                })
            });
            assert_eq!(status, 200, "the request must be accepted");
            last = n;
        }
        last
    }
    let without = count(&runtime, bare.clone(), &request);
    let around = count(&runtime, layer.layer(bare.clone()), &request);
    let inside = count(
        &runtime,
        Router::new()
            .route(PATH, post(handler))
            .layer(layer)
            .with_state(()),
        &request,
    );
    (without, around, inside)
}
