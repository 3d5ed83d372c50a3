//! The storm under faults: replicas SIGKILLed and restarted every second, Redis killed and
//! restarted, PostgreSQL connections cut. Shoppers retry what was cut off with the same
//! idempotency key, as a storefront does. After the run and the recovery window every order
//! must be CONFIRMED or FAILED and the checkout invariants must hold.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bookstore_tests::audit::Audit;
use bookstore_tests::stack::shop::Shopper;
use bookstore_tests::stack::{GraphQl, Stack, StackBuilder};
use futures::future::join_all;
use platform::ServiceName;
use rand::seq::SliceRandom as _;
use sea_orm::ConnectionTrait as _;

use crate::support::{admin_token, after_recovery, env_count, fill_carts, report, shoppers, storm_stack};

const STOCK: i64 = 25;

/// Short leases and TTLs so recovery happens within the test: a killed replica's orders are
/// claimed by the survivor after `LEASE_MS`.
fn chaos_stack() -> StackBuilder {
    storm_stack()
        .setting("BOOKSTORE_ORDER__LEASE_MS", 3_000)
        .setting("BOOKSTORE_ORDER__RECOVERY_INTERVAL_MS", 500)
        .setting("BOOKSTORE_ORDER__RESERVATION_TTL_SECS", 20)
        .setting("BOOKSTORE_INVENTORY__SWEEP_INTERVAL_MS", 500)
}

/// How a shopper's checkout ended after retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Confirmed,
    OutOfStock,
    /// The order failed while a dependency was down (seen as FAILED on a retry).
    Unavailable,
    /// The shopper gave up after a minute of retries; the order still ends one way or the
    /// other (recovery may confirm it later, as a real shop's order page would show).
    GaveUp,
}

/// Places the order, retrying transport failures and UNAVAILABLE with the same key for up
/// to a minute, and returns how it ended or the unexpected answer.
async fn checkout_with_retries(graphql: &GraphQl, shopper: &Shopper, key: &str) -> Result<Outcome, String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    while Instant::now() < deadline {
        match graphql.place_order(shopper, key).await {
            Ok(reply) => match (reply.data()["placeOrder"]["status"].as_str(), reply.code()) {
                (Some("CONFIRMED"), _) => return Ok(Outcome::Confirmed),
                (None, "OUT_OF_STOCK") => return Ok(Outcome::OutOfStock),
                // A retry returns the order as it stands: failed (why is in the audit), or
                // still being driven, possibly by the other replica's recovery loop.
                (Some("FAILED"), _) => return Ok(Outcome::Unavailable),
                (Some("PENDING"), _) => last = "PENDING".to_owned(),
                (None, "UNAVAILABLE") => last = reply.body.to_string(),
                _ => return Err(format!("{} {}", reply.status, reply.body)),
            },
            Err(error) => last = error.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Still cut off after a minute: the order itself must still end consistently.
    eprintln!("gave up on {key}: {last}");
    Ok(Outcome::GaveUp)
}

/// One storm with `fault` running beside it until every shopper has an answer; returns
/// the outcomes and how many faults were injected.
async fn storm_under(
    stack: &mut Stack,
    buyers: &[Shopper],
    round: usize,
    mut fault: impl AsyncFnMut(&mut Stack),
) -> (Vec<Outcome>, usize) {
    let graphql = stack.graphql().clone();
    let admin = admin_token(stack).await;
    let book = graphql
        .create_book(&admin, &format!("Chaos {round}"), 1999, STOCK)
        .await
        .unwrap();
    fill_carts(&graphql, buyers, &book).await;
    let key = format!("chaos-{round}");
    let buyers = buyers.to_vec();
    let storm = tokio::spawn(async move {
        join_all(
            buyers
                .iter()
                .map(|shopper| checkout_with_retries(&graphql, shopper, &key)),
        )
        .await
    });
    let mut faults = 0;
    // A fault a second: a restart that takes part of the second does not push the next back.
    let mut every_second = tokio::time::interval(Duration::from_secs(1));
    every_second.tick().await;
    while !storm.is_finished() {
        every_second.tick().await;
        if storm.is_finished() {
            break;
        }
        fault(stack).await;
        faults += 1;
    }
    let outcomes: Vec<Outcome> = storm
        .await
        .unwrap()
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|unexpected| panic!("unexpected answer: {unexpected}"));
    (outcomes, faults)
}

/// `rounds` storms ran on one stack, each for a book of its own with `STOCK` copies.
fn check(audit: &Audit, outcomes: &[Outcome], rounds: usize, variant: &str) {
    assert!(
        audit.violations.is_empty(),
        "{variant}:\n{}",
        audit.violations.join("\n")
    );
    let count = |wanted: Outcome| outcomes.iter().filter(|outcome| **outcome == wanted).count();
    let (answered, gave_up) = (count(Outcome::Confirmed), count(Outcome::GaveUp));
    let confirmed = audit.count("CONFIRMED");
    let stock = STOCK as usize * rounds;
    assert!(
        confirmed <= stock,
        "{variant}: {confirmed} confirmed of {stock} copies in {rounds} storms"
    );
    // Every CONFIRMED answer is a confirmed order; a shopper who gave up may have one too.
    assert!(
        answered <= confirmed && confirmed <= answered + gave_up,
        "{variant}: {confirmed} orders confirmed, {answered} answers said so, {gave_up} shoppers gave up"
    );
    assert_eq!(audit.count("PENDING"), 0, "{variant}");
}

