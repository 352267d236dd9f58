//! Hostile traffic under load: the Identity Cloud look-alike (the `server` example's app) in
//! this process on a loopback port, driven by many concurrent clients with a mix of valid
//! requests and every kind of invalid one in the verification layer's error table.
//!
//! ```text
//! cargo run --release --example load -- [--seconds 10] [--concurrency 128]
//!                                       [--replay none|memory] [--max-growth-mib 16]
//! ```
//!
//! Valid requests: janrain-signed (form body and query string, several clients, both secrets
//! of the rotating client), Basic, and login-client operations with and without an access
//! token. Each valid signed request carries a counter parameter, so no two are identical (two
//! identical requests in the same second have the same signature, and the replay guard would
//! rightly refuse the second).
//!
//! Invalid requests, each with the status and code the table in `janrain_auth::error` gives:
//! missing and malformed credentials, an unknown client, a wrong Basic secret, the OAuth
//! scheme, janrain-signed where only a login client is accepted, a signature mismatch, a
//! missing, malformed, stale and future `Date`, a replay (refused when the guard is on,
//! accepted when it is off), a client lacking the features, a body over the limit, too many
//! parameters, the login-client errors (missing `client_id` or `access_token`, unknown or
//! non-login client, unknown, expired or foreign token), and an unknown path.
//!
//! It prints requests sent, accepted, refused by code, 5xx, mismatches (a valid request refused,
//! an invalid one accepted, or refused with the wrong status or code), throughput, and the
//! process's resident memory sampled every 100 ms (server and load generator together, so an
//! upper bound on the server's). It exits non-zero unless there is no 5xx, no transport error,
//! no mismatch, every kind was sent, and memory is flat: the RSS after the warm-up (the first
//! fifth of the run) grows by less than `--max-growth-mib` to the end.
//!
//! Bounded: at most `--seconds` (600 at most) plus the time in-flight requests take to finish
//! (each has a 10 s timeout), and only ever to 127.0.0.1.

#[path = "support/lookalike.rs"]
pub(crate) mod lookalike;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use janrain_auth::credentials::{ClientId, ClientSecret};
use janrain_auth::error::JanrainError;
use janrain_auth::params::encode_urlencoded;
use janrain_auth::permissions::Catalog;
use janrain_auth::scheme::{Datetime, SigningKey, StringToSign, basic_header, signature_header};
use janrain_auth::server::{ClientsFile, MemoryReplayGuard, VerifyLayer};
use tokio::sync::Mutex;

const CLIENTS: &str = include_str!("demo-clients.json");
/// The body limit of the server under test: small, so that over-limit bodies are cheap.
pub const BODY_LIMIT: usize = 4096;
const USAGE: &str =
    "usage: load [--seconds 10] [--concurrency 128] [--replay none|memory] [--max-growth-mib 16]";

/// What a run does.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long requests are started for.
    pub duration: Duration,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Whether the server has an in-memory replay guard.
    pub replay: bool,
    /// The largest RSS growth after the warm-up that still counts as flat, in MiB.
    pub max_growth_mib: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            duration: Duration::from_secs(10),
            concurrency: 128,
            replay: false,
            max_growth_mib: 16.0,
        }
    }
}

/// What the server should answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    /// `stat:ok` for this client.
    Accepted(&'static str),
    /// This HTTP status and Janrain code.
    Refused(u16, u16),
}

/// One kind of request in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    SignedPost,
    SignedGet,
    SignedRotated,
    Basic,
    LoginClient,
    LoginWithToken,
    MissingCredentials,
    MalformedCredentials,
    UnknownClient,
    WrongBasicSecret,
    OAuthScheme,
    SignedOnLoginOperation,
    SignatureMismatch,
    MissingDate,
    BadDate,
    StaleDate,
    FutureDate,
    Replay,
    PermissionDenied,
    BodyTooLarge,
    TooManyParams,
    LoginMissingClientId,
    LoginMissingToken,
    LoginUnknownClient,
    LoginNotLoginClient,
    LoginInvalidToken,
    LoginExpiredToken,
    LoginForeignToken,
    UnknownPath,
}

