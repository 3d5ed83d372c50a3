//! Helpers the benchmark examples share: knobs from the environment, rates, histograms.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Reads a number from the environment, or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Runs `work(round)` on `concurrency` tasks for `seconds`; returns completed calls a second.
pub async fn rate<F, Fut>(concurrency: u64, seconds: u64, work: F) -> f64
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let (calls, elapsed) = run_for(concurrency, Duration::from_secs(seconds), &Arc::new(work), 0).await;
    calls as f64 / elapsed.as_secs_f64()
}

/// user + system CPU seconds `pid` has used so far, from `/proc/<pid>/stat` (10 ms ticks).
///
/// # Panics
/// When the file cannot be read or is not as the kernel writes it (a bench cannot go on
/// without the figure).
pub fn cpu_seconds(pid: u32) -> f64 {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let after_name = stat
        .rfind(')')
        .and_then(|end| stat.get(end + 2..))
        .unwrap_or_default();
    let fields: Vec<&str> = after_name.split(' ').collect();
    // utime and stime: fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks = |index: usize| -> u64 {
        fields
            .get(index)
            .and_then(|field| field.parse().ok())
            .unwrap_or_else(|| panic!("{path} has no CPU time in field {}: {stat}", index + 3))
    };
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// One side of [`interleaved_rates`]: calls a second, and the CPU this process spent a call
/// while that side ran (its client, and whatever of the work runs in this process).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Side {
    pub rate: f64,
    pub cpu_us_per_call: f64,
}

/// The rates of `a` and of `b`, as [`rate`], measured in alternating one-second slices
/// (`a b`, `b a`, `a b`, …) for `seconds` each, so that the machine's drift and a database
/// that grows as it is written (its tables, its vacuum, its checkpoints) weigh on both
/// alike rather than on whichever ran second; with this process's CPU a call on each side.
pub async fn interleaved_rates<A, FutA, B, FutB>(concurrency: u64, seconds: u64, a: A, b: B) -> (Side, Side)
where
    A: Fn(u64) -> FutA + Send + Sync + 'static,
    FutA: std::future::Future<Output = ()> + Send,
    B: Fn(u64) -> FutB + Send + Sync + 'static,
    FutB: std::future::Future<Output = ()> + Send,
{
    let (a, b) = (Arc::new(a), Arc::new(b));
    let slice = Duration::from_secs(1);
    let pid = std::process::id();
    let (mut a_total, mut b_total) = (Totals::default(), Totals::default());
    for round in 0..seconds.max(1) {
        // Distinct round numbers in every slice, so picks keep moving.
        let first_round = round << 32;
        let a_first = round % 2 == 0;
        for run_a in [a_first, !a_first] {
            let cpu_before = cpu_seconds(pid);
            if run_a {
                let (calls, elapsed) = run_for(concurrency, slice, &a, first_round).await;
                a_total.add(calls, elapsed, cpu_seconds(pid) - cpu_before);
            } else {
                let (calls, elapsed) = run_for(concurrency, slice, &b, first_round).await;
                b_total.add(calls, elapsed, cpu_seconds(pid) - cpu_before);
            }
        }
    }
    (a_total.side(), b_total.side())
}

/// What the slices of one side of [`interleaved_rates`] add up to.
#[derive(Debug, Default)]
struct Totals {
    calls: u64,
    time: Duration,
    cpu_seconds: f64,
}

impl Totals {
    fn add(&mut self, calls: u64, time: Duration, cpu_seconds: f64) {
        self.calls += calls;
        self.time += time;
        self.cpu_seconds += cpu_seconds;
    }

    fn side(&self) -> Side {
        let calls = self.calls.max(1) as f64;
        Side {
            rate: self.calls as f64 / self.time.as_secs_f64(),
            cpu_us_per_call: self.cpu_seconds * 1e6 / calls,
        }
    }
}

