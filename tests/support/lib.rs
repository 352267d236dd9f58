//! What the test binaries share (`tests/{scheme,server,client,scale}`): the emulator on a loopback port, the
//! demo clients, janrain-signed requests built by hand, answers read as Janrain envelopes, and
//! captured logs.

#![allow(dead_code)]

pub mod client;
pub mod example_server;
pub mod examples;
pub mod proxy;
pub mod redis_servers;
pub mod traces;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use janrain_auth::credentials::ClientId;
use janrain_auth::emulator::Emulator;
use janrain_auth::error::JanrainError;
use janrain_auth::params::encode_urlencoded;
use janrain_auth::scheme::{ManualClock, Params, SigningKey, StringToSign, signature_header};
use janrain_auth::server::{ClientsFile, Deferred, VerifyLayer, VerifyLayerBuilder};
use serde_json::Value;

/// The time every server and request of these tests agrees on.
pub const NOW: &str = "2026-03-01 12:00:00";
/// The demo clients and tokens (`examples/demo-clients.json`), and the first secret of each.
pub use janrain_auth_load::{CLIENTS, secret};
/// A demo client with `direct_read_access`, and its secret.
pub const READER: (&str, &str) = ("reader_client", "reader-secret-6e0f2b");
/// A demo client with `direct_access`, and its secret.
pub const DIRECT: (&str, &str) = ("direct_client", "direct-secret-1d8c3a");

/// A clock showing [`NOW`].
pub fn clock() -> ManualClock {
    ManualClock::at(NOW.parse().unwrap())
}

/// A layer over the demo clients and tokens, on `clock`.
pub fn builder(clock: &ManualClock) -> VerifyLayerBuilder {
    let (store, tokens) = ClientsFile::from_json(CLIENTS).unwrap().into_parts();
    VerifyLayer::builder(store)
        .token_verifier(tokens)
        .clock(clock.clone())
}

/// [`builder`] with stores that answer one poll later ([`Deferred`]): the path every store
/// across a network takes.
pub fn deferred_builder(clock: &ManualClock) -> VerifyLayerBuilder {
    let (store, tokens) = ClientsFile::from_json(CLIENTS).unwrap().into_parts();
    VerifyLayer::builder(Deferred(store))
        .token_verifier(Deferred(tokens))
        .clock(clock.clone())
}

/// The timeout the Redis tests give the guard and the store whose waits they time.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(300);

/// `took`, the time a request that may wait out `timeout` took, is within that timeout plus
/// three quarters of it: the time of the request itself (a few milliseconds, up to 12 ms
/// measured on a loaded 2-core machine) leaves room, and a timeout waited twice (2x) fails.
#[track_caller]
pub fn assert_within_timeout(took: Duration, timeout: Duration, what: &str) {
    let bound = timeout + timeout * 3 / 4;
    assert!(
        took < bound,
        "{what}: took {took:?}, more than {bound:?} for a timeout of {timeout:?}"
    );
}

