//! Are the comparisons that claim constant time constant in time? dudect's test (Reparaz,
//! Balasch and Verbauwhede, "Dude, is my code constant time?", 2017): for each comparison, two
//! classes of inputs that a leaky implementation would tell apart, measured many times with the
//! classes interleaved at random, then Welch's t-test between the two classes' times; on the raw
//! times, on the times cropped at 100 percentiles of their distribution (so that interrupts and
//! other outliers do not hide a difference), and on the squared deviations from each class's
//! mean (a second-order test). The largest |t| of these decides: under 4.5, no difference is
//! seen; dudect reads over 4.5 as a leak.
//!
//! ```text
//! cargo bench --bench constant_time                 # every comparison, 400,000 measurements each
//! cargo bench --bench constant_time -- basic        # those whose name holds "basic"
//! CT_MEASUREMENTS=2000000 cargo bench --bench constant_time
//! ```
//!
//! The comparisons, and their classes:
//!
//! * `Signature::ct_matches` (and so `==` on `Signature`, `SigningKey::verify`): the right
//!   signature, and one whose first byte differs.
//! * `ApiClient::verify_basic_secret`: the right secret, and one whose first byte differs.
//! * The layer's Basic check (`VerifyLayer` called in process): a known client id and an unknown
//!   one (of the same length), both with a wrong secret: an unknown id is checked against a
//!   stand-in client, so the time must not tell which ids exist.
//!
//! And controls, which must show a leak (|t| well over 4.5), or the run sees nothing and
//! proves nothing: a comparison of 28 bytes that stops at the first difference (the size of a
//! signature), and through the layer a known client with one secret against one with two (one
//! HMAC more).
//!
//! Timing is noisy on a busy machine: run it on an idle one. The exit status is 0 when every
//! comparison passes and every control shows its leak, 1 when a comparison shows a difference,
//! 2 when a control does not (the run was too noisy to tell). Run without `--bench` (as
//! `cargo test --benches` does), it checks only that each class gives the answer it should.
//!
//! Written here rather than with the `dudect-bencher` crate: that crate brings clap 2 (with
//! `atty`, RUSTSEC-2021-0145, and a second major version of clap beside the one the workspace
//! has) into every build of the tests, and times each call alone, which cannot resolve a
//! comparison of 28 bytes; this one times batches of calls.

use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
use janrain_auth::permissions::Feature;
use janrain_auth::scheme::{ManualClock, SigningKey, StringToSign, basic_header};
use janrain_auth::server::{MemoryStore, VerifyLayer};
use tower::{Layer, ServiceExt};

/// Measurements per comparison, unless `CT_MEASUREMENTS` says otherwise.
const MEASUREMENTS: usize = 400_000;
/// Measurements made and thrown away first, while caches and branch predictors settle.
const WARM_UP: usize = 10_000;
/// dudect's threshold.
const T_THRESHOLD: f64 = 4.5;

const SECRET: &str = "rylicq8ydkz0vmki3gqaoxbk4gyrr05t";
const DATE: &str = "2026-03-01 12:00:00";

