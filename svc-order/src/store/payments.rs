//! The `payments` table: every call made to the payment provider and what it answered, so
//! an operator can reconcile the order with the processor's records.

use proto::types::OrderId;
use sea_orm::ConnectionTrait;

use platform::store::{column, execute, query};

use super::now_ms;
use crate::error::OrderResult;

/// One provider call as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentCall {
    pub operation: String,
    pub idempotency_key: String,
    pub amount_minor: i64,
    pub currency: String,
    /// `approved`, `declined` or `error`.
    pub outcome: String,
    pub detail: String,
}

/// Records a provider call.
pub async fn record(db: &impl ConnectionTrait, order: OrderId, call: &PaymentCall) -> OrderResult<()> {
    execute(
        db,
        "payment",
        "INSERT INTO payments (order_id, operation, idempotency_key, amount_minor, currency, outcome, detail, at_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            order.as_uuid().into(),
            call.operation.clone().into(),
            call.idempotency_key.clone().into(),
            call.amount_minor.into(),
            call.currency.clone().into(),
            call.outcome.clone().into(),
            call.detail.clone().into(),
            now_ms().into(),
        ],
    )
    .await?;
    Ok(())
}

/// Every call recorded for an order, oldest first.
pub async fn calls(db: &impl ConnectionTrait, order: OrderId) -> OrderResult<Vec<PaymentCall>> {
    let rows = query(
        db,
        "payment",
        "SELECT operation, idempotency_key, amount_minor, currency, outcome, detail FROM payments \
         WHERE order_id = ? ORDER BY id",
        [order.as_uuid().into()],
    )
    .await?;
    rows.iter()
        .map(|row| {
            Ok(PaymentCall {
                operation: column(row, "operation")?,
                idempotency_key: column(row, "idempotency_key")?,
                amount_minor: column(row, "amount_minor")?,
                currency: column(row, "currency")?,
                outcome: column(row, "outcome")?,
                detail: column(row, "detail")?,
            })
        })
        .collect()
}
