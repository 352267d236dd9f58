//! The whole verification path: a `VerifyLayer`-wrapped tower service, driven on a
//! current-thread tokio runtime (time paused, so body timeouts fire at once), with the demo
//! clients and tokens in memory and, on some inputs, an in-memory replay guard.
//!
//! Each input is either a raw request (arbitrary method, path, query, headers and body, the
//! body arriving in arbitrary chunks and ending, failing or stalling) or a well-formed request
//! of one kind (janrain-signed, Basic, login client) with arbitrary parameters and deliberate
//! variations (wrong key, unknown client, date offset, wrong form, body over the limit,
//! replay...). Properties:
//!
//! * the layer never panics and never answers 5xx (with this configuration none of the
//!   documented 5xx cases, store or replay-guard failure, can occur);
//! * every refusal is a well-formed Janrain envelope: JSON `stat:error`, a `(status, code,
//!   error)` row of the documented table (status 200 in Janrain-status mode), a 16-character
//!   request id, a description, `Content-Type: application/json`, the layer's `Date`, a
//!   `WWW-Authenticate` challenge on 401, and no secret, signature or token in the text;
//! * a request that is accepted was entitled to be: a known operation, and an authenticated
//!   client (re-checked here: the signature recomputed over what the handler received, the
//!   Basic secret compared) whose features the operation permits; the handler receives the
//!   body byte for byte as sent;
//! * for the well-formed kinds, the outcome is exactly the one a small model of the
//!   documented procedure predicts (under any date window: the default, a few seconds, or
//!   none): a correctly signed request by a known client with the
//!   right features is accepted, one signed with a key that is not the client's is refused
//!   with 431, and so on.
#![no_main]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, DATE, WWW_AUTHENTICATE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full};
use janrain_auth::credentials::{ClientId, ClientSecret};
use janrain_auth::error::JanrainError;
use janrain_auth::params::{ParamList, encode_urlencoded};
use janrain_auth::permissions::{AuthMethod, Catalog, Features, Operation};
use janrain_auth::scheme::{
    Authorization, Canonicalization, Datetime, ManualClock, SigningKey, StringToSign, basic_header,
    signature_header,
};
use janrain_auth::server::{
    AuthenticatedClient, ClientsFile, MemoryReplayGuard, MemoryStore, MemoryTokens, VerifiedBody,
    VerifyLayer,
};
use libfuzzer_sys::fuzz_target;
use sha1::{Digest, Sha1};
use tower::{Layer, ServiceExt};

const NOW: &str = "2026-03-01 12:00:00";
const CLIENTS: &str = include_str!("../../examples/demo-clients.json");
const BODY_LIMIT: usize = 256;
const MAX_PARAMS: usize = 8;
const FORM: &str = "application/x-www-form-urlencoded";

/// The documented table of `janrain_auth::error`: code, error, HTTP status.
const TABLE: &[(u16, &str, u16)] = &[
    (100, "missing_argument", 400),
    (200, "invalid_argument", 400),
    (205, "invalid_auth_method", 401),
    (230, "request_too_large", 413),
    (231, "request_timeout", 408),
    (232, "ambiguous_parameters", 400),
    (233, "unsupported_body", 415),
    (234, "ambiguous_parameter_text", 400),
    (422, "access_token_user_mismatch", 403),
    (424, "auth_method_not_accepted", 401),
    (402, "invalid_client_credentials", 401),
    (403, "client_permission_error", 403),
    (404, "unknown_operation", 404),
    (405, "method_not_allowed", 405),
    (412, "invalid_access_token", 401),
    (414, "access_token_expired", 401),
    (419, "access_token_client_mismatch", 401),
    (431, "signature_does_not_match", 401),
    (432, "invalid_date", 401),
    (433, "date_out_of_window", 401),
    (434, "request_replayed", 401),
    (500, "unexpected_error", 503),
    (504, "replay_guard_unavailable", 503),
];

/// A demo client as the model sees it.
struct Client {
    id: String,
    secrets: Vec<String>,
    features: Features,
}

struct Token {
    token: String,
    client_id: String,
    expires_at: Datetime,
}

