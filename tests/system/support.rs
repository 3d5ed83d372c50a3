//! What every system suite shares: the stack they run on, shoppers, and the report line.

use std::time::{Duration, Instant};

use bookstore_tests::audit::{Audit, audit};
use bookstore_tests::stack::shop::Shopper;
use bookstore_tests::stack::{ADMIN_EMAIL, ADMIN_PASSWORD, GraphQl, Stack, StackBuilder};
use futures::StreamExt as _;
use platform::ServiceName;

/// The stack of the storms: two replicas of order and inventory, limits raised so that
/// 500 shoppers behind one loopback address are not rate-limited as one client, and
/// deadlines long enough for 500 checkouts queued on two cores.
pub(crate) fn storm_stack() -> StackBuilder {
    Stack::builder(env!("CARGO_BIN_EXE_bookstore"))
        .replicas(ServiceName::Order, 2)
        .replicas(ServiceName::Inventory, 2)
        .setting("BOOKSTORE_BFF__RATE_PER_ADDRESS", 100_000)
        .setting("BOOKSTORE_BFF__RATE_BURST", 100_000)
        // The storms prove correctness under contention: 500 requests at once must wait,
        // not be shed (the overload suite proves the shedding).
        .setting("BOOKSTORE_BFF__MAX_CONCURRENT_REQUESTS", 1_000)
        .setting("BOOKSTORE_GRPC__MAX_CONCURRENT_REQUESTS", 1_000)
        .setting("BOOKSTORE_BFF__REQUEST_TIMEOUT_MS", 60_000)
        .setting("BOOKSTORE_GRPC__REQUEST_TIMEOUT_MS", 55_000)
        .setting("BOOKSTORE_USER__REQUEST_TIMEOUT_MS", 55_000)
        .setting("BOOKSTORE_CATALOG__REQUEST_TIMEOUT_MS", 55_000)
        .setting("BOOKSTORE_CART__REQUEST_TIMEOUT_MS", 55_000)
        .setting("BOOKSTORE_ORDER__REQUEST_TIMEOUT_MS", 55_000)
        .setting("BOOKSTORE_INVENTORY__REQUEST_TIMEOUT_MS", 55_000)
        // 500 checkouts at once on two cores queue for connections and for Redis answers
        // well past the defaults; they must wait, not fail.
        .setting("BOOKSTORE_DATABASE_ACQUIRE_TIMEOUT_MS", 50_000)
        .setting("BOOKSTORE_REDIS_TIMEOUT_MS", 30_000)
        // Registration is not what is measured: a cheap hash keeps set-up short.
        .setting("BOOKSTORE_AUTH__ARGON2_MEMORY_KIB", 1024)
        .setting("BOOKSTORE_AUTH__ARGON2_ITERATIONS", 1)
}

/// Logs in as the stack's bootstrap admin.
pub(crate) async fn admin_token(stack: &Stack) -> String {
    stack.graphql().login(ADMIN_EMAIL, ADMIN_PASSWORD).await.unwrap()
}

/// Registers `count` shoppers.
pub(crate) async fn shoppers(stack: &Stack, tag: &str, count: usize) -> Vec<Shopper> {
    stack.graphql().register_shoppers(tag, count, 16).await.unwrap()
}

/// Puts one copy of `book` in every shopper's (emptied) cart, 32 shoppers at a time.
pub(crate) async fn fill_carts(graphql: &GraphQl, shoppers: &[Shopper], book: &str) {
    let fills = futures::stream::iter(shoppers)
        .map(|shopper| graphql.fill_cart(shopper, book, 1))
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    for filled in fills {
        filled.unwrap();
    }
}

/// Reads a positive integer from the environment.
pub(crate) fn env_count(variable: &str, default: usize) -> usize {
    std::env::var(variable)
        .ok()
        .and_then(|value| value.parse().ok())
        .filter(|value| *value > 0)
        .unwrap_or(default)
}

/// Prints one figure line a closing note can quote.
pub(crate) fn report(suite: &str, started: Instant, figures: &str) {
    println!(
        "[{suite}] {figures}; wall {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// One replica of each service, with a cheap password hash: the hostile and security suites
/// register a few users, and argon2 at full cost is not what they measure.
pub(crate) fn small_stack() -> StackBuilder {
    Stack::builder(env!("CARGO_BIN_EXE_bookstore"))
        // Shoppers are registered 16 at a time; that is set-up, not load to shed.
        .setting("BOOKSTORE_BFF__MAX_CONCURRENT_REQUESTS", 64)
        .setting("BOOKSTORE_AUTH__ARGON2_MEMORY_KIB", 1024)
        .setting("BOOKSTORE_AUTH__ARGON2_ITERATIONS", 1)
}

/// A channel to one gRPC replica (`catalog-1`…), connected on first use.
pub(crate) fn channel(stack: &Stack, replica: &str) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(stack.grpc_url(replica))
        .unwrap()
        .timeout(std::time::Duration::from_secs(30))
        .connect_lazy()
}

/// What is wrong with the stack after an attack: processes that exited, processes that do
/// not answer ready (gRPC health SERVING, BFF `/readyz`), and panics in any log.
pub(crate) async fn damage(stack: &mut Stack) -> Vec<String> {
    let mut damage: Vec<String> = stack
        .exited()
        .into_iter()
        .map(|name| format!("{name} exited"))
        .collect();
    for process in stack.processes() {
        if let Err(answer) = process.probe().await {
            damage.push(format!("{} is not ready: {answer}", process.name));
        }
    }
    for line in stack.logs().lines() {
        if line.contains("panicked") {
            damage.push(format!("panic logged: {line}"));
        }
    }
    damage
}

/// Waits until the audit is clean or the recovery window (lease + TTL + sweeps) has passed,
/// and returns the last audit: an undo whose upstream did not answer in time is the
/// recovery loop's to finish.
pub(crate) async fn after_recovery(stack: &Stack) -> Audit {
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        let audit = audit(
            stack.database_url(ServiceName::Order),
            stack.database_url(ServiceName::Inventory),
        )
        .await;
        if audit.violations.is_empty() || Instant::now() > deadline {
            return audit;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
