//! Overload sheds instead of piling up: the BFF driven at five times its capacity for 20 s
//! keeps the latency of what it accepts, refuses the rest at once (503 + Retry-After), lets
//! nothing wait past its deadline, and is back to full throughput within 2 s of the burst.
//!
//! The stack runs on one core and this test's load generator on the other (`taskset`), for
//! every measurement alike: otherwise the generator, which works five times harder during
//! the burst, would take CPU from the stack and the burst would measure the generator. The
//! BFF's limit is the one the README gives for a BFF that shares its core with every service
//! (1 per CPU); the services keep their defaults.
//!
//! - capacity: requests answered 200 a second by 8 closed-loop clients (5 s);
//! - unloaded p99: of one closed-loop client (5 s): light load, nothing queues;
//! - burst: open loop at 5 x capacity for 20 s, latency counted from when each request was
//!   due (so a late generator cannot hide a slow server).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bookstore_tests::stack::{Stack, StackBuilder};
use hdrhistogram::Histogram;
use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Mutex;

use crate::support::{admin_token, damage, report};

/// `bff.request_timeout_ms` of the stack: no answer may take longer (plus scheduling slack).
const DEADLINE: Duration = Duration::from_secs(2);
const SLACK: Duration = Duration::from_millis(250);
const BURST: Duration = Duration::from_secs(20);
const QUERY: &str =
    "query($id: ID!) { book(id: $id) { title price { amount currency } availability { available } } }";

fn overload_stack() -> StackBuilder {
    Stack::builder(env!("CARGO_BIN_EXE_bookstore"))
        // One client address sends everything: the per-address rate limit is not what is
        // measured.
        .setting("BOOKSTORE_BFF__RATE_PER_ADDRESS", 1_000_000)
        .setting("BOOKSTORE_BFF__RATE_BURST", 1_000_000)
        .setting("BOOKSTORE_BFF__REQUEST_TIMEOUT_MS", DEADLINE.as_millis())
        .setting("BOOKSTORE_BFF__MAX_CONCURRENT_REQUESTS", 1)
        // Every request does the upstream work shedding protects: with the catalogue cache
        // on, this guest query is a kept answer (about 15 µs), capacity becomes what the
        // generator's one core can send, and five times that overwhelms the generator itself.
        .setting("BOOKSTORE_BFF__CACHE__ENABLED", "false")
        .setting("BOOKSTORE_AUTH__ARGON2_MEMORY_KIB", 1024)
        .setting("BOOKSTORE_AUTH__ARGON2_ITERATIONS", 1)
        .setting("RUST_LOG", "warn")
}

/// Pins this process (every thread) to `cpu`; children started afterwards inherit it.
fn pin(pid: u32, cpu: usize) {
    let status = std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", &cpu.to_string(), &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("taskset (util-linux) runs");
    assert!(status.success(), "taskset failed for {pid}");
}

/// What one request came back as.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Accepted(Duration),
    Refused(Duration),
    /// Anything else: an error status, no Retry-After on a refusal, a timeout, a lost
    /// connection.
    Failed(Duration),
}

async fn one(client: &reqwest::Client, url: &str, body: &serde_json::Value, due: Instant) -> Outcome {
    let answer = match client.post(url).json(body).send().await {
        Ok(response) => {
            let status = response.status();
            let retry_after = response.headers().contains_key(reqwest::header::RETRY_AFTER);
            let text = response.text().await.unwrap_or_default();
            Some((status, retry_after, text))
        }
        Err(_) => None,
    };
    let elapsed = due.elapsed();
    match answer {
        // A 200 with an error (an upstream that shed or timed out) is not a full answer.
        Some((StatusCode::OK, _, text)) if !text.contains("\"errors\"") => Outcome::Accepted(elapsed),
        Some((StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS, true, _)) => {
            Outcome::Refused(elapsed)
        }
        _ => Outcome::Failed(elapsed),
    }
}

/// Tallies of one phase.
#[derive(Debug)]
struct Tally {
    accepted: Histogram<u64>,
    refused: Histogram<u64>,
    failed: Vec<Duration>,
    /// How late the generator sent each request of an open loop (its own share of the
    /// latencies, which count from when a request was due).
    late: Histogram<u64>,
    /// (seconds since the phase began, accepted) of every answer, for the recovery.
    accepted_at: Vec<f64>,
}

impl Tally {
    fn new() -> Self {
        Tally {
            accepted: Histogram::new(3).unwrap(),
            refused: Histogram::new(3).unwrap(),
            failed: Vec::new(),
            late: Histogram::new(3).unwrap(),
            accepted_at: Vec::new(),
        }
    }

    fn add(&mut self, outcome: Outcome, at: f64) {
        match outcome {
            Outcome::Accepted(elapsed) => {
                self.accepted.record(micros(elapsed)).unwrap();
                self.accepted_at.push(at);
            }
            Outcome::Refused(elapsed) => self.refused.record(micros(elapsed)).unwrap(),
            Outcome::Failed(elapsed) => self.failed.push(elapsed),
        }
    }

    fn longest(&self) -> Duration {
        let longest = self.accepted.max().max(self.refused.max());
        let failed = self.failed.iter().max().copied().unwrap_or_default();
        Duration::from_micros(longest).max(failed)
    }
}

