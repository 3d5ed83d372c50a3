//! CPU per catalogue page, measured from outside: `bookstore up` (the release binary) serves
//! the storefront's first page (`books(first: 20, sort: TITLE)` with availability) to a
//! cheap load generator in this process (one thread, HTTP/1.1 keep-alive), and the CPU
//! seconds the `bookstore` process spent (`/proc/<pid>/stat`, user + system) are divided by
//! the pages it served. Then the same with the stack pinned to one core and to two
//! (`taskset`), for the pages/s ratio.
//!
//! The load comes from `wrk` (2 threads) when it is installed, the cheapest client there is,
//! else from this process; `BENCH_CLIENT=builtin` forces the latter.
//!
//! `cargo build --release && target/release/examples/page_bench`. Knobs: `BENCH_SECONDS`
//! (default 10), `BENCH_CONCURRENCY` (connections, default 16, as `wrk -t2 -c16`),
//! `BENCH_PAGE_MODES` (default `cold warm`: cache off / on, `BOOKSTORE_BFF__CACHE__ENABLED`),
//! `BENCH_SCALING` (`0` skips the taskset row), `BENCH_BASELINE_BIN` (another `bookstore`,
//! measured right after each run of this one, on stores of its own seeded alike, so before
//! and after come from the same run), `BOOKSTORE_TEST_DATABASE=postgres`, `BOOKSTORE_BIN`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bookstore_tests::bench::{Row, cpu_seconds, env_number, record};
use bookstore_tests::free_port;
use platform::ServiceName;
use platform::testing::{Backend, TestDatabase};
use serde_json::{Value, json};

// mimalloc, as every binary of the mesh (why: the README's benchmark section).
#[global_allocator]
static ALLOCATOR: platform::Allocator = platform::Allocator;

/// The storefront's first page (web/src: the catalogue's `books` query, its first page).
const PAGE: &str = "{ books(first: 20, sort: TITLE) { totalCount edges { cursor node { id isbn title authors \
    price { amount currency formatted } availability { inStock available } } } } }";

/// The variable of part A's catalogue cache (issue #22).
const CACHE_SETTING: &str = "BOOKSTORE_BFF__CACHE__ENABLED";

fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("BOOKSTORE_BIN") {
        return PathBuf::from(path);
    }
    let example = std::env::current_exe().unwrap();
    example.parent().unwrap().parent().unwrap().join("bookstore")
}

/// The stores every run of one backend shares: the data dir (seeded once by the first
/// `up`) and, on PostgreSQL, one database per SQL service.
struct Stores {
    data_dir: PathBuf,
    databases: Vec<(ServiceName, TestDatabase)>,
    redis_prefix: String,
}

impl Stores {
    async fn create(backend: Backend) -> Stores {
        let data_dir = std::env::temp_dir().join(format!("page-bench-{}", uuid::Uuid::new_v4().simple()));
        let mut databases = Vec::new();
        if backend == Backend::Postgres {
            for service in [
                ServiceName::User,
                ServiceName::Catalog,
                ServiceName::Order,
                ServiceName::Inventory,
            ] {
                databases.push((
                    service,
                    TestDatabase::create_on(backend, service.as_str()).await.unwrap(),
                ));
            }
        }
        Stores {
            data_dir,
            databases,
            redis_prefix: platform::testing::redis_prefix(),
        }
    }
}

/// One `bookstore up` to measure: which binary, pinned to which CPUs, with which settings.
struct Run<'a> {
    label: String,
    binary: &'a Path,
    cpus: Option<&'a str>,
    settings: Vec<(&'static str, String)>,
}

/// What one run measured.
#[derive(Debug, Clone, Copy)]
struct Measured {
    pages_per_second: f64,
    cpu_us_per_page: f64,
    /// Cores the stack used on average while measured.
    cores: f64,
    /// The load generator's own CPU per page (this process), to show it is cheap.
    client_us_per_page: f64,
    failed: u64,
}

