//! The `reservations` table (one row per order: a reservation or a tombstone) and its lines.
//! State changes are conditional on the current state, so of two racing callers (two
//! replicas, a retry and a sweeper) exactly one makes each change.

use chrono::Utc;
use proto::types::{OrderId, ReservationId};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::domain::{Reservation, ReservationState, ReserveLine};
use crate::error::InventoryResult;
use platform::store::{column, execute, query};

/// Records that `order` was released before it was ever reserved, so a late Reserve for it
/// is refused; false when the order already has a row.
pub async fn insert_tombstone(db: &impl ConnectionTrait, order: OrderId) -> InventoryResult<bool> {
    insert(
        db,
        ReservationId::generate(),
        order,
        ReservationState::Released,
        0,
    )
    .await
}

async fn insert(
    db: &impl ConnectionTrait,
    id: ReservationId,
    order: OrderId,
    state: ReservationState,
    expires_at_ms: i64,
) -> InventoryResult<bool> {
    let now = Utc::now();
    let inserted = execute(
        db,
        "reservation",
        "INSERT INTO reservations (id, order_id, state, expires_at_ms, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING",
        [
            id.as_uuid().into(),
            order.as_uuid().into(),
            state.as_str().into(),
            expires_at_ms.into(),
            now.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(inserted == 1)
}

/// Moves a reservation from `from` to `to` and returns it as it now is; `None` when it was
/// not in `from` (or, with `unexpired_at_ms`, already past its expiry). The UPDATE returns
/// the row, so a transition costs one statement plus the read of its lines.
pub async fn transition(
    db: &impl ConnectionTrait,
    id: ReservationId,
    from: ReservationState,
    to: ReservationState,
    unexpired_at_ms: Option<i64>,
) -> InventoryResult<Option<Reservation>> {
    let mut sql = "UPDATE reservations SET state = ?, updated_at = ? WHERE id = ? AND state = ?".to_owned();
    let mut values: Vec<sea_orm::Value> = vec![
        to.as_str().into(),
        Utc::now().into(),
        id.as_uuid().into(),
        from.as_str().into(),
    ];
    if let Some(now) = unexpired_at_ms {
        sql.push_str(" AND expires_at_ms > ?");
        values.push(now.into());
    }
    sql.push_str(" RETURNING id, order_id, state, expires_at_ms");
    let rows = query(db, "reservation", &sql, values).await?;
    match rows.first() {
        Some(row) => with_lines(db, row).await.map(Some),
        None => Ok(None),
    }
}

/// Finds a reservation by id.
pub async fn find(db: &impl ConnectionTrait, id: ReservationId) -> InventoryResult<Option<Reservation>> {
    find_where(db, "id", id.as_uuid()).await
}

/// Finds the reservation (or tombstone) of an order.
pub async fn find_by_order(
    db: &impl ConnectionTrait,
    order: OrderId,
) -> InventoryResult<Option<Reservation>> {
    find_where(db, "order_id", order.as_uuid()).await
}

async fn find_where(
    db: &impl ConnectionTrait,
    key: &str,
    value: Uuid,
) -> InventoryResult<Option<Reservation>> {
    let sql = format!("SELECT id, order_id, state, expires_at_ms FROM reservations WHERE {key} = ?");
    let rows = query(db, "reservation", &sql, [value.into()]).await?;
    match rows.first() {
        Some(row) => with_lines(db, row).await.map(Some),
        None => Ok(None),
    }
}

/// Completes a `reservations` row (id, order_id, state, expires_at_ms) with its lines.
async fn with_lines(db: &impl ConnectionTrait, row: &sea_orm::QueryResult) -> InventoryResult<Reservation> {
    let id: Uuid = column(row, "id")?;
    let stored: String = column(row, "state")?;
    // An unknown state is a broken row, never "released": it may still hold stock.
    let state = ReservationState::from_stored(&stored)
        .ok_or_else(|| anyhow::anyhow!("reservation {id} has an unknown stored state {stored:?}"))?;
    let line_rows = query(
        db,
        "reservation line",
        "SELECT book_id, quantity FROM reservation_lines WHERE reservation_id = ? ORDER BY book_id",
        [id.into()],
    )
    .await?;
    let mut lines = Vec::new();
    for line in line_rows {
        lines.push(ReserveLine {
            book_id: column::<Uuid>(&line, "book_id")?.into(),
            quantity: i64::from(column::<i32>(&line, "quantity")?),
        });
    }
    Ok(Reservation {
        id: id.into(),
        order_id: column::<Uuid>(row, "order_id")?.into(),
        state,
        expires_at_ms: column(row, "expires_at_ms")?,
        lines,
    })
}

/// Returns HELD reservations whose expiry has passed, oldest first.
pub async fn expired_held(
    db: &impl ConnectionTrait,
    now_ms: i64,
    limit: u64,
) -> InventoryResult<Vec<ReservationId>> {
    let rows = query(
        db,
        "reservation",
        "SELECT id FROM reservations WHERE state = ? AND expires_at_ms <= ? ORDER BY expires_at_ms LIMIT ?",
        [
            ReservationState::Held.as_str().into(),
            now_ms.into(),
            i64::try_from(limit).unwrap_or(100).into(),
        ],
    )
    .await?;
    let mut ids = Vec::new();
    for row in rows {
        ids.push(column::<Uuid>(&row, "id")?.into());
    }
    Ok(ids)
}

/// How many reservations are HELD, and how many of those expired at or before
/// `overdue_at_ms` (the sweeper should have released them): the metrics' gauges.
pub async fn held_counts(db: &impl ConnectionTrait, overdue_at_ms: i64) -> InventoryResult<(i64, i64)> {
    let rows = query(
        db,
        "reservation",
        "SELECT COUNT(*) AS held, \
         COALESCE(SUM(CASE WHEN expires_at_ms <= ? THEN 1 ELSE 0 END), 0) AS overdue \
         FROM reservations WHERE state = ?",
        [overdue_at_ms.into(), ReservationState::Held.as_str().into()],
    )
    .await?;
    let Some(row) = rows.first() else {
        return Ok((0, 0));
    };
    Ok((column::<i64>(row, "held")?, column::<i64>(row, "overdue")?))
}
