//! The `orders` table with its lines and history. An order is inserted once per
//! (user, idempotency key), guarded by a unique index; afterwards it only moves through
//! [`apply`], a conditional update on its current step that returns the order as it left it
//! and writes a history event with it whenever the status changes. Each write is one
//! statement on PostgreSQL (data-modifying CTEs) and one batch on SQLite, so a checkout
//! costs few round trips (the README, "Statements per checkout").

use platform::ErrorCode;
use platform::store::{column, execute, placeholders, query};
use proto::types::{BookId, Currency, Money, OrderId, ReservationId, UserId};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Value};
use uuid::Uuid;

use super::now_ms;
use crate::domain::order::{Order, OrderEvent, OrderLine, PaymentKind, ShippingAddress};
use crate::domain::{OrderStatus, SagaStep};
use crate::error::{OrderError, OrderResult};

/// A stored value that breaks what every write guarantees: internal, naming the order.
fn broken(order: Uuid, what: &str, value: &dyn std::fmt::Debug) -> OrderError {
    OrderError::Internal(anyhow::anyhow!(
        "order {order} has an unknown stored {what} {value:?}"
    ))
}

/// An order about to be written.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub id: OrderId,
    pub user_id: UserId,
    pub idempotency_key: String,
    pub total: Money,
    pub shipping_address: ShippingAddress,
    pub payment_method: PaymentKind,
    pub payment_brand: &'static str,
    pub payment_last4: String,
    pub lines: Vec<OrderLine>,
    /// The request that writes the order drives it until then.
    pub lease_until_ms: i64,
}

const COLUMNS: &str = "id, user_id, status, step, total_minor, currency, shipping_address, payment_method, \
    payment_brand, payment_last4, payment_status, authorization_id, reservation_id, failure_reason, \
    short_book_ids, version, created_at_ms, updated_at_ms";

fn read(row: &sea_orm::QueryResult) -> OrderResult<Order> {
    let id: Uuid = column(row, "id")?;
    let status: String = column(row, "status")?;
    let step: String = column(row, "step")?;
    let currency: String = column(row, "currency")?;
    let address: String = column(row, "shipping_address")?;
    let method: String = column(row, "payment_method")?;
    let short: String = column(row, "short_book_ids")?;
    let currency: Currency = currency.parse().map_err(|_| broken(id, "currency", &currency))?;
    let total_minor: i64 = column(row, "total_minor")?;
    let mut short_book_ids = Vec::new();
    for book in short.split(',').filter(|book| !book.is_empty()) {
        short_book_ids
            .push(BookId::parse("short_book_ids", book).map_err(|_| broken(id, "short book", &book))?);
    }
    Ok(Order {
        id: id.into(),
        user_id: column::<Uuid>(row, "user_id")?.into(),
        status: OrderStatus::parse(&status).ok_or_else(|| broken(id, "status", &status))?,
        step: SagaStep::parse(&step).ok_or_else(|| broken(id, "step", &step))?,
        total: Money::new("total", total_minor, currency).map_err(|_| broken(id, "total", &total_minor))?,
        shipping_address: serde_json::from_str(&address)
            .map_err(|_| broken(id, "shipping address", &address))?,
        payment_method: PaymentKind::from_stored(&method)
            .ok_or_else(|| broken(id, "payment method", &method))?,
        payment_brand: column(row, "payment_brand")?,
        payment_last4: column(row, "payment_last4")?,
        payment_status: column(row, "payment_status")?,
        authorization_id: column(row, "authorization_id")?,
        reservation_id: column::<Option<Uuid>>(row, "reservation_id")?.map(Into::into),
        failure_reason: column(row, "failure_reason")?,
        short_book_ids,
        version: column(row, "version")?,
        created_at_ms: column(row, "created_at_ms")?,
        updated_at_ms: column(row, "updated_at_ms")?,
    })
}