impl Kind {
    const ALL: [Kind; 29] = [
        Kind::SignedPost,
        Kind::SignedGet,
        Kind::SignedRotated,
        Kind::Basic,
        Kind::LoginClient,
        Kind::LoginWithToken,
        Kind::MissingCredentials,
        Kind::MalformedCredentials,
        Kind::UnknownClient,
        Kind::WrongBasicSecret,
        Kind::OAuthScheme,
        Kind::SignedOnLoginOperation,
        Kind::SignatureMismatch,
        Kind::MissingDate,
        Kind::BadDate,
        Kind::StaleDate,
        Kind::FutureDate,
        Kind::Replay,
        Kind::PermissionDenied,
        Kind::BodyTooLarge,
        Kind::TooManyParams,
        Kind::LoginMissingClientId,
        Kind::LoginMissingToken,
        Kind::LoginUnknownClient,
        Kind::LoginNotLoginClient,
        Kind::LoginInvalidToken,
        Kind::LoginExpiredToken,
        Kind::LoginForeignToken,
        Kind::UnknownPath,
    ];

    /// Valid kinds come up as often as all invalid kinds together.
    fn pick(n: u64) -> Kind {
        const VALID: [Kind; 6] = [
            Kind::SignedPost,
            Kind::SignedGet,
            Kind::SignedRotated,
            Kind::Basic,
            Kind::LoginClient,
            Kind::LoginWithToken,
        ];
        let invalid = &Kind::ALL[VALID.len()..];
        if n.is_multiple_of(2) {
            VALID[(n / 2 % VALID.len() as u64) as usize]
        } else {
            invalid[(n / 2 % invalid.len() as u64) as usize]
        }
    }
}

fn secret(id: &str) -> &'static str {
    match id {
        "owner_client" => "owner-secret-4f7a1c",
        "issuer_client" => "issuer-secret-9b2e5d",
        "direct_client" => "direct-secret-1d8c3a",
        "reader_client" => "reader-secret-6e0f2b",
        "login_client" => "login-secret-3a9d7e",
        "rotating_client" => "rotating-old-secret-2f6a",
        _ => "not-a-secret-of-any-client",
    }
}

fn now_text(offset_secs: i64) -> String {
    Datetime::from_system_time(SystemTime::now())
        .expect("the clock is within years 0000-9999")
        .saturating_add_seconds(offset_secs)
        .to_string()
}

fn signature(id: &str, key: &str, endpoint: &str, date: &str, params: &[(&str, &str)]) -> String {
    let sig = SigningKey::new(key).sign(&StringToSign::new(endpoint, date, params));
    signature_header(&ClientId::new(id).expect("a valid id"), &sig)
        .to_str()
        .expect("ASCII")
        .to_owned()
}

fn basic(id: &str, secret: &str) -> String {
    basic_header(
        &ClientId::new(id).expect("a valid id"),
        &ClientSecret::new(secret).expect("a secret"),
    )
    .to_str()
    .expect("ASCII")
    .to_owned()
}

/// A request ready to send: method, path and query, headers, form body.
struct Plan {
    get: bool,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Option<String>,
    expected: Expected,
}

fn form(path: &str, params: &[(&str, &str)], expected: Expected) -> Plan {
    Plan {
        get: false,
        path: path.to_owned(),
        headers: Vec::new(),
        body: Some(encode_urlencoded(params)),
        expected,
    }
}

fn signed(id: &'static str, key: &str, path: &str, date: &str, params: &[(&str, &str)]) -> Plan {
    let mut plan = form(path, params, Expected::Accepted(id));
    plan.headers.push(("date", date.to_owned()));
    plan.headers
        .push(("authorization", signature(id, key, path, date, params)));
    plan
}

const UNAUTHORIZED: u16 = 401;