/// Runs `work` on `concurrency` tasks for `duration` (each task finishes its call in
/// flight); returns the calls completed and the time it took.
async fn run_for<F, Fut>(
    concurrency: u64,
    duration: Duration,
    work: &Arc<F>,
    first_round: u64,
) -> (u64, Duration)
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let work = Arc::clone(work);
        let done = Arc::clone(&done);
        tasks.spawn(async move {
            let mut round = first_round;
            while Instant::now() < deadline {
                work(worker * 1_000_000 + round).await;
                done.fetch_add(1, Ordering::Relaxed);
                round += 1;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    (done.load(Ordering::Relaxed), started.elapsed())
}

/// One row of the benchmark table: a measure, its baseline from the same run, and the
/// target it is judged by.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub measure: String,
    pub value: f64,
    pub unit: String,
    /// The same work done the direct way, measured in the same run.
    pub baseline: Option<f64>,
    /// `value / baseline`, or the figure the target is stated in.
    pub ratio: Option<f64>,
    pub target: String,
    pub pass: Option<bool>,
}

impl Row {
    /// A row judged by `ratio >= at_least` against `baseline`.
    pub fn ratio(measure: &str, value: f64, unit: &str, baseline: f64, at_least: f64) -> Row {
        let ratio = value / baseline;
        Row {
            measure: measure.to_owned(),
            value,
            unit: unit.to_owned(),
            baseline: Some(baseline),
            ratio: Some(ratio),
            target: format!(">= {at_least:.2}x baseline"),
            pass: Some(ratio >= at_least),
        }
    }

    /// A row that is only recorded.
    pub fn recorded(measure: &str, value: f64, unit: &str) -> Row {
        Row {
            measure: measure.to_owned(),
            value,
            unit: unit.to_owned(),
            baseline: None,
            ratio: None,
            target: "recorded".to_owned(),
            pass: None,
        }
    }

    /// A row judged by `value <= at_most`.
    pub fn at_most(measure: &str, value: f64, unit: &str, at_most: f64) -> Row {
        Row {
            measure: measure.to_owned(),
            value,
            unit: unit.to_owned(),
            baseline: None,
            ratio: None,
            target: format!("<= {at_most} {unit}"),
            pass: Some(value <= at_most),
        }
    }
}

/// Appends `row` (with the backend of this run) as a JSON line to `BENCH_JSON` when set,
/// for `scripts/bench.sh` to gather into one table.
pub fn record(row: &Row) {
    let Ok(path) = std::env::var("BENCH_JSON") else {
        return;
    };
    let backend = match platform::testing::Backend::from_env() {
        platform::testing::Backend::Sqlite => "sqlite",
        platform::testing::Backend::Postgres => "postgres",
    };
    let mut value = serde_json::to_value(row).unwrap_or_default();
    value["backend"] = serde_json::Value::from(backend);
    let line = format!("{value}\n");
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| std::io::Write::write_all(&mut file, line.as_bytes()));
    if let Err(error) = appended {
        eprintln!("failed to append to {path}: {error}");
    }
}

/// One process's resident memory, from `/proc/<pid>/status`, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Resident {
    pub total: u64,
    /// Heap and stacks: what the service itself holds.
    pub anonymous: u64,
    /// Mapped pages of the binary and libraries, shared by every process of the same file.
    pub file: u64,
}

/// Reads `pid`'s resident memory (zeros when it is gone).
pub fn resident(pid: u32) -> Resident {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Resident {
        total: field("VmRSS:"),
        anonymous: field("RssAnon:"),
        file: field("RssFile:"),
    }
}

/// Samples every process's RSS every 200 ms until `stop`; returns the largest seen per
/// process, with its split at that moment.
pub async fn peak_memory(
    pids: Vec<(String, u32)>,
    stop: tokio_util::sync::CancellationToken,
) -> std::collections::BTreeMap<String, Resident> {
    let mut peaks = std::collections::BTreeMap::<String, Resident>::new();
    while !stop.is_cancelled() {
        for (name, pid) in &pids {
            let now = resident(*pid);
            let peak = peaks.entry(name.clone()).or_default();
            if now.total > peak.total {
                *peak = now;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    peaks
}