/// Serve `app` on a free loopback port; its base URL.
pub async fn serve_app(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// Serve every catalog operation behind `layer`; its base URL.
pub async fn serve(layer: VerifyLayer) -> String {
    serve_app(Emulator::builder().layer(layer).router()).await
}

/// The `Authorization` value of a janrain-signed request.
pub fn authorization<L: Params + ?Sized>(
    client_id: &str,
    secret: &str,
    endpoint: &str,
    date: &str,
    params: &L,
) -> String {
    let sig = SigningKey::new(secret).sign(&StringToSign::new(endpoint, date, params));
    signature_header(&ClientId::new(client_id).unwrap(), &sig)
        .to_str()
        .unwrap()
        .to_owned()
}

/// A form POST of `params` to `base` + `path`, without credentials.
pub fn form_post<K: AsRef<[u8]>, V: AsRef<[u8]>>(
    http: &reqwest::Client,
    url: String,
    params: &[(K, V)],
) -> reqwest::RequestBuilder {
    http.post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(encode_urlencoded(params))
}

/// A janrain-signed form POST, dated `date`.
#[derive(Clone)]
pub struct Signed {
    pub client_id: &'static str,
    pub secret: &'static str,
    pub endpoint: &'static str,
    pub date: String,
    pub params: Vec<(String, String)>,
}

impl Signed {
    /// `/entity.find` by [`READER`], told apart from other requests by `tag`.
    pub fn find(tag: &str, date: &str) -> Self {
        Signed {
            client_id: READER.0,
            secret: READER.1,
            endpoint: "/entity.find",
            date: date.to_owned(),
            params: vec![
                ("type_name".into(), "user".into()),
                ("filter".into(), tag.into()),
            ],
        }
    }

    /// The signature's base64 text.
    pub fn signature(&self) -> String {
        let sts = StringToSign::new(self.endpoint, &self.date, &self.params);
        SigningKey::new(self.secret).sign(&sts).as_str().to_owned()
    }

    /// The `Authorization` value.
    pub fn authorization(&self) -> String {
        authorization(
            self.client_id,
            self.secret,
            self.endpoint,
            &self.date,
            &self.params,
        )
    }

    /// Send it with `authorization` (the genuine one, or a forgery).
    pub async fn send_with(
        &self,
        http: &reqwest::Client,
        base: &str,
        authorization: &str,
    ) -> (u16, Value) {
        send(
            form_post(http, format!("{base}{}", self.endpoint), &self.params)
                .header("Date", &self.date)
                .header("Authorization", authorization),
        )
        .await
    }

    /// Send it.
    pub async fn send(&self, base: &str) -> (u16, Value) {
        self.send_with(&reqwest::Client::new(), base, &self.authorization())
            .await
    }
}

/// Send the requests a replay guard must never record, each refused: `genuine`'s signature on
/// tampered parameters, a wrong secret, and (twice) a valid signature on an operation the
/// client may not call.
pub async fn send_unrecordable(base: &str, genuine: &Signed) {
    let mut tampered = genuine.clone();
    tampered.params[1].1 = "tampered".into();
    let got = tampered
        .send_with(&reqwest::Client::new(), base, &genuine.authorization())
        .await;
    assert_error(&got, 401, 431, "signature_does_not_match");
    let mut forged = genuine.clone();
    forged.secret = "not-the-secret";
    assert_error(
        &forged.send(base).await,
        401,
        431,
        "signature_does_not_match",
    );
    let mut forbidden = genuine.clone();
    forbidden.endpoint = "/entity.update";
    for _ in 0..2 {
        assert_error(
            &forbidden.send(base).await,
            403,
            403,
            "client_permission_error",
        );
    }
}

/// Send `request` `n` times at once, spread over `servers`; how many were accepted. Every
/// other answer must be a replay refusal.
pub async fn race(request: &Signed, servers: &[String], n: usize) -> usize {
    let authorization = request.authorization();
    let http = reqwest::Client::new();
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (request, authorization, http, barrier) = (
                request.clone(),
                authorization.clone(),
                http.clone(),
                barrier.clone(),
            );
            let base = servers[i % servers.len()].clone();
            tokio::spawn(async move {
                barrier.wait().await;
                request.send_with(&http, &base, &authorization).await
            })
        })
        .collect();
    let mut accepted = 0;
    for task in tasks {
        let got = task.await.unwrap();
        if got.0 == 200 {
            accepted += 1;
        } else {
            assert_replayed(&got);
        }
    }
    accepted
}

/// Send a request; the HTTP status and the JSON body.
pub async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap();
    let json = serde_json::from_slice(&body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&body)));
    (status, json)
}

/// The answer is `{"stat":"ok",...}` with HTTP 200.
#[track_caller]
pub fn assert_ok(got: &(u16, Value)) {
    assert_eq!(got.0, 200, "{}", got.1);
    assert_eq!(got.1["stat"], "ok", "{}", got.1);
}

/// The answer is a Janrain error envelope with this status, code and error, a description and
/// a 16-character request id.
#[track_caller]
pub fn assert_error(got: &(u16, Value), status: u16, code: u16, error: &str) {
    let parsed = JanrainError::from_body(got.1.to_string().as_bytes())
        .unwrap_or_else(|| panic!("expected a stat:error envelope, got {}", got.1));
    assert_eq!(
        (got.0, parsed.code, parsed.error.as_str()),
        (status, code, error),
        "{}",
        got.1
    );
    assert!(!parsed.error_description.is_empty(), "{}", got.1);
    assert_eq!(parsed.request_id.map(|id| id.len()), Some(16), "{}", got.1);
}

/// 401 `request_replayed`.
#[track_caller]
pub fn assert_replayed(got: &(u16, Value)) {
    assert_error(got, 401, 434, "request_replayed");
}

/// 503 `replay_guard_unavailable`.
#[track_caller]
pub fn assert_unavailable(got: &(u16, Value)) {
    assert_error(got, 503, 504, "replay_guard_unavailable");
}

/// Everything this test binary logs at warn and above; each test finds its own lines by
/// something only it logs.
pub fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_writer(move || LogSink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
    .clone()
}

struct LogSink(Arc<Mutex<Vec<u8>>>);

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The captured lines that contain `needle`.
pub fn log_lines_with(logs: &Mutex<Vec<u8>>, needle: &str) -> Vec<String> {
    String::from_utf8_lossy(&logs.lock().unwrap())
        .lines()
        .filter(|line| line.contains(needle))
        .map(str::to_owned)
        .collect()
}
