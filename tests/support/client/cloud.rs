//! An Identity Cloud look-alike for the client tests, on 127.0.0.1: the crate's emulator with
//! canned answers. It verifies janrain-signed requests with the emulator's `VerifyLayer`, but
//! judges the `Date` itself, in front of it, against its own clock (which may run off the
//! client's), and refuses a stale one the way a server that does not know this crate's codes
//! would: HTTP 401 with `invalid_client_credentials`, or HTTP 200 with
//! `client_permission_error`. Every answer carries the server's clock in its `Date` header.
//! It serves paged `entity.find`, `entity.count`, `entity.update` (which rejects a bad `value`
//! with `argument_name`), and `oauth/token` (HTTP 400 with `expected_value`/`supplied_value`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use janrain_auth::credentials::ApiClient;
use janrain_auth::emulator::{Call, Emulator, Reply};
use janrain_auth::params::ParamList;
use janrain_auth::permissions::{AuthMethods, Catalog, Feature, Features, Operation};
use janrain_auth::scheme::{Clock, Datetime};
use janrain_auth::server::{MemoryStore, UnknownPaths};
use serde_json::{Value, json};

/// How the look-alike refuses a request whose `Date` is off its clock.
#[derive(Clone, Copy, Debug)]
pub enum StaleDate {
    /// HTTP 401, `{"code":402,"error":"invalid_client_credentials"}`.
    Unauthorized402,
    /// HTTP 200, `{"code":403,"error":"client_permission_error"}`.
    Ok403,
}

/// One request as the look-alike received it.
#[derive(Clone, Debug)]
pub struct CloudSeen {
    pub path: String,
    pub date: Option<String>,
    pub params: Vec<(String, String)>,
    pub status: u16,
    /// Whether the look-alike refused it for its `Date`.
    pub stale: bool,
}

pub struct CloudConfig {
    pub clients: Vec<ApiClient>,
    /// The server's clock.
    pub clock: Arc<dyn Clock>,
    /// How far the request's `Date` may be from the server's clock.
    pub window: Duration,
    pub stale: StaleDate,
    /// The records of `entity.find`, sorted by id.
    pub records: Vec<Value>,
    /// Overrides the `Date` header of every answer (an absurd or broken one).
    pub date_header: Option<String>,
}

impl CloudConfig {
    pub fn new(clients: Vec<ApiClient>, clock: impl Clock) -> Self {
        CloudConfig {
            clients,
            clock: Arc::new(clock),
            window: Duration::from_secs(300),
            stale: StaleDate::Unauthorized402,
            records: Vec::new(),
            date_header: None,
        }
    }
}

#[derive(Clone)]
struct Shared {
    seen: Arc<Mutex<Vec<CloudSeen>>>,
    clock: Arc<dyn Clock>,
    window: Duration,
    stale: StaleDate,
    records: Arc<Vec<Value>>,
    date_header: Option<String>,
}

pub struct Cloud {
    pub addr: std::net::SocketAddr,
    seen: Arc<Mutex<Vec<CloudSeen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Cloud {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn seen(&self) -> Vec<CloudSeen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }
}