struct World {
    store: MemoryStore,
    tokens: MemoryTokens,
    clients: Vec<Client>,
    grants: Vec<Token>,
    catalog: Catalog,
    now: Datetime,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let json: serde_json::Value = serde_json::from_str(CLIENTS).unwrap();
        let (store, tokens) = ClientsFile::from_json(CLIENTS).unwrap().into_parts();
        let clients = json["clients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let id = c["client_id"].as_str().unwrap().to_owned();
                Client {
                    features: store.get(&id).unwrap().features(),
                    secrets: c["secrets"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| s.as_str().unwrap().to_owned())
                        .collect(),
                    id,
                }
            })
            .collect();
        let grants = json["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| Token {
                token: t["access_token"].as_str().unwrap().to_owned(),
                client_id: t["client_id"].as_str().unwrap().to_owned(),
                expires_at: t["expires_at"].as_str().unwrap().parse().unwrap(),
            })
            .collect();
        World {
            store,
            tokens,
            clients,
            grants,
            catalog: Catalog::identity_cloud(),
            now: NOW.parse().unwrap(),
        }
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    thread_local! {
        static RT: &'static tokio::runtime::Runtime = Box::leak(Box::new(
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .unwrap(),
        ));
    }
    RT.with(|rt| *rt)
}

// ---------------------------------------------------------------------------------------------
// A request body that arrives in chunks and then ends, fails or never ends.

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Complete,
    Error,
    Stall,
}

struct FuzzBody {
    chunks: VecDeque<Bytes>,
    end: End,
}

impl FuzzBody {
    fn new(bytes: &[u8], chunk: u8, end: End) -> Self {
        let size = 1 + usize::from(chunk);
        FuzzBody {
            chunks: bytes.chunks(size).map(Bytes::copy_from_slice).collect(),
            end,
        }
    }
}

impl From<Bytes> for FuzzBody {
    fn from(bytes: Bytes) -> Self {
        FuzzBody {
            chunks: VecDeque::from([bytes]),
            end: End::Complete,
        }
    }
}

impl Body for FuzzBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(chunk) = self.chunks.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        match self.end {
            End::Complete => Poll::Ready(None),
            End::Error => {
                self.end = End::Complete;
                Poll::Ready(Some(Err(std::io::Error::other("connection reset"))))
            }
            End::Stall => Poll::Pending,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

// ---------------------------------------------------------------------------------------------
// The service: the layer around a handler that records what it received.

#[derive(Default)]
struct Seen {
    client: Option<AuthenticatedClient>,
    headers: http::HeaderMap,
    uri: Option<http::Uri>,
    body: Option<Vec<u8>>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct Config {
    janrain_status: bool,
    replay: bool,
    lenient_forms: bool,
    enforce_methods: bool,
    window: Window,
}

/// The date window: the default 300 s each way, a few seconds, or none at all
/// (`Duration::MAX` each way).
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Window {
    Default,
    Seconds(u8),
    Unbounded,
}

impl Window {
    /// Whether a `Date` `age` seconds old (negative: ahead) is inside the window.
    fn admits(self, age: i64) -> bool {
        match self {
            Window::Default => age.abs() <= 300,
            Window::Seconds(n) => age.abs() <= i64::from(n),
            Window::Unbounded => true,
        }
    }
}

fn layer(config: Config) -> VerifyLayer {
    let w = world();
    let clock = ManualClock::at(w.now);
    let mut builder = VerifyLayer::builder(w.store.clone())
        .token_verifier(w.tokens.clone())
        .clock(clock.clone())
        .body_limit(BODY_LIMIT)
        .body_timeout(Duration::from_secs(1))
        .max_params(MAX_PARAMS)
        .janrain_status(config.janrain_status)
        .enforce_methods(config.enforce_methods);
    match config.window {
        Window::Default => {}
        Window::Seconds(n) => {
            let n = Duration::from_secs(u64::from(n));
            builder = builder.date_window(n, n);
        }
        Window::Unbounded => builder = builder.date_window(Duration::MAX, Duration::MAX),
    }
    if config.lenient_forms {
        builder =
            builder.accept_forms([Canonicalization::CANONICAL, Canonicalization::SAMPLE_CODE]);
    }
    if config.replay {
        builder = builder.replay_guard(
            MemoryReplayGuard::builder()
                .capacity(4096)
                .shards(4)
                .clock(clock)
                .build(),
        );
    }
    builder.build()
}

struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Bytes,
    seen: Option<Seen>,
}

fn call(layer: &VerifyLayer, request: Request<FuzzBody>) -> Answer {
    let seen = Arc::new(Mutex::new(None::<Seen>));
    let record = seen.clone();
    let handler = tower::service_fn(move |request: Request<VerifiedBody<FuzzBody>>| {
        let record = record.clone();
        async move {
            let (parts, body) = request.into_parts();
            // A body the layer did not read may stall: the handler gives up after a second.
            let body = match tokio::time::timeout(Duration::from_secs(1), body.collect()).await {
                Ok(Ok(collected)) => Some(collected.to_bytes().to_vec()),
                _ => None,
            };
            *record.lock().unwrap() = Some(Seen {
                client: parts.extensions.get::<AuthenticatedClient>().cloned(),
                headers: parts.headers.clone(),
                uri: Some(parts.uri.clone()),
                body,
            });
            let mut response = Response::new(Full::new(Bytes::from_static(b"inner")));
            response
                .headers_mut()
                .insert("x-inner", HeaderValue::from_static("1"));
            Ok::<_, Infallible>(response)
        }
    });
    let service = layer.layer(handler);
    let response = runtime().block_on(async move {
        let response = service.oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        (parts, body)
    });
    let (parts, body) = response;
    let seen = seen.lock().unwrap().take();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
        seen,
    }
}

