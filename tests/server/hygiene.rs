//! Secret hygiene: what the crate writes to traces, what `Debug` shows, and how outbound
//! credentials are marked.
//!
//! * Every trace event and span of a run of good and bad requests of every kind (the load
//!   harness's mix, a failing client store, a full replay guard, an unreachable Redis whose URL
//!   holds a password, outbound signing with clock-skew correction) is captured at TRACE level:
//!   no secret, signature, `Authorization` value or access token appears in it, while client
//!   ids and outcomes do.
//! * `Debug` of every type that holds a secret, a signature, a token or parameter values is
//!   redacted.
//! * Outbound `Authorization` headers are marked sensitive on the tower and the reqwest paths,
//!   janrain-signed and Basic.

use janrain_auth_test_support as support;

use janrain_auth_load as load;
use support::traces::captured;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use janrain_auth::client::{
    AuthMode, ClockSkewRetry, JanrainSigner, RequestSigner, SignLayer, UseClient,
};
use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
use janrain_auth::emulator::Emulator;
use janrain_auth::params::ParamList;
use janrain_auth::permissions::Feature;
use janrain_auth::scheme::{
    Authorization, ManualClock, SigningKey, StringToSign, basic_header, signature_header,
};
use janrain_auth::server::replay::{MemoryReplayGuard, RedisReplayGuard, ReplayKey};
use janrain_auth::server::{
    ClientStore, ClientsFile, MemoryStore, StoreError, StoreFuture, VerifyLayer,
};
use tower::{Service, ServiceBuilder, ServiceExt};

const CLIENTS: &str = include_str!("../../examples/demo-clients.json");
const REDIS_PASSWORD: &str = "redis-password-k9x2";
/// Secrets used on purpose by the traffic below (wrong ones included).
const EXTRA_SECRETS: &[&str] = &[
    "reader-secret-6e0f2c",
    "outbound-secret-51c7",
    "store-client-secret-77",
    REDIS_PASSWORD,
];
const TOKENS: &[&str] = &[
    "demo-access-token",
    "expired-access-token",
    "second-client-token",
];

// ---------------------------------------------------------------------------------------------
// Capturing every trace of the process.

/// Every secret and token the demo clients hold, plus those sent on purpose.
fn secrets() -> Vec<String> {
    let json: serde_json::Value = serde_json::from_str(CLIENTS).unwrap();
    let mut all: Vec<String> = json["clients"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["secrets"].as_array().unwrap().clone())
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    all.extend(EXTRA_SECRETS.iter().map(|s| s.to_string()));
    all
}

/// Substrings that look like a janrain-signed signature: 27 base64 characters and `=`.
fn signature_like(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let base64 = |c: u8| c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
    (0..b.len().saturating_sub(27))
        .filter(|&i| {
            b[i + 27] == b'='
                && b[i..i + 27].iter().all(|&c| base64(c))
                && (i == 0 || !base64(b[i - 1]))
                && b[i..i + 27]
                    .iter()
                    .any(|c| c.is_ascii_digit() || *c == b'+' || *c == b'/')
        })
        .map(|i| &text[i..i + 28])
        .collect()
}

/// A store that always fails, naming a client in its error (never a secret).
struct BrokenStore;

impl ClientStore for BrokenStore {
    fn client(&self, id: &str) -> StoreFuture<Result<Option<Arc<ApiClient>>, StoreError>> {
        StoreFuture::ready(Err(StoreError::new(format!(
            "database unreachable while looking up {id}"
        ))))
    }
}

