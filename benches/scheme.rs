//! The scheme core's hot path against a naive implementation and against the SHA-1 floor.
//!
//! One group, `scheme`, with three request sizes each:
//!
//! * `scheme/sign/*`: [`SigningKey::sign`] with a key built once (the crate's design);
//! * `scheme/verify/*`: [`SigningKey::verify`] of the correct signature;
//! * `scheme/canonical/*`: the string to sign alone, written into a reused buffer
//!   ([`StringToSign::write_into`]);
//! * `scheme/naive/*`: the obvious implementation: `format!` per line, sort, join, a new
//!   `Hmac<Sha1>` per call, base64 into a `String`;
//! * `scheme/floor/*`: the SHA-1 compressions HMAC cannot avoid with cached keyed states,
//!   `ceil((len + 9) / 64) + 1` blocks through `sha1::block_api::compress` in one call;
//! * `scheme/floor_hmac/*`: the same blocks in the order HMAC must compress them: the inner
//!   blocks, then the outer block, which holds the inner digest and so cannot start before
//!   they finish;
//! * `scheme/sign_hmac_crate/*`: the signer's work with the `hmac` crate: the string to sign
//!   written into a reused buffer, then `Hmac<Sha1>` keyed once and copied per call, and
//!   base64 from the `base64` crate: the plain way to use the crate, against which the
//!   signer's streaming of the lines into the keyed state is measured;
//! * `scheme/hmac_cached/*`: the plain `hmac` crate keyed once and cloned per call, fed the
//!   string to sign already built, then base64: what the signer adds over the MAC itself is
//!   `sign - hmac_cached`.
//!
//! Sizes: `tiny` is an endpoint and a date, no parameters; `typical` is a traditional sign-in
//! form (6 parameters, about 250 bytes in all); `large` is about 4 KiB of parameters.
//!
//! ```text
//! cargo bench --bench scheme -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Instruction counts, repeatable on a busy machine: with `SCHEME_COUNT=N` set, the binary
//! calls each routine whose id contains one of its arguments exactly `N` times and exits, and
//! `python3 benches/ratios.py --instructions <bench binary>` runs that under callgrind for
//! every routine and prints the instructions per call.

use std::hint::black_box;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion};
use hmac::{Hmac, KeyInit, Mac};
use janrain_auth::scheme::{SigningKey, StringToSign};
use sha1::Sha1;

const SECRET: &str = "rylicq8ydkz0vmki3gqaoxbk4gyrr05t";
const DATE: &str = "2021-03-04 05:06:07";
/// SHA-1's initial state; any state costs the same to compress.
const IV: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

struct Case {
    name: &'static str,
    endpoint: &'static str,
    params: Vec<(String, String)>,
}