// ---------------------------------------------------------------------------------------------
// What the answer must look like.

#[derive(Debug, PartialEq, Eq)]
enum Expect {
    /// Accepted, for this client (None: no authentication), with this method.
    Accept(Option<String>, &'static str),
    /// Refused with this code.
    Refuse(u16),
}

/// Check the invariants every answer must satisfy; returns what happened.
fn check_answer(config: Config, answer: &Answer, sent_body: Option<&[u8]>) -> Expect {
    let w = world();
    assert!(
        answer.status.as_u16() < 500,
        "5xx answer: {} {:?}",
        answer.status,
        answer.body
    );
    if answer.headers.contains_key("x-inner") {
        let seen = answer.seen.as_ref().expect("the handler ran");
        let uri = seen.uri.as_ref().unwrap();
        let op = w
            .catalog
            .get(uri.path())
            .unwrap_or_else(|| panic!("accepted an unknown path {}", uri.path()));
        if let (Some(sent), Some(got)) = (sent_body, &seen.body) {
            assert_eq!(
                got.as_slice(),
                sent,
                "the handler did not get the body as sent"
            );
        }
        return match &seen.client {
            None => {
                assert!(
                    op.accepts(AuthMethod::None),
                    "unauthenticated request accepted for {}",
                    op.path()
                );
                assert!(!seen.headers.contains_key(AUTHORIZATION));
                Expect::Accept(None, "none")
            }
            Some(client) => {
                // An open operation takes any valid credentials, whatever the features.
                let open = op.accepts(AuthMethod::None);
                assert!(
                    open || op.permits(client.features()),
                    "client without the features accepted"
                );
                assert!(open || op.accepts(client.method()));
                let method = client.method().as_str();
                recheck(config, op, client, seen);
                Expect::Accept(Some(client.client_id().to_string()), method)
            }
        };
    }
    // A refusal.
    assert!(
        answer.seen.is_none(),
        "the handler ran but its answer was replaced"
    );
    assert_eq!(answer.headers[CONTENT_TYPE], "application/json");
    let error = JanrainError::from_body(&answer.body)
        .unwrap_or_else(|| panic!("refusal is not a Janrain envelope: {:?}", answer.body));
    let row = TABLE
        .iter()
        .find(|(code, _, _)| *code == error.code)
        .unwrap_or_else(|| panic!("undocumented code {}", error.code));
    assert_eq!(error.error, row.1, "code and error name disagree");
    let status = if config.janrain_status { 200 } else { row.2 };
    assert_eq!(
        answer.status.as_u16(),
        status,
        "status for code {}",
        error.code
    );
    let id = error.request_id.as_deref().expect("request_id");
    assert!(
        id.len() == 16
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
    assert!(!error.error_description.is_empty());
    let date = answer.headers[DATE].to_str().unwrap();
    let date = httpdate::parse_http_date(date).expect("an HTTP date");
    assert_eq!(Datetime::from_system_time(date), Ok(w.now));
    if answer.status == StatusCode::UNAUTHORIZED {
        assert!(
            answer.headers.contains_key(WWW_AUTHENTICATE),
            "401 without a challenge"
        );
    }
    let text = String::from_utf8_lossy(&answer.body);
    for client in &w.clients {
        for secret in &client.secrets {
            assert!(!text.contains(secret.as_str()), "a secret in a refusal");
        }
    }
    for grant in &w.grants {
        assert!(
            !text.contains(grant.token.as_str()),
            "an access token in a refusal"
        );
    }
    Expect::Refuse(error.code)
}

/// Re-check an accepted, authenticated request independently of the layer.
fn recheck(config: Config, op: &Operation, client: &AuthenticatedClient, seen: &Seen) {
    let w = world();
    let model = w
        .clients
        .iter()
        .find(|c| c.id == client.client_id().as_str())
        .expect("a demo client");
    match client.method() {
        AuthMethod::Signature => {
            let header = seen.headers[AUTHORIZATION].as_bytes();
            let Ok(Authorization::Signature(creds)) = Authorization::parse(header) else {
                panic!("accepted as signed without Signature credentials");
            };
            assert_eq!(creds.client_id(), model.id);
            let date = seen.headers[DATE].to_str().unwrap();
            let dt: Datetime = date.parse().expect("accepted an invalid Date");
            let age = w.now.unix_seconds() - dt.unix_seconds();
            assert!(
                config.window.admits(age),
                "accepted a Date outside the window"
            );
            let uri = seen.uri.as_ref().unwrap();
            let mut params = ParamList::with_limit(usize::MAX);
            if let Some(q) = uri.query() {
                params.extend_urlencoded(q.as_bytes()).unwrap();
            }
            let is_form = seen
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case(FORM));
            if is_form {
                params
                    .extend_urlencoded(seen.body.as_deref().expect("the form body"))
                    .unwrap();
            }
            let forms: &[Canonicalization] = if config.lenient_forms {
                &[Canonicalization::CANONICAL, Canonicalization::SAMPLE_CODE]
            } else {
                &[Canonicalization::CANONICAL]
            };
            let sts = StringToSign::new(uri.path(), date, &params);
            let ok = model.secrets.iter().any(|s| {
                forms.iter().any(|f| {
                    SigningKey::new(s).sign(&sts.with_form(*f)).as_str() == creds.signature()
                })
            });
            assert!(ok, "accepted a signature that does not verify");
        }
        AuthMethod::Basic => {
            let header = seen.headers[AUTHORIZATION].as_bytes();
            let Ok(Authorization::Basic(creds)) = Authorization::parse(header) else {
                panic!("accepted as Basic without Basic credentials");
            };
            assert_eq!(creds.client_id().as_str(), model.id);
            assert!(
                model.secrets.iter().any(|s| s == creds.secret().expose()),
                "wrong Basic secret accepted"
            );
        }
        AuthMethod::LoginClient | AuthMethod::LoginClientWithToken => {
            assert!(!seen.headers.contains_key(AUTHORIZATION));
            assert!(
                model
                    .features
                    .contains(janrain_auth::permissions::Feature::LoginClient)
            );
        }
        AuthMethod::OAuth => {
            // No token of this world names a user, so none may act for one.
            panic!("accepted janrain-oauth with a token that names no user: {client:?}");
        }
        other => panic!("unexpected method {other:?}"),
    }
    let _ = op;
}

// ---------------------------------------------------------------------------------------------
// The inputs.

#[derive(Arbitrary, Debug)]
struct Input {
    config: Config,
    mode: Mode,
}

#[derive(Arbitrary, Debug)]
enum Mode {
    Raw(Raw),
    Signed(Signed),
    Basic(BasicReq),
    Login(Login),
}

#[derive(Arbitrary, Debug)]
enum PathPick {
    Catalog(u8),
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct Raw {
    method: u8,
    path: PathPick,
    query: Option<String>,
    headers: Vec<(u8, Vec<u8>)>,
    body: Vec<u8>,
    chunk: u8,
    end: End,
}

const HEADER_NAMES: [&str; 6] = [
    "authorization",
    "date",
    "content-type",
    "content-length",
    "x-other",
    "authorization",
];

const METHODS: [Method; 4] = [Method::POST, Method::GET, Method::PUT, Method::DELETE];

fn op_at(i: u8) -> &'static Operation {
    let catalog = &world().catalog;
    catalog.iter().nth(usize::from(i) % catalog.len()).unwrap()
}

fn raw(config: Config, input: Raw) {
    let path = match &input.path {
        PathPick::Catalog(i) => op_at(*i).path().to_owned(),
        PathPick::Text(t) => t.clone(),
    };
    let uri = match &input.query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let Ok(uri) = uri.parse::<http::Uri>() else {
        return;
    };
    if uri.scheme().is_some() || uri.authority().is_some() {
        return;
    }
    let mut request = Request::new(FuzzBody::new(&input.body, input.chunk, input.end));
    *request.method_mut() = METHODS[usize::from(input.method) % METHODS.len()].clone();
    *request.uri_mut() = uri;
    for (name, value) in input.headers.iter().take(8) {
        let name = HEADER_NAMES[usize::from(*name) % HEADER_NAMES.len()];
        let value = if name == "content-type" && value.first() == Some(&0) {
            HeaderValue::from_static(FORM)
        } else {
            match HeaderValue::from_bytes(value) {
                Ok(v) => v,
                Err(_) => continue,
            }
        };
        request.headers_mut().append(name, value);
    }
    let sent = (input.end == End::Complete).then_some(input.body.as_slice());
    let answer = call(&layer(config), request);
    let got = check_answer(config, &answer, sent);
    tally("raw", &got);
}

#[derive(Arbitrary, Debug)]
struct Signed {
    op: u8,
    client: u8,
    secret: u8,
    unknown_client: bool,
    wrong_key: Option<String>,
    date_offset: i16,
    raw_date: Option<String>,
    get: bool,
    params: Vec<(String, String)>,
    query_params: Vec<(String, String)>,
    sample_form: bool,
    delivery: Delivery,
    send_twice: bool,
}

/// The HMAC key block, to tell keys that are the same HMAC key apart from different ones.
fn hmac_block(key: &[u8]) -> [u8; 64] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..20].copy_from_slice(&Sha1::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    block
}