fn micros(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// `clients` closed-loop clients for `length`.
async fn closed_loop(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
    clients: usize,
    length: Duration,
) -> Tally {
    let tally = Arc::new(Mutex::new(Tally::new()));
    let started = Instant::now();
    let workers = (0..clients).map(|_| {
        let (client, url, body, tally) = (client.clone(), url.to_owned(), body.clone(), Arc::clone(&tally));
        tokio::spawn(async move {
            while started.elapsed() < length {
                let due = Instant::now();
                let outcome = one(&client, &url, &body, due).await;
                tally.lock().await.add(outcome, started.elapsed().as_secs_f64());
            }
        })
    });
    for worker in futures::future::join_all(workers).await {
        worker.unwrap();
    }
    Arc::try_unwrap(tally).unwrap().into_inner()
}

/// Open loop: one request due every `1 / rate` s for `length`, whether or not earlier ones
/// have been answered.
async fn open_loop(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
    rate: f64,
    length: Duration,
) -> Tally {
    let tally = Arc::new(Mutex::new(Tally::new()));
    let started = Instant::now();
    let total = (rate * length.as_secs_f64()) as u64;
    let mut requests = Vec::with_capacity(usize::try_from(total).unwrap());
    for index in 0..total {
        let due = started + Duration::from_secs_f64(index as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let (client, url, body, tally) = (client.clone(), url.to_owned(), body.clone(), Arc::clone(&tally));
        requests.push(tokio::spawn(async move {
            let late = micros(due.elapsed());
            let outcome = tokio::time::timeout(DEADLINE * 3, one(&client, &url, &body, due))
                .await
                .unwrap_or(Outcome::Failed(DEADLINE * 3));
            let mut tally = tally.lock().await;
            tally.add(outcome, started.elapsed().as_secs_f64());
            tally.late.record(late).unwrap();
        }));
    }
    for request in requests {
        request.await.unwrap();
    }
    Arc::try_unwrap(tally).unwrap().into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_times_capacity_is_shed_and_the_accepted_keep_their_latency() {
    let started = Instant::now();
    let own = std::process::id();
    // The stack inherits CPU 1; then this process, the generator, moves to CPU 0.
    pin(own, 1);
    let mut stack = overload_stack().start().await.unwrap();
    pin(own, 0);

    let admin = admin_token(&stack).await;
    let book = stack
        .graphql()
        .create_book(&admin, "Overload", 1999, 1_000)
        .await
        .unwrap();
    let url = stack.graphql().url().to_owned();
    let body = json!({ "query": QUERY, "variables": { "id": book } });
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(4096)
        .timeout(DEADLINE * 3)
        .build()
        .unwrap();

    // Warm-up: connections, caches, the loaders' first batches.
    closed_loop(&client, &url, &body, 4, Duration::from_secs(2)).await;
    let unloaded = closed_loop(&client, &url, &body, 1, Duration::from_secs(5)).await;
    let loaded = closed_loop(&client, &url, &body, 8, Duration::from_secs(5)).await;
    let capacity = loaded.accepted.len() as f64 / 5.0;
    let unloaded_p99 = unloaded.accepted.value_at_quantile(0.99);
    assert!(
        unloaded.failed.is_empty() && loaded.failed.is_empty(),
        "failures before the burst"
    );

    let burst = open_loop(&client, &url, &body, capacity * 5.0, BURST).await;
    let after = closed_loop(&client, &url, &body, 8, Duration::from_secs(3)).await;

    // Recovery: the first 250 ms window after the burst at >= 80 % of capacity.
    let window = 0.25;
    let recovered_after = (0..12).map(|index| f64::from(index) * window).find(|start| {
        let answered = after
            .accepted_at
            .iter()
            .filter(|at| **at >= *start && **at < start + window)
            .count();
        answered as f64 / window >= 0.8 * capacity
    });

    let accepted_p99 = burst.accepted.value_at_quantile(0.99);
    let refused_p99 = burst.refused.value_at_quantile(0.99);
    let sent = burst.accepted.len() + burst.refused.len() + burst.failed.len() as u64;
    let figures = format!(
        "capacity {capacity:.0}/s (p99 {:.1} ms at 8 clients), unloaded p99 {:.1} ms (1 client, \
         median {:.1} ms); burst {:.0}/s for {} s: {sent} sent, {} accepted (p50 {:.1}, p99 {:.1} \
         ms = {:.1}x unloaded p99), {} refused (p99 {:.1} ms), {} failed, longest {:.0} ms, \
         generator late p99 {:.1} ms; recovered {} after the burst",
        ms(loaded.accepted.value_at_quantile(0.99)),
        ms(unloaded_p99),
        ms(unloaded.accepted.value_at_quantile(0.5)),
        capacity * 5.0,
        BURST.as_secs(),
        burst.accepted.len(),
        ms(burst.accepted.value_at_quantile(0.5)),
        ms(accepted_p99),
        accepted_p99 as f64 / unloaded_p99 as f64,
        burst.refused.len(),
        ms(refused_p99),
        burst.failed.len(),
        burst.longest().as_secs_f64() * 1000.0,
        ms(burst.late.value_at_quantile(0.99)),
        match recovered_after {
            Some(seconds) => format!("within {seconds:.2} s"),
            None => "not within 3 s".to_owned(),
        },
    );
    report("overload", started, &figures);

    let damage = damage(&mut stack).await;
    assert!(damage.is_empty(), "{}", damage.join("\n"));
    assert!(burst.failed.is_empty(), "failed requests: {figures}");
    assert!(
        burst.refused.len() > burst.accepted.len(),
        "the burst was shed: {figures}"
    );
    assert!(
        accepted_p99 <= 3 * unloaded_p99,
        "accepted p99 within 3x: {figures}"
    );
    assert!(
        refused_p99 <= accepted_p99.max(unloaded_p99),
        "refused fast: {figures}"
    );
    assert!(
        burst.longest() <= DEADLINE + SLACK,
        "nothing waited past its deadline: {figures}"
    );
    assert!(
        matches!(recovered_after, Some(seconds) if seconds < 2.0),
        "throughput back within 2 s: {figures}"
    );
}
