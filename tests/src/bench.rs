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
    let work = Arc::new(work);
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let work = Arc::clone(&work);
        let done = Arc::clone(&done);
        tasks.spawn(async move {
            let mut round = 0;
            while Instant::now() < deadline {
                work(worker * 1_000_000 + round).await;
                done.fetch_add(1, Ordering::Relaxed);
                round += 1;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}