fn method_refused(config: Config, op: &Operation, method: &Method) -> bool {
    config.enforce_methods && op.method() != method
}

/// How a form body is framed and how it arrives.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Delivery {
    /// `Content-Length`: none, the true length, or a claim.
    length: Option<Option<u16>>,
    end: End,
    chunk: u8,
}

impl Delivery {
    fn declared(&self, actual: usize) -> Option<u64> {
        self.length
            .map(|claim| claim.map_or(actual as u64, u64::from))
    }
}

/// The refusal the parameter-collection step gives, if any, for a request whose parameters
/// are `query` pairs in the query string and, on POST, a form body: the declared length, the
/// query string's pairs, parameters in both places, then the body as it arrives (over the
/// limit, failing, stalling), then its pairs, then a repeated `client_id` / `access_token`.
fn params_outcome(
    query: &[(String, String)],
    form: Option<(&[u8], Delivery)>,
    body_pairs: &[(String, String)],
) -> Option<u16> {
    if form.is_some_and(|(body, d)| {
        d.declared(body.len())
            .is_some_and(|n| n > BODY_LIMIT as u64)
    }) {
        return Some(230);
    }
    if query.len() > MAX_PARAMS {
        return Some(200);
    }
    if form.is_some() && !query.is_empty() {
        return Some(232);
    }
    if let Some(code) = collect_outcome(query.len(), form) {
        return Some(code);
    }
    let all = || query.iter().chain(body_pairs);
    let repeated = |name: &str| all().filter(|(k, _)| k == name).count() > 1;
    (repeated("client_id") || repeated("access_token")).then_some(232)
}

