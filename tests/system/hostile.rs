//! Hostile input: a table of malformed, oversized, out-of-range, injected and unauthenticated
//! requests through the BFF's GraphQL endpoint, then malformed, oversized and empty protobuf
//! straight at the gRPC services. Every case has one expected answer from the contract
//! (an `extensions.code`, a gRPC code or an HTTP status); none may be a 5xx, an INTERNAL or
//! a panic, and every process must still be serving afterwards.

mod graphql;
mod grpc;

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::json;

use crate::support::{admin_token, damage, report, shoppers, small_stack};

/// What one table did: cases tried, how many ended each way, and the cases that did not
/// get their expected answer.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub cases: usize,
    pub results: BTreeMap<String, usize>,
    pub failures: Vec<String>,
}

impl Tally {
    /// Counts one case that ended as `result`; `failure` says why it was wrong, if it was.
    pub(crate) fn record(&mut self, case: &str, result: String, failure: Option<String>) {
        self.cases += 1;
        if let Some(failure) = failure {
            self.failures.push(format!("{case}: {failure}"));
        }
        *self.results.entry(result).or_default() += 1;
    }
}

/// Words that only appear when a store's or the runtime's internals leak into an answer.
/// Tonic's own decode message ("failed to decode Protobuf message: …") is allowed.
pub(crate) const LEAK_MARKERS: [&str; 8] = [
    "sqlx",
    "SQLSTATE",
    "error returned from database",
    "postgres",
    "panicked",
    ".rs:",
    "redis://",
    "stack backtrace",
];

/// The first internal word `text` gives away, if any.
pub(crate) fn leak(text: &str) -> Option<&'static str> {
    LEAK_MARKERS.into_iter().find(|marker| text.contains(marker))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_input_gets_contract_answers_and_the_stack_keeps_serving() {
    let started = Instant::now();
    let mut stack = small_stack().start().await.unwrap();
    let admin = admin_token(&stack).await;
    let shopper = shoppers(&stack, "hostile", 1).await.remove(0);
    let book = stack
        .graphql()
        .create_book(&admin, "Hostile Input Handbook", 2500, 10)
        .await
        .unwrap();
    let fixtures = graphql::Fixtures {
        admin: admin.clone(),
        shopper: shopper.token.clone(),
        book: book.clone(),
    };

    let graphql_tally = graphql::run(&stack, &fixtures).await;
    let grpc_tally = grpc::run(&stack, &admin).await;

    let mut failures = graphql_tally.failures.clone();
    failures.extend(grpc_tally.failures.iter().cloned());
    assert!(
        failures.is_empty(),
        "{} of {} cases got the wrong answer:\n{}",
        failures.len(),
        graphql_tally.cases + grpc_tally.cases,
        failures.join("\n")
    );

    // Nothing was dropped, crashed or poisoned: every process serves, the fixture book is
    // still found by a normal search, and a shopper still reads their cart.
    let damage = damage(&mut stack).await;
    assert!(damage.is_empty(), "{}", damage.join("\n"));
    let search = stack
        .graphql()
        .send(
            None,
            "query($q: String) { books(filter: {query: $q}) { edges { node { id } } } }",
            json!({ "q": "Hostile Input Handbook" }),
        )
        .await
        .unwrap();
    assert!(search.is_ok(), "{}", search.body);
    assert_eq!(
        search.data()["books"]["edges"][0]["node"]["id"],
        book,
        "{}",
        search.body
    );
    let cart = stack
        .graphql()
        .send(Some(&shopper.token), "{ cart { totalQuantity } }", json!({}))
        .await
        .unwrap();
    assert!(cart.is_ok(), "{}", cart.body);

    report(
        "hostile",
        started,
        &format!(
            "{} GraphQL cases {:?}; {} gRPC cases {:?}; wrong answers 0; processes exited 0; panics 0",
            graphql_tally.cases, graphql_tally.results, grpc_tally.cases, grpc_tally.results
        ),
    );
}