/// The request of kind `kind`, the `n`th of the run.
fn plan(kind: Kind, n: u64) -> Plan {
    let counter = n.to_string();
    let date = now_text(0);
    let refused = |status, code| Expected::Refused(status, code);
    match kind {
        Kind::SignedPost => {
            let (id, path) = [
                ("reader_client", "/entity.find"),
                ("direct_client", "/entity.update"),
                ("owner_client", "/entityType.list"),
                ("issuer_client", "/access/getAccessToken"),
            ][(n % 4) as usize];
            let params = [("type_name", "user"), ("n", counter.as_str())];
            signed(id, secret(id), path, &date, &params)
        }
        Kind::SignedGet => {
            let params = [("type_name", "user"), ("n", counter.as_str())];
            let mut plan = signed(
                "reader_client",
                secret("reader_client"),
                "/entity.count",
                &date,
                &params,
            );
            plan.get = true;
            plan.path = format!("/entity.count?{}", encode_urlencoded(&params));
            plan.body = None;
            plan
        }
        Kind::SignedRotated => {
            let key = if n % 4 < 2 {
                "rotating-old-secret-2f6a"
            } else {
                "rotating-new-secret-8e1d"
            };
            let params = [
                ("uuid", "u-1"),
                ("value", "{\"givenName\": \"Zoë\"}"),
                ("n", &counter),
            ];
            signed("rotating_client", key, "/entity.update", &date, &params)
        }
        Kind::Basic => {
            let mut plan = form(
                "/entity.count",
                &[("type_name", "user")],
                Expected::Accepted("direct_client"),
            );
            plan.headers.push((
                "authorization",
                basic("direct_client", secret("direct_client")),
            ));
            plan
        }
        Kind::LoginClient => form(
            "/oauth/auth_native_traditional",
            &[
                ("client_id", "login_client"),
                ("signInEmailAddress", "a@b.example"),
                ("n", &counter),
            ],
            Expected::Accepted("login_client"),
        ),
        Kind::LoginWithToken => form(
            "/oauth/update_profile_native",
            &[
                ("client_id", "login_client"),
                ("access_token", "demo-access-token"),
                ("givenName", "Zoë"),
            ],
            Expected::Accepted("login_client"),
        ),
        Kind::MissingCredentials => form(
            "/entity.find",
            &[("type_name", "user")],
            refused(UNAUTHORIZED, 402),
        ),
        Kind::MalformedCredentials => {
            let value = [
                "Signature reader_client",
                "Signature reader_client:abc=",
                "Signature :+Bf5W9YKRhi5AoVTbxvhzuJXDUQ=",
                "Basic %%%",
                "Basic",
                "Basic cmVhZGVyX2NsaWVudA==",
            ][(n % 6) as usize];
            let mut plan = form(
                "/entity.find",
                &[("type_name", "user")],
                refused(UNAUTHORIZED, 402),
            );
            plan.headers.push(("date", date));
            plan.headers.push(("authorization", value.to_owned()));
            plan
        }
        Kind::UnknownClient => {
            let mut plan = signed(
                "ghost_client",
                "whatever",
                "/entity.find",
                &date,
                &[("type_name", "user")],
            );
            plan.expected = refused(UNAUTHORIZED, 402);
            plan
        }
        Kind::WrongBasicSecret => {
            let mut plan = form(
                "/entity.find",
                &[("type_name", "user")],
                refused(UNAUTHORIZED, 402),
            );
            plan.headers.push((
                "authorization",
                basic("reader_client", "reader-secret-6e0f2c"),
            ));
            plan
        }
        Kind::OAuthScheme => {
            let mut plan = form(
                "/entity.find",
                &[("type_name", "user")],
                refused(UNAUTHORIZED, 412),
            );
            // janrain-oauth with a token nobody issued.
            plan.headers
                .push(("authorization", "OAuth not-an-issued-token".to_owned()));
            plan
        }
        Kind::SignedOnLoginOperation => {
            let mut plan = signed(
                "login_client",
                secret("login_client"),
                "/oauth/auth_native",
                &date,
                &[("client_id", "login_client")],
            );
            plan.expected = refused(UNAUTHORIZED, 424);
            plan
        }
        Kind::SignatureMismatch => {
            let (key, params): (&str, &[(&str, &str)]) = if n % 4 < 2 {
                ("reader-secret-6e0f2c", &[("type_name", "user")])
            } else {
                // Signed for one value, sent with another.
                (secret("reader_client"), &[("type_name", "users")])
            };
            let mut plan = signed("reader_client", key, "/entity.find", &date, params);
            plan.body = Some("type_name=user".into());
            plan.expected = refused(UNAUTHORIZED, 431);
            plan
        }
        Kind::MissingDate => {
            let mut plan = signed(
                "reader_client",
                secret("reader_client"),
                "/entity.find",
                &date,
                &[("type_name", "user")],
            );
            plan.headers.retain(|(name, _)| *name != "date");
            plan.expected = refused(UNAUTHORIZED, 432);
            plan
        }
        Kind::BadDate => {
            let bad = [
                "Sun, 01 Mar 2026 12:00:00 GMT",
                "2026-03-01T12:00:00Z",
                "2026-02-30 12:00:00",
                "yesterday",
            ][(n % 4) as usize];
            let mut plan = signed(
                "reader_client",
                secret("reader_client"),
                "/entity.find",
                bad,
                &[("type_name", "user")],
            );
            plan.expected = refused(UNAUTHORIZED, 432);
            plan
        }
        Kind::StaleDate | Kind::FutureDate => {
            let offset = if kind == Kind::StaleDate { -3600 } else { 3600 };
            let mut plan = signed(
                "reader_client",
                secret("reader_client"),
                "/entity.find",
                &now_text(offset),
                &[("type_name", "user")],
            );
            plan.expected = refused(UNAUTHORIZED, 433);
            plan
        }
        // The first of two identical requests; `run_one` sends the second.
        Kind::Replay => {
            let params = [("type_name", "user"), ("replay", counter.as_str())];
            signed(
                "reader_client",
                secret("reader_client"),
                "/entity.find",
                &date,
                &params,
            )
        }
        Kind::PermissionDenied => {
            let mut plan = signed(
                "owner_client",
                secret("owner_client"),
                "/entity.find",
                &date,
                &[("type_name", "user")],
            );
            plan.expected = refused(403, 403);
            plan
        }
        Kind::BodyTooLarge => {
            let big = "x".repeat(2 * BODY_LIMIT);
            let mut plan = signed(
                "direct_client",
                secret("direct_client"),
                "/entity.update",
                &date,
                &[("value", big.as_str())],
            );
            plan.expected = refused(413, 230);
            plan
        }
        Kind::TooManyParams => {
            let mut query = String::from("/entity.find?");
            for i in 0..1100 {
                let _ = write!(query, "p{i}=1&");
            }
            let mut plan = signed(
                "reader_client",
                secret("reader_client"),
                "/entity.find",
                &date,
                &[("type_name", "user")],
            );
            plan.path = query;
            plan.expected = refused(400, 200);
            plan
        }
        Kind::LoginMissingClientId => form(
            "/oauth/link_account_native",
            &[("token", "x")],
            refused(400, 100),
        ),
        Kind::LoginMissingToken => form(
            "/oauth/link_account_native",
            &[("client_id", "login_client")],
            refused(400, 100),
        ),
        Kind::LoginUnknownClient => form(
            "/oauth/link_account_native",
            &[
                ("client_id", "ghost_client"),
                ("access_token", "demo-access-token"),
            ],
            refused(UNAUTHORIZED, 402),
        ),
        Kind::LoginNotLoginClient => form(
            "/oauth/link_account_native",
            &[
                ("client_id", "direct_client"),
                ("access_token", "demo-access-token"),
            ],
            refused(403, 403),
        ),
        Kind::LoginInvalidToken => form(
            "/oauth/link_account_native",
            &[("client_id", "login_client"), ("access_token", "nope")],
            refused(UNAUTHORIZED, 412),
        ),
        Kind::LoginExpiredToken => form(
            "/oauth/link_account_native",
            &[
                ("client_id", "login_client"),
                ("access_token", "expired-access-token"),
            ],
            refused(UNAUTHORIZED, 414),
        ),
        Kind::LoginForeignToken => form(
            "/oauth/link_account_native",
            &[
                ("client_id", "login_client"),
                ("access_token", "second-client-token"),
            ],
            refused(UNAUTHORIZED, 419),
        ),
        Kind::UnknownPath => {
            let mut plan = signed(
                "owner_client",
                secret("owner_client"),
                "/entity.launchMissiles",
                &date,
                &[],
            );
            plan.expected = refused(404, 404);
            plan
        }
    }
}