/// The refusal of reading the query string's and the form body's pairs, if any.
fn collect_outcome(query: usize, form: Option<(&[u8], Delivery)>) -> Option<u16> {
    if query > MAX_PARAMS {
        return Some(200);
    }
    let (body, delivery) = form?;
    if delivery
        .declared(body.len())
        .is_some_and(|n| n > BODY_LIMIT as u64)
        || body.len() > BODY_LIMIT
    {
        return Some(230);
    }
    match delivery.end {
        End::Stall => return Some(231),
        End::Error => return Some(200),
        End::Complete => {}
    }
    let pairs = ParamList::from_urlencoded(body).map_or(usize::MAX, |l| l.len());
    (query + pairs > MAX_PARAMS).then_some(200)
}

fn form_request(
    path_and_query: &str,
    method: Method,
    body: &[u8],
    delivery: Option<Delivery>,
) -> Request<FuzzBody> {
    let body = match delivery {
        Some(d) => FuzzBody::new(body, d.chunk, d.end),
        None => FuzzBody::new(body, 255, End::Complete),
    };
    let mut request = Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = path_and_query.parse().unwrap();
    request
}

fn signed(config: Config, input: Signed) {
    let w = world();
    let op = op_at(input.op);
    let client = &w.clients[usize::from(input.client) % w.clients.len()];
    let id = if input.unknown_client {
        "ghost_client"
    } else {
        client.id.as_str()
    };
    let secret = &client.secrets[usize::from(input.secret) % client.secrets.len()];
    let key_text = input.wrong_key.clone().unwrap_or_else(|| secret.clone());
    let date_text = match &input.raw_date {
        Some(d) => d.clone(),
        None => w
            .now
            .saturating_add_seconds(i64::from(input.date_offset % 400))
            .to_string(),
    };
    let Ok(date_value) = HeaderValue::from_str(&date_text) else {
        return;
    };
    let (body_pairs, query_pairs) = if input.get {
        (
            Vec::new(),
            [input.query_params.clone(), input.params.clone()].concat(),
        )
    } else {
        (input.params.clone(), input.query_params.clone())
    };
    let query = encode_urlencoded(&query_pairs);
    let body = encode_urlencoded(&body_pairs);
    let path_and_query = if query.is_empty() {
        op.path().to_owned()
    } else {
        format!("{}?{query}", op.path())
    };
    let all: Vec<(String, String)> = [query_pairs.clone(), body_pairs.clone()].concat();
    let form = if input.sample_form {
        Canonicalization::SAMPLE_CODE
    } else {
        Canonicalization::CANONICAL
    };
    let sts = StringToSign::new(op.path(), &date_text, &all);
    let signature = SigningKey::new(&key_text).sign(&sts.with_form(form));
    let header = signature_header(&ClientId::new(id).unwrap(), &signature);
    let method = if input.get { Method::GET } else { Method::POST };

    let delivery = (!input.get).then_some(input.delivery);
    let build = || {
        let mut request = form_request(&path_and_query, method.clone(), body.as_bytes(), delivery);
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, header.clone());
        headers.insert(DATE, date_value.clone());
        if let Some(d) = delivery {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(FORM));
            if let Some(n) = d.declared(body.len()) {
                headers.insert(CONTENT_LENGTH, HeaderValue::from(n));
            }
        }
        request
    };

    // The model.
    let expect = if method_refused(config, op, &method) {
        Expect::Refuse(405)
    } else if !op.accepts(AuthMethod::Signature) && !op.accepts(AuthMethod::None) {
        Expect::Refuse(424)
    } else {
        match Datetime::parse_bytes(date_text.as_bytes()) {
            Err(_) => Expect::Refuse(432),
            Ok(dt)
                if !config
                    .window
                    .admits(w.now.unix_seconds() - dt.unix_seconds()) =>
            {
                Expect::Refuse(433)
            }
            Ok(_) if input.unknown_client => Expect::Refuse(402),
            Ok(_) => {
                let sent_form = delivery.map(|d| (body.as_bytes(), d));
                if let Some(code) = params_outcome(&query_pairs, sent_form, &body_pairs) {
                    Expect::Refuse(code)
                } else {
                    let same_bytes = sts.with_form(form).to_bytes() == sts.to_bytes();
                    let form_ok = !input.sample_form || config.lenient_forms || same_bytes;
                    let key_ok = client
                        .secrets
                        .iter()
                        .any(|s| hmac_block(s.as_bytes()) == hmac_block(key_text.as_bytes()));
                    if !(form_ok && key_ok) {
                        Expect::Refuse(431)
                    } else if !op.permits(client.features) && !op.accepts(AuthMethod::None) {
                        Expect::Refuse(403)
                    } else {
                        Expect::Accept(Some(client.id.clone()), "signature")
                    }
                }
            }
        }
    };

    let layer = layer(config);
    let answer = call(&layer, build());
    let complete = delivery.is_none_or(|d| d.end == End::Complete);
    let sent = complete.then_some(body.as_bytes());
    let got = check_answer(config, &answer, sent);
    tally("signed", &got);
    assert_eq!(got, expect, "signed request: {input:?}");
    if input.send_twice {
        let again = check_answer(config, &call(&layer, build()), sent);
        let want = match (&expect, config.replay) {
            (Expect::Accept(..), true) => Expect::Refuse(434),
            _ => expect,
        };
        tally("signed twice", &again);
        assert_eq!(again, want, "the same signed request again: {input:?}");
    }
}

