//! The checkout invariants (CONTRIBUTING.md, "Invariants") across svc-order's and svc-inventory's
//! databases, read after a run: what every order ended as, and each broken invariant as a
//! line (so a report can count them, and a test can print them all at once).
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};

use sea_orm::{ConnectionTrait as _, Database, DatabaseConnection, Statement};

/// What a run left behind.
#[derive(Debug, Default)]
pub struct Audit {
    /// Orders per `status` (and `status:failure_reason` for FAILED).
    pub orders: BTreeMap<String, usize>,
    /// Each broken invariant, one line.
    pub violations: Vec<String>,
}

impl Audit {
    /// How many orders ended `status` (`"FAILED:OUT_OF_STOCK"` for a reason).
    pub fn count(&self, status: &str) -> usize {
        self.orders.get(status).copied().unwrap_or(0)
    }
}

/// How long past its expiry a HELD reservation may wait for the sweeper.
const SWEEP_GRACE_MS: i64 = 5_000;

/// Audits every order and reservation:
/// - no order PENDING or with saga work left;
/// - a CONFIRMED (or later) order has a COMMITTED reservation and a captured charge;
/// - a FAILED or CANCELLED order holds no stock and no money;
/// - no reservation is HELD past its expiry (plus the sweeper's grace);
/// - what inventory committed per book equals what the confirmed orders bought;
/// - the inventory invariants (bounds, HELD sums, stock = ledger).
///
/// # Panics
/// When a database cannot be read.
pub async fn audit(order_database: &str, inventory_database: &str) -> Audit {
    let orders_db = Database::connect(order_database).await.unwrap();
    let inventory_db = Database::connect(inventory_database).await.unwrap();
    let mut audit = Audit::default();

    let reservations: HashMap<uuid::Uuid, (String, i64)> = rows(
        &inventory_db,
        "SELECT order_id, state, expires_at_ms FROM reservations",
    )
    .await
    .iter()
    .map(|row| {
        let order: uuid::Uuid = row.try_get("", "order_id").unwrap();
        (
            order,
            (
                row.try_get("", "state").unwrap(),
                row.try_get("", "expires_at_ms").unwrap(),
            ),
        )
    })
    .collect();
    let charges: HashMap<String, String> =
        rows(&orders_db, "SELECT authorize_key, state FROM sandbox_charges")
            .await
            .iter()
            .map(|row| {
                (
                    row.try_get("", "authorize_key").unwrap(),
                    row.try_get("", "state").unwrap(),
                )
            })
            .collect();

    for row in rows(&orders_db, "SELECT id, status, step, failure_reason FROM orders").await {
        let id: uuid::Uuid = row.try_get("", "id").unwrap();
        let status: String = row.try_get("", "status").unwrap();
        let step: String = row.try_get("", "step").unwrap();
        let reason: String = row.try_get("", "failure_reason").unwrap();
        let key = if status == "FAILED" {
            format!("FAILED:{reason}")
        } else {
            status.clone()
        };
        *audit.orders.entry(key).or_default() += 1;
        let reservation = reservations.get(&id).map(|(state, _)| state.as_str());
        let charge = charges.get(&format!("order:{id}:authorize")).map(String::as_str);
        let mut broken = |what: &str| {
            audit.violations.push(format!(
                "order {id} {status}/{step}: {what} (reservation {reservation:?}, charge {charge:?})"
            ))
        };
        if step != "done" {
            broken("saga work left");
        }
        match status.as_str() {
            "CONFIRMED" | "SHIPPED" | "DELIVERED" => {
                if reservation != Some("COMMITTED") {
                    broken("confirmed without a committed reservation");
                }
                if charge != Some("captured") {
                    broken("confirmed without a captured payment");
                }
            }
            "FAILED" | "CANCELLED" => {
                if status == "FAILED" && matches!(reservation, Some("HELD" | "COMMITTED")) {
                    broken("failed but holds stock");
                }
                if reservation == Some("HELD") {
                    broken("holds stock");
                }
                if matches!(charge, Some("authorized" | "captured")) {
                    broken("holds money");
                }
            }
            _ => broken("not terminal"),
        }
    }

    let now_ms = chrono_now_ms();
    for (order, (state, expires_at_ms)) in &reservations {
        if state == "HELD" && *expires_at_ms + SWEEP_GRACE_MS < now_ms {
            audit.violations.push(format!(
                "reservation of order {order} HELD {} ms past its expiry",
                now_ms - expires_at_ms
            ));
        }
    }

    let committed = sums(
        &inventory_db,
        "SELECT l.book_id AS book_id, CAST(SUM(l.quantity) AS BIGINT) AS total FROM reservation_lines l \
         JOIN reservations r ON r.id = l.reservation_id WHERE r.state = 'COMMITTED' GROUP BY l.book_id",
    )
    .await;
    let sold = sums(
        &orders_db,
        "SELECT l.book_id AS book_id, CAST(SUM(l.quantity) AS BIGINT) AS total FROM order_lines l \
         JOIN orders o ON o.id = l.order_id WHERE o.payment_status IN ('captured', 'refunded') \
         GROUP BY l.book_id",
    )
    .await;
    for (book, quantity) in &committed {
        let bought = sold.get(book).copied().unwrap_or(0);
        if bought != *quantity {
            audit.violations.push(format!(
                "book {book}: inventory committed {quantity}, orders bought {bought}"
            ));
        }
    }
    for (book, bought) in &sold {
        if !committed.contains_key(book) {
            audit.violations.push(format!(
                "book {book}: orders bought {bought}, inventory committed none"
            ));
        }
    }
    audit
        .violations
        .extend(crate::invariants::inventory_violations(&inventory_db).await);
    orders_db.close().await.unwrap();
    inventory_db.close().await.unwrap();
    audit
}

async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    let statement = Statement::from_string(db.get_database_backend(), sql.to_owned());
    db.query_all_raw(statement).await.unwrap()
}

async fn sums(db: &DatabaseConnection, sql: &str) -> BTreeMap<uuid::Uuid, i64> {
    rows(db, sql)
        .await
        .iter()
        .map(|row| {
            (
                row.try_get("", "book_id").unwrap(),
                row.try_get("", "total").unwrap(),
            )
        })
        .collect()
}

fn chrono_now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}