/// What came back, reduced to what is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Accepted(String),
    Refused(u16, u16, String),
    /// Neither a `stat:ok` answer nor a Janrain envelope.
    Other(u16),
    Transport(String),
}

async fn send(http: &reqwest::Client, base: &str, plan: &Plan) -> Outcome {
    let url = format!("{base}{}", plan.path);
    let mut request = if plan.get {
        http.get(url)
    } else {
        http.post(url)
    };
    for (name, value) in &plan.headers {
        request = request.header(*name, value.as_str());
    }
    if let Some(body) = &plan.body {
        request = request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone());
    }
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => return Outcome::Transport(e.to_string()),
    };
    let status = response.status().as_u16();
    let body = match response.bytes().await {
        Ok(b) => b,
        Err(e) => return Outcome::Transport(e.to_string()),
    };
    if let Some(error) = JanrainError::from_body(&body) {
        return Outcome::Refused(status, error.code, error.error);
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(v) if v["stat"] == "ok" => {
            Outcome::Accepted(v["client_id"].as_str().unwrap_or("").to_owned())
        }
        _ => Outcome::Other(status),
    }
}

fn matches(expected: Expected, got: &Outcome) -> bool {
    match (expected, got) {
        (Expected::Accepted(id), Outcome::Accepted(got)) => id == got,
        (Expected::Refused(status, code), Outcome::Refused(s, c, _)) => status == *s && code == *c,
        _ => false,
    }
}

