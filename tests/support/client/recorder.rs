//! A server that authenticates nothing and records everything: for the calls that are not
//! janrain-signed (as a user, as a login client), whose verification is the server's business.
//! It answers every request with `{"stat":"ok","params":[[key, value], ...]}`, the parameters
//! it decoded from the query string and a form body.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::routing::any;
use janrain_auth::params::ParamList;
use serde_json::json;

/// One request as the recorder received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Every `Authorization` header, in order.
    pub authorization: Vec<String>,
    pub date: Option<String>,
    pub signature: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
    /// The query string's parameters, then a form body's.
    pub params: Vec<(String, String)>,
}

impl Received {
    /// The values of parameter `key`.
    pub fn values(&self, key: &str) -> Vec<&str> {
        self.params
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

pub struct Recorder {
    pub addr: std::net::SocketAddr,
    seen: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }

    /// The one request received so far.
    pub fn only(&self) -> Received {
        let seen = self.seen();
        assert_eq!(seen.len(), 1, "{seen:?}");
        seen.into_iter().next().unwrap()
    }

    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start_recorder() -> Recorder {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new().fallback(any(record)).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Recorder { addr, seen, task }
}

async fn record(
    State(seen): State<Arc<Mutex<Vec<Received>>>>,
    request: Request,
) -> axum::Json<serde_json::Value> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let content_type = header("content-type");
    let mut params = ParamList::new();
    if let Some(query) = parts.uri.query() {
        params.extend_urlencoded(query.as_bytes()).unwrap();
    }
    if content_type
        .as_deref()
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
    {
        params.extend_urlencoded(&bytes).unwrap();
    }
    let params = params.to_pairs_lossy();
    seen.lock().unwrap().push(Received {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        authorization: parts
            .headers
            .get_all("authorization")
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect(),
        date: header("date"),
        signature: header("signature"),
        content_type,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        params: params.clone(),
    });
    axum::Json(json!({"stat": "ok", "params": params}))
}
