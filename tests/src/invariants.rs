//! The inventory invariants (CONTRIBUTING.md, "Invariants"), checked against a database. Test support:
//! it panics, naming the broken invariant, which is what a test wants.
#![allow(clippy::unwrap_used)]

use sea_orm::{ConnectionTrait as _, Database, Statement};

async fn sum(db: &sea_orm::DatabaseConnection, sql: &str) -> Vec<(String, i64)> {
    let statement = Statement::from_string(db.get_database_backend(), sql.to_owned());
    let mut sums = Vec::new();
    for row in db.query_all_raw(statement).await.unwrap() {
        let book: uuid::Uuid = row.try_get("", "book_id").unwrap();
        let value: i64 = row.try_get("", "total").unwrap();
        sums.push((book.to_string(), value));
    }
    sums.sort();
    sums
}

/// Checks, for every book: `0 <= reserved <= on_hand`, `reserved` = the sum of HELD lines,
/// and `on_hand` and `reserved` equal the sums of their ledger deltas (the stock can be
/// recomputed from the ledger).
///
/// # Panics
/// On the first broken invariant, or when the database cannot be read.
pub async fn assert_invariants(database_url: &str) {
    let db = Database::connect(database_url).await.unwrap();
    assert_invariants_on(&db).await;
    db.close().await.unwrap();
}

/// The same checks over an open connection (for checks after every step).
///
/// # Panics
/// On the first broken invariant, or when the database cannot be read.
pub async fn assert_invariants_on(db: &sea_orm::DatabaseConnection) {
    let violations = inventory_violations(db).await;
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

/// Returns every broken inventory invariant, one line each (empty when all hold).
///
/// # Panics
/// When the database cannot be read.
pub async fn inventory_violations(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    let stock = {
        let statement = Statement::from_string(
            db.get_database_backend(),
            "SELECT book_id, on_hand, reserved FROM stock",
        );
        let mut rows = Vec::new();
        for row in db.query_all_raw(statement).await.unwrap() {
            let book: uuid::Uuid = row.try_get("", "book_id").unwrap();
            let on_hand: i64 = row.try_get("", "on_hand").unwrap();
            let reserved: i64 = row.try_get("", "reserved").unwrap();
            rows.push((book.to_string(), on_hand, reserved));
        }
        rows
    };
    let held = sum(
        db,
        "SELECT l.book_id AS book_id, CAST(SUM(l.quantity) AS BIGINT) AS total FROM reservation_lines l \
         JOIN reservations r ON r.id = l.reservation_id WHERE r.state = 'HELD' GROUP BY l.book_id",
    )
    .await;
    let ledger_on_hand = sum(
        db,
        "SELECT book_id, CAST(SUM(delta_on_hand) AS BIGINT) AS total FROM ledger GROUP BY book_id",
    )
    .await;
    let ledger_reserved = sum(
        db,
        "SELECT book_id, CAST(SUM(delta_reserved) AS BIGINT) AS total FROM ledger GROUP BY book_id",
    )
    .await;
    let lookup = |sums: &[(String, i64)], book: &str| {
        sums.iter()
            .find(|(id, _)| id == book)
            .map(|(_, total)| *total)
            .unwrap_or(0)
    };
    let mut violations = Vec::new();
    for (book, on_hand, reserved) in &stock {
        if !(*on_hand >= 0 && *reserved >= 0 && reserved <= on_hand) {
            violations.push(format!("{book}: on_hand {on_hand} reserved {reserved}"));
        }
        let held = lookup(&held, book);
        if *reserved != held {
            violations.push(format!(
                "{book}: reserved {reserved} but HELD lines sum to {held}"
            ));
        }
        let ledger = lookup(&ledger_on_hand, book);
        if *on_hand != ledger {
            violations.push(format!(
                "{book}: on_hand {on_hand} but the ledger sums to {ledger}"
            ));
        }
        let ledger = lookup(&ledger_reserved, book);
        if *reserved != ledger {
            violations.push(format!(
                "{book}: reserved {reserved} but the ledger sums to {ledger}"
            ));
        }
    }
    violations
}