/// Starts `run` on `stores`; returns the child once it serves the seeded page, or the exit
/// and its log when it stopped first.
async fn start(run: &Run<'_>, stores: &Stores) -> Result<(tokio::process::Child, String), String> {
    let mut command = match run.cpus {
        Some(cpus) => {
            let mut command = tokio::process::Command::new("taskset");
            command.args(["-c", cpus]).arg(run.binary);
            command
        }
        None => tokio::process::Command::new(run.binary),
    };
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("BOOKSTORE_") {
            command.env_remove(name);
        }
    }
    let log_path = stores
        .data_dir
        .join(format!("up-{}.log", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&stores.data_dir).unwrap();
    let log = std::fs::File::create(&log_path).unwrap();
    command
        .args(["up", "--data-dir"])
        .arg(&stores.data_dir)
        .env("BOOKSTORE_REDIS_KEY_PREFIX", &stores.redis_prefix)
        // The log filter `up` defaults to (info), as users run it.
        .env_remove("RUST_LOG")
        // One client address: lift the per-address limits, as system_bench does.
        .env("BOOKSTORE_BFF__RATE_PER_ADDRESS", "1000000")
        .env("BOOKSTORE_BFF__RATE_PER_USER", "1000000")
        .env("BOOKSTORE_BFF__RATE_BURST", "1000000")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true);
    let mut bff_port = 0;
    for service in ServiceName::all() {
        let port = free_port();
        if service == ServiceName::Bff {
            bff_port = port;
        }
        let section = service.as_str().to_uppercase();
        command.env(
            format!("BOOKSTORE_{section}__LISTEN"),
            format!("127.0.0.1:{port}"),
        );
    }
    for (service, database) in &stores.databases {
        let section = service.as_str().to_uppercase();
        command.env(format!("BOOKSTORE_{section}__DATABASE_URL"), &database.url);
    }
    for (name, value) in &run.settings {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let url = format!("http://127.0.0.1:{bff_port}/graphql");
    let http = reqwest::Client::new();
    let started = Instant::now();
    // The first run seeds the demo catalogue (10,000 books, then their stock).
    while started.elapsed() < Duration::from_secs(600) {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(format!("{status}: {log}"));
        }
        if let Ok(body) = page(&http, &url).await
            && body["data"]["books"]["totalCount"].as_i64() >= Some(9_000)
            && body["data"]["books"]["edges"][19]["node"]["availability"]["available"].as_i64() > Some(0)
        {
            return Ok((child, url));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err("the seeded page never came".to_owned())
}

async fn page(http: &reqwest::Client, url: &str) -> Result<Value, String> {
    let reply = http
        .post(url)
        .json(&json!({ "query": PAGE }))
        .send()
        .await
        .map_err(|error| error.to_string())?;
    reply.json().await.map_err(|error| error.to_string())
}

/// Serves pages from `concurrency` keep-alive connections for `seconds`; returns how many
/// were whole pages (20 books, no error) and how many were not.
async fn load(url: &str, concurrency: u64, seconds: f64) -> (u64, u64) {
    let body = serde_json::to_vec(&json!({ "query": PAGE })).unwrap();
    let http = reqwest::Client::builder().http1_only().build().unwrap();
    let (served, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (http, url, body) = (http.clone(), url.to_owned(), body.clone());
        let (served, failed) = (Arc::clone(&served), Arc::clone(&failed));
        tasks.spawn(async move {
            while Instant::now() < deadline {
                let reply = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let whole = match reply {
                    Ok(reply) if reply.status() == 200 => match reply.bytes().await {
                        // A page of 20 books is some 5 KB; an error is a few hundred bytes.
                        Ok(bytes) => bytes.len() > 2_000 && !bytes.starts_with(b"{\"errors\""),
                        Err(_) => false,
                    },
                    _ => false,
                };
                if whole { &served } else { &failed }.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    (served.load(Ordering::Relaxed), failed.load(Ordering::Relaxed))
}

/// wrk's script: the page as a POST, and every answer that is not a whole page counted (a
/// page of 20 books is some 5 KB; an error a few hundred bytes), summed over its threads.
const WRK_SCRIPT: &str = r#"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = BODY
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) failed = 0 end
function response(status, headers, body)
  if status ~= 200 or #body < 2000 or string.sub(body, 1, 10) == '{"errors":' then failed = failed + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("failed") end
  io.write(string.format("REQUESTS %d FAILED %d\n", summary.requests, total))
end
"#;

/// Whether the load comes from `wrk`: installed, and not `BENCH_CLIENT=builtin`.
fn use_wrk() -> bool {
    let builtin = matches!(std::env::var("BENCH_CLIENT").as_deref(), Ok("builtin"));
    !builtin
        && std::process::Command::new("wrk")
            .arg("--version")
            .output()
            .is_ok()
}

/// Like [`load`], from `wrk -t2` in a shell that reports wrk's CPU seconds after it (the
/// shell's `cutime` + `cstime`). Returns whole pages, the others, and wrk's CPU.
async fn load_with_wrk(url: &str, concurrency: u64, seconds: f64) -> (u64, u64, f64) {
    let body = serde_json::to_string(&json!({ "query": PAGE })).unwrap();
    let script = WRK_SCRIPT.replace("BODY", &format!("{body:?}"));
    let path = std::env::temp_dir().join(format!("page-bench-{}.lua", std::process::id()));
    std::fs::write(&path, script).unwrap();
    let command = format!(
        "wrk -t2 -c{concurrency} -d{}s --timeout 10s -s {} {url} && cat /proc/$$/stat",
        seconds.round().max(1.0),
        path.display()
    );
    let output = tokio::process::Command::new("sh")
        .args(["-c", &command])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "wrk failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let counts = stdout
        .lines()
        .find_map(|line| line.strip_prefix("REQUESTS "))
        .unwrap_or_else(|| panic!("no counts from wrk: {stdout}"));
    let (requests, failed) = counts.split_once(" FAILED ").unwrap();
    let (requests, failed): (u64, u64) = (requests.trim().parse().unwrap(), failed.trim().parse().unwrap());
    let stat = stdout.lines().last().unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    // cutime and cstime: fields 16 and 17 of the line, 14 and 15 after the name.
    let children = fields[13].parse::<u64>().unwrap() + fields[14].parse::<u64>().unwrap();
    (requests - failed, failed, children as f64 / 100.0)
}

/// Waits (at most two minutes) until `pid` is idle: the first `up` goes on applying the demo
/// catalogue's stock events after its first whole page, and that work is not a page's.
async fn settle(pid: u32) {
    let started = Instant::now();
    let mut before = cpu_seconds(pid);
    while started.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = cpu_seconds(pid);
        if now - before < 0.03 {
            return;
        }
        before = now;
    }
    println!("the stack never went idle before its measure (still busy after 120 s)");
}

/// Starts `run`, waits for it to go idle, warms it up, measures it, stops it.
async fn measure(run: &Run<'_>, stores: &Stores) -> Result<Measured, String> {
    let seconds = env_number("BENCH_SECONDS", 10) as f64;
    let concurrency = env_number("BENCH_CONCURRENCY", 16);
    let (mut child, url) = start(run, stores).await?;
    let pid = child.id().unwrap();
    settle(pid).await;
    let wrk = use_wrk();
    if wrk {
        load_with_wrk(&url, concurrency, 2.0).await;
    } else {
        load(&url, concurrency, 2.0).await;
    }
    let (stack_before, client_before) = (cpu_seconds(pid), cpu_seconds(std::process::id()));
    let started = Instant::now();
    let (served, failed, wrk_cpu) = if wrk {
        load_with_wrk(&url, concurrency, seconds).await
    } else {
        let (served, failed) = load(&url, concurrency, seconds).await;
        (served, failed, 0.0)
    };
    let elapsed = started.elapsed().as_secs_f64();
    let (stack_cpu, client_cpu) = (
        cpu_seconds(pid) - stack_before,
        cpu_seconds(std::process::id()) - client_before + wrk_cpu,
    );
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let pages = served.max(1) as f64;
    let measured = Measured {
        pages_per_second: served as f64 / elapsed,
        cpu_us_per_page: stack_cpu * 1e6 / pages,
        cores: stack_cpu / elapsed,
        client_us_per_page: client_cpu * 1e6 / pages,
        failed,
    };
    println!(
        "{}: {:.0} pages/s, {:.0} µs CPU a page ({:.2} cores; load generator {:.0} µs a page), {} failed",
        run.label,
        measured.pages_per_second,
        measured.cpu_us_per_page,
        measured.cores,
        measured.client_us_per_page,
        measured.failed
    );
    Ok(measured)
}

/// Measures `run` in cache mode `mode`. A binary without the cache refuses its setting:
/// then every page is cold, and `cold` runs without the setting (said in the label).
async fn measure_mode(mut run: Run<'_>, mode: &str, stores: &Stores) -> Option<(Measured, String)> {
    let enabled = match mode {
        "cold" => "false",
        "warm" => "true",
        other => panic!("BENCH_PAGE_MODES: unknown mode `{other}` (cold, warm)"),
    };
    run.settings.push((CACHE_SETTING, enabled.to_owned()));
    let base_label = run.label.clone();
    run.label = format!("{base_label}, cache {mode}");
    match measure(&run, stores).await {
        Ok(measured) => Some((measured, run.label)),
        Err(error) if error.contains("cache") && mode == "cold" => {
            run.settings.retain(|(name, _)| *name != CACHE_SETTING);
            run.label = format!("{base_label}, cold (no cache in this build)");
            Some((measure(&run, stores).await.unwrap(), run.label))
        }
        Err(error) if error.contains("cache") => {
            println!("{base_label}: this build has no cache, no warm figure: {error}");
            None
        }
        Err(error) => panic!("{}: {error}", run.label),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let backend = Backend::from_env();
    let binary = binary();
    let baseline = std::env::var("BENCH_BASELINE_BIN").ok().map(PathBuf::from);
    let modes = std::env::var("BENCH_PAGE_MODES").unwrap_or_else(|_| "cold warm".to_owned());
    let concurrency = env_number("BENCH_CONCURRENCY", 16);
    let stores = Stores::create(backend).await;
    // The baseline gets stores of its own: it may not know this build's migrations.
    let baseline_stores = match &baseline {
        Some(_) => Some(Stores::create(backend).await),
        None => None,
    };
    println!("this build: {}", binary.display());
    if let Some(baseline) = &baseline {
        println!("baseline: {}", baseline.display());
    }

    for mode in modes.split_whitespace() {
        let target = if mode == "warm" { 150.0 } else { 500.0 };
        let run = Run {
            label: "this build".to_owned(),
            binary: &binary,
            cpus: None,
            settings: Vec::new(),
        };
        let Some((after, label)) = measure_mode(run, mode, &stores).await else {
            continue;
        };
        let mut row = Row::at_most(
            &format!("20-book page with availability, {label}, {concurrency} connections: CPU per page"),
            after.cpu_us_per_page,
            "µs",
            target,
        );
        if let (Some(baseline), Some(baseline_stores)) = (&baseline, &baseline_stores) {
            let run = Run {
                label: "baseline".to_owned(),
                binary: baseline,
                cpus: None,
                settings: Vec::new(),
            };
            if let Some((before, _)) = measure_mode(run, mode, baseline_stores).await {
                row.baseline = Some(before.cpu_us_per_page);
                row.ratio = Some(after.cpu_us_per_page / before.cpu_us_per_page);
                record(&Row::ratio(
                    &format!("20-book page, {label}: pages/s (vs the baseline binary)"),
                    after.pages_per_second,
                    "/s",
                    before.pages_per_second,
                    1.0,
                ));
            }
        } else {
            record(&Row::recorded(
                &format!("20-book page, {label}: pages/s"),
                after.pages_per_second,
                "/s",
            ));
        }
        record(&row);
    }

    if env_number("BENCH_SCALING", 1) != 0 {
        // The stack on one core, then on two; the first cache mode asked for.
        let mode = modes.split_whitespace().next().unwrap_or("cold");
        let mut rates = Vec::new();
        for cpus in ["0", "0,1"] {
            let run = Run {
                label: format!("taskset -c {cpus}"),
                binary: &binary,
                cpus: Some(cpus),
                settings: Vec::new(),
            };
            let (measured, _) = measure_mode(run, mode, &stores).await.unwrap();
            rates.push(measured);
        }
        record(&Row::ratio(
            &format!("20-book page, cache {mode}: pages/s on two cores (taskset -c 0,1) vs one (-c 0)"),
            rates[1].pages_per_second,
            "/s",
            rates[0].pages_per_second,
            1.7,
        ));
        record(&Row::recorded(
            &format!("20-book page, cache {mode}, one core: CPU per page"),
            rates[0].cpu_us_per_page,
            "µs",
        ));
    }
    let _ = std::fs::remove_dir_all(&stores.data_dir);
    if let Some(baseline_stores) = baseline_stores {
        let _ = std::fs::remove_dir_all(&baseline_stores.data_dir);
    }
}