#[derive(Arbitrary, Debug)]
struct BasicReq {
    op: u8,
    client: u8,
    secret: u8,
    unknown_client: bool,
    wrong_secret: Option<String>,
    get: bool,
    body: Vec<u8>,
    chunk: u8,
}

fn basic(config: Config, input: BasicReq) {
    let w = world();
    let op = op_at(input.op);
    let client = &w.clients[usize::from(input.client) % w.clients.len()];
    let id = if input.unknown_client {
        "ghost_client"
    } else {
        client.id.as_str()
    };
    let secret = input.wrong_secret.clone().unwrap_or_else(|| {
        client.secrets[usize::from(input.secret) % client.secrets.len()].clone()
    });
    let Ok(secret_value) = ClientSecret::new(secret.clone()) else {
        return;
    };
    let header = basic_header(&ClientId::new(id).unwrap(), &secret_value);
    if header.len() > "Basic ".len() + janrain_auth::scheme::MAX_BASIC_LEN {
        return;
    }
    let method = if input.get { Method::GET } else { Method::POST };
    let mut request = Request::new(FuzzBody::new(&input.body, input.chunk, End::Complete));
    *request.method_mut() = method.clone();
    *request.uri_mut() = op.path().parse().unwrap();
    request.headers_mut().insert(AUTHORIZATION, header);
    request
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));

    let expect = if method_refused(config, op, &method) {
        Expect::Refuse(405)
    } else if !op.accepts(AuthMethod::Basic) && !op.accepts(AuthMethod::None) {
        Expect::Refuse(424)
    } else if input.unknown_client || !client.secrets.contains(&secret) {
        Expect::Refuse(402)
    } else if !op.permits(client.features) && !op.accepts(AuthMethod::None) {
        Expect::Refuse(403)
    } else {
        Expect::Accept(Some(client.id.clone()), "basic")
    };
    let answer = call(&layer(config), request);
    let got = check_answer(config, &answer, Some(&input.body));
    tally("basic", &got);
    assert_eq!(got, expect, "Basic request: {input:?}");
}

