//! Giving back what a failed or cancelled order holds: the payment voided (or refunded once
//! captured) and the stock released (or restocked once committed). Each call is idempotent
//! and the order leaves `compensating` only after all of them answered.

use super::Saga;
use crate::domain::SagaStep;
use crate::domain::order::Order as OrderRow;
use crate::error::{OrderError, OrderRefusal, OrderResult};
use crate::payments::Voided;
use crate::store::orders::{self, Transition};
use crate::upstream::Settled;

impl Saga {
    /// Undoes the order's payment and stock, then marks the saga done.
    ///
    /// # Errors
    /// `Unavailable` when inventory or the provider does not answer; the order stays
    /// `compensating` and the recovery loop tries again.
    pub(crate) async fn compensate(&self, order: &OrderRow) -> OrderResult<()> {
        let payment_status = self.undo(order).await?;
        let change = Transition {
            from_steps: vec![SagaStep::Compensating],
            step: Some(SagaStep::Done),
            payment_status,
            ..Transition::default()
        };
        orders::apply(&self.db, order.id, &change).await?;
        Ok(())
    }

    /// Voids or refunds, releases or restocks; returns the payment status it left.
    pub(crate) async fn undo(&self, order: &OrderRow) -> OrderResult<Option<&'static str>> {
        let amount = order.total;
        let voided = self
            .payments
            .void(order.id, amount)
            .await?
            .map_err(|error| OrderError::from(OrderRefusal::Unavailable(error.to_string())))?;
        let payment_status = match voided {
            Voided::Voided => Some("voided"),
            Voided::NothingAuthorized => None,
            Voided::AlreadyCaptured => {
                self.payments
                    .refund(order.id, amount)
                    .await?
                    .map_err(|error| OrderError::from(OrderRefusal::Unavailable(error.to_string())))?;
                Some("refunded")
            }
        };
        let reason = if order.status == crate::domain::OrderStatus::Cancelled {
            "order_cancelled"
        } else {
            "order_failed"
        };
        if self.upstreams.release(order.id, reason).await? == Settled::WrongState {
            // Committed: the books were sold, so they come back as a restock per line.
            for (_, line) in orders::lines(&self.db, std::slice::from_ref(order)).await? {
                self.upstreams
                    .restock(order.id, line.book_id, line.quantity)
                    .await?;
            }
        }
        Ok(payment_status)
    }
}
