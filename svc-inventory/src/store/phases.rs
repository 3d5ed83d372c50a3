//! The two phases of a checkout, each in one round trip: Reserve (claim the order, its lines,
//! the ledger, the stock and the stock events) and Commit (the reservation's state, the
//! ledger and the stock). PostgreSQL runs each as one statement of data-modifying CTEs (a
//! statement is atomic); SQLite runs each as one batch of statements in the caller's
//! transaction (one call on the connection's thread; SQLite has no data-modifying CTEs).
//!
//! The rules stay in the database: the order's unique `order_id` claims it once; the stock
//! CHECK `reserved <= on_hand` refuses a reservation of more than is available, so a short
//! line ends the whole statement and nothing of it is written; Commit moves the reservation only from HELD and
//! unexpired, and every other write of it follows from that move.

use chrono::Utc;
use proto::types::{OrderId, ReservationId};
use sea_orm::{ConnectionTrait, DbBackend, Value};
use uuid::Uuid;

use crate::domain::{Reservation, ReservationState, ReserveLine};
use crate::error::InventoryResult;
use platform::store::{column, query};

/// What Reserve's statement did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserved {
    /// Every line is held.
    Held,
    /// Nothing written: the order already has a reservation (or a tombstone), or a book
    /// has no stock row (nothing to sell).
    Unclaimed,
    /// A line asked for more than is available: nothing written.
    Short,
}

/// `(?, ?), (?, ?), …` for the lines, and their values (book, quantity).
fn wanted(lines: &[ReserveLine]) -> (String, Vec<Value>) {
    let marks = vec!["(?, ?)"; lines.len()].join(", ");
    let values = lines
        .iter()
        .flat_map(|line| [line.book_id.as_uuid().into(), line.quantity.into()])
        .collect();
    (marks, values)
}

