//! CancelOrder and UpdateOrderStatus. A cancellation moves the order to CANCELLED and the
//! saga to `compensating` in one conditional update, then gives back stock and money
//! through the same idempotent undo a failed checkout uses.

use platform::auth::Principal;
use proto::types::OrderId;

use super::Orders;
use crate::domain::order::OrderDetails;
use crate::domain::{OrderStatus, SagaStep};
use crate::error::{OrderError, OrderRefusal, OrderResult};
use crate::store::orders::{self, Transition};

fn note(text: &str, default: &str) -> String {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        default.to_owned()
    } else {
        trimmed.chars().take(500).collect()
    }
}

impl Orders {
    /// Cancels a PENDING or CONFIRMED order; a CANCELLED one is returned as it is.
    ///
    /// # Errors
    /// `NotFound` when the caller may not see it; `FailedPrecondition` once it shipped,
    /// was delivered or failed; `Unavailable` when the undo must wait for a dependency
    /// (the order is CANCELLED and the recovery loop finishes the undo).
    pub async fn cancel(
        &self,
        principal: &Principal,
        id: OrderId,
        reason: &str,
    ) -> OrderResult<OrderDetails> {
        let order = self.visible(principal, id).await?;
        if order.status == OrderStatus::Cancelled {
            return self.get(principal, id).await;
        }
        if !order.status.can_cancel() {
            return Err(OrderError::from(OrderRefusal::FailedPrecondition(format!(
                "a {} order cannot be cancelled",
                order.status.as_str()
            ))));
        }
        let change = Transition {
            from_statuses: vec![order.status],
            from_steps: vec![order.step],
            status: Some((OrderStatus::Cancelled, note(reason, "cancelled"))),
            step: Some(SagaStep::Compensating),
            ..Transition::default()
        };
        if orders::apply(&self.saga.db, id, &change).await?.is_none() {
            // It moved meanwhile (the saga advanced): decide again on what it is now.
            return Box::pin(self.cancel(principal, id, reason)).await;
        }
        self.saga.drive(id, None).await?;
        self.get(principal, id).await
    }

    /// Moves an order along fulfilment (admin); CANCELLED goes through [`Self::cancel`].
    ///
    /// # Errors
    /// `FailedPrecondition` for any move but CONFIRMED -> SHIPPED -> DELIVERED.
    pub async fn update_status(
        &self,
        principal: &Principal,
        id: OrderId,
        next: OrderStatus,
        note_text: &str,
    ) -> OrderResult<OrderDetails> {
        if next == OrderStatus::Cancelled {
            return self.cancel(principal, id, note_text).await;
        }
        let order = self.visible(principal, id).await?;
        if order.status == next {
            return self.get(principal, id).await;
        }
        if !order.status.can_move_to(next) {
            return Err(OrderError::from(OrderRefusal::FailedPrecondition(format!(
                "an order cannot move from {} to {}",
                order.status.as_str(),
                next.as_str()
            ))));
        }
        let change = Transition {
            from_statuses: vec![order.status],
            status: Some((next, note(note_text, next.as_str()))),
            ..Transition::default()
        };
        if orders::apply(&self.saga.db, id, &change).await?.is_none() {
            return Err(OrderError::from(OrderRefusal::FailedPrecondition(
                "the order changed meanwhile; read it and try again".to_owned(),
            )));
        }
        self.get(principal, id).await
    }
}
