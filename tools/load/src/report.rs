//! The tallies of a run, their verdict and their text.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::Options;
use crate::plan::Kind;

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
