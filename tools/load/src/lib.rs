//! Hostile traffic under load: the crate's Identity Cloud emulator in this process on a
//! loopback port, driven by many concurrent clients with a mix of valid
//! requests and every kind of invalid one in the verification layer's error table.
//!
//! ```text
//! cargo run --release -p janrain-auth-load -- [--seconds 10] [--concurrency 128]
//!                                            [--replay none|memory] [--max-growth-mib 16]
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
//!
//! The library is the harness ([`run`] and its [`Report`]): the binary is its command line, and
//! the crate's tests drive it too. `plan` makes each kind of request, `drive` sends them and
//! samples memory, `report` tallies and judges.

mod drive;
mod plan;
mod report;

use std::time::Duration;

pub use drive::run;
pub use plan::secret;
pub use report::Report;

/// The demo clients and tokens the emulator serves (`examples/demo-clients.json`).
pub const CLIENTS: &str = include_str!("../../../examples/demo-clients.json");

/// The body limit of the server under test: small, so that over-limit bodies are cheap.
pub const BODY_LIMIT: usize = 4096;

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