/// One comparison under test: what it is, whether it must be constant time (or is a control
/// that must leak), how many calls one measurement times, and the timed call for each class.
struct Target {
    name: &'static str,
    classes: &'static str,
    control: bool,
    batch: usize,
    /// Run the call once for class `second` (false: the first class) and return its answer;
    /// `check`: also look into the answer where that costs time (never while timing).
    call: Box<dyn FnMut(bool, bool) -> bool>,
    /// The answers each class must give: (first, second).
    answers: (bool, bool),
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let timing = args.iter().any(|a| a == "--bench");
    let filter = args.iter().find(|a| !a.starts_with("--")).cloned();
    let measurements = std::env::var("CT_MEASUREMENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(MEASUREMENTS);

    let mut status = 0;
    for mut target in targets() {
        if filter
            .as_ref()
            .is_some_and(|f| !target.name.contains(f.as_str()))
        {
            continue;
        }
        // Each class gives the answer it should, or the times compare the wrong things.
        let answers = ((target.call)(false, true), (target.call)(true, true));
        assert_eq!(
            answers, target.answers,
            "{}: the classes' answers",
            target.name
        );
        if !timing {
            println!(
                "{}: classes checked (time them with `cargo bench`)",
                target.name
            );
            continue;
        }
        let times = measure(&mut target, measurements);
        let (t, which) = max_t(&times);
        let per_call = median_per_call(&times, target.batch);
        let verdict = match (target.control, t.abs() < T_THRESHOLD) {
            (false, true) => "no difference seen",
            (false, false) => {
                status = status.max(1);
                "DIFFERENCE SEEN"
            }
            (true, false) => "the leak is seen, as it must be",
            (true, true) => {
                status = 2;
                "CONTROL LEAK NOT SEEN: too noisy to tell"
            }
        };
        println!(
            "{}: {}\n  n = {}, max |t| = {:.2} ({which}); median per call {:.1} / {:.1} ns: \
             {verdict}",
            target.name,
            target.classes,
            times.len(),
            t.abs(),
            per_call.0,
            per_call.1,
        );
    }
    std::process::exit(status);
}

fn targets() -> Vec<Target> {
    let mut targets = Vec::new();

    // Signature::ct_matches.
    let signature = SigningKey::new(SECRET).sign(&StringToSign::new(
        "/entity.find",
        DATE,
        &[("type_name", "user")],
    ));
    let right = *signature.as_bytes();
    let mut early = right;
    early[0] = if early[0] == b'A' { b'B' } else { b'A' };
    targets.push(Target {
        name: "Signature::ct_matches",
        classes: "the signature / its first byte changed",
        control: false,
        batch: 256,
        call: Box::new(move |second, _| {
            let received = if second { &early } else { &right };
            signature.ct_matches(black_box(received))
        }),
        answers: (true, false),
    });

    // The control at the same size: a comparison that stops at the first difference.
    targets.push(Target {
        name: "control: 28 bytes compared up to the first difference",
        classes: "equal / the first byte differs",
        control: true,
        batch: 256,
        call: Box::new(move |second, _| {
            let received = if second { &early } else { &right };
            early_exit_eq(black_box(&right), black_box(received))
        }),
        answers: (true, false),
    });

    // ApiClient::verify_basic_secret.
    let client = ApiClient::new(
        ClientId::new("bench_client").unwrap(),
        ClientSecret::new(SECRET).unwrap(),
    );
    let mut wrong = SECRET.to_owned().into_bytes();
    wrong[0] = if wrong[0] == b'a' { b'b' } else { b'a' };
    let wrong = String::from_utf8(wrong).unwrap();
    targets.push(Target {
        name: "ApiClient::verify_basic_secret",
        classes: "the secret / its first byte changed",
        control: false,
        batch: 16,
        call: Box::new(move |second, _| {
            let password = if second { wrong.as_str() } else { SECRET };
            client.verify_basic_secret(black_box(password))
        }),
        answers: (true, false),
    });

    // Basic through the layer: a known id and an unknown one.
    targets.push(layer_target(
        "VerifyLayer, Basic: known id or unknown id",
        "known id, wrong secret / unknown id",
        false,
        "bench_known_client_01",
        "bench_other_client_01",
    ));
    targets.push(layer_target(
        "control: VerifyLayer, Basic: one secret or two",
        "1 secret, wrong secret / 2 secrets",
        true,
        "bench_known_client_01",
        "bench_two_secrets_001",
    ));
    targets
}

/// Basic requests with a wrong secret through the layer, for client `first` or `second`:
/// each refused with 402.
fn layer_target(
    name: &'static str,
    classes: &'static str,
    control: bool,
    first: &'static str,
    second: &'static str,
) -> Target {
    assert_eq!(first.len(), second.len(), "ids of the same length");
    let one = ApiClient::new(
        ClientId::new("bench_known_client_01").unwrap(),
        ClientSecret::new(SECRET).unwrap(),
    )
    .with_feature(Feature::DirectReadAccess);
    let two = ApiClient::new(
        ClientId::new("bench_two_secrets_001").unwrap(),
        ClientSecret::new(SECRET).unwrap(),
    )
    .with_secret(ClientSecret::new("a-second-secret-of-the-same-client").unwrap())
    .with_feature(Feature::DirectReadAccess);
    let layer = VerifyLayer::builder(MemoryStore::new().with(one).with(two))
        .clock(ManualClock::at(DATE.parse().unwrap()))
        .build();
    let service = layer.layer(tower::service_fn(|_: Request<_>| async {
        Ok::<_, std::convert::Infallible>(Response::new(Empty::<Bytes>::new()))
    }));
    let header = |id: &str| {
        basic_header(
            &ClientId::new(id).unwrap(),
            &ClientSecret::new("not-the-secret-of-any-client-xx").unwrap(),
        )
    };
    let headers = (header(first), header(second));
    Target {
        name,
        classes,
        control,
        batch: 4,
        call: Box::new(move |second, check| {
            let authorization = if second { &headers.1 } else { &headers.0 };
            let request = Request::post("/entity.find")
                .header("authorization", authorization.clone())
                .body(Empty::<Bytes>::new())
                .unwrap();
            let response = ready(service.clone().oneshot(black_box(request))).unwrap();
            // Refused either way, as an unknown id or a wrong secret (401, Janrain code 402).
            let refused = response.status() == StatusCode::UNAUTHORIZED;
            if !check {
                return refused;
            }
            let body = ready(response.into_body().collect()).unwrap().to_bytes();
            let code = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["code"].clone();
            refused && code == 402
        }),
        answers: (true, true),
    }
}

/// The result of a future that needs nothing to wait for (the layer refusing in process).
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the layer waited for something"),
    }
}

