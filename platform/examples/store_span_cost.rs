//! What a store call's span costs, with the subscriber production installs (README,
//! "Observability"): the same `SELECT` on an in-memory SQLite, timed through
//! `platform::store::query` inside a request span, outside any span (the background loops),
//! and straight through sea-orm, in alternating rounds so the machine's noise hits all three
//! alike. Without an exporter no store span is made; with one (any endpoint: spans that
//! cannot be sent are dropped by the batch processor) each statement gets its span.
//!
//! `cargo run -p platform --example store_span_cost`, then again with
//! `OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait as _;
use tracing::Instrument as _;

const CALLS: u32 = 5_000;
const ROUNDS: usize = 7;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let config = platform::telemetry::TelemetryConfig::default();
    // Logs at warn, as in production no line is written per query; spans at info regardless.
    let _guard = platform::telemetry::init("store-span-cost", "warn", &config).unwrap();
    let db = platform::store::connect_database("sqlite::memory:")
        .await
        .unwrap();
    let backend = db.get_database_backend();
    let mut times: [Vec<Duration>; 3] = Default::default();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        async {
            for _ in 0..CALLS {
                platform::store::query(&db, "probe", "SELECT 1", [])
                    .await
                    .unwrap();
            }
        }
        .instrument(tracing::info_span!("request"))
        .await;
        times[0].push(started.elapsed());

        let started = Instant::now();
        for _ in 0..CALLS {
            platform::store::query(&db, "probe", "SELECT 1", [])
                .await
                .unwrap();
        }
        times[1].push(started.elapsed());

        let started = Instant::now();
        async {
            for _ in 0..CALLS {
                let statement = platform::store::statement(backend, "SELECT 1", []);
                db.query_all_raw(statement).await.unwrap();
            }
        }
        .instrument(tracing::info_span!("request"))
        .await;
        times[2].push(started.elapsed());
    }
    let per_call = |round: &mut Vec<Duration>| {
        round.sort();
        round[round.len() / 2].as_secs_f64() * 1e6 / f64::from(CALLS)
    };
    let [traced, untraced, raw] = times.each_mut().map(per_call);
    let exporting = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").is_ok();
    println!("exporter configured: {exporting}");
    println!("median of {ROUNDS} rounds of {CALLS} calls, microseconds a call:");
    println!("  store::query inside a request span:   {traced:.2}");
    println!("  store::query outside any span:        {untraced:.2}");
    println!("  sea-orm query_all_raw in a request:   {raw:.2}");
    println!(
        "  store::query over sea-orm, in a request: {:+.2} us a call ({:+.1}%)",
        traced - raw,
        (traced / raw - 1.0) * 100.0
    );
}