/// Writes a PENDING order with its lines and first event, all or nothing, and returns it;
/// `None` (and nothing written) when the user already has an order under this key. One
/// statement on PostgreSQL (data-modifying CTEs); one batch in a transaction on SQLite,
/// where the lines and the event are written only if the order was (its id is new).
pub async fn insert(db: &DatabaseConnection, order: &NewOrder) -> OrderResult<Option<Order>> {
    let now = now_ms();
    let mut values: Vec<Value> = vec![
        order.id.as_uuid().into(),
        order.user_id.as_uuid().into(),
        order.idempotency_key.clone().into(),
        OrderStatus::Pending.as_str().into(),
        SagaStep::Created.as_str().into(),
        order.total.minor().into(),
        order.total.currency().to_string().into(),
        serde_json::to_string(&order.shipping_address)
            .map_err(|error| OrderError::Internal(error.into()))?
            .into(),
        order.payment_method.as_str().into(),
        order.payment_brand.into(),
        order.payment_last4.clone().into(),
        "".into(),
        "".into(),
        "".into(),
        1_i64.into(),
        order.lease_until_ms.into(),
        now.into(),
        now.into(),
    ];
    let insert_order = format!(
        "INSERT INTO orders (id, user_id, idempotency_key, status, step, total_minor, currency, \
         shipping_address, payment_method, payment_brand, payment_last4, payment_status, failure_reason, \
         short_book_ids, version, lease_until_ms, created_at_ms, updated_at_ms) \
         VALUES ({}) ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING {COLUMNS}",
        placeholders(18)
    );
    let lines = vec!["(?, ?, ?, ?, ?)"; order.lines.len()].join(", ");
    let mut line_values: Vec<Value> = Vec::with_capacity(order.lines.len() * 5);
    for (position, line) in order.lines.iter().enumerate() {
        line_values.extend([
            // At most 100 lines (MAX_ORDER_LINES).
            i32::try_from(position).unwrap_or(i32::MAX).into(),
            line.book_id.as_uuid().into(),
            line.title.clone().into(),
            line.unit_price.minor().into(),
            line.quantity.into(),
        ]);
    }
    let event: [Value; 3] = [
        OrderStatus::Pending.as_str().into(),
        "checkout started".into(),
        now.into(),
    ];
    let id: Value = order.id.as_uuid().into();
    if db.get_database_backend() == DbBackend::Postgres {
        let sql = format!(
            "WITH placed AS ({insert_order}), \
             placed_lines AS (INSERT INTO order_lines (order_id, position, book_id, title, unit_price_minor, quantity) \
               SELECT placed.id, line.position, line.book_id, line.title, line.unit_price_minor, line.quantity \
               FROM placed, (VALUES {lines}) AS line (position, book_id, title, unit_price_minor, quantity)), \
             first_event AS (INSERT INTO order_events (order_id, status, note, at_ms) \
               SELECT placed.id, ?, ?, ? FROM placed) \
             SELECT {COLUMNS} FROM placed"
        );
        values.extend(line_values);
        values.extend(event);
        let rows = query(db, "order", &sql, values).await?;
        return rows.first().map(read).transpose();
    }
    let placed = "EXISTS (SELECT 1 FROM orders WHERE id = ?)";
    let sql = format!(
        "{insert_order}; \
         INSERT INTO order_lines (order_id, position, book_id, title, unit_price_minor, quantity) \
           SELECT ?, column1, column2, column3, column4, column5 FROM (VALUES {lines}) WHERE {placed}; \
         INSERT INTO order_events (order_id, status, note, at_ms) SELECT ?, ?, ?, ? WHERE {placed}"
    );
    values.push(id.clone());
    values.extend(line_values);
    values.extend([id.clone(), id.clone()]);
    values.extend(event);
    values.push(id);
    let transaction = platform::store::begin(db, "order").await?;
    let rows = query(&transaction, "order", &sql, values).await?;
    platform::store::commit(transaction, "order").await?;
    rows.first().map(read).transpose()
}

/// Reads an order.
pub async fn find(db: &impl ConnectionTrait, id: OrderId) -> OrderResult<Option<Order>> {
    let rows = query(
        db,
        "order",
        &format!("SELECT {COLUMNS} FROM orders WHERE id = ?"),
        [id.as_uuid().into()],
    )
    .await?;
    rows.first().map(read).transpose()
}

/// Reads the order a user placed under `key`.
pub async fn find_by_key(db: &impl ConnectionTrait, user: UserId, key: &str) -> OrderResult<Option<Order>> {
    let rows = query(
        db,
        "order",
        &format!("SELECT {COLUMNS} FROM orders WHERE user_id = ? AND idempotency_key = ?"),
        [user.as_uuid().into(), key.into()],
    )
    .await?;
    rows.first().map(read).transpose()
}

/// Where a listing page starts: after this (created_at_ms, id).
pub type ListCursor = (i64, OrderId);

/// A user's orders, newest first, `limit` of them after `after`; plus how many they have.
pub async fn list(
    db: &impl ConnectionTrait,
    user: UserId,
    after: Option<ListCursor>,
    limit: u64,
) -> OrderResult<(Vec<Order>, i64)> {
    let mut values: Vec<Value> = vec![user.as_uuid().into()];
    let mut filter = String::new();
    if let Some((created_at_ms, id)) = after {
        filter.push_str(" AND (created_at_ms < ? OR (created_at_ms = ? AND id < ?))");
        values.extend([created_at_ms.into(), created_at_ms.into(), id.as_uuid().into()]);
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
        [user.as_uuid().into()],
    )
    .await?;
    let total = match count.first() {
        Some(row) => column::<i64>(row, "total")?,
        None => 0,
    };
    Ok((orders, total))
}

