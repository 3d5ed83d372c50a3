//! What the run shows: a progress line on stderr about once a second, then a table per
//! operation on stdout, and the same numbers as JSON (`--json FILE`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::hot_book::HotBookReport;
use super::stats::{Operation, OperationStats, Progress, Recorder};

/// One operation's line of the report.
#[derive(Debug, Serialize)]
pub(crate) struct OperationReport {
    pub(crate) count: u64,
    /// Unexpected errors (they fail the run).
    pub(crate) errors: u64,
    /// Refusals the scenario allows: `OUT_OF_STOCK`, and UNAVAILABLE retried at checkout.
    pub(crate) expected: u64,
    pub(crate) rate_limited: u64,
    pub(crate) requests_per_second: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p90_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
}

/// The whole run.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) scenario: &'static str,
    pub(crate) url: String,
    pub(crate) users: usize,
    pub(crate) elapsed_secs: f64,
    pub(crate) requests: u64,
    pub(crate) errors: u64,
    pub(crate) rate_limited: u64,
    pub(crate) requests_per_second: f64,
    /// Keyed by operation name (`browse`, `placeOrder`, …).
    pub(crate) operations: BTreeMap<&'static str, OperationReport>,
    /// Up to ten distinct unexpected errors.
    pub(crate) error_samples: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hot_book: Option<HotBookReport>,
}

fn millis(histogram: &Histogram<u64>, quantile: f64) -> f64 {
    let micros = histogram.value_at_quantile(quantile);
    (micros as f64 / 10.0).round() / 100.0
}

fn operation_report(stats: &OperationStats, seconds: f64) -> OperationReport {
    OperationReport {
        count: stats.count,
        errors: stats.errors,
        expected: stats.expected,
        rate_limited: stats.rate_limited,
        requests_per_second: per_second(stats.count, seconds),
        p50_ms: millis(&stats.latency, 0.50),
        p90_ms: millis(&stats.latency, 0.90),
        p99_ms: millis(&stats.latency, 0.99),
        max_ms: (stats.latency.max() as f64 / 10.0).round() / 100.0,
    }
}

fn per_second(count: u64, seconds: f64) -> f64 {
    if seconds <= 0.0 {
        return 0.0;
    }
    (count as f64 / seconds * 10.0).round() / 10.0
}

impl Report {
    pub(crate) fn new(
        scenario: &'static str,
        url: &str,
        users: usize,
        elapsed: Duration,
        recorder: &Recorder,
    ) -> Report {
        let seconds = elapsed.as_secs_f64();
        let mut operations = BTreeMap::new();
        for (operation, stats) in &recorder.operations {
            operations.insert(operation.as_str(), operation_report(stats, seconds));
        }
        Report {
            scenario,
            url: url.to_owned(),
            users,
            elapsed_secs: (seconds * 100.0).round() / 100.0,
            requests: recorder.requests(),
            errors: recorder.errors(),
            rate_limited: recorder.rate_limited(),
            requests_per_second: per_second(recorder.requests(), seconds),
            operations,
            error_samples: recorder.error_samples.clone(),
            hot_book: None,
        }
    }

    /// The table printed at the end, one line per operation that ran.
    pub(crate) fn table(&self) -> String {
        let mut table = String::new();
        let _ = writeln!(
            table,
            "{:<15} {:>8} {:>7} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "operation", "count", "errors", "expected", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms"
        );
        for operation in Operation::ALL {
            let Some(line) = self.operations.get(operation.as_str()) else {
                continue;
            };
            let _ = writeln!(
                table,
                "{:<15} {:>8} {:>7} {:>9} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
                operation.as_str(),
                line.count,
                line.errors,
                line.expected,
                line.requests_per_second,
                line.p50_ms,
                line.p90_ms,
                line.p99_ms,
                line.max_ms
            );
        }
        let expected: u64 = self.operations.values().map(|line| line.expected).sum();
        let _ = writeln!(
            table,
            "{:<15} {:>8} {:>7} {:>9} {:>8.1}",
            "total", self.requests, self.errors, expected, self.requests_per_second
        );
        let _ = write!(
            table,
            "{} users, {} scenario, {:.1} s against {}",
            self.users, self.scenario, self.elapsed_secs, self.url
        );
        table
    }

    /// Writes the report as pretty JSON to `path`.
    ///
    /// # Errors
    /// Fails when the file cannot be written.
    pub(crate) fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        let json = serde_json::to_string_pretty(self).context("failed to encode the report")?;
        std::fs::write(path, json + "\n").with_context(|| format!("failed to write {}", path.display()))
    }
}

/// The live progress line: `elapsed, requests, req/s, errors` on stderr about once a second.
#[derive(Debug)]
pub(crate) struct ProgressLine {
    /// Cancelled by [`ProgressLine::finish`], which then awaits the task.
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl ProgressLine {
    /// Starts printing, unless `enabled` is false (`--quiet`).
    pub(crate) fn start(progress: Arc<Progress>, enabled: bool) -> ProgressLine {
        let stop = CancellationToken::new();
        let task = enabled.then(|| tokio::spawn(print_progress(progress, stop.clone())));
        ProgressLine { stop, task }
    }

    /// Stops printing and ends the line.
    pub(crate) async fn finish(self) {
        self.stop.cancel();
        if let Some(task) = self.task {
            let _ = task.await;
        }
    }
}

/// On a terminal it rewrites one line, otherwise it writes a line each time (CI logs).
async fn print_progress(progress: Arc<Progress>, stop: CancellationToken) {
    let started = Instant::now();
    let terminal = std::io::stderr().is_terminal();
    let mut ticks = tokio::time::interval_at(started + Duration::from_secs(1), Duration::from_secs(1));
    let mut last_requests = 0;
    let mut last_tick = started;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = ticks.tick() => {}
        }
        let now = Instant::now();
        let requests = progress.requests.load(Ordering::Relaxed);
        let errors = progress.errors.load(Ordering::Relaxed);
        let rate = (requests - last_requests) as f64 / (now - last_tick).as_secs_f64().max(0.001);
        let line = format!(
            "{:>6.1}s  requests {requests:>8}  {rate:>8.1} req/s  errors {errors}",
            (now - started).as_secs_f64()
        );
        let mut stderr = std::io::stderr().lock();
        let _ = if terminal {
            write!(stderr, "\r\x1b[2K{line}")
        } else {
            writeln!(stderr, "{line}")
        };
        let _ = stderr.flush();
        (last_requests, last_tick) = (requests, now);
    }
    if terminal {
        eprintln!();
    }
}