#[derive(Arbitrary, Debug)]
enum ClientPick {
    Missing,
    Known(u8),
    Ghost,
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum TokenPick {
    None,
    Grant(u8),
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct Login {
    op: u8,
    client: ClientPick,
    token: TokenPick,
    get: bool,
    extra: Vec<(String, String)>,
    delivery: Delivery,
}

fn login(config: Config, input: Login) {
    let w = world();
    let login_ops: Vec<&Operation> = w
        .catalog
        .iter()
        .filter(|op| {
            op.accepts(AuthMethod::LoginClient) || op.accepts(AuthMethod::LoginClientWithToken)
        })
        .collect();
    let op = login_ops[usize::from(input.op) % login_ops.len()];
    let mut params: Vec<(String, String)> = Vec::new();
    let client_id = match &input.client {
        ClientPick::Missing => None,
        ClientPick::Known(i) => Some(w.clients[usize::from(*i) % w.clients.len()].id.clone()),
        ClientPick::Ghost => Some("ghost_client".to_owned()),
        ClientPick::Text(t) => Some(t.clone()),
    };
    if let Some(id) = &client_id {
        params.push(("client_id".into(), id.clone()));
    }
    let token = match &input.token {
        TokenPick::None => None,
        TokenPick::Grant(i) => Some(w.grants[usize::from(*i) % w.grants.len()].token.clone()),
        TokenPick::Text(t) => Some(t.clone()),
    };
    if let Some(t) = &token {
        params.push(("access_token".into(), t.clone()));
    }
    params.extend(
        input
            .extra
            .iter()
            .filter(|(k, _)| k != "client_id" && k != "access_token")
            .cloned(),
    );
    let encoded = encode_urlencoded(&params);
    let method = if input.get { Method::GET } else { Method::POST };
    let (uri, body) = if input.get {
        let uri = if encoded.is_empty() {
            op.path().to_owned()
        } else {
            format!("{}?{encoded}", op.path())
        };
        (uri, String::new())
    } else {
        (op.path().to_owned(), encoded)
    };
    let delivery = (!input.get).then_some(input.delivery);
    let mut request = form_request(&uri, method.clone(), body.as_bytes(), delivery);
    if let Some(d) = delivery {
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(FORM));
        if let Some(n) = d.declared(body.len()) {
            request
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(n));
        }
    }

