//! Security, from outside the stack: bad tokens everywhere, one user reaching for another's
//! orders, cart and profile, a customer calling every admin mutation and inventory's
//! service-only RPCs, login throttling through the BFF, and card numbers that must not be
//! kept anywhere: every database, every Redis key and every log line is searched for them.

mod access;
mod admin;
mod secrets;
mod tokens;

use std::time::Instant;

use bookstore_tests::stack::shop::{PLACE_ORDER, Shopper, place_input};
use bookstore_tests::stack::{Reply, Stack};
use serde_json::json;

use crate::support::{admin_token, report, shoppers, small_stack};

/// Who and what the attacks are aimed at.
#[derive(Debug)]
pub(crate) struct Victims {
    /// The victim: has a confirmed order and a cart with one book in it.
    pub alice: Shopper,
    pub alice_id: String,
    pub alice_order: String,
    /// The attacker: a customer with an order of her own.
    pub mallory: Shopper,
    pub mallory_order: String,
    pub book: String,
}

/// How many attempts each part made; every one of them was refused.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub graphql_tokens: usize,
    pub grpc_tokens: usize,
    pub cross_user: usize,
    pub admin_refused: usize,
    pub service_only_refused: usize,
    pub login_attempts: usize,
}

/// Sends one GraphQL request and fails the test on a transport error.
pub(crate) async fn send(
    stack: &Stack,
    token: Option<&str>,
    query: &str,
    variables: serde_json::Value,
) -> Reply {
    stack.graphql().send(token, query, variables).await.unwrap()
}

/// The status of a call that must fail (OK when it did not).
pub(crate) fn refused<T>(answer: Result<tonic::Response<T>, tonic::Status>) -> tonic::Status {
    match answer {
        Ok(_) => tonic::Status::ok("the call succeeded"),
        Err(status) => status,
    }
}

/// The signed-in user's id.
async fn my_id(stack: &Stack, token: &str) -> String {
    let me = send(stack, Some(token), "{ me { id } }", json!({})).await;
    me.data()["me"]["id"].as_str().unwrap().to_owned()
}

/// Checks out `shopper`'s cart (one copy of `book`) with `card` and returns the order id.
async fn checkout(stack: &Stack, shopper: &Shopper, book: &str, card: &str) -> String {
    stack.graphql().fill_cart(shopper, book, 1).await.unwrap();
    // The key is stored with the order: it must not contain the number searched for later.
    let key = uuid::Uuid::new_v4().to_string();
    let placed = send(stack, Some(&shopper.token), PLACE_ORDER, place_input(&key, card)).await;
    assert_eq!(
        placed.data()["placeOrder"]["status"],
        "CONFIRMED",
        "{card}: {}",
        placed.body
    );
    placed.data()["placeOrder"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn attackers_are_refused_and_card_numbers_are_kept_nowhere() {
    let started = Instant::now();
    let stack = small_stack().start().await.unwrap();
    let admin = admin_token(&stack).await;
    let mut people = shoppers(&stack, "security", 2).await;
    let (mallory, alice) = (people.remove(1), people.remove(0));
    let book = stack
        .graphql()
        .create_book(&admin, "Security Engineering", 4200, 20)
        .await
        .unwrap();
    // Two checkouts with distinctive cards: a Mastercard test number, and a Visa debit
    // number typed with spaces as people do (the sandbox approves both).
    let alice_order = checkout(&stack, &alice, &book, secrets::MASTERCARD).await;
    let mallory_order = checkout(&stack, &mallory, &book, secrets::VISA_WITH_SPACES).await;
    // Alice has something in her cart for Mallory to reach for.
    stack.graphql().fill_cart(&alice, &book, 1).await.unwrap();
    let victims = Victims {
        alice_id: my_id(&stack, &alice.token).await,
        alice,
        alice_order,
        mallory,
        mallory_order,
        book,
    };
    let mut counts = Counts::default();

    tokens::bad_tokens_are_unauthenticated(&stack, &victims, &mut counts).await;
    access::other_users_data_is_out_of_reach(&stack, &victims, &mut counts).await;
    admin::customers_cannot_administer(&stack, &victims, &mut counts).await;
    admin::service_only_rpcs_refuse_users(&stack, &victims, &mut counts).await;
    secrets::wrong_passwords_refuse_that_address_on_that_account(&stack, &victims, &mut counts).await;
    let dumped = secrets::card_numbers_are_kept_nowhere(&stack, &victims).await;

    report(
        "security",
        started,
        &format!(
            "bad tokens refused: {} GraphQL + {} gRPC; cross-user attempts refused {}; admin calls by a \
             customer refused {}; service-only calls by users refused {}; login attempts {} (throttled after 5); \
             card numbers searched in {} database bytes, {} Redis keys, {} log lines: found 0",
            counts.graphql_tokens,
            counts.grpc_tokens,
            counts.cross_user,
            counts.admin_refused,
            counts.service_only_refused,
            counts.login_attempts,
            dumped.database_bytes,
            dumped.redis_keys,
            dumped.log_lines,
        ),
    );
}