fn summary(outcomes: &[Outcome]) -> String {
    let count = |wanted: Outcome| outcomes.iter().filter(|outcome| **outcome == wanted).count();
    format!(
        "answers: confirmed {} / stock {STOCK}, out of stock {}, failed {}, gave up {}",
        count(Outcome::Confirmed),
        count(Outcome::OutOfStock),
        count(Outcome::Unavailable),
        count(Outcome::GaveUp)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_killed_every_second_leave_every_order_consistent() {
    let started = Instant::now();
    let seconds = env_count("BOOKSTORE_CHAOS_SECONDS", 60);
    let mut stack = chaos_stack().start().await.unwrap();
    let buyers = shoppers(&stack, "chaos", 200).await;
    let victims = ["order-1", "order-2", "inventory-1", "inventory-2"];
    let kills = Arc::new(AtomicUsize::new(0));
    let mut round = 0;
    let mut outcomes = Vec::new();
    while started.elapsed() < Duration::from_secs(seconds as u64) || round == 0 {
        round += 1;
        let kills = kills.clone();
        let (round_outcomes, _) = storm_under(&mut stack, &buyers, round, async |stack: &mut Stack| {
            let victim = *victims.choose(&mut rand::thread_rng()).unwrap();
            stack.kill(victim).await;
            kills.fetch_add(1, Ordering::Relaxed);
            stack.restart(victim).await.unwrap();
        })
        .await;
        outcomes.extend(round_outcomes);
    }
    assert!(stack.exited().is_empty(), "{:?}", stack.exited());
    let audit = after_recovery(&stack).await;
    check(&audit, &outcomes, round, "kills");
    report(
        "chaos: replica kills",
        started,
        &format!(
            "{round} storms of 200 buyers, {} SIGKILLs survived, {}, orders {:?}, invariant violations {}",
            kills.load(Ordering::Relaxed),
            summary(&outcomes),
            audit.orders,
            audit.violations.len()
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_connections_cut_every_second_leave_every_order_consistent() {
    let started = Instant::now();
    let mut stack = chaos_stack().start().await.unwrap();
    let buyers = shoppers(&stack, "pgcut", 200).await;
    let admin = sea_orm::Database::connect(format!("{}/postgres", postgres_server(&stack)))
        .await
        .unwrap();
    let databases: Vec<String> = [
        ServiceName::User,
        ServiceName::Catalog,
        ServiceName::Order,
        ServiceName::Inventory,
    ]
    .iter()
    .map(|service| {
        stack
            .database_url(*service)
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned()
    })
    .collect();
    let list = databases
        .iter()
        .map(|name| format!("'{name}'"))
        .collect::<Vec<_>>()
        .join(",");
    let terminate = format!(
        "SELECT COUNT(pg_terminate_backend(pid)) AS cut FROM pg_stat_activity WHERE datname IN ({list}) AND pid <> pg_backend_pid()"
    );
    let cut = Arc::new(AtomicUsize::new(0));
    let (outcomes, rounds) = storm_under(&mut stack, &buyers, 1, async |_: &mut Stack| {
        let statement = sea_orm::Statement::from_string(admin.get_database_backend(), terminate.clone());
        if let Ok(Some(row)) = admin.query_one_raw(statement).await {
            let count: i64 = row.try_get("", "cut").unwrap_or(0);
            cut.fetch_add(usize::try_from(count).unwrap_or(0), Ordering::Relaxed);
        }
    })
    .await;
    admin.close().await.unwrap();
    assert!(stack.exited().is_empty(), "{:?}", stack.exited());
    let audit = after_recovery(&stack).await;
    check(&audit, &outcomes, 1, "postgres cuts");
    report(
        "chaos: postgres connection loss",
        started,
        &format!(
            "{rounds} cuts, {} server connections terminated, {}, orders {:?}, invariant violations {}",
            cut.load(Ordering::Relaxed),
            summary(&outcomes),
            audit.orders,
            audit.violations.len()
        ),
    );
}

fn postgres_server(stack: &Stack) -> String {
    let url = stack.database_url(ServiceName::Order);
    url[..url.rfind('/').unwrap()].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_killed_and_restarted_leaves_every_order_consistent() {
    let started = Instant::now();
    let mut stack = chaos_stack().private_redis().start().await.unwrap();
    let buyers = shoppers(&stack, "redis", 200).await;
    let (outcomes, restarts) = storm_under(&mut stack, &buyers, 1, async |stack: &mut Stack| {
        stack.restart_redis(Duration::from_millis(500)).await.unwrap();
    })
    .await;
    assert!(stack.exited().is_empty(), "{:?}", stack.exited());
    let audit = after_recovery(&stack).await;
    check(&audit, &outcomes, 1, "redis restarts");
    report(
        "chaos: redis restart",
        started,
        &format!(
            "{restarts} Redis SIGKILL+restarts, {}, orders {:?}, invariant violations {}",
            summary(&outcomes),
            audit.orders,
            audit.violations.len()
        ),
    );
}