async fn serve(layer: VerifyLayer) -> String {
    let app = Emulator::builder().layer(layer).router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn signed_header(
    id: &str,
    secret: &str,
    path: &str,
    date: &str,
    params: &[(&str, &str)],
) -> String {
    let sig = SigningKey::new(secret).sign(&StringToSign::new(path, date, params));
    signature_header(&ClientId::new(id).unwrap(), &sig)
        .to_str()
        .unwrap()
        .to_owned()
}

async fn post(base: &str, path: &str, headers: &[(&str, &str)], body: &str) -> u16 {
    let mut request = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_hold_no_secret_signature_or_token() {
    let captured = captured();

    // 1. Every kind of good and bad request, with the replay guard off and on.
    for replay in [false, true] {
        let report = load::run(load::Options {
            duration: Duration::from_millis(1500),
            concurrency: 8,
            replay,
            max_growth_mib: 64.0,
        })
        .await;
        assert!(report.verdict().is_ok(), "{}", report.render());
    }

    let now = janrain_auth::scheme::Datetime::from_system_time(std::time::SystemTime::now())
        .unwrap()
        .to_string();
    let params = [("type_name", "user")];

    // 2. A client store that fails: 503, and a warning naming the error only.
    let base = serve(VerifyLayer::builder(BrokenStore).build()).await;
    let auth = signed_header(
        "store_client",
        "store-client-secret-77",
        "/entity.find",
        &now,
        &params,
    );
    let status = post(
        &base,
        "/entity.find",
        &[("date", now.as_str()), ("authorization", auth.as_str())],
        "type_name=user",
    )
    .await;
    assert_eq!(status, 503);

    // 3. A full replay guard (capacity 1): the second signed request gets 503 and a warning.
    let (store, tokens) = ClientsFile::from_json(CLIENTS).unwrap().into_parts();
    let guard = MemoryReplayGuard::builder().capacity(1).shards(1).build();
    let base = serve(
        VerifyLayer::builder(store)
            .token_verifier(tokens)
            .replay_guard(guard)
            .build(),
    )
    .await;
    let mut statuses = Vec::new();
    for n in ["1", "2"] {
        let params = [("type_name", "user"), ("n", n)];
        let auth = signed_header(
            "reader_client",
            "reader-secret-6e0f2b",
            "/entity.find",
            &now,
            &params,
        );
        statuses.push(
            post(
                &base,
                "/entity.find",
                &[("date", now.as_str()), ("authorization", auth.as_str())],
                &format!("type_name=user&n={n}"),
            )
            .await,
        );
    }
    assert_eq!(statuses, [200, 503]);

    // 4. A Redis replay guard that cannot be reached, its URL holding a password.
    let (store, _) = ClientsFile::from_json(CLIENTS).unwrap().into_parts();
    let redis = RedisReplayGuard::builder(format!("redis://:{REDIS_PASSWORD}@127.0.0.1:1/"))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let base = serve(VerifyLayer::builder(store).replay_guard(redis).build()).await;
    let auth = signed_header(
        "reader_client",
        "reader-secret-6e0f2b",
        "/entity.find",
        &now,
        &params,
    );
    let status = post(
        &base,
        "/entity.find",
        &[("date", now.as_str()), ("authorization", auth.as_str())],
        "type_name=user",
    )
    .await;
    assert_eq!(status, 503);

    // 5. Outbound: the reqwest middleware with a clock an hour slow (refused, corrected,
    //    retried), in both modes, and the tower layer.
    let (store, tokens) = ClientsFile::from_json(CLIENTS).unwrap().into_parts();
    let base = serve(VerifyLayer::builder(store).token_verifier(tokens).build()).await;
    let outbound = Arc::new(
        ApiClient::new(
            ClientId::new("reader_client").unwrap(),
            ClientSecret::new("reader-secret-6e0f2b").unwrap(),
        )
        .with_feature(Feature::DirectReadAccess),
    );
    for mode in [AuthMode::Signature, AuthMode::Basic] {
        let slow = janrain_auth::scheme::OffsetClock::new(janrain_auth::scheme::SystemClock, -3600);
        let signer = RequestSigner::builder(outbound.clone())
            .base_url(base.clone())
            .mode(mode)
            .clock(slow)
            .build()
            .unwrap();
        let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(ClockSkewRetry::new())
            .with(JanrainSigner::new(signer.clone()))
            .build();
        let response = client
            .post(format!("{base}/entity.find"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("type_name=user")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{mode:?}");
        let mut tower_client = ServiceBuilder::new().layer(SignLayer::new(signer)).service(
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<Full<Bytes>>(),
        );
        let request = Request::post(format!("{base}/entity.find"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from_static(b"type_name=user")))
            .unwrap();
        let response = tower_client
            .ready()
            .await
            .unwrap()
            .call(request)
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{mode:?}");
    }
    // A secret that signs with another client for one request.
    let other = Arc::new(ApiClient::new(
        ClientId::new("outbound_client").unwrap(),
        ClientSecret::new("outbound-secret-51c7").unwrap(),
    ));
    let signer = RequestSigner::builder(outbound.clone())
        .base_url(base.clone())
        .build()
        .unwrap();
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(JanrainSigner::new(signer))
        .build();
    let response = client
        .post(format!("{base}/entity.find"))
        .with_extension(UseClient(other))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // Give the server tasks a moment to finish their last events.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let text = captured.text();
    if let Some(path) = std::env::var_os("HYGIENE_TRACE_FILE") {
        std::fs::write(path, &text).unwrap();
    }
    assert!(
        text.len() > 10_000,
        "too little was traced: {} bytes",
        text.len()
    );

    // Nothing secret.
    for secret in secrets() {
        assert!(!text.contains(&secret), "a secret in the traces: {secret}");
    }
    for token in TOKENS {
        assert!(
            !text.contains(token),
            "an access token in the traces: {token}"
        );
    }
    // The scanner finds a real signature (a check of the check).
    let sample = signed_header("c", "s", "/e", &now, &params);
    assert_eq!(signature_like(&sample).len(), 1, "{sample}");
    let signatures = signature_like(&text);
    assert!(
        signatures.is_empty(),
        "signature-like text in the traces: {signatures:?}"
    );
    assert!(
        !text.contains("OAuth "),
        "an OAuth Authorization value in the traces"
    );
    for id in [
        "reader_client",
        "direct_client",
        "owner_client",
        "issuer_client",
        "rotating_client",
        "login_client",
        "ghost_client",
        "store_client",
        "outbound_client",
    ] {
        assert!(
            !text.contains(&format!("Signature {id}:")),
            "a Signature Authorization value of {id} in the traces"
        );
        let encoded = basic_header(
            &ClientId::new(id).unwrap(),
            &ClientSecret::new("x").unwrap(),
        );
        let prefix = &encoded.to_str().unwrap()["Basic ".len()..][..8];
        assert!(
            !text.contains(prefix),
            "Basic credentials of {id} in the traces"
        );
    }

    // What should be there: client ids, the method, every outcome.
    for wanted in [
        r#"client_id="reader_client""#,
        r#"client_id="direct_client""#,
        r#"client_id="rotating_client""#,
        r#"client_id="login_client""#,
        r#"auth="signature""#,
        r#"auth="basic""#,
        r#"auth="login_client""#,
        r#"outcome="accepted""#,
    ] {
        assert!(text.contains(wanted), "{wanted:?} missing from the traces");
    }
    for reason in [
        "missing_credentials",
        "malformed_credentials",
        "invalid_credentials",
        "auth_method_not_accepted",
        "signature_mismatch",
        "invalid_date",
        "date_out_of_window",
        "replayed",
        "permission_denied",
        "body_too_large",
        "invalid_parameters",
        "missing_argument",
        "invalid_access_token",
        "access_token_expired",
        "access_token_other_client",
        "unknown_operation",
        "store_unavailable",
        "replay_guard_unavailable",
    ] {
        assert!(
            text.contains(&format!("outcome=\"{reason}\"")),
            "outcome {reason} missing from the traces"
        );
    }
    assert!(text.contains("client store failed"));
    assert!(text.contains("database unreachable while looking up store_client"));
    assert!(text.contains("replay guard unavailable"));
    assert!(text.contains("corrected the clock"));
}

#[test]
fn debug_output_is_redacted() {
    let secret = "debug-secret-3b8e";
    let other = "debug-secret-rotated-9c1a";
    let check = |what: &str, dbg: String, hidden: &[&str]| {
        for h in hidden {
            assert!(!dbg.contains(h), "{what} shows {h:?}: {dbg}");
        }
    };
    let id = ClientId::new("debug_client").unwrap();
    let client_secret = ClientSecret::new(secret).unwrap();
    check(
        "ClientSecret",
        format!("{client_secret:?} {client_secret}"),
        &[secret],
    );
    let api = ApiClient::new(id.clone(), client_secret.clone())
        .with_secret(ClientSecret::new(other).unwrap())
        .with_feature(Feature::Owner);
    check("ApiClient", format!("{api:?}"), &[secret, other]);
    assert!(format!("{api:?}").contains("debug_client"));
    let key = SigningKey::new(secret);
    check("SigningKey", format!("{key:?}"), &[secret]);

    let params = [("password", "hunter2-value"), ("type_name", "user")];
    let sts = StringToSign::new("/entity.find", "2026-03-01 12:00:00", &params);
    check("StringToSign", format!("{sts:?}"), &["hunter2-value"]);
    assert!(format!("{sts:?}").contains("password"));
    let sig = key.sign(&sts);
    check("Signature", format!("{sig:?}"), &[sig.as_str()]);

    let header = signature_header(&id, &sig);
    assert!(header.is_sensitive());
    let parsed = Authorization::parse(header.as_bytes()).unwrap();
    check(
        "Authorization::Signature",
        format!("{parsed:?}"),
        &[sig.as_str()],
    );
    if let Authorization::Signature(creds) = &parsed {
        check(
            "SignatureCredentials",
            format!("{creds:?}"),
            &[sig.as_str()],
        );
    }
    let basic = basic_header(&id, &client_secret);
    assert!(basic.is_sensitive());
    let encoded = basic.to_str().unwrap()["Basic ".len()..].to_owned();
    let parsed = Authorization::parse(basic.as_bytes()).unwrap();
    check(
        "Authorization::Basic",
        format!("{parsed:?}"),
        &[secret, &encoded],
    );
    if let Authorization::Basic(creds) = &parsed {
        check(
            "BasicCredentials",
            format!("{creds:?}"),
            &[secret, &encoded],
        );
    }
    // A header map holding both shows neither.
    let mut headers = http::HeaderMap::new();
    headers.insert("authorization", basic.clone());
    headers.append("authorization", header.clone());
    check(
        "HeaderMap",
        format!("{headers:?}"),
        &[&encoded, sig.as_str()],
    );

    let list = ParamList::from_urlencoded(b"password=hunter2-value&type_name=user").unwrap();
    check("ParamList", format!("{list:?}"), &["hunter2-value"]);

    let file = ClientsFile::from_json(CLIENTS).unwrap();
    let dbg = format!("{file:?}");
    check(
        "ClientsFile / TokenGrant",
        dbg,
        &secrets().iter().map(String::as_str).collect::<Vec<_>>(),
    );
    check(
        "ClientsFile / TokenGrant",
        format!("{:?}", file.tokens),
        TOKENS,
    );
    let (store, tokens) = file.into_parts();
    check(
        "MemoryStore",
        format!("{store:?}"),
        &secrets().iter().map(String::as_str).collect::<Vec<_>>(),
    );
    check("MemoryTokens", format!("{tokens:?}"), TOKENS);

    let signer = RequestSigner::builder(api.clone())
        .base_url("https://app.example")
        .build()
        .unwrap();
    check("RequestSigner", format!("{signer:?}"), &[secret, other]);
    let basic_signer = RequestSigner::builder(api.clone())
        .base_url("https://app.example")
        .mode(AuthMode::Basic)
        .build()
        .unwrap();
    check(
        "RequestSigner (Basic)",
        format!("{basic_signer:?}"),
        &[secret, other],
    );
    check(
        "JanrainSigner",
        format!("{:?}", JanrainSigner::new(signer.clone())),
        &[secret, other],
    );
    check(
        "SignLayer",
        format!("{:?}", SignLayer::new(signer.clone())),
        &[secret, other],
    );
    check(
        "BufferingSignLayer",
        format!("{:?}", SignLayer::new(signer).buffering(1024)),
        &[secret, other],
    );
    check(
        "UseClient",
        format!("{:?}", UseClient(Arc::new(api))),
        &[secret, other],
    );

    let key = ReplayKey {
        client_id: "debug_client",
        signature: sig.as_str(),
    };
    check("ReplayKey", format!("{key:?}"), &[sig.as_str()]);
    let guard = MemoryReplayGuard::builder().capacity(16);
    check(
        "MemoryReplayGuardBuilder",
        format!("{guard:?}"),
        &[sig.as_str()],
    );
    check(
        "MemoryReplayGuard",
        format!("{:?}", guard.build()),
        &[sig.as_str()],
    );
    let url = format!("redis://user:{REDIS_PASSWORD}@127.0.0.1:6379/0");
    let builder = RedisReplayGuard::builder(url.as_str());
    check(
        "RedisReplayGuardBuilder",
        format!("{builder:?}"),
        &[REDIS_PASSWORD],
    );
    let redis = builder.build().unwrap();
    check("RedisReplayGuard", format!("{redis:?}"), &[REDIS_PASSWORD]);
    assert!(
        !redis.server().contains(REDIS_PASSWORD),
        "{}",
        redis.server()
    );
    let layer = VerifyLayer::builder(store)
        .token_verifier(tokens)
        .replay_guard(redis);
    check(
        "VerifyLayerBuilder",
        format!("{layer:?}"),
        &[REDIS_PASSWORD],
    );
    check(
        "VerifyLayer",
        format!("{:?}", layer.build()),
        &[REDIS_PASSWORD],
    );
    let _ = ManualClock::at("2026-03-01 12:00:00".parse().unwrap());
}

/// The `Authorization` header a request leaves the client with is marked sensitive (so HTTP/2
/// never indexes it and `Debug` of the request hides it), on both front ends and in both modes.
#[tokio::test]
async fn outbound_authorization_is_sensitive() {
    let api = Arc::new(ApiClient::new(
        ClientId::new("out_client").unwrap(),
        ClientSecret::new("out-secret-2d9f").unwrap(),
    ));
    for mode in [AuthMode::Signature, AuthMode::Basic] {
        let signer = RequestSigner::builder(api.clone())
            .base_url("http://127.0.0.1:9")
            .mode(mode)
            .build()
            .unwrap();

        // tower: the inner service sees the signed request and answers itself.
        let seen = Arc::new(Mutex::new(None::<bool>));
        let record = seen.clone();
        let inner = tower::service_fn(move |request: Request<Full<Bytes>>| {
            let record = record.clone();
            async move {
                let value = &request.headers()["authorization"];
                *record.lock().unwrap() = Some(value.is_sensitive());
                assert!(!format!("{request:?}").contains("out-secret-2d9f"));
                Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::new())))
            }
        });
        let service = ServiceBuilder::new()
            .layer(SignLayer::new(signer.clone()))
            .service(inner);
        let request = Request::post("http://127.0.0.1:9/entity.find")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from_static(b"type_name=user")))
            .unwrap();
        service.oneshot(request).await.unwrap();
        assert_eq!(*seen.lock().unwrap(), Some(true), "tower, {mode:?}");

        // reqwest: a middleware inside the signer sees the request and answers itself.
        let seen = Arc::new(Mutex::new(None::<bool>));
        let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(JanrainSigner::new(signer.clone()))
            .with(Inspect(seen.clone()))
            .build();
        let response = client
            .post("http://127.0.0.1:9/entity.find")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("type_name=user")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
        assert_eq!(*seen.lock().unwrap(), Some(true), "reqwest, {mode:?}");

        // Signing a request directly.
        let mut request = Request::post("http://127.0.0.1:9/entity.find")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from_static(b"type_name=user")))
            .unwrap();
        signer.sign_http(&mut request).unwrap();
        assert!(request.headers()["authorization"].is_sensitive());
        let mut request = reqwest::Client::new()
            .post("http://127.0.0.1:9/entity.find")
            .body("type_name=user")
            .build()
            .unwrap();
        signer
            .sign_reqwest(&mut request, &http::Extensions::new())
            .unwrap();
        assert!(request.headers()["authorization"].is_sensitive());
    }
}

