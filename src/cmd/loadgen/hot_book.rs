//! The `hot-book` scenario: one new book with `--stock` copies, and every virtual user
//! registering, putting it in the cart and checking out at the same moment. Afterwards the
//! inventory invariants are checked through the API: no more orders confirmed than copies,
//! every copy either sold or still available, and no order left PENDING.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::json;
use tokio::sync::Barrier;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::admin::Admin;
use super::client::{Answer, Client, Endpoint, Pacing};
use super::journeys::{Checkout, ORDER, ORDERS, add_to_cart, place_order, register};
use super::shop::account;
use super::stats::{Operation, Progress, Recorder};

/// How long a PENDING order may take to settle: above the checkout lease (30 s by default),
/// after which the recovery loop finishes an order whose request stopped driving it.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(45);
const SETTLE_POLL: Duration = Duration::from_millis(500);
/// How long stock may take to agree after the orders settled (a release runs after FAILED).
const STOCK_AGREE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the hot-book run does.
#[derive(Debug, Clone)]
pub(crate) struct HotBookPlan {
    pub(crate) users: usize,
    pub(crate) stock: i64,
    pub(crate) pacing: Pacing,
    pub(crate) run_id: String,
}

/// One checked invariant.
#[derive(Debug, Serialize)]
pub(crate) struct Invariant {
    pub(crate) name: String,
    pub(crate) holds: bool,
}

/// The scenario's outcome, beside the per-operation numbers.
#[derive(Debug, Serialize)]
pub(crate) struct HotBookReport {
    pub(crate) book_id: String,
    pub(crate) isbn: String,
    pub(crate) stock: i64,
    pub(crate) users: usize,
    /// Orders CONFIRMED (or later), counted from the orders themselves.
    pub(crate) confirmed: u64,
    /// Checkouts answered OUT_OF_STOCK.
    pub(crate) out_of_stock: u64,
    /// Orders still PENDING after the settle timeout.
    pub(crate) pending: u64,
    pub(crate) available: i64,
    pub(crate) invariants: Vec<Invariant>,
}

impl HotBookReport {
    pub(crate) fn holds(&self) -> bool {
        self.invariants.iter().all(|invariant| invariant.holds)
    }

    /// The lines printed under the table.
    pub(crate) fn summary(&self) -> String {
        let mut text = format!(
            "hot book {} (isbn {}): stock {}, {} users: {} confirmed, {} out of stock, {} pending, {} available",
            self.book_id,
            self.isbn,
            self.stock,
            self.users,
            self.confirmed,
            self.out_of_stock,
            self.pending,
            self.available
        );
        for invariant in &self.invariants {
            let verdict = if invariant.holds { "ok    " } else { "BROKEN" };
            text.push_str(&format!("\n  {verdict} {}", invariant.name));
        }
        text
    }
}

/// One buyer after the rush.
#[derive(Debug)]
struct Buyer {
    client: Client,
    checkout: Checkout,
}

/// The book the buyers rush for, created by the admin beforehand.
#[derive(Debug, Clone)]
pub(crate) struct HotBook {
    pub(crate) book_id: String,
    pub(crate) isbn: String,
}

