//! The `orders` table with its lines and history. An order is inserted once per
//! (user, idempotency key), guarded by a unique index; afterwards it only moves through
//! [`apply`], a conditional update on its current step that writes a history event in the
//! same transaction whenever the status changes.

use platform::store::{column, execute, placeholders, query};
use sea_orm::{ConnectionTrait, DatabaseConnection, Value};
use uuid::Uuid;

use super::now_ms;
use crate::domain::{OrderStatus, SagaStep};
use crate::error::{OrderError, OrderResult};

/// One line, priced and titled at checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub book_id: Uuid,
    pub title: String,
    pub unit_price_minor: i64,
    pub quantity: i32,
}

/// An order about to be written.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub id: Uuid,
    pub user_id: Uuid,
    pub idempotency_key: String,
    pub currency: String,
    /// JSON copy of the shipping address.
    pub shipping_address: String,
    pub payment_method: &'static str,
    pub payment_brand: &'static str,
    pub payment_last4: String,
    pub lines: Vec<OrderLine>,
    /// The request that writes the order drives it until then.
    pub lease_until_ms: i64,
}

impl NewOrder {
    /// Sum of unit price times quantity.
    pub fn total_minor(&self) -> i64 {
        self.lines
            .iter()
            .map(|line| line.unit_price_minor * i64::from(line.quantity))
            .sum()
    }
}

/// An order as stored (without lines and history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub status: OrderStatus,
    pub step: SagaStep,
    pub total_minor: i64,
    pub currency: String,
    pub shipping_address: String,
    pub payment_method: String,
    pub payment_brand: String,
    pub payment_last4: String,
    pub payment_status: String,
    pub authorization_id: Option<String>,
    pub reservation_id: Option<Uuid>,
    pub failure_reason: String,
    pub short_book_ids: Vec<String>,
    pub version: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// One entry of an order's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEvent {
    pub status: OrderStatus,
    pub note: String,
    pub at_ms: i64,
}

const COLUMNS: &str = "id, user_id, status, step, total_minor, currency, shipping_address, payment_method, \
    payment_brand, payment_last4, payment_status, authorization_id, reservation_id, failure_reason, \
    short_book_ids, version, created_at_ms, updated_at_ms";

fn read(row: &sea_orm::QueryResult) -> OrderResult<OrderRow> {
    let status: String = column(row, "status")?;
    let step: String = column(row, "step")?;
    let short: String = column(row, "short_book_ids")?;
    Ok(OrderRow {
        id: column(row, "id")?,
        user_id: column(row, "user_id")?,
        status: OrderStatus::parse(&status)
            .ok_or_else(|| OrderError::Internal(anyhow::anyhow!("unknown stored status {status:?}")))?,
        step: SagaStep::parse(&step)
            .ok_or_else(|| OrderError::Internal(anyhow::anyhow!("unknown stored step {step:?}")))?,
        total_minor: column(row, "total_minor")?,
        currency: column(row, "currency")?,
        shipping_address: column(row, "shipping_address")?,
        payment_method: column(row, "payment_method")?,
        payment_brand: column(row, "payment_brand")?,
        payment_last4: column(row, "payment_last4")?,
        payment_status: column(row, "payment_status")?,
        authorization_id: column(row, "authorization_id")?,
        reservation_id: column(row, "reservation_id")?,
        failure_reason: column(row, "failure_reason")?,
        short_book_ids: short
            .split(',')
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect(),
        version: column(row, "version")?,
        created_at_ms: column(row, "created_at_ms")?,
        updated_at_ms: column(row, "updated_at_ms")?,
    })
}

/// Writes a PENDING order with its lines and first event, in one transaction; false (and
/// nothing written) when the user already has an order under this key.
pub async fn insert(db: &DatabaseConnection, order: &NewOrder) -> OrderResult<bool> {
    let transaction = platform::store::begin(db, "order").await?;
    let now = now_ms();
    let inserted = execute(
        &transaction,
        "order",
        &format!(
            "INSERT INTO orders (id, user_id, idempotency_key, status, step, total_minor, currency, \
             shipping_address, payment_method, payment_brand, payment_last4, payment_status, failure_reason, \
             short_book_ids, version, lease_until_ms, created_at_ms, updated_at_ms) \
             VALUES ({}) ON CONFLICT (user_id, idempotency_key) DO NOTHING",
            placeholders(18)
        ),
        [
            order.id.into(),
            order.user_id.into(),
            order.idempotency_key.clone().into(),
            OrderStatus::Pending.as_str().into(),
            SagaStep::Created.as_str().into(),
            order.total_minor().into(),
            order.currency.clone().into(),
            order.shipping_address.clone().into(),
            order.payment_method.into(),
            order.payment_brand.into(),
            order.payment_last4.clone().into(),
            "".into(),
            "".into(),
            "".into(),
            1_i64.into(),
            order.lease_until_ms.into(),
            now.into(),
            now.into(),
        ],
    )
    .await?;
    if inserted == 0 {
        platform::store::Classify::classify(transaction.rollback().await, "order")?;
        return Ok(false);
    }
    for (position, line) in order.lines.iter().enumerate() {
        execute(
            &transaction,
            "order line",
            "INSERT INTO order_lines (order_id, position, book_id, title, unit_price_minor, quantity) \
             VALUES (?, ?, ?, ?, ?, ?)",
            [
                order.id.into(),
                i32::try_from(position).unwrap_or(i32::MAX).into(),
                line.book_id.into(),
                line.title.clone().into(),
                line.unit_price_minor.into(),
                line.quantity.into(),
            ],
        )
        .await?;
    }
    insert_event(
        &transaction,
        order.id,
        OrderStatus::Pending,
        "checkout started",
        now,
    )
    .await?;
    platform::store::commit(transaction, "order").await?;
    Ok(true)
}

