//! Driving the emulator: concurrent workers sending the mix, the outcomes tallied, the
//! process's memory sampled.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use janrain_auth::emulator::Emulator;
use janrain_auth::error::JanrainError;
use janrain_auth::server::ClientsFile;
use janrain_auth::server::replay::MemoryReplayGuard;
use tokio::sync::Mutex;

use crate::plan::{Expected, Kind, Plan, UNAUTHORIZED, plan};
use crate::{BODY_LIMIT, CLIENTS, Options, Report};

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
    let guard = options.replay.then(|| Arc::new(MemoryReplayGuard::new()));
    let layer_guard = guard.clone();
    // The tokens only verify: `/access/getAccessToken` echoes like every other operation.
    // No call is kept: memory must stay flat however many requests the run sends.
    let emulator = Emulator::builder()
        .clients(store)
        .record_calls(false)
        .configure_layer(move |layer| {
            let layer = layer.token_verifier(tokens).body_limit(BODY_LIMIT);
            match layer_guard {
                Some(guard) => layer.replay_guard(guard),
                None => layer,
            }
        })
        .start()
        .await
        .expect("a loopback port");
    let base = emulator.base_url().to_owned();
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
    drop(http);
    let _ = tokio::time::timeout(Duration::from_secs(5), emulator.shutdown()).await;

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