/// The tallies of a run.
#[derive(Debug, Default)]
pub struct Report {
    /// Requests sent (both halves of a replay pair count).
    pub sent: u64,
    /// `stat:ok` answers.
    pub accepted: u64,
    /// Refusals by `(status, code, error)`.
    pub refused: BTreeMap<(u16, u16, String), u64>,
    /// Answers with a 5xx status.
    pub server_errors: u64,
    /// Requests that failed on the way (connection refused or reset, timeout).
    pub transport_errors: u64,
    /// Answers that are not what the request deserved, by kind, with an example.
    pub mismatches: BTreeMap<String, (u64, String)>,
    /// Requests sent by kind.
    pub by_kind: BTreeMap<String, u64>,
    /// Wall time from the first request to the last answer.
    pub elapsed: Duration,
    /// RSS samples (seconds since start, KiB).
    pub rss: Vec<(f64, u64)>,
    /// VmHWM at the end, KiB.
    pub peak_rss_kib: u64,
    /// RSS at the end of the warm-up, KiB.
    pub warm_rss_kib: u64,
    /// Highest RSS after the warm-up minus `warm_rss_kib`, KiB.
    pub growth_kib: i64,
    /// Entries in the replay guard at the end (when it is on).
    pub guard_entries: Option<usize>,
    /// The options of the run.
    pub options: Options,
}

impl Report {
    /// Every condition of a passing run, with the reason of the first that fails.
    pub fn verdict(&self) -> Result<(), String> {
        if self.server_errors > 0 {
            return Err(format!("{} answers were 5xx", self.server_errors));
        }
        if self.transport_errors > 0 {
            return Err(format!("{} transport errors", self.transport_errors));
        }
        let mismatched: u64 = self.mismatches.values().map(|(n, _)| n).sum();
        if mismatched > 0 {
            return Err(format!("{mismatched} answers did not match the request"));
        }
        let missing: Vec<_> = Kind::ALL
            .iter()
            .filter(|k| !self.by_kind.contains_key(&format!("{k:?}")))
            .collect();
        if !missing.is_empty() {
            return Err(format!("kinds never sent (run longer): {missing:?}"));
        }
        let limit = self.options.max_growth_mib * 1024.0;
        if self.growth_kib as f64 >= limit {
            return Err(format!(
                "memory not flat: RSS grew {:.1} MiB after the warm-up (limit {:.1} MiB)",
                self.growth_kib as f64 / 1024.0,
                self.options.max_growth_mib
            ));
        }
        Ok(())
    }