async fn insert_event(
    db: &impl ConnectionTrait,
    order: Uuid,
    status: OrderStatus,
    note: &str,
    at_ms: i64,
) -> OrderResult<()> {
    execute(
        db,
        "order event",
        "INSERT INTO order_events (order_id, status, note, at_ms) VALUES (?, ?, ?, ?)",
        [order.into(), status.as_str().into(), note.into(), at_ms.into()],
    )
    .await?;
    Ok(())
}

/// Reads an order.
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> OrderResult<Option<OrderRow>> {
    let rows = query(
        db,
        "order",
        &format!("SELECT {COLUMNS} FROM orders WHERE id = ?"),
        [id.into()],
    )
    .await?;
    rows.first().map(read).transpose()
}

/// Reads the order a user placed under `key`.
pub async fn find_by_key(db: &impl ConnectionTrait, user: Uuid, key: &str) -> OrderResult<Option<OrderRow>> {
    let rows = query(
        db,
        "order",
        &format!("SELECT {COLUMNS} FROM orders WHERE user_id = ? AND idempotency_key = ?"),
        [user.into(), key.into()],
    )
    .await?;
    rows.first().map(read).transpose()
}

/// Where a listing page starts: after this (created_at_ms, id).
pub type ListCursor = (i64, Uuid);

/// A user's orders, newest first, `limit` of them after `after`; plus how many they have.
pub async fn list(
    db: &impl ConnectionTrait,
    user: Uuid,
    after: Option<ListCursor>,
    limit: u64,
) -> OrderResult<(Vec<OrderRow>, i64)> {
    let mut values: Vec<Value> = vec![user.into()];
    let mut filter = String::new();
    if let Some((created_at_ms, id)) = after {
        filter.push_str(" AND (created_at_ms < ? OR (created_at_ms = ? AND id < ?))");
        values.extend([created_at_ms.into(), created_at_ms.into(), id.into()]);
    }
    values.push(i64::try_from(limit).unwrap_or(i64::MAX).into());
    let rows = query(
        db,
        "order",
        &format!(
            "SELECT {COLUMNS} FROM orders WHERE user_id = ?{filter} \
             ORDER BY created_at_ms DESC, id DESC LIMIT ?"
        ),
        values,
    )
    .await?;
    let orders = rows.iter().map(read).collect::<OrderResult<Vec<_>>>()?;
    let count = query(
        db,
        "order",
        "SELECT COUNT(*) AS total FROM orders WHERE user_id = ?",
        [user.into()],
    )
    .await?;
    let total = match count.first() {
        Some(row) => column::<i64>(row, "total")?,
        None => 0,
    };
    Ok((orders, total))
}

/// The lines of each order in `ids`, in checkout order.
pub async fn lines(db: &impl ConnectionTrait, ids: &[Uuid]) -> OrderResult<Vec<(Uuid, OrderLine)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = query(
        db,
        "order line",
        &format!(
            "SELECT order_id, book_id, title, unit_price_minor, quantity FROM order_lines \
             WHERE order_id IN ({}) ORDER BY order_id, position",
            placeholders(ids.len())
        ),
        ids.iter().map(|id| Value::from(*id)),
    )
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                column(row, "order_id")?,
                OrderLine {
                    book_id: column(row, "book_id")?,
                    title: column(row, "title")?,
                    unit_price_minor: column(row, "unit_price_minor")?,
                    quantity: column(row, "quantity")?,
                },
            ))
        })
        .collect()
}

/// The history of each order in `ids`, oldest first.
pub async fn events(db: &impl ConnectionTrait, ids: &[Uuid]) -> OrderResult<Vec<(Uuid, OrderEvent)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = query(
        db,
        "order event",
        &format!(
            "SELECT order_id, status, note, at_ms FROM order_events WHERE order_id IN ({}) ORDER BY id",
            placeholders(ids.len())
        ),
        ids.iter().map(|id| Value::from(*id)),
    )
    .await?;
    rows.iter()
        .map(|row| {
            let status: String = column(row, "status")?;
            Ok((
                column(row, "order_id")?,
                OrderEvent {
                    status: OrderStatus::parse(&status).ok_or_else(|| {
                        OrderError::Internal(anyhow::anyhow!("unknown stored status {status:?}"))
                    })?,
                    note: column(row, "note")?,
                    at_ms: column(row, "at_ms")?,
                },
            ))
        })
        .collect()
}