/// Holds every line for `order` as reservation `id`, or nothing. `lines` are merged and
/// sorted by book: the order stock rows are locked in.
///
/// The claim is made only when every book has a stock row (rows are created by SetStock
/// and never deleted, so one seen stays), and the stock change follows from the claim; a
/// book without a row comes back as [`Reserved::Unclaimed`], like an order claimed before.
pub async fn reserve(
    db: &impl ConnectionTrait,
    id: ReservationId,
    order: OrderId,
    expires_at_ms: i64,
    lines: &[ReserveLine],
    actor: &str,
) -> InventoryResult<Reserved> {
    let now = Utc::now();
    let (want, want_values) = wanted(lines);
    let books = i64::try_from(lines.len()).unwrap_or(i64::MAX);
    let mut claim: Vec<Value> = vec![
        id.as_uuid().into(),
        order.as_uuid().into(),
        ReservationState::Held.as_str().into(),
        expires_at_ms.into(),
        now.into(),
        now.into(),
    ];
    claim.push(books.into());
    let claim_sql = "INSERT INTO reservations (id, order_id, state, expires_at_ms, created_at, updated_at) \
                     SELECT ?, ?, ?, ?, ?, ? \
                     WHERE (SELECT COUNT(*) FROM stock WHERE book_id IN (SELECT book_id FROM want)) = ? \
                     ON CONFLICT (order_id) DO NOTHING RETURNING id";
    let (sql, values) = if db.get_database_backend() == DbBackend::Postgres {
        // The stock rows change through an upsert whose insert is never taken (every book
        // has a row): unlike UPDATE … FROM, it takes the rows' locks in the order given.
        let sql = format!(
            "WITH want (book_id, quantity) AS (VALUES {want}), \
             claim AS ({claim_sql}), \
             held_lines AS (INSERT INTO reservation_lines (reservation_id, book_id, quantity) \
               SELECT claim.id, want.book_id, want.quantity FROM claim, want), \
             ledger_rows AS (INSERT INTO ledger (book_id, delta_on_hand, delta_reserved, reason, reservation_id, actor, created_at) \
               SELECT want.book_id, 0, want.quantity, 'reserve', claim.id, ?, ? FROM claim, want), \
             held AS (INSERT INTO stock (book_id, on_hand, reserved, version, updated_at) \
               SELECT want.book_id, 0, 0, 0, ? FROM claim, want ORDER BY want.book_id \
               ON CONFLICT (book_id) DO UPDATE SET \
               reserved = stock.reserved + (SELECT quantity FROM want WHERE want.book_id = EXCLUDED.book_id), \
               version = stock.version + 1, updated_at = EXCLUDED.updated_at \
               RETURNING book_id, on_hand, reserved, version), \
             events AS (INSERT INTO outbox (book_id, available, version, created_at) \
               SELECT book_id, on_hand - reserved, version, ? FROM held) \
             SELECT id FROM claim"
        );
        let mut values = want_values;
        values.extend(claim);
        values.extend([actor.into(), now.into(), now.into(), now.into()]);
        (sql, values)
    } else {
        // Each statement after the claim writes only when the claim did (the id is new).
        let with = format!("WITH want (book_id, quantity) AS (VALUES {want})");
        let claimed = "EXISTS (SELECT 1 FROM reservations WHERE id = ?)";
        let sql = format!(
            "{with} {claim_sql}; \
             {with} INSERT INTO reservation_lines (reservation_id, book_id, quantity) \
               SELECT ?, book_id, quantity FROM want WHERE {claimed}; \
             {with} INSERT INTO ledger (book_id, delta_on_hand, delta_reserved, reason, reservation_id, actor, created_at) \
               SELECT book_id, 0, quantity, 'reserve', ?, ?, ? FROM want WHERE {claimed}; \
             {with} UPDATE stock SET reserved = stock.reserved + want.quantity, version = stock.version + 1, \
               updated_at = ? FROM want WHERE stock.book_id = want.book_id AND {claimed}; \
             {with} INSERT INTO outbox (book_id, available, version, created_at) \
               SELECT stock.book_id, stock.on_hand - stock.reserved, stock.version, ? \
               FROM stock JOIN want ON stock.book_id = want.book_id WHERE {claimed}"
        );
        let reservation: Value = id.as_uuid().into();
        let mut values = want_values.clone();
        values.extend(claim);
        values.extend(want_values.iter().cloned());
        values.extend([reservation.clone(), reservation.clone()]);
        values.extend(want_values.iter().cloned());
        values.extend([reservation.clone(), actor.into(), now.into(), reservation.clone()]);
        values.extend(want_values.iter().cloned());
        values.extend([now.into(), reservation.clone()]);
        values.extend(want_values);
        values.extend([now.into(), reservation]);
        (sql, values)
    };
    match query(db, "reservation", &sql, values).await {
        Ok(rows) if rows.is_empty() => Ok(Reserved::Unclaimed),
        Ok(_) => Ok(Reserved::Held),
        Err(error) if error.is_check_violation() => Ok(Reserved::Short),
        Err(error) => Err(error.into()),
    }
}

