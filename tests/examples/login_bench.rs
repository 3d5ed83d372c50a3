//! Register and login through real gRPC against svc-user, next to the raw argon2 cost of the
//! same parameters measured in the same run (the floor any login pays).
//!
//! `cargo run --release -p bookstore-tests --example login_bench`
//! (`BENCH_USERS`, `BENCH_CONCURRENCY`; `BOOKSTORE_TEST_DATABASE=postgres` for PostgreSQL).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use bookstore_tests::bench::env_number;
use bookstore_tests::{TestMesh, with_token};
use hdrhistogram::Histogram;
use platform::ServiceName;
use proto::user::v1 as pb;
use svc_user::domain::Password;
use svc_user::secrets::{Argon2Settings, HashQueueSettings, PasswordHasher};

// mimalloc, as every binary of the mesh (why: the README's benchmark section).
#[global_allocator]
static ALLOCATOR: platform::Allocator = platform::Allocator;

const PASSWORD: &str = "correct horse battery staple";

fn summary(name: &str, histogram: &Histogram<u64>, wall: Option<Duration>) {
    let per_second = wall.map(|wall| histogram.len() as f64 / wall.as_secs_f64());
    println!(
        "{name:<28} n={:<5} p50={:>7.1} ms  p99={:>7.1} ms  max={:>7.1} ms  {}",
        histogram.len(),
        histogram.value_at_quantile(0.5) as f64 / 1000.0,
        histogram.value_at_quantile(0.99) as f64 / 1000.0,
        histogram.max() as f64 / 1000.0,
        per_second.map(|rate| format!("{rate:.1}/s")).unwrap_or_default(),
    );
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).unwrap()
}

#[tokio::main]
async fn main() {
    let users = usize::try_from(env_number("BENCH_USERS", 200)).unwrap();
    let concurrency = usize::try_from(env_number("BENCH_CONCURRENCY", 8)).unwrap();
    let settings = Argon2Settings::default();
    println!(
        "argon2id m={} KiB t={} p={}; {users} users, concurrency {concurrency}; database {}",
        settings.memory_kib,
        settings.iterations,
        settings.parallelism,
        std::env::var("BOOKSTORE_TEST_DATABASE").unwrap_or_else(|_| "sqlite".to_owned()),
    );

    let hasher = PasswordHasher::new(settings, HashQueueSettings::default()).unwrap();
    let password = Password::presented(PASSWORD);
    let hash = hasher.hash(&password).await.unwrap();

    let mesh = TestMesh::builder().with(ServiceName::User).start().await.unwrap();
    let bff = mesh.bff_token(ServiceName::User);
    let emails: Vec<String> = (0..users)
        .map(|index| format!("bench-{index}-{}@example.org", uuid::Uuid::new_v4().simple()))
        .collect();

    // Register, `concurrency` at a time.
    let mut register = histogram();
    let started = Instant::now();
    for chunk in emails.chunks(concurrency) {
        let calls = chunk.iter().map(|email| {
            let mut client = mesh.user_client();
            let request = pb::RegisterRequest {
                email: email.clone(),
                password: PASSWORD.to_owned(),
                name: "Bench".to_owned(),
            };
            let token = bff.clone();
            async move {
                let begun = Instant::now();
                client.register(with_token(request, &token)).await.unwrap();
                begun.elapsed()
            }
        });
        for elapsed in futures::future::join_all(calls).await {
            register.record(elapsed.as_micros() as u64).unwrap();
        }
    }
    let register_wall = started.elapsed();

    // Login one at a time: the latency a shopper sees on an idle service.
    let mut login_single = histogram();
    for email in emails.iter().take(50) {
        let request = pb::LoginRequest {
            email: email.clone(),
            password: PASSWORD.to_owned(),
            client_address: None,
        };
        let begun = Instant::now();
        mesh.user_client().login(with_token(request, &bff)).await.unwrap();
        login_single.record(begun.elapsed().as_micros() as u64).unwrap();
    }

    // Login `concurrency` at a time: throughput.
    let mut login_concurrent = histogram();
    let started = Instant::now();
    for chunk in emails.chunks(concurrency) {
        let calls = chunk.iter().map(|email| {
            let mut client = mesh.user_client();
            let request = pb::LoginRequest {
                email: email.clone(),
                password: PASSWORD.to_owned(),
                client_address: None,
            };
            let token = bff.clone();
            async move {
                let begun = Instant::now();
                client.login(with_token(request, &token)).await.unwrap();
                begun.elapsed()
            }
        });
        for elapsed in futures::future::join_all(calls).await {
            login_concurrent.record(elapsed.as_micros() as u64).unwrap();
        }
    }
    let login_wall = started.elapsed();

    // Baseline, measured now that everything is warm: argon2 verify alone, same parameters.
    let mut raw = histogram();
    for _ in 0..50 {
        let started = Instant::now();
        assert!(hasher.verify(&password, Some(&hash)).await.unwrap());
        raw.record(started.elapsed().as_micros() as u64).unwrap();
    }

    summary("argon2 verify (baseline)", &raw, None);
    summary("login, one at a time", &login_single, None);
    summary("register, concurrent", &register, Some(register_wall));
    summary("login, concurrent", &login_concurrent, Some(login_wall));
    println!(
        "login p50 / argon2 verify p50 = {:.2}",
        login_single.value_at_quantile(0.5) as f64 / raw.value_at_quantile(0.5) as f64
    );
    mesh.shutdown().await.unwrap();
}
