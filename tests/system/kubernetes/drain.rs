//! SIGTERM during steady load: shoppers keep adding to their carts, checking out and reading
//! their orders through two BFFs and two order replicas while one BFF and then one order
//! replica are terminated. Not one request may fail.
//!
//! The test plays Kubernetes' part for the BFF: it takes `bff-1` out of the rotation (the
//! endpoint update) and sends SIGTERM at once, without the chart's preStop pause, so requests
//! are still in flight on `bff-1` when it drains. The BFFs reach order through the static list
//! of both replicas, as today's clients do: `order-1` is terminated without any endpoint
//! update, and the callers must fail over by themselves. A readiness watch on `order-1` must
//! see NOT_SERVING as soon as its drain begins.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bookstore_tests::stack::GraphQl;
use bookstore_tests::stack::shop::{GOOD_CARD, PLACE_ORDER, Shopper, place_input};
use platform::ServiceName;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::support::{admin_token, channel, report, shoppers, small_stack};

const SHOPPERS: usize = 6;

/// The BFFs a Service would route to: which are in rotation, and what each has in flight.
#[derive(Debug)]
struct Rotation {
    bffs: Vec<GraphQl>,
    in_rotation: Mutex<Vec<usize>>,
    next: AtomicUsize,
    in_flight: Vec<AtomicUsize>,
}

impl Rotation {
    fn pick(&self) -> usize {
        let in_rotation = self.in_rotation.lock().unwrap();
        in_rotation[self.next.fetch_add(1, Ordering::Relaxed) % in_rotation.len()]
    }

    /// Sends one request through the next BFF in rotation.
    async fn send(
        &self,
        token: &str,
        query: &str,
        variables: serde_json::Value,
    ) -> Result<bookstore_tests::stack::Reply, String> {
        let index = self.pick();
        self.in_flight[index].fetch_add(1, Ordering::SeqCst);
        let reply = self.bffs[index].send(Some(token), query, variables).await;
        self.in_flight[index].fetch_sub(1, Ordering::SeqCst);
        reply.map_err(|error| format!("bff-{}: {error}", index + 1))
    }
}

#[derive(Debug, Default)]
struct Tally {
    requests: AtomicUsize,
    checkouts: AtomicUsize,
    failures: Mutex<Vec<String>>,
}

impl Tally {
    fn record(
        &self,
        what: &str,
        outcome: Result<bookstore_tests::stack::Reply, String>,
        ok: impl Fn(&bookstore_tests::stack::Reply) -> bool,
    ) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        match outcome {
            Ok(reply) if ok(&reply) => {}
            Ok(reply) => self
                .failures
                .lock()
                .unwrap()
                .push(format!("{what}: {} {}", reply.status, reply.body)),
            Err(error) => self.failures.lock().unwrap().push(format!("{what}: {error}")),
        }
    }
}