/// Moves HELD, unexpired reservation `id` to COMMITTED and sells its copies (ledger and
/// stock); `None`, with nothing written, when it was not HELD or has expired.
pub async fn commit(
    db: &impl ConnectionTrait,
    id: ReservationId,
    now_ms: i64,
    actor: &str,
) -> InventoryResult<Option<Reservation>> {
    let now = Utc::now();
    let held = ReservationState::Held.as_str();
    let committed = ReservationState::Committed.as_str();
    let reservation: Value = id.as_uuid().into();
    let (sql, values): (&str, Vec<Value>) = if db.get_database_backend() == DbBackend::Postgres {
        (
            "WITH moved AS (UPDATE reservations SET state = ?, updated_at = ? \
               WHERE id = ? AND state = ? AND expires_at_ms > ? RETURNING id, order_id, state, expires_at_ms), \
             sold AS (SELECT reservation_lines.book_id, reservation_lines.quantity FROM reservation_lines \
               JOIN moved ON reservation_lines.reservation_id = moved.id), \
             ledger_rows AS (INSERT INTO ledger (book_id, delta_on_hand, delta_reserved, reason, reservation_id, actor, created_at) \
               SELECT book_id, -quantity, -quantity, 'commit', ?, ?, ? FROM sold), \
             stock_rows AS (UPDATE stock SET on_hand = stock.on_hand - sold.quantity, \
               reserved = stock.reserved - sold.quantity, version = stock.version + 1, updated_at = ? \
               FROM sold WHERE stock.book_id = sold.book_id) \
             SELECT moved.id, moved.order_id, moved.state, moved.expires_at_ms, sold.book_id, sold.quantity \
             FROM moved JOIN sold ON true ORDER BY sold.book_id",
            vec![
                committed.into(),
                now.into(),
                reservation.clone(),
                held.into(),
                now_ms.into(),
                reservation,
                actor.into(),
                now.into(),
                now.into(),
            ],
        )
    } else {
        // The state moves last and every statement before it is guarded by the same
        // condition, so all of them write or none (one writer at a time on SQLite).
        (
            "UPDATE stock SET on_hand = on_hand - sold.quantity, reserved = reserved - sold.quantity, \
               version = version + 1, updated_at = ? \
               FROM (SELECT reservation_lines.book_id, reservation_lines.quantity FROM reservation_lines \
                 JOIN reservations ON reservations.id = reservation_lines.reservation_id \
                 WHERE reservations.id = ? AND reservations.state = ? AND reservations.expires_at_ms > ?) AS sold \
               WHERE stock.book_id = sold.book_id; \
             INSERT INTO ledger (book_id, delta_on_hand, delta_reserved, reason, reservation_id, actor, created_at) \
               SELECT reservation_lines.book_id, -reservation_lines.quantity, -reservation_lines.quantity, 'commit', ?, ?, ? \
               FROM reservation_lines JOIN reservations ON reservations.id = reservation_lines.reservation_id \
               WHERE reservations.id = ? AND reservations.state = ? AND reservations.expires_at_ms > ?; \
             UPDATE reservations SET state = ?, updated_at = ? WHERE id = ? AND state = ? AND expires_at_ms > ? \
               RETURNING id, order_id, state, expires_at_ms; \
             SELECT book_id, quantity FROM reservation_lines WHERE reservation_id = ? ORDER BY book_id",
            vec![
                now.into(),
                reservation.clone(),
                held.into(),
                now_ms.into(),
                reservation.clone(),
                actor.into(),
                now.into(),
                reservation.clone(),
                held.into(),
                now_ms.into(),
                committed.into(),
                now.into(),
                reservation.clone(),
                held.into(),
                now_ms.into(),
                reservation,
            ],
        )
    };
    let rows = query(db, "reservation", sql, values).await?;
    // PostgreSQL: one row per line, each with the reservation's columns. SQLite: the
    // reservation's row (when it moved), then one row per line.
    let Some(moved) = rows.iter().find(|row| column::<Uuid>(row, "order_id").is_ok()) else {
        return Ok(None);
    };
    let mut lines = Vec::new();
    for row in &rows {
        if let Ok(book) = column::<Uuid>(row, "book_id") {
            lines.push(ReserveLine {
                book_id: book.into(),
                quantity: i64::from(column::<i32>(row, "quantity")?),
            });
        }
    }
    let id: Uuid = column(moved, "id")?;
    let stored: String = column(moved, "state")?;
    let state = ReservationState::from_stored(&stored)
        .ok_or_else(|| anyhow::anyhow!("reservation {id} has an unknown stored state {stored:?}"))?;
    Ok(Some(Reservation {
        id: id.into(),
        order_id: column::<Uuid>(moved, "order_id")?.into(),
        state,
        expires_at_ms: column(moved, "expires_at_ms")?,
        lines,
    }))
}