impl Drop for Cloud {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `count` user records with ids 3, 6, 9, ... (gaps, so paging must use ids, not offsets),
/// alternately in group `a` and `b`.
pub fn users(count: i64) -> Vec<Value> {
    (1..=count)
        .map(|n| {
            json!({
                "id": n * 3,
                "uuid": format!("uuid-{n}"),
                "email": format!("user{n}@example.com"),
                "group": if n % 2 == 1 { "a" } else { "b" },
            })
        })
        .collect()
}

pub async fn start_cloud(config: CloudConfig) -> Cloud {
    let store = config
        .clients
        .into_iter()
        .fold(MemoryStore::new(), MemoryStore::with);
    let operation = Operation::new("/", AuthMethods::HEADER, Features::of(&[Feature::Owner]));
    // The layer checks signatures only: its own date window is a day wide, so every `Date`
    // decision (and its answer) is the look-alike's.
    let day = Duration::from_secs(86_400);
    let clock = config.clock.clone();
    let shared = Shared {
        seen: Arc::new(Mutex::new(Vec::new())),
        clock: config.clock,
        window: config.window,
        stale: config.stale,
        records: Arc::new(config.records),
        date_header: config.date_header,
    };
    let records = shared.records.clone();
    let counted = shared.records.clone();
    let app = Emulator::builder()
        .clients(store)
        .catalog(Catalog::empty())
        .configure_layer(move |layer| {
            layer
                .unknown_paths(UnknownPaths::Authenticate(operation))
                .clock(clock)
                .date_window(day, day)
        })
        .on("/entity.find", move |call| {
            post_only(&call, |c| find(&records, c))
        })
        .on("/entity.count", move |call| {
            post_only(&call, |c| count(&counted, c))
        })
        .on("/entity.update", |call| update(&call))
        .on("/oauth/token", |call| post_only(&call, token))
        .on("/broken", |_call| {
            Reply::other(
                StatusCode::BAD_GATEWAY,
                "text/html",
                "<html>bad gateway</html>",
            )
        })
        .router()
        .layer(from_fn_with_state(shared.clone(), front));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Cloud {
        addr,
        seen: shared.seen,
        task,
    }
}

fn server_now(shared: &Shared) -> Datetime {
    Datetime::from_system_time(shared.clock.now()).unwrap()
}

/// In front of everything: record the request, judge its `Date`, stamp the server's clock on
/// the answer.
async fn front(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let mut params = ParamList::new();
    if let Some(query) = parts.uri.query() {
        params.extend_urlencoded(query.as_bytes()).unwrap();
    }
    params.extend_urlencoded(&bytes).unwrap();
    let date = parts
        .headers
        .get(header::DATE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let now = server_now(&shared);
    let stale = date
        .as_deref()
        .is_some_and(|d| match d.parse::<Datetime>() {
            Ok(sent) => {
                (sent.unix_seconds() - now.unix_seconds()).unsigned_abs() > shared.window.as_secs()
            }
            Err(_) => true,
        });
    let mut entry = CloudSeen {
        path: parts.uri.path().to_owned(),
        date,
        params: params.to_pairs_lossy(),
        status: 0,
        stale,
    };
    let mut response = if stale {
        let (status, code, error) = match shared.stale {
            StaleDate::Unauthorized402 => {
                (StatusCode::UNAUTHORIZED, 402, "invalid_client_credentials")
            }
            StaleDate::Ok403 => (StatusCode::OK, 403, "client_permission_error"),
        };
        let body = json!({
            "stat": "error",
            "code": code,
            "error": error,
            "error_description": "the request could not be authenticated",
            "request_id": "stale0000000000a",
        });
        (status, axum::Json(body)).into_response()
    } else {
        next.run(Request::from_parts(parts, Body::from(bytes)))
            .await
    };
    let date = shared
        .date_header
        .clone()
        .unwrap_or_else(|| httpdate::fmt_http_date(now.to_system_time()));
    response
        .headers_mut()
        .insert(header::DATE, HeaderValue::from_str(&date).unwrap());
    entry.status = response.status().as_u16();
    shared.seen.lock().unwrap().push(entry);
    response
}

/// `answer` for a POST, 405 for any other method.
fn post_only(call: &Call, answer: impl FnOnce(&Call) -> Reply) -> Reply {
    if call.method() == Method::POST {
        answer(call)
    } else {
        Reply::other(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "")
    }
}

/// The verified parameters of `call`, in order.
fn params_of(call: &Call) -> Vec<(String, String)> {
    call.params()
        .map(|p| {
            p.iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn invalid_argument(name: &str, description: &str) -> Reply {
    Reply::json(&json!({
        "stat": "error",
        "code": 200,
        "error": "invalid_argument",
        "argument_name": name,
        "error_description": description,
        "request_id": "arg0000000000000",
    }))
}

/// `entity.find` over the records: `sort_on` must be `["id"]`; the filter understands
/// `group = 'x'`, `id > N`, and `(group = 'x') and id > N`; `max_results` is the page size;
/// `attributes` picks fields.
fn find(records: &[Value], call: &Call) -> Reply {
    let params = params_of(call);
    if param(&params, "sort_on") != Some(r#"["id"]"#) {
        return invalid_argument("sort_on", "this test server pages on id only");
    }
    let Some(size) = param(&params, "max_results").and_then(|m| m.parse::<usize>().ok()) else {
        return invalid_argument("max_results", "max_results must be a number");
    };
    let (mut group, mut after) = (None, None);
    if let Some(filter) = param(&params, "filter") {
        let (user, id) = match filter.rsplit_once(" and id > ") {
            Some((left, id)) => match left.strip_prefix('(').and_then(|l| l.strip_suffix(')')) {
                Some(inner) => (Some(inner), Some(id)),
                None => return invalid_argument("filter", "the user filter is not parenthesized"),
            },
            None => match filter.strip_prefix("id > ") {
                Some(id) => (None, Some(id)),
                None => (Some(filter), None),
            },
        };
        if let Some(id) = id {
            match id.parse::<i64>() {
                Ok(id) => after = Some(id),
                Err(_) => return invalid_argument("filter", "id > needs a number"),
            }
        }
        if let Some(user) = user {
            match user
                .strip_prefix("group = '")
                .and_then(|g| g.strip_suffix('\''))
            {
                Some(g) => group = Some(g.to_owned()),
                None => return invalid_argument("filter", "unknown filter"),
            }
        }
    }
    let attributes: Option<Vec<String>> = match param(&params, "attributes") {
        Some(a) => match serde_json::from_str(a) {
            Ok(names) => Some(names),
            Err(_) => return invalid_argument("attributes", "attributes must be a JSON list"),
        },
        None => None,
    };
    let results: Vec<Value> = records
        .iter()
        .filter(|r| group.as_deref().is_none_or(|g| r["group"] == g))
        .filter(|r| after.is_none_or(|a| r["id"].as_i64().unwrap() > a))
        .take(size)
        .map(|r| match &attributes {
            Some(names) => Value::Object(
                names
                    .iter()
                    .filter_map(|n| r.get(n).map(|v| (n.clone(), v.clone())))
                    .collect(),
            ),
            None => r.clone(),
        })
        .collect();
    Reply::json(&json!({"stat": "ok", "result_count": results.len(), "results": results}))
}

fn count(records: &[Value], call: &Call) -> Reply {
    if call.param("type_name") != Some("user") {
        return invalid_argument("type_name", "unknown entity type");
    }
    Reply::json(&json!({"stat": "ok", "total_count": records.len()}))
}

/// `entity.update` (any method, parameters from the query or the body): `value` must be a
/// JSON object; the answer echoes every parameter.
fn update(call: &Call) -> Reply {
    let params = params_of(call);
    let value = param(&params, "value").map(serde_json::from_str::<Value>);
    match value {
        Some(Ok(Value::Object(_))) => {}
        _ => return invalid_argument("value", "value must be a JSON object"),
    }
    Reply::json(&json!({"stat": "ok", "params": params}))
}

/// `oauth/token` refuses every redirect URI but one, with HTTP 400 as Janrain's OAuth
/// operations do.
fn token(call: &Call) -> Reply {
    let supplied = call.param("redirect_uri").unwrap_or_default();
    Reply::json(&json!({
        "stat": "error",
        "code": 420,
        "error": "redirect_uri_mismatch",
        "error_description": "redirect_uri does not match",
        "expected_value": "https://app.example/callback",
        "supplied_value": supplied,
        "request_id": "tok0000000000000",
    }))
    .with_status(StatusCode::BAD_REQUEST)
}
