//! PostgreSQL away for 30 s: every service's connections are cut and refused by a proxy the
//! test controls. Liveness (gRPC health's empty name, the BFF's `/livez`) must answer
//! SERVING / 200 throughout; readiness (each service's own name) NOT_SERVING for the services
//! with a database while cart (Redis only) stays SERVING; the BFF stays ready and answers
//! with partial data (an error on the field the database serves, data on the others; a book
//! the BFF's catalogue cache holds may still be served from it); and everything comes back by
//! itself once the database returns.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bookstore_tests::stack::Stack;
use bookstore_tests::stack::shop::Shopper;
use futures::future::join_all;
use platform::ServiceName;
use serde_json::{Value, json};

use crate::support::{admin_token, env_count, report, shoppers, small_stack};

/// The caller's profile (user, PostgreSQL, never cached), a book (catalog, PostgreSQL, kept
/// by the BFF's catalogue cache) and the cart (Redis).
const QUERY: &str = "query($id: ID!) { me { email } book(id: $id) { title } cart { totalQuantity } }";

/// How long after the cut health may take to notice it (a readiness check runs every
/// 500 ms here and waits as long for a store).
const SETTLE: Duration = Duration::from_secs(5);

/// What the probes and the storefront answered during the outage.
#[derive(Debug, Default)]
struct Tally {
    polls: usize,
    liveness_failures: Vec<String>,
    /// Polls after `SETTLE` in which each process answered not ready.
    not_ready: BTreeMap<String, usize>,
    settled_polls: usize,
    bff_not_ready: Vec<String>,
    partial_answers: usize,
    wrong_answers: Vec<String>,
}

/// One round of the kubelet's questions to every process, and one storefront query.
async fn poll(stack: &Stack, shopper: &Shopper, book: &str, settled: bool, tally: &mut Tally) {
    tally.polls += 1;
    tally.settled_polls += usize::from(settled);
    let processes = stack.processes();
    let answers = join_all(
        processes
            .iter()
            .map(|process| async move { (process.liveness().await, process.probe().await) }),
    )
    .await;
    for (process, (alive, ready)) in processes.iter().zip(answers) {
        if let Err(answer) = alive {
            tally
                .liveness_failures
                .push(format!("{}: {answer}", process.name));
        }
        if process.service == ServiceName::Bff {
            if let Err(answer) = &ready {
                tally.bff_not_ready.push(format!("{}: {answer}", process.name));
            }
        } else if settled && ready.is_err() {
            *tally.not_ready.entry(process.name.clone()).or_default() += 1;
        }
    }
    let reply = stack
        .graphql()
        .send(Some(&shopper.token), QUERY, json!({ "id": book }))
        .await;
    let Ok(reply) = reply else {
        tally.wrong_answers.push(format!("transport: {reply:?}"));
        return;
    };
    let errors = reply.body["errors"].as_array().cloned().unwrap_or_default();
    // The book is an error too unless the cache kept it; then it is the book as it was.
    let book_kept = reply.data()["book"]["title"] == "Outage";
    let on_failed_field =
        |error: &Value| error["path"] == json!(["me"]) || (!book_kept && error["path"] == json!(["book"]));
    let partial = reply.status == 200
        && reply.data()["cart"]["totalQuantity"] == 2
        && reply.data()["me"].is_null()
        && (book_kept || reply.data()["book"].is_null())
        && errors.iter().any(|error| error["path"] == json!(["me"]))
        && errors.iter().all(on_failed_field);
    if partial {
        tally.partial_answers += 1;
    } else if settled {
        tally
            .wrong_answers
            .push(format!("{} {}", reply.status, reply.body));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_outage_takes_readiness_away_but_never_liveness_and_both_come_back() {
    let started = Instant::now();
    let mut stack = small_stack()
        .database_proxy()
        .setting("BOOKSTORE_GRPC__HEALTH_INTERVAL_MS", 500)
        // A database that is away answers UNAVAILABLE within a second, not after 5 s.
        .setting("BOOKSTORE_DATABASE_ACQUIRE_TIMEOUT_MS", 1_000)
        .start()
        .await
        .unwrap();
    let admin = admin_token(&stack).await;
    let graphql = stack.graphql().clone();
    let book = graphql.create_book(&admin, "Outage", 1500, 5).await.unwrap();
    let shopper = shoppers(&stack, "outage", 1).await.remove(0);
    graphql.fill_cart(&shopper, &book, 2).await.unwrap();
    let before = graphql
        .send(Some(&shopper.token), QUERY, json!({ "id": book }))
        .await
        .unwrap();
    assert!(before.is_ok(), "{}", before.body);

    let outage = Duration::from_secs(env_count("BOOKSTORE_OUTAGE_SECONDS", 30) as u64);
    stack.cut_database().unwrap();
    let cut_at = Instant::now();
    let mut tally = Tally::default();
    while cut_at.elapsed() < outage {
        let settled = cut_at.elapsed() >= SETTLE;
        poll(&stack, &shopper, &book, settled, &mut tally).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    stack.restore_database().await.unwrap();
    let restored_at = Instant::now();
    let mut back = None;
    while restored_at.elapsed() < Duration::from_secs(30) {
        let ready = join_all(stack.processes().iter().map(|process| process.probe())).await;
        let answer = graphql
            .send(Some(&shopper.token), QUERY, json!({ "id": book }))
            .await;
        if ready.iter().all(Result::is_ok) && answer.as_ref().is_ok_and(|reply| reply.is_ok()) {
            back = Some(restored_at.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let exited = stack.exited();

    let not_ready: Vec<String> = tally
        .not_ready
        .iter()
        .map(|(name, count)| format!("{name} {count}/{}", tally.settled_polls))
        .collect();
    report(
        "outage",
        started,
        &format!(
            "database away {:.0} s, {} polls: liveness failures {}, not ready after {SETTLE:?} [{}], \
             bff /readyz not 200 {}, partial answers {}/{}, wrong answers {}, all ready and whole again \
             after {back:?}",
            outage.as_secs_f64(),
            tally.polls,
            tally.liveness_failures.len(),
            not_ready.join(", "),
            tally.bff_not_ready.len(),
            tally.partial_answers,
            tally.polls,
            tally.wrong_answers.len(),
        ),
    );
    assert!(exited.is_empty(), "processes exited: {exited:?}");
    assert!(
        tally.liveness_failures.is_empty(),
        "liveness failed during a database outage: {:?}",
        tally.liveness_failures
    );
    assert!(tally.bff_not_ready.is_empty(), "{:?}", tally.bff_not_ready);
    assert!(tally.settled_polls > 0, "the outage was shorter than {SETTLE:?}");
    for process in stack.processes() {
        let count = tally.not_ready.get(&process.name).copied().unwrap_or_default();
        match process.service {
            ServiceName::Bff => {}
            // Cart keeps its carts in Redis: it has nothing to wait for.
            ServiceName::Cart => assert_eq!(count, 0, "{} went not ready", process.name),
            _ => assert_eq!(
                count, tally.settled_polls,
                "{} answered ready without its database",
                process.name
            ),
        }
    }
    assert!(tally.wrong_answers.is_empty(), "{:#?}", tally.wrong_answers);
    assert!(
        back.is_some(),
        "not whole again within 30 s of the database's return"
    );
}
