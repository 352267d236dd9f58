//! Shared helpers of the client tests: a real axum server on 127.0.0.1:0 behind the crate's own
//! verification layer (`janrain_auth::server::VerifyLayer`), which records what it received and
//! echoes the parameters it decoded; the reference vectors; and (`cloud`) an Identity Cloud
//! look-alike that pages, answers errors with extra fields, and may run its clock off.
#![allow(dead_code, unreachable_pub)]

pub mod cloud;
pub mod recorder;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
use janrain_auth::params::ParamList;
use janrain_auth::permissions::{AuthMethods, Catalog, Feature, Features, Operation};
use janrain_auth::scheme::ManualClock;
use janrain_auth::server::{AuthenticatedClient, MemoryStore, UnknownPaths, VerifyLayer};
use serde_json::{Value, json};

/// What the server received, recorded outside the verification layer.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
    pub date: Option<String>,
    pub status: u16,
}

pub struct ServerConfig {
    pub clients: Vec<ApiClient>,
    pub clock: ManualClock,
    /// Mount the API under this prefix with `Router::nest`; the layer inside the nest is built
    /// with neither `nested_under` nor `strip_prefix`, so it verifies the path without the
    /// prefix, which is what a client with a base path signs.
    pub prefix: Option<&'static str>,
    /// Refuse with HTTP 200 and the envelope, as Janrain does.
    pub janrain_status: bool,
    pub window: Duration,
}

impl ServerConfig {
    pub fn new(clients: Vec<ApiClient>, clock: ManualClock) -> Self {
        ServerConfig {
            clients,
            clock,
            prefix: None,
            janrain_status: false,
            window: Duration::from_secs(300),
        }
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// `http://127.0.0.1:port` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start(config: ServerConfig) -> TestServer {
    let store = config
        .clients
        .into_iter()
        .fold(MemoryStore::new(), MemoryStore::with);
    // Every path is one operation open to header auth and owners: the tests are about the
    // signature, not the permission matrix.
    let operation = Operation::new("/", AuthMethods::HEADER, Features::of(&[Feature::Owner]));
    let layer = VerifyLayer::builder(store)
        .catalog(Catalog::empty())
        .unknown_paths(UnknownPaths::Authenticate(operation))
        .clock(config.clock.clone())
        .date_window(config.window, config.window)
        .janrain_status(config.janrain_status)
        .build();
    let api = Router::new().route("/{*rest}", any(echo)).layer(layer);
    let app = match config.prefix {
        Some(prefix) => Router::new().nest(prefix, api),
        None => api,
    };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = app.layer(from_fn_with_state(seen.clone(), record));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    TestServer { addr, seen, task }
}

async fn record(
    State(seen): State<Arc<Mutex<Vec<Seen>>>>,
    request: Request,
    next: Next,
) -> Response {
    let mut entry = {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        Seen {
            method: request.method().to_string(),
            path: request.uri().path().to_owned(),
            query: request.uri().query().map(str::to_owned),
            authorization: header("authorization"),
            date: header("date"),
            status: 0,
        }
    };
    let response = next.run(request).await;
    entry.status = response.status().as_u16();
    seen.lock().unwrap().push(entry);
    response
}

/// Behind the layer: echo who authenticated, the path the handler saw, and every parameter
/// decoded from the query string and the form body (the body the layer put back).
async fn echo(request: Request) -> impl IntoResponse {
    let client = request
        .extensions()
        .get::<AuthenticatedClient>()
        .map(|c| c.client_id().to_string());
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let mut params = ParamList::new();
    if let Some(query) = parts.uri.query() {
        params.extend_urlencoded(query.as_bytes()).unwrap();
    }
    let form = parts.headers.get("content-type").is_some_and(|v| {
        v.as_bytes()
            .starts_with(b"application/x-www-form-urlencoded")
    });
    if form {
        params.extend_urlencoded(&bytes).unwrap();
    }
    axum::Json(json!({
        "stat": "ok",
        "client_id": client,
        "path": parts.uri.path(),
        "params": params.to_pairs_lossy(),
    }))
}

/// A client with the owner feature.
pub fn api_client(id: &str, secret: &str) -> ApiClient {
    ApiClient::new(
        ClientId::new(id).unwrap(),
        ClientSecret::new(secret).unwrap(),
    )
    .with_feature(Feature::Owner)
}

/// The reference vectors of tests/data/vectors.json.
pub fn vectors() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/vectors.json");
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["vectors"].as_array().unwrap().clone()
}

/// A vector's parameters, in request order.
pub fn vector_params(v: &Value) -> Vec<(String, String)> {
    v["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_owned(),
                p[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