/// One shopper's loop until `stop`: add the book, check out, read the orders.
async fn shop(
    rotation: Arc<Rotation>,
    tally: Arc<Tally>,
    shopper: Shopper,
    book: String,
    stop: CancellationToken,
) {
    let mut round = 0;
    while !stop.is_cancelled() {
        round += 1;
        let added = rotation
            .send(
                &shopper.token,
                "mutation($id: ID!) { addToCart(bookId: $id, quantity: 1) { totalQuantity } }",
                json!({ "id": book }),
            )
            .await;
        tally.record("addToCart", added, |reply| reply.is_ok());
        let key = format!("drain-{}-{round}", shopper.email);
        let placed = rotation
            .send(&shopper.token, PLACE_ORDER, place_input(&key, GOOD_CARD))
            .await;
        tally.checkouts.fetch_add(1, Ordering::Relaxed);
        tally.record("placeOrder", placed, |reply| {
            reply.data()["placeOrder"]["status"] == "CONFIRMED"
        });
        let orders = rotation
            .send(
                &shopper.token,
                "{ orders(first: 1) { edges { cursor } } }",
                json!({}),
            )
            .await;
        tally.record("orders", orders, |reply| reply.is_ok());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_to_a_bff_and_an_order_replica_under_load_fails_no_request() {
    let started = Instant::now();
    let mut stack = small_stack()
        .replicas(ServiceName::Bff, 2)
        .replicas(ServiceName::Order, 2)
        // Every shopper comes from 127.0.0.1: not one client to rate-limit.
        .setting("BOOKSTORE_BFF__RATE_PER_ADDRESS", 100_000)
        .setting("BOOKSTORE_BFF__RATE_BURST", 100_000)
        .start()
        .await
        .unwrap();
    let admin = admin_token(&stack).await;
    let book = stack
        .graphql()
        .create_book(&admin, "Drain", 999, 100_000)
        .await
        .unwrap();
    let buyers = shoppers(&stack, "drain", SHOPPERS).await;
    let rotation = Arc::new(Rotation {
        bffs: vec![stack.graphql_of("bff-1"), stack.graphql_of("bff-2")],
        in_rotation: Mutex::new(vec![0, 1]),
        next: AtomicUsize::new(0),
        in_flight: vec![AtomicUsize::new(0), AtomicUsize::new(0)],
    });
    let tally = Arc::new(Tally::default());
    let stop = CancellationToken::new();
    let load: Vec<_> = buyers
        .into_iter()
        .map(|shopper| {
            tokio::spawn(shop(
                Arc::clone(&rotation),
                Arc::clone(&tally),
                shopper,
                book.clone(),
                stop.clone(),
            ))
        })
        .collect();
    let load_started = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;

    // The endpoint update, then SIGTERM while bff-1 still has requests in flight.
    rotation.in_rotation.lock().unwrap().retain(|index| *index != 0);
    let bff_in_flight = rotation.in_flight[0].load(Ordering::SeqCst);
    let bff = stack.process_mut("bff-1");
    let terminated = Instant::now();
    bff.terminate();
    let bff_clean = bff.wait_exit(Duration::from_secs(20)).await.unwrap();
    let bff_drained = terminated.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;

    // A readiness watch opened before SIGTERM sees NOT_SERVING before the drain ends.
    let readiness = HealthCheckRequest {
        service: ServiceName::Order.grpc_name().to_owned(),
    };
    let mut watch = HealthClient::new(channel(&stack, "order-1"))
        .watch(readiness)
        .await
        .unwrap()
        .into_inner();
    let serving = watch.message().await.unwrap().map(|answer| answer.status);
    assert_eq!(serving, Some(ServingStatus::Serving as i32));
    let requests_before_order = tally.requests.load(Ordering::Relaxed);
    let order = stack.process_mut("order-1");
    let terminated = Instant::now();
    order.terminate();
    let draining = tokio::time::timeout(Duration::from_secs(5), watch.message()).await;
    let draining = draining
        .ok()
        .and_then(Result::ok)
        .flatten()
        .map(|answer| answer.status);
    assert_eq!(
        draining,
        Some(ServingStatus::NotServing as i32),
        "readiness did not go NOT_SERVING when the drain began"
    );
    // A watch never ends by itself; the drain would wait for it until grpc.drain_timeout_ms.
    drop(watch);
    let order_clean = order.wait_exit(Duration::from_secs(20)).await.unwrap();
    let order_drained = terminated.elapsed();
    let requests_at_order_exit = tally.requests.load(Ordering::Relaxed);
    // Long enough for every BFF connection to try the stopped replica's address again.
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.cancel();
    for shopper in load {
        shopper.await.unwrap();
    }
    let failures = tally.failures.lock().unwrap().clone();
    let requests = tally.requests.load(Ordering::Relaxed);
    report(
        "drain",
        started,
        &format!(
            "{requests} requests ({} checkouts) by {SHOPPERS} shoppers in {:.1} s, failed {}; bff-1: SIGTERM with \
             {bff_in_flight} requests in flight, exited {} after {:.2} s; order-1: SIGTERM, exited {} after {:.2} s, \
             {} requests while it drained, {} after it left",
            tally.checkouts.load(Ordering::Relaxed),
            load_started.elapsed().as_secs_f64(),
            failures.len(),
            if bff_clean { "cleanly" } else { "with an error" },
            bff_drained.as_secs_f64(),
            if order_clean { "cleanly" } else { "with an error" },
            order_drained.as_secs_f64(),
            requests_at_order_exit - requests_before_order,
            requests - requests_at_order_exit,
        ),
    );
    assert!(failures.is_empty(), "failed requests: {failures:#?}");
    assert!(
        bff_clean && order_clean,
        "a terminated process exited with an error"
    );
    assert!(
        requests > requests_at_order_exit,
        "no request ran after order-1 left"
    );
}