/// Records whether the `Authorization` header is sensitive, then answers 204 itself.
struct Inspect(Arc<Mutex<Option<bool>>>);

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for Inspect {
    async fn handle(
        &self,
        request: reqwest::Request,
        _extensions: &mut http::Extensions,
        _next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let value = &request.headers()["authorization"];
        *self.0.lock().unwrap() = Some(value.is_sensitive());
        let response = http::Response::builder()
            .status(204)
            .body(Vec::<u8>::new())
            .unwrap();
        Ok(reqwest::Response::from(response))
    }
}

/// Basic secrets are checked by comparing MACs in constant time, independent of the
/// password's length and of which secret of the client matches; a password that is a prefix
/// or an extension of the secret, or equal to it but for one byte, is refused.
#[test]
fn basic_secrets_are_compared_whole() {
    let secret = "basic-secret-0f3e";
    let client = ApiClient::new(
        ClientId::new("c").unwrap(),
        ClientSecret::new("first-secret-aa11").unwrap(),
    )
    .with_secret(ClientSecret::new(secret).unwrap());
    assert!(client.verify_basic_secret(secret));
    assert!(client.verify_basic_secret("first-secret-aa11"));
    for i in 0..secret.len() {
        assert!(!client.verify_basic_secret(&secret[..i]));
        let mut flipped = secret.as_bytes().to_vec();
        flipped[i] ^= 1;
        assert!(!client.verify_basic_secret(std::str::from_utf8(&flipped).unwrap()));
    }
    assert!(!client.verify_basic_secret(&format!("{secret}x")));
    assert!(!client.verify_basic_secret(&format!("{secret}\0")));
    // A signature received is compared whole too.
    let key = SigningKey::new(secret);
    let sts = StringToSign::new("/e", "2026-03-01 12:00:00", &[("a", "1")]);
    let sig = key.sign(&sts);
    assert!(sig.ct_matches(sig.as_str().as_bytes()));
    for i in 0..sig.as_bytes().len() {
        let mut wrong = *sig.as_bytes();
        wrong[i] ^= 0x20;
        assert!(!sig.ct_matches(&wrong));
        assert!(!sig.ct_matches(&sig.as_bytes()[..i]));
    }
    let _ = MemoryStore::new();
}