    /// The report as text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let secs = self.elapsed.as_secs_f64();
        let _ = writeln!(
            out,
            "load: {} s, concurrency {}, replay guard {}",
            self.options.duration.as_secs_f64(),
            self.options.concurrency,
            if self.options.replay {
                "memory"
            } else {
                "none"
            }
        );
        let _ = writeln!(
            out,
            "requests sent     {:>9}  ({:.0} per second over {secs:.2} s)",
            self.sent,
            self.sent as f64 / secs.max(1e-9)
        );
        let _ = writeln!(out, "accepted          {:>9}", self.accepted);
        let refused: u64 = self.refused.values().sum();
        let _ = writeln!(out, "refused           {refused:>9}");
        for ((status, code, error), n) in &self.refused {
            let _ = writeln!(out, "  {status} {code:>3} {error:<30} {n:>9}");
        }
        let _ = writeln!(out, "5xx               {:>9}", self.server_errors);
        let _ = writeln!(out, "transport errors  {:>9}", self.transport_errors);
        let mismatched: u64 = self.mismatches.values().map(|(n, _)| n).sum();
        let _ = writeln!(out, "mismatches        {mismatched:>9}");
        for (kind, (n, example)) in &self.mismatches {
            let _ = writeln!(out, "  {kind}: {n} (e.g. {example})");
        }
        let _ = writeln!(out, "by kind:");
        for (kind, n) in &self.by_kind {
            let _ = writeln!(out, "  {kind:<24} {n:>9}");
        }
        let mib = |kib: u64| kib as f64 / 1024.0;
        let first = self.rss.first().map_or(0, |s| s.1);
        let last = self.rss.last().map_or(0, |s| s.1);
        let _ = writeln!(
            out,
            "memory (RSS of this process, server and load generator): start {:.1} MiB, after warm-up {:.1} MiB, end {:.1} MiB, peak (VmHWM) {:.1} MiB, growth after warm-up {:+.1} MiB (limit {:.1})",
            mib(first),
            mib(self.warm_rss_kib),
            mib(last),
            mib(self.peak_rss_kib),
            self.growth_kib as f64 / 1024.0,
            self.options.max_growth_mib
        );
        let step = (self.rss.len() / 10).max(1);
        let samples: Vec<String> = self
            .rss
            .iter()
            .step_by(step)
            .map(|(t, kib)| format!("{t:.1}s:{:.1}", mib(*kib)))
            .collect();
        let _ = writeln!(out, "RSS samples (MiB): {}", samples.join(" "));
        if let Some(entries) = self.guard_entries {
            let _ = writeln!(out, "replay guard entries at the end: {entries}");
        }
        let _ = writeln!(
            out,
            "verdict: {}",
            match self.verdict() {
                Ok(()) => "PASS".to_owned(),
                Err(e) => format!("FAIL: {e}"),
            }
        );
        out
    }
}

/// `(VmRSS, VmHWM)` of this process in KiB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[derive(Default)]
struct Tally {
    report: Report,
}

impl Tally {
    fn record(&mut self, kind: Kind, expected: Expected, got: &Outcome) {
        let r = &mut self.report;
        r.sent += 1;
        *r.by_kind.entry(format!("{kind:?}")).or_default() += 1;
        match got {
            Outcome::Accepted(_) => r.accepted += 1,
            Outcome::Refused(status, code, error) => {
                *r.refused
                    .entry((*status, *code, error.clone()))
                    .or_default() += 1;
                if *status >= 500 {
                    r.server_errors += 1;
                }
            }
            Outcome::Other(status) => {
                if *status >= 500 {
                    r.server_errors += 1;
                }
            }
            Outcome::Transport(_) => r.transport_errors += 1,
        }
        if !matches!(got, Outcome::Transport(_)) && !matches(expected, got) {
            let entry = r
                .mismatches
                .entry(format!("{kind:?}"))
                .or_insert((0, String::new()));
            entry.0 += 1;
            if entry.1.is_empty() {
                entry.1 = format!("expected {expected:?}, got {got:?}");
            }
        }
    }
}

/// Send one request of `kind` (two for a replay) and record the outcome.
async fn run_one(http: &reqwest::Client, base: &str, n: u64, replay: bool, tally: &Mutex<Tally>) {
    let kind = Kind::pick(n);
    let plan = plan(kind, n);
    let got = send(http, base, &plan).await;
    let mut results = vec![(plan.expected, got)];
    if kind == Kind::Replay {
        let again = send(http, base, &plan).await;
        let expected = if replay {
            Expected::Refused(UNAUTHORIZED, 434)
        } else {
            plan.expected
        };
        results.push((expected, again));
    }
    let mut tally = tally.lock().await;
    for (expected, got) in &results {
        tally.record(kind, *expected, got);
    }
}

