//! Random interleavings of reserve, commit, release, expiry and restock against a plain
//! model of what they should do; the stock must match the model and the invariants must hold
//! after every step.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use platform::testing::TestDatabase;
use proptest::prelude::*;
use proto::types::{BookId, OrderId, ReservationId};
use svc_inventory::clock::ManualClock;
use svc_inventory::domain::ReserveLine;
use svc_inventory::ops::Inventory;
use svc_inventory::ops::reserve::Reserve;
use svc_inventory::ops::settle::ReleaseTarget;

const TTL_MS: i64 = 60_000;

#[derive(Debug, Clone)]
enum Step {
    Reserve { order: usize, first: i64, second: i64 },
    Commit { order: usize },
    Release { order: usize },
    Expire,
    Restock { book: usize, quantity: i64 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..6usize, 0..3i64, 0..3i64).prop_map(|(order, first, second)| Step::Reserve { order, first, second }),
        2 => (0..6usize).prop_map(|order| Step::Commit { order }),
        2 => (0..6usize).prop_map(|order| Step::Release { order }),
        1 => Just(Step::Expire),
        1 => (0..2usize, 1..4i64).prop_map(|(book, quantity)| Step::Restock { book, quantity }),
    ]
}

#[derive(Debug, Clone, PartialEq)]
enum Order {
    Held {
        lines: Vec<(usize, i64)>,
        expires_at: i64,
    },
    Committed,
    Closed,
}

#[derive(Debug)]
struct Model {
    on_hand: [i64; 2],
    reserved: [i64; 2],
    orders: HashMap<usize, Order>,
    now: i64,
}

impl Model {
    fn reserve(&mut self, order: usize, lines: &[(usize, i64)]) -> bool {
        match self.orders.get(&order) {
            Some(Order::Held { .. } | Order::Committed) => return true,
            Some(Order::Closed) => return false,
            None => {}
        }
        if lines
            .iter()
            .any(|(book, quantity)| self.on_hand[*book] - self.reserved[*book] < *quantity)
        {
            return false;
        }
        for (book, quantity) in lines {
            self.reserved[*book] += quantity;
        }
        self.orders.insert(
            order,
            Order::Held {
                lines: lines.to_vec(),
                expires_at: self.now + TTL_MS,
            },
        );
        true
    }

    fn commit(&mut self, order: usize) -> bool {
        match self.orders.get(&order).cloned() {
            Some(Order::Held { lines, expires_at }) if expires_at > self.now => {
                for (book, quantity) in lines {
                    self.on_hand[book] -= quantity;
                    self.reserved[book] -= quantity;
                }
                self.orders.insert(order, Order::Committed);
                true
            }
            Some(Order::Committed) => true,
            _ => false,
        }
    }

    fn release(&mut self, order: usize) -> bool {
        match self.orders.get(&order).cloned() {
            Some(Order::Held { lines, .. }) => {
                for (book, quantity) in lines {
                    self.reserved[book] -= quantity;
                }
                self.orders.insert(order, Order::Closed);
                true
            }
            Some(Order::Committed) => false,
            Some(Order::Closed) => true,
            None => {
                self.orders.insert(order, Order::Closed);
                true
            }
        }
    }

    fn expire(&mut self) {
        self.now += TTL_MS + 1_000;
        for state in self.orders.values_mut() {
            if let Order::Held { lines, expires_at } = state.clone()
                && expires_at <= self.now
            {
                for (book, quantity) in lines {
                    self.reserved[book] -= quantity;
                }
                *state = Order::Closed;
            }
        }
    }
}

async fn run(steps: Vec<Step>) {
    let database = TestDatabase::create("inventory").await.unwrap();
    let db = platform::store::open_database::<svc_inventory::migration::Migrator>(&database.url, true)
        .await
        .unwrap();
    let clock = ManualClock::new();
    let inventory = Inventory::new(db, Arc::new(clock.clone()), Duration::from_millis(TTL_MS as u64));
    let books = [BookId::generate(), BookId::generate()];
    let orders: Vec<OrderId> = (0..6).map(|_| OrderId::generate()).collect();
    let mut reservations: HashMap<usize, ReservationId> = HashMap::new();
    let mut model = Model {
        on_hand: [3, 2],
        reserved: [0, 0],
        orders: HashMap::new(),
        now: 0,
    };
    inventory.set_stock(books[0], 3, "", "test").await.unwrap();
    inventory.set_stock(books[1], 2, "", "test").await.unwrap();

    for step in steps {
        match step {
            Step::Reserve { order, first, second } => {
                let lines: Vec<(usize, i64)> = [(0, first), (1, second)]
                    .into_iter()
                    .filter(|(_, quantity)| *quantity > 0)
                    .collect();
                if lines.is_empty() {
                    continue;
                }
                let command = Reserve {
                    order_id: orders[order],
                    lines: lines
                        .iter()
                        .map(|(book, quantity)| ReserveLine {
                            book_id: books[*book],
                            quantity: *quantity,
                        })
                        .collect(),
                    ttl: None,
                    actor: "order".to_owned(),
                };
                let mut sorted = command.lines.clone();
                sorted.sort();
                let result = inventory
                    .reserve(Reserve {
                        lines: sorted,
                        ..command
                    })
                    .await;
                if let Ok(reservation) = &result {
                    reservations.entry(order).or_insert(reservation.id);
                }
                assert_eq!(
                    result.is_ok(),
                    model.reserve(order, &lines),
                    "reserve {order} {lines:?}: {result:?}"
                );
            }
            Step::Commit { order } => {
                let Some(id) = reservations.get(&order) else {
                    continue;
                };
                let result = inventory.commit(*id, "order").await;
                assert_eq!(result.is_ok(), model.commit(order), "commit {order}: {result:?}");
            }
            Step::Release { order } => {
                let result = inventory
                    .release(ReleaseTarget::Order(orders[order]), "", "order")
                    .await;
                assert_eq!(
                    result.is_ok(),
                    model.release(order),
                    "release {order}: {result:?}"
                );
            }
            Step::Expire => {
                clock.advance(TTL_MS + 1_000);
                model.expire();
                inventory.sweep_once().await.unwrap();
            }
            Step::Restock { book, quantity } => {
                inventory
                    .restock(books[book], quantity, "", None, "admin")
                    .await
                    .unwrap();
                model.on_hand[book] += quantity;
            }
        }
        for (index, book) in books.iter().enumerate() {
            let level = inventory.get_stock(*book).await.unwrap();
            assert_eq!(
                (level.on_hand, level.reserved),
                (model.on_hand[index], model.reserved[index]),
                "book {index}"
            );
        }
        bookstore_tests::invariants::assert_invariants_on(inventory.database()).await;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_interleaving_matches_the_model_and_keeps_the_invariants(steps in proptest::collection::vec(step(), 1..25)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(run(steps));
    }
}