/// The lines of each order in `ids`, in checkout order.
pub async fn lines(db: &impl ConnectionTrait, orders: &[Order]) -> OrderResult<Vec<(OrderId, OrderLine)>> {
    let ids: Vec<Uuid> = orders.iter().map(|order| order.id.as_uuid()).collect();
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
    let mut lines = Vec::new();
    for row in &rows {
        let order: OrderId = column::<Uuid>(row, "order_id")?.into();
        let currency = orders
            .iter()
            .find(|candidate| candidate.id == order)
            .map(|candidate| candidate.total.currency())
            .ok_or_else(|| OrderError::Internal(anyhow::anyhow!("a line of order {order} came unasked")))?;
        let unit_price_minor: i64 = column(row, "unit_price_minor")?;
        let unit_price = Money::new("unit_price", unit_price_minor, currency)
            .map_err(|_| broken(order.as_uuid(), "unit price", &unit_price_minor))?;
        lines.push((
            order,
            OrderLine {
                book_id: column::<Uuid>(row, "book_id")?.into(),
                title: column(row, "title")?,
                unit_price,
                quantity: column(row, "quantity")?,
            },
        ));
    }
    Ok(lines)
}

/// The history of each order in `ids`, oldest first.
pub async fn events(db: &impl ConnectionTrait, ids: &[OrderId]) -> OrderResult<Vec<(OrderId, OrderEvent)>> {
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
        ids.iter().map(|id| Value::from(id.as_uuid())),
    )
    .await?;
    rows.iter()
        .map(|row| {
            let status: String = column(row, "status")?;
            let order: Uuid = column(row, "order_id")?;
            Ok((
                order.into(),
                OrderEvent {
                    status: OrderStatus::parse(&status)
                        .ok_or_else(|| broken(order, "event status", &status))?,
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
    pub reservation_id: Option<ReservationId>,
    /// The code of the failure, and the short books when it is OUT_OF_STOCK.
    pub failure: Option<(ErrorCode, Vec<BookId>)>,
    pub lease_until_ms: Option<i64>,
}

/// Applies `change` to order `id` if it still matches and returns the order as it now is;
/// `None` when someone else moved it first (the caller reads the order again and goes on
/// from there). One statement (with the history event as a data-modifying CTE on
/// PostgreSQL); a status change on SQLite is one batch in a transaction.
pub async fn apply(db: &DatabaseConnection, id: OrderId, change: &Transition) -> OrderResult<Option<Order>> {
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
        set("reservation_id", reservation.as_uuid().into());
    }
    if let Some((code, short)) = &change.failure {
        set("failure_reason", code.graphql_code().into());
        let short: Vec<String> = short.iter().map(BookId::to_string).collect();
        set("short_book_ids", short.join(",").into());
    }
    if let Some(lease) = change.lease_until_ms {
        set("lease_until_ms", lease.into());
    }
    let mut conditions = vec!["id = ?".to_owned()];
    values.push(id.as_uuid().into());
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
    let update = format!(
        "UPDATE orders SET {} WHERE {} RETURNING {COLUMNS}",
        sets.join(", "),
        conditions.join(" AND ")
    );
    let Some((status, note)) = &change.status else {
        let rows = query(db, "order", &update, values).await?;
        return rows.first().map(read).transpose();
    };
    values.extend([
        Value::from(status.as_str()),
        Value::from(note.as_str()),
        now.into(),
    ]);
    if db.get_database_backend() == DbBackend::Postgres {
        let sql = format!(
            "WITH moved AS ({update}), \
             event AS (INSERT INTO order_events (order_id, status, note, at_ms) SELECT id, ?, ?, ? FROM moved) \
             SELECT {COLUMNS} FROM moved"
        );
        let rows = query(db, "order", &sql, values).await?;
        return rows.first().map(read).transpose();
    }
    // changes() is the count of the batch's UPDATE, the statement just before.
    let sql = format!(
        "{update}; INSERT INTO order_events (order_id, status, note, at_ms) SELECT ?, ?, ?, ? WHERE changes() = 1"
    );
    let at = values.len() - 3;
    values.insert(at, id.as_uuid().into());
    let transaction = platform::store::begin(db, "order").await?;
    let rows = query(&transaction, "order", &sql, values).await?;
    platform::store::commit(transaction, "order").await?;
    rows.first().map(read).transpose()
}

/// Orders with saga work left whose lease has run out, oldest lease first.
pub async fn stalled(db: &impl ConnectionTrait, now_ms: i64, limit: u64) -> OrderResult<Vec<OrderId>> {
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
    rows.iter()
        .map(|row| Ok(column::<Uuid>(row, "id")?.into()))
        .collect()
}

/// Takes the lease of a stalled order until `until_ms`; false when another replica (or the
/// request itself) holds it. The conditional update is the lock: no replica waits on another.
pub async fn claim(db: &impl ConnectionTrait, id: OrderId, now_ms: i64, until_ms: i64) -> OrderResult<bool> {
    let changed = execute(
        db,
        "order",
        "UPDATE orders SET lease_until_ms = ? WHERE id = ? AND lease_until_ms < ?",
        [until_ms.into(), id.as_uuid().into(), now_ms.into()],
    )
    .await?;
    Ok(changed == 1)
}
