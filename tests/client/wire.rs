//! The emulator the client tests call over HTTP on 127.0.0.1, as Identity Cloud answers: the
//! demo clients (form credentials accepted where Basic is), a few scripted answers, its
//! answers gzip-compressed for clients that ask, and what crossed the wire recorded.

use janrain_auth_test_support as support;

use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use janrain_auth::emulator::{Call, Emulator, Reply};
use janrain_auth::server::ClientsFile;
use serde_json::{Value, json};
use tower_http::compression::CompressionLayer;

/// One request as it arrived, and how its answer left.
#[derive(Clone, Debug, Default)]
pub(crate) struct Wire {
    pub(crate) path: String,
    pub(crate) user_agent: Option<String>,
    pub(crate) accept_encoding: Option<String>,
    pub(crate) authorization: Option<String>,
    pub(crate) date: Option<String>,
    pub(crate) body: String,
    /// The answer's `Content-Encoding`.
    pub(crate) answer_encoding: Option<String>,
}

/// The emulator over the demo clients (form credentials accepted where Basic is), with a few
/// scripted answers, its answers gzip-compressed for clients that ask, and what crossed the
/// wire recorded.
pub(crate) struct Server {
    pub(crate) base: String,
    wire: Arc<Mutex<Vec<Wire>>>,
}

impl Server {
    pub(crate) fn take(&self) -> Vec<Wire> {
        std::mem::take(&mut *self.wire.lock().unwrap())
    }

    pub(crate) fn only(&self) -> Wire {
        let mut all = self.take();
        assert_eq!(all.len(), 1, "{all:?}");
        all.remove(0)
    }
}

/// The answer `capture-api` and `janrain` print below.
pub(crate) fn scripted() -> Value {
    json!({
        "stat": "ok", "result_count": 2, "meta": {},
        "results": [
            {"id": 1, "uuid": "a1", "givenName": "Zoë", "score": 1.5, "tags": []},
            {"id": 2, "uuid": "b2", "givenName": "李", "score": 1e16, "tags": ["x", null, true], "emoji": "😀"},
        ],
    })
}

/// Five user records, paged by `entity.find`'s filter (`id > N`) and `max_results`.
fn find(call: Call) -> Value {
    let after: i64 = call
        .param("filter")
        .and_then(|f| f.rsplit("id > ").next())
        .and_then(|n| n.trim_end_matches(')').trim().parse().ok())
        .unwrap_or(0);
    let size: usize = call
        .param("max_results")
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let results: Vec<Value> = (after + 1..=5)
        .take(size)
        .map(
            |id| json!({"id": id, "uuid": format!("u{id}"), "email": format!("é{id}@example.com")}),
        )
        .collect();
    json!({"stat": "ok", "result_count": results.len(), "results": results})
}

pub(crate) async fn start() -> Server {
    let clients = ClientsFile::from_json(support::CLIENTS).unwrap();
    let router = Emulator::builder()
        .clients_file(clients)
        .configure_layer(|layer| layer.accept_form_credentials(true))
        .on("/settings/items", |_| scripted())
        .on("/settings/keys", |_| {
            Reply::other(
                http::StatusCode::OK,
                "application/json",
                r#"{"stat":"error","code":100,"error":"unexpected_error","message":"told in message"}"#,
            )
        })
        .on("/settings/get", |_| {
            Reply::other(http::StatusCode::BAD_GATEWAY, "text/html", "<h1>bad gateway</h1>")
        })
        .on("/entity.find", find)
        .router()
        .layer(CompressionLayer::new());
    let wire = Arc::new(Mutex::new(Vec::new()));
    let recorded = wire.clone();
    let router = router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            let wire = recorded.clone();
            async move { record(wire, request, next).await }
        },
    ));
    let base = support::serve_app(router).await;
    Server { base, wire }
}

async fn record(wire: Arc<Mutex<Vec<Wire>>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let mut seen = Wire {
        path: parts.uri.path().to_owned(),
        user_agent: header("user-agent"),
        accept_encoding: header("accept-encoding"),
        authorization: header("authorization"),
        date: header("date"),
        ..Wire::default()
    };
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    seen.body = String::from_utf8_lossy(&bytes).into_owned();
    let response = next
        .run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await;
    seen.answer_encoding = response
        .headers()
        .get("content-encoding")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    wire.lock().unwrap().push(seen);
    response
}