/// A comparison that is not constant time, for the control: byte by byte, each byte passed
/// through `black_box` so that the compiler cannot turn the loop into one wide comparison
/// (which takes the same time whatever the bytes, and would leave the control nothing to show).
#[inline(never)]
fn early_exit_eq(a: &[u8; 28], b: &[u8; 28]) -> bool {
    for i in 0..28 {
        if black_box(a[i]) != b[i] {
            return false;
        }
    }
    true
}

/// Time `target.batch` calls per measurement, the class of each measurement drawn at random;
/// (class, nanoseconds) for each.
fn measure(target: &mut Target, measurements: usize) -> Vec<(bool, f64)> {
    let mut rng = XorShift::seeded();
    let mut times = Vec::with_capacity(measurements);
    for i in 0..WARM_UP + measurements {
        let second = rng.next() & 1 == 1;
        let started = Instant::now();
        for _ in 0..target.batch {
            black_box((target.call)(black_box(second), false));
        }
        let took = started.elapsed().as_nanos() as f64;
        if i >= WARM_UP {
            times.push((second, took));
        }
    }
    times
}

/// The median time of one call, for each class.
fn median_per_call(times: &[(bool, f64)], batch: usize) -> (f64, f64) {
    let median = |second: bool| {
        let mut class: Vec<f64> = times
            .iter()
            .filter(|&&(c, _)| c == second)
            .map(|&(_, x)| x)
            .collect();
        class.sort_by(f64::total_cmp);
        class.get(class.len() / 2).map_or(0.0, |x| x / batch as f64)
    };
    (median(false), median(true))
}

/// Welch's t between the two classes, for the running sums of one test.
#[derive(Default, Clone, Copy)]
struct Welch {
    n: [f64; 2],
    mean: [f64; 2],
    m2: [f64; 2],
}

impl Welch {
    fn push(&mut self, second: bool, x: f64) {
        let c = usize::from(second);
        self.n[c] += 1.0;
        let delta = x - self.mean[c];
        self.mean[c] += delta / self.n[c];
        self.m2[c] += delta * (x - self.mean[c]);
    }

    fn t(&self) -> f64 {
        if self.n[0] < 2.0 || self.n[1] < 2.0 {
            return 0.0;
        }
        let var = |c: usize| self.m2[c] / (self.n[c] - 1.0);
        let se = (var(0) / self.n[0] + var(1) / self.n[1]).sqrt();
        if se == 0.0 {
            return 0.0;
        }
        (self.mean[0] - self.mean[1]) / se
    }
}

/// dudect's statistic: the largest |t| of the raw test, the tests cropped at 100 percentiles
/// (`1 - 0.5^(10 k / 100)`, k = 1..100, of all the times), and the second-order test; with
/// which test gave it.
fn max_t(times: &[(bool, f64)]) -> (f64, String) {
    let mut sorted: Vec<f64> = times.iter().map(|&(_, x)| x).collect();
    sorted.sort_by(f64::total_cmp);
    let thresholds: Vec<(f64, f64)> = (1..=100)
        .map(|k| {
            let p = 1.0 - 0.5f64.powf(f64::from(10 * k) / 100.0);
            let at = ((sorted.len() - 1) as f64 * p) as usize;
            (p, sorted[at])
        })
        .collect();
    let mut raw = Welch::default();
    let mut cropped = vec![Welch::default(); thresholds.len()];
    for &(second, x) in times {
        raw.push(second, x);
        for (test, &(_, threshold)) in cropped.iter_mut().zip(&thresholds) {
            if x < threshold {
                test.push(second, x);
            }
        }
    }
    let mut second_order = Welch::default();
    for &(second, x) in times {
        let d = x - raw.mean[usize::from(second)];
        second_order.push(second, d * d);
    }
    let mut best = (raw.t(), "raw".to_owned());
    for (test, &(p, _)) in cropped.iter().zip(&thresholds) {
        if test.t().abs() > best.0.abs() {
            best = (test.t(), format!("below the {:.1} percentile", p * 100.0));
        }
    }
    if second_order.t().abs() > best.0.abs() {
        best = (second_order.t(), "second order".to_owned());
    }
    best
}

/// xorshift64*: enough to draw the classes (no statistics of its own are relied on).
struct XorShift(u64);

impl XorShift {
    fn seeded() -> Self {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        XorShift(nanos | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}