    let accepts = op.auth();
    let needs_token = accepts.contains(AuthMethod::LoginClientWithToken)
        && !accepts.contains(AuthMethod::LoginClient);
    let query_count = if input.get { params.len() } else { 0 };
    let form = delivery.map(|d| (body.as_bytes(), d));
    let known = client_id.as_deref().and_then(|id| {
        w.clients
            .iter()
            .find(|c| c.id == id && ClientId::check(id).is_ok())
    });
    let (query_pairs, body_pairs) = if input.get {
        (params.clone(), Vec::new())
    } else {
        (Vec::new(), params.clone())
    };
    debug_assert_eq!(query_pairs.len(), query_count);
    let expect = if method_refused(config, op, &method) {
        Expect::Refuse(405)
    } else if let Some(code) = params_outcome(&query_pairs, form, &body_pairs) {
        Expect::Refuse(code)
    } else if client_id.is_none() {
        Expect::Refuse(100)
    } else if let Some(client) = known {
        if !op.permits(client.features) {
            Expect::Refuse(403)
        } else {
            match &token {
                None if needs_token => Expect::Refuse(100),
                Some(t) if accepts.contains(AuthMethod::LoginClientWithToken) => {
                    match w.grants.iter().find(|g| &g.token == t) {
                        None => Expect::Refuse(412),
                        Some(g) if g.client_id != client.id => Expect::Refuse(419),
                        Some(g) if g.expires_at <= w.now => Expect::Refuse(414),
                        Some(_) => Expect::Accept(Some(client.id.clone()), "login_client_token"),
                    }
                }
                _ => Expect::Accept(Some(client.id.clone()), "login_client"),
            }
        }
    } else {
        Expect::Refuse(402)
    };
    let answer = call(&layer(config), request);
    let complete = delivery.is_none_or(|d| d.end == End::Complete);
    let got = check_answer(config, &answer, complete.then_some(body.as_bytes()));
    tally("login", &got);
    assert_eq!(got, expect, "login-client request: {input:?}");
}

/// With `VERIFY_FUZZ_STATS=1`, how often each (kind, outcome) was seen is printed now and
/// then: a check that the inputs reach every branch of the procedure.
fn tally(kind: &'static str, outcome: &Expect) {
    use std::collections::BTreeMap;
    static ON: OnceLock<bool> = OnceLock::new();
    if !*ON.get_or_init(|| std::env::var_os("VERIFY_FUZZ_STATS").is_some()) {
        return;
    }
    static COUNTS: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());
    static TOTAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let label = match outcome {
        Expect::Accept(_, method) => format!("{kind} accepted ({method})"),
        Expect::Refuse(code) => format!("{kind} refused {code}"),
    };
    *COUNTS.lock().unwrap().entry(label).or_default() += 1;
    let n = TOTAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    if n.is_power_of_two() && n >= 1024 {
        eprintln!("after {n} requests: {:?}", COUNTS.lock().unwrap());
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(input) = Input::arbitrary(&mut u) else {
        return;
    };
    match input.mode {
        Mode::Raw(r) => raw(input.config, r),
        Mode::Signed(s) => signed(input.config, s),
        Mode::Basic(b) => basic(input.config, b),
        Mode::Login(l) => login(input.config, l),
    }
});