impl Case {
    fn pairs(&self) -> Vec<(&str, &str)> {
        self.params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    fn len(&self) -> usize {
        StringToSign::new(self.endpoint, DATE, &self.params).len()
    }
}

fn cases() -> Vec<Case> {
    let owned = |p: &[(&str, &str)]| -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let tiny = Case {
        name: "tiny",
        endpoint: "/entity.count",
        params: Vec::new(),
    };
    // A traditional sign-in, in the order a form would send it.
    let typical = Case {
        name: "typical",
        endpoint: "/oauth/auth_native_traditional",
        params: owned(&[
            ("flow", "standard"),
            ("flow_version", "9d5d7b1c-3c36-4bce-bd1f-54c9b2a0ee34"),
            ("locale", "en-US"),
            ("redirect_uri", "https://www.example.com/janrain/cb"),
            ("signInEmailAddress", "jane.doe@example.com"),
            ("currentPassword", "correct horse battery staple"),
        ]),
    };
    // About 4 KiB: an entity update with twenty attributes of ~190 bytes each.
    let large = Case {
        name: "large",
        endpoint: "/entity.update",
        params: (0..20)
            .rev()
            .map(|i| {
                let value = format!(
                    "{{\"field\": {i}, \"text\": \"{}\"}}",
                    "lorem ipsum dolor sit amet ".repeat(6)
                );
                (format!("attribute_{i:02}"), value)
            })
            .collect(),
    };
    vec![tiny, typical, large]
}

/// The obvious implementation, as a baseline.
fn naive(secret: &str, endpoint: &str, date: &str, params: &[(&str, &str)]) -> String {
    let mut lines: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    lines.sort();
    let mut text = format!("{endpoint}\n{date}\n");
    if !lines.is_empty() {
        text.push_str(&lines.join("\n"));
        text.push('\n');
    }
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(text.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The `hmac` crate's MAC, then the `base64` crate's encoding into a 28-byte buffer: how the
/// baselines built on the crates finish.
fn finish_with_crates(mac: Hmac<Sha1>) -> ([u8; 28], usize) {
    let mut out = [0u8; 28];
    let n = STANDARD
        .encode_slice(mac.finalize().into_bytes(), &mut out)
        .unwrap_or(0);
    (out, n)
}

/// Where the routines go: criterion's timing, or a fixed number of calls for counting
/// instructions.
trait Runner {
    fn run<R>(&mut self, id: &str, routine: impl FnMut() -> R);
}

struct Timed<'g>(BenchmarkGroup<'g, WallTime>);

impl Runner for Timed<'_> {
    fn run<R>(&mut self, id: &str, mut routine: impl FnMut() -> R) {
        self.0.bench_function(id, |b| b.iter(&mut routine));
    }
}

/// `SCHEME_COUNT=N`: call each routine whose full id contains one of the arguments exactly
/// `N` times, inside [`counted`], for callgrind's instruction counts.
struct Counted {
    calls: u64,
    filters: Vec<String>,
}

impl Runner for Counted {
    fn run<R>(&mut self, id: &str, routine: impl FnMut() -> R) {
        let full = format!("scheme/{id}");
        if self.filters.iter().any(|f| full.contains(f.as_str())) {
            counted(self.calls, routine);
            println!("{full}: {} calls", self.calls);
        }
    }
}

/// The loop callgrind counts (`--toggle-collect='*counted*'`): the routine `calls` times.
#[inline(never)]
fn counted<R>(calls: u64, mut routine: impl FnMut() -> R) {
    for _ in 0..calls {
        black_box(routine());
    }
}

fn scheme(runner: &mut impl Runner) {
    let key = SigningKey::new(SECRET);
    let cases = cases();
    for case in &cases {
        let pairs = case.pairs();
        let len = case.len();
        let blocks = (len + 9).div_ceil(64) + 1;
        println!(
            "scheme/{}: {} params, string to sign {len} bytes, {blocks} SHA-1 blocks",
            case.name,
            pairs.len()
        );
        let sts = StringToSign::new(case.endpoint, DATE, pairs.as_slice());
        let signature = key.sign(&sts);
        // Every implementation here must agree before anything is timed.
        assert_eq!(
            naive(SECRET, case.endpoint, DATE, &pairs),
            signature.as_str()
        );
        assert!(key.verify(&sts, signature.as_bytes()));
        // The string to sign of each timed call, its parts hidden from the optimiser.
        let (endpoint, params) = (case.endpoint, pairs.as_slice());
        let fresh =
            move || StringToSign::new(black_box(endpoint), black_box(DATE), black_box(params));

        runner.run(&format!("sign/{}", case.name), || {
            let sts = fresh();
            black_box(key.sign(&sts))
        });

        // The floor and the baselines run right after `sign`, so that the ratios compare
        // measurements taken close together on a shared machine.
        let input = vec![[0x5au8; 64]; blocks];
        runner.run(&format!("floor/{}", case.name), || {
            let mut state = black_box(IV);
            sha1::block_api::compress(&mut state, black_box(input.as_slice()));
            black_box(state)
        });
        // The same compressions in the order HMAC must run them: the outer block holds the
        // inner digest, so it cannot start before the inner blocks finish. What `floor`
        // leaves out is that dependence; `floor_hmac` is the least any HMAC can take.
        let inner = vec![[0x5au8; 64]; blocks - 1];
        runner.run(&format!("floor_hmac/{}", case.name), || {
            let mut state = black_box(IV);
            sha1::block_api::compress(&mut state, black_box(inner.as_slice()));
            let mut outer = [0u8; 64];
            for (slot, word) in outer.chunks_exact_mut(4).zip(state) {
                slot.copy_from_slice(&word.to_be_bytes());
            }
            outer[20] = 0x80;
            outer[56..].copy_from_slice(&((64u64 + 20) * 8).to_be_bytes());
            let mut state = black_box(IV);
            sha1::block_api::compress(&mut state, &[outer]);
            black_box(state)
        });
        let text = sts.to_bytes();
        let cached = Hmac::<Sha1>::new_from_slice(SECRET.as_bytes()).expect("any key length");
        assert_eq!(
            STANDARD.encode(cached.clone().chain_update(&text).finalize().into_bytes()),
            signature.as_str()
        );
        runner.run(&format!("hmac_cached/{}", case.name), || {
            let mut mac = cached.clone();
            mac.update(black_box(text.as_slice()));
            black_box(finish_with_crates(mac))
        });
        // The signer's work done the plain way with the `hmac` crate: the same string to sign,
        // written into a reused buffer, then the crate's MAC keyed once and copied per call.
        // What streaming the lines into the keyed state saves over it is `sign_hmac_crate -
        // sign`.
        let mut written = Vec::with_capacity(text.len());
        runner.run(&format!("sign_hmac_crate/{}", case.name), || {
            let sts = fresh();
            written.clear();
            sts.write_into(&mut written);
            let mut mac = cached.clone();
            mac.update(&written);
            black_box(finish_with_crates(mac))
        });
        runner.run(&format!("naive/{}", case.name), || {
            black_box(naive(
                black_box(SECRET),
                black_box(case.endpoint),
                black_box(DATE),
                black_box(&pairs),
            ))
        });

        runner.run(&format!("verify/{}", case.name), || {
            let sts = fresh();
            black_box(key.verify(&sts, black_box(signature.as_bytes())))
        });

        let mut buf = Vec::with_capacity(len);
        runner.run(&format!("canonical/{}", case.name), || {
            let sts = fresh();
            buf.clear();
            sts.write_into(&mut buf);
            black_box(buf.as_slice());
        });
    }
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    if let Ok(calls) = std::env::var("SCHEME_COUNT") {
        let calls = calls.parse().expect("SCHEME_COUNT is a number of calls");
        let filters: Vec<String> = args.by_ref().collect();
        scheme(&mut Counted { calls, filters });
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    scheme(&mut Timed(c.benchmark_group("scheme")));
    c.final_summary();
}