/// One move of an order: taken only when the order is still where the mover saw it.
#[derive(Debug, Clone, Default)]
pub struct Transition {
    /// Required current steps (any of them); empty means any step.
    pub from_steps: Vec<SagaStep>,
    /// Required current statuses (any of them); empty means any status.
    pub from_statuses: Vec<OrderStatus>,
    pub step: Option<SagaStep>,
    /// The new status and the note for its history event.
    pub status: Option<(OrderStatus, String)>,
    pub payment_status: Option<&'static str>,
    pub authorization_id: Option<String>,
    pub reservation_id: Option<Uuid>,
    /// GraphQL code of the failure, and the short books when it is OUT_OF_STOCK.
    pub failure: Option<(&'static str, Vec<String>)>,
    pub lease_until_ms: Option<i64>,
}

/// Applies `change` to order `id` if it still matches; false when someone else moved it
/// first (the caller reads the order again and goes on from there).
pub async fn apply(db: &DatabaseConnection, id: Uuid, change: &Transition) -> OrderResult<bool> {
    let now = now_ms();
    let mut sets = vec!["version = version + 1".to_owned(), "updated_at_ms = ?".to_owned()];
    let mut values: Vec<Value> = vec![now.into()];
    let mut set = |name: &str, value: Value| {
        sets.push(format!("{name} = ?"));
        values.push(value);
    };
    if let Some(step) = change.step {
        set("step", step.as_str().into());
    }
    if let Some((status, _)) = &change.status {
        set("status", status.as_str().into());
    }
    if let Some(payment_status) = change.payment_status {
        set("payment_status", payment_status.into());
    }
    if let Some(authorization) = &change.authorization_id {
        set("authorization_id", authorization.clone().into());
    }
    if let Some(reservation) = change.reservation_id {
        set("reservation_id", reservation.into());
    }
    if let Some((reason, short)) = &change.failure {
        set("failure_reason", (*reason).into());
        set("short_book_ids", short.join(",").into());
    }
    if let Some(lease) = change.lease_until_ms {
        set("lease_until_ms", lease.into());
    }
    let mut conditions = vec!["id = ?".to_owned()];
    values.push(id.into());
    if !change.from_steps.is_empty() {
        conditions.push(format!("step IN ({})", placeholders(change.from_steps.len())));
        values.extend(change.from_steps.iter().map(|step| Value::from(step.as_str())));
    }
    if !change.from_statuses.is_empty() {
        conditions.push(format!(
            "status IN ({})",
            placeholders(change.from_statuses.len())
        ));
        values.extend(
            change
                .from_statuses
                .iter()
                .map(|status| Value::from(status.as_str())),
        );
    }
    let sql = format!(
        "UPDATE orders SET {} WHERE {}",
        sets.join(", "),
        conditions.join(" AND ")
    );
    let transaction = platform::store::begin(db, "order").await?;
    let changed = execute(&transaction, "order", &sql, values).await?;
    if changed == 1
        && let Some((status, note)) = &change.status
    {
        insert_event(&transaction, id, *status, note, now).await?;
    }
    platform::store::commit(transaction, "order").await?;
    Ok(changed == 1)
}

/// Orders with saga work left whose lease has run out, oldest lease first.
pub async fn stalled(db: &impl ConnectionTrait, now_ms: i64, limit: u64) -> OrderResult<Vec<Uuid>> {
    let mut values: Vec<Value> = SagaStep::UNFINISHED
        .iter()
        .map(|step| Value::from(step.as_str()))
        .collect();
    values.push(now_ms.into());
    values.push(i64::try_from(limit).unwrap_or(i64::MAX).into());
    let rows = query(
        db,
        "order",
        &format!(
            "SELECT id FROM orders WHERE step IN ({}) AND lease_until_ms < ? ORDER BY lease_until_ms LIMIT ?",
            placeholders(SagaStep::UNFINISHED.len())
        ),
        values,
    )
    .await?;
    rows.iter().map(|row| Ok(column(row, "id")?)).collect()
}

/// Takes the lease of a stalled order until `until_ms`; false when another replica (or the
/// request itself) holds it. The conditional update is the lock: no replica waits on another.
pub async fn claim(db: &impl ConnectionTrait, id: Uuid, now_ms: i64, until_ms: i64) -> OrderResult<bool> {
    let changed = execute(
        db,
        "order",
        "UPDATE orders SET lease_until_ms = ? WHERE id = ? AND lease_until_ms < ?",
        [until_ms.into(), id.into(), now_ms.into()],
    )
    .await?;
    Ok(changed == 1)
}