/// Runs the rush for `book`, waits for every order to settle and checks the invariants;
/// returns what the buyers recorded and the report.
///
/// # Errors
/// Fails when the book's stock cannot be read.
pub(crate) async fn run(
    endpoint: &Endpoint,
    admin: &Admin,
    book: HotBook,
    plan: &HotBookPlan,
    progress: Arc<Progress>,
) -> anyhow::Result<(Recorder, HotBookReport)> {
    let HotBook { book_id, isbn } = book;
    // Everyone checks out at the same moment, after the (paced) registrations.
    let barrier = Arc::new(Barrier::new(plan.users));
    let mut tasks = JoinSet::new();
    for index in 0..plan.users {
        let client = Client::new(endpoint.clone(), Recorder::new(progress.clone()), &plan.pacing);
        tasks.spawn(buy(
            client,
            index,
            plan.run_id.clone(),
            book_id.clone(),
            barrier.clone(),
        ));
    }
    let mut buyers = Vec::with_capacity(plan.users);
    let mut total = Recorder::new(progress);
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(buyer) => buyers.push(buyer),
            Err(error) => total.user_failed(format!("a virtual user stopped: {error}")),
        }
    }

    let deadline = Instant::now() + SETTLE_TIMEOUT;
    let settled = futures::future::join_all(buyers.iter_mut().map(|buyer| settle(buyer, deadline))).await;
    let mut confirmed = 0;
    let mut pending = 0;
    for status in settled.iter().flatten() {
        match status.as_str() {
            "CONFIRMED" | "SHIPPED" | "DELIVERED" => confirmed += 1,
            "PENDING" => pending += 1,
            _ => {}
        }
    }
    let mut out_of_stock = 0;
    for buyer in buyers {
        if matches!(buyer.checkout, Checkout::OutOfStock { .. }) {
            out_of_stock += 1;
        }
        total.merge(buyer.client.recorder);
    }

    let stock = plan.stock;
    let agree_by = Instant::now() + STOCK_AGREE_TIMEOUT;
    let mut available = admin.available(&book_id).await?;
    while i64::try_from(confirmed).unwrap_or(i64::MAX) + available != stock && Instant::now() < agree_by {
        tokio::time::sleep(Duration::from_millis(200)).await;
        available = admin.available(&book_id).await?;
    }
    let sold = i64::try_from(confirmed).unwrap_or(i64::MAX);
    let invariants = vec![
        Invariant {
            name: format!("confirmed orders ({confirmed}) <= stock ({stock})"),
            holds: sold <= stock,
        },
        Invariant {
            name: format!("confirmed ({confirmed}) + available ({available}) == stock ({stock})"),
            holds: sold + available == stock,
        },
        Invariant {
            name: format!("no order left PENDING ({pending})"),
            holds: pending == 0,
        },
    ];
    let report = HotBookReport {
        book_id,
        isbn,
        stock,
        users: plan.users,
        confirmed,
        out_of_stock,
        pending,
        available,
        invariants,
    };
    Ok((total, report))
}

/// One buyer: register, one copy in the cart, wait for everyone, check out.
async fn buy(
    mut client: Client,
    index: usize,
    run_id: String,
    book_id: String,
    barrier: Arc<Barrier>,
) -> Buyer {
    let ready = register(&mut client, &account(&run_id, index)).await
        && add_to_cart(&mut client, &book_id).await.is_some();
    // Every buyer reaches the barrier, ready or not, or the others would wait forever.
    barrier.wait().await;
    let checkout = if ready {
        place_order(&mut client).await
    } else {
        Checkout::Failed
    };
    Buyer { client, checkout }
}

/// Returns the final status of each of the buyer's orders, polling while one is PENDING
/// until `deadline`. The order checkout returned is read with `order(id)`; a buyer without
/// one (out of stock, or an error) lists `orders`, where a refused checkout's order also is.
async fn settle(buyer: &mut Buyer, deadline: Instant) -> Vec<String> {
    if !buyer.client.is_signed_in() {
        return Vec::new();
    }
    loop {
        let statuses = match &buyer.checkout {
            Checkout::Placed { order_id, .. } => order_status(&mut buyer.client, order_id).await,
            Checkout::OutOfStock { .. } | Checkout::Failed => order_statuses(&mut buyer.client).await,
        };
        let Some(statuses) = statuses else {
            return Vec::new();
        };
        if !statuses.iter().any(|status| status == "PENDING") || Instant::now() >= deadline {
            return statuses;
        }
        tokio::time::sleep(SETTLE_POLL).await;
    }
}

async fn order_status(client: &mut Client, order_id: &str) -> Option<Vec<String>> {
    let Answer::Data(data) = client
        .call(Operation::Order, ORDER, json!({ "id": order_id }), &[])
        .await
    else {
        return None;
    };
    match data["order"]["status"].as_str() {
        Some(status) => Some(vec![status.to_owned()]),
        None => {
            client.fail(
                Operation::Order,
                &format!("order {order_id} not found by its owner"),
            );
            None
        }
    }
}

async fn order_statuses(client: &mut Client) -> Option<Vec<String>> {
    let Answer::Data(data) = client.call(Operation::Orders, ORDERS, json!({}), &[]).await else {
        return None;
    };
    let mut statuses = Vec::new();
    for edge in data["orders"]["edges"].as_array().into_iter().flatten() {
        if let Some(status) = edge["node"]["status"].as_str() {
            statuses.push(status.to_owned());
        }
    }
    Some(statuses)
}