/// Start the server, drive it for `options.duration`, and report.
pub async fn run(options: Options) -> Report {
    let (store, tokens) = ClientsFile::from_json(CLIENTS)
        .expect("the demo clients")
        .into_parts();
    let mut builder = VerifyLayer::builder(store)
        .token_verifier(tokens)
        .body_limit(BODY_LIMIT);
    let guard = options.replay.then(|| Arc::new(MemoryReplayGuard::new()));
    if let Some(guard) = &guard {
        builder = builder.replay_guard(guard.clone());
    }
    let app = lookalike::router(&Catalog::identity_cloud(), builder.build());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("the address");
    let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.concurrency)
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .expect("a client");

    let start = Instant::now();
    let deadline = start + options.duration;
    let warm_until = options
        .duration
        .mul_f64(0.2)
        .max(Duration::from_millis(500));
    let sampling = Arc::new(AtomicBool::new(true));
    let samples = Arc::new(std::sync::Mutex::new(Vec::<(f64, u64)>::new()));
    let sampler = {
        let (sampling, samples) = (sampling.clone(), samples.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                let (rss, _) = memory();
                samples
                    .lock()
                    .expect("samples")
                    .push((start.elapsed().as_secs_f64(), rss));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    let counter = Arc::new(AtomicU64::new(0));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let workers: Vec<_> = (0..options.concurrency)
        .map(|_| {
            let (http, base, counter, tally) =
                (http.clone(), base.clone(), counter.clone(), tally.clone());
            let replay = options.replay;
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    run_one(&http, &base, n, replay, &tally).await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("a worker");
    }
    let elapsed = start.elapsed();
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    let _ = stop_server.send(());
    drop(http);
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;

    let mut report = std::mem::take(&mut tally.lock().await.report);
    report.elapsed = elapsed;
    report.rss = std::mem::take(&mut *samples.lock().expect("samples"));
    let sampled_peak = report.rss.iter().map(|s| s.1).max().unwrap_or(0);
    report.peak_rss_kib = memory().1.max(sampled_peak);
    let warm = warm_until.as_secs_f64();
    report.warm_rss_kib = report
        .rss
        .iter()
        .take_while(|(t, _)| *t <= warm)
        .last()
        .or(report.rss.first())
        .map_or(0, |s| s.1);
    let after = report
        .rss
        .iter()
        .filter(|(t, _)| *t > warm)
        .map(|s| s.1)
        .max()
        .unwrap_or(report.warm_rss_kib);
    report.growth_kib = after as i64 - report.warm_rss_kib as i64;
    report.guard_entries = guard.map(|g| g.len());
    report.options = options;
    report
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--help" | "-h" => return Ok(None),
            "--seconds" => {
                let v = value("--seconds")?;
                let secs: f64 = v
                    .parse()
                    .map_err(|_| format!("--seconds: {v:?} is not a number"))?;
                if !(0.5..=600.0).contains(&secs) {
                    return Err("--seconds must be between 0.5 and 600".into());
                }
                options.duration = Duration::from_secs_f64(secs);
            }
            "--concurrency" => {
                let v = value("--concurrency")?;
                options.concurrency = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=1024).contains(n))
                    .ok_or_else(|| {
                        format!("--concurrency: {v:?} is not a number from 1 to 1024")
                    })?;
            }
            "--replay" => match value("--replay")?.as_str() {
                "none" => options.replay = false,
                "memory" => options.replay = true,
                other => return Err(format!("--replay: {other:?} is neither none nor memory")),
            },
            "--max-growth-mib" => {
                let v = value("--max-growth-mib")?;
                options.max_growth_mib = v
                    .parse()
                    .map_err(|_| format!("--max-growth-mib: {v:?} is not a number"))?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(options))
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("load: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("load: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = runtime.block_on(run(options));
    print!("{}", report.render());
    match report.verdict() {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}
