//! One step at a time, from the stored step to the end. Each external call is idempotent
//! (Reserve per order, Commit and Release per reservation, the provider per key), and each
//! result is persisted with a conditional update on the step it started from; if that
//! update finds the order moved (a cancellation, another driver), the loop reads it again
//! and goes on from there.

use platform::ErrorCode;
use proto::types::{BookId, OrderId};

use super::Saga;
use crate::domain::order::Order as OrderRow;
use crate::domain::payment::PaymentMethod;
use crate::domain::{HaltPoint, OrderStatus, SagaStep};
use crate::error::{OrderError, OrderRefusal, OrderResult};
use crate::payments::{Authorization, ProviderError};
use crate::store::orders::{self, Transition};
use crate::upstream::{Reserved, Settled};

/// Why checkout failed: the code kept in `failure_reason`, and the error the first attempt
/// returns.
struct Failure {
    code: ErrorCode,
    short_book_ids: Vec<BookId>,
    note: String,
    payment_status: Option<&'static str>,
    error: OrderError,
}

impl Failure {
    fn unavailable(note: &str) -> Self {
        Failure {
            code: ErrorCode::Unavailable,
            short_book_ids: Vec::new(),
            note: note.to_owned(),
            payment_status: None,
            error: OrderError::from(OrderRefusal::Unavailable(format!(
                "{note}; retry with a new idempotency key"
            ))),
        }
    }
}

/// What one step did.
enum Next {
    /// Persisted; go on from the stored state: the order as the step left it, or `None` to
    /// read it again (someone else moved it).
    Continue(Option<OrderRow>),
    /// The order ended; return it (or this error, for the request that placed it), read
    /// again unless the step returned it.
    Stop(Option<OrderError>, Option<OrderRow>),
}

impl Saga {
    /// Drives order `id` as far as it goes. `payment` is the customer's input, present only
    /// in the request that placed the order; without it (recovery) an order that was not
    /// yet authorized can only fail.
    ///
    /// # Errors
    /// The failure of this attempt, for the caller that placed the order; `Unavailable`
    /// when a dependency is down and the order waits for the recovery loop.
    pub async fn drive(&self, id: OrderId, payment: Option<&PaymentMethod>) -> OrderResult<OrderRow> {
        self.drive_from(id, None, None, payment).await
    }

    /// [`Saga::drive`] from `current`, the order as its writer just returned it, and its
    /// `lines` (book, quantity), when known: each step's write returns the order, so the
    /// loop reads it only after someone else moved it.
    pub(super) async fn drive_from(
        &self,
        id: OrderId,
        mut current: Option<OrderRow>,
        lines: Option<&[(BookId, i32)]>,
        payment: Option<&PaymentMethod>,
    ) -> OrderResult<OrderRow> {
        loop {
            let order = match current.take() {
                Some(order) => order,
                None => orders::find(&self.db, id)
                    .await?
                    .ok_or(OrderError::NotFound { entity: "order" })?,
            };
            let next = match order.step {
                SagaStep::Done => return Ok(order),
                SagaStep::Compensating => {
                    self.compensate(&order).await?;
                    continue;
                }
                _ if order.status != OrderStatus::Pending => {
                    return Err(OrderError::Internal(anyhow::anyhow!(
                        "order {id} is {:?} at step {:?}",
                        order.status,
                        order.step
                    )));
                }
                SagaStep::Created | SagaStep::Reserved if payment.is_none() => {
                    self.fail(
                        &order,
                        Failure::unavailable("checkout was interrupted before payment"),
                    )
                    .await?
                }
                SagaStep::Created => self.reserve(&order, lines).await?,
                SagaStep::Reserved => match payment {
                    Some(method) => self.authorize(&order, method).await?,
                    None => Next::Continue(None),
                },
                SagaStep::Authorized => self.commit(&order).await?,
                SagaStep::Committed => self.capture(&order).await?,
                SagaStep::Captured => self.confirm(&order).await?,
            };
            match next {
                Next::Continue(moved) => current = moved,
                Next::Stop(Some(error), _) => return Err(error),
                Next::Stop(None, Some(order)) => return Ok(order),
                Next::Stop(None, None) => {
                    return orders::find(&self.db, id)
                        .await?
                        .ok_or(OrderError::NotFound { entity: "order" });
                }
            }
        }
    }

    /// Persists a step; when the order moved meanwhile, undoes what this driver just did
    /// outside (if the order is no longer going anywhere) and lets the loop re-read it.
    async fn advance(&self, order: &OrderRow, change: Transition, halt_after: SagaStep) -> OrderResult<Next> {
        // Each step renews the lease, so recovery never takes over a checkout that moves.
        let change = Transition {
            from_steps: vec![order.step],
            from_statuses: vec![OrderStatus::Pending],
            lease_until_ms: Some(crate::store::now_ms() + self.lease_ms()),
            ..change
        };
        if let Some(moved) = orders::apply(&self.db, order.id, &change).await? {
            if matches!(change.status, Some((OrderStatus::Confirmed, _))) {
                crate::metrics::checkout_ended("confirmed");
            }
            self.halt.check(HaltPoint::Step(halt_after)).await?;
            return Ok(Next::Continue(Some(moved)));
        }
        if let Some(now) = orders::find(&self.db, order.id).await?
            && matches!(now.status, OrderStatus::Cancelled | OrderStatus::Failed)
            && now.step == SagaStep::Done
        {
            // A cancellation (or another driver's failure) finished while this driver was
            // calling out: undo once more. An order another driver CONFIRMED is left alone:
            // this driver's calls used the same idempotency keys, so there is nothing of its
            // own to give back (undoing refunded a confirmed order's payment, found by the
            // Redis chaos run where a stalled driver lost its lease to recovery).
            self.undo(&now).await?;
        }
        Ok(Next::Continue(None))
    }

    async fn reserve(&self, order: &OrderRow, known: Option<&[(BookId, i32)]>) -> OrderResult<Next> {
        let read;
        let lines = match known {
            Some(lines) => lines,
            None => {
                read = orders::lines(&self.db, std::slice::from_ref(order))
                    .await?
                    .into_iter()
                    .map(|(_, line)| (line.book_id, line.quantity))
                    .collect::<Vec<_>>();
                &read
            }
        };
        let ttl = i32::try_from(self.settings.reservation_ttl.as_secs()).unwrap_or(i32::MAX);
        match self.upstreams.reserve(order.id, lines, ttl).await {
            Ok(Reserved::Held { reservation_id }) => {
                let change = Transition {
                    step: Some(SagaStep::Reserved),
                    reservation_id: Some(reservation_id),
                    ..Transition::default()
                };
                self.advance(order, change, SagaStep::Reserved).await
            }
            Ok(Reserved::Short { lines }) => {
                let short_book_ids = lines.iter().map(|line| line.book_id).collect();
                let failure = Failure {
                    code: ErrorCode::OutOfStock,
                    short_book_ids,
                    note: "out of stock".to_owned(),
                    payment_status: None,
                    error: OrderError::from(OrderRefusal::OutOfStock { lines }),
                };
                self.fail(order, failure).await
            }
            Ok(Reserved::Refused) => {
                self.fail(
                    order,
                    Failure::unavailable("the reservation was released before it was made"),
                )
                .await
            }
            Err(error) => {
                tracing::warn!(order_id = %order.id, %error, "reserve failed, failing the order");
                self.fail(order, Failure::unavailable("inventory is unavailable"))
                    .await
            }
        }
    }

    async fn authorize(&self, order: &OrderRow, method: &PaymentMethod) -> OrderResult<Next> {
        let answer = self.payments.authorize(order.id, order.total, method).await?;
        self.halt.check(HaltPoint::AuthorizeSent).await?;
        match answer {
            Ok(Authorization::Approved { id }) => {
                let change = Transition {
                    step: Some(SagaStep::Authorized),
                    authorization_id: Some(id),
                    payment_status: Some("authorized"),
                    ..Transition::default()
                };
                self.advance(order, change, SagaStep::Authorized).await
            }
            Ok(Authorization::Declined { reason }) => {
                crate::metrics::payment_declined("authorize");
                let failure = Failure {
                    code: ErrorCode::PaymentDeclined,
                    short_book_ids: Vec::new(),
                    note: format!("payment declined: {reason}"),
                    payment_status: Some("declined"),
                    error: OrderError::from(OrderRefusal::PaymentDeclined { reason }),
                };
                self.fail(order, failure).await
            }
            Err(error) => {
                tracing::warn!(order_id = %order.id, %error, "authorize failed, failing the order");
                self.fail(order, Failure::unavailable("the payment provider is unavailable"))
                    .await
            }
        }
    }

    async fn commit(&self, order: &OrderRow) -> OrderResult<Next> {
        let Some(reservation) = order.reservation_id else {
            return Err(OrderError::Internal(anyhow::anyhow!(
                "order {} has no reservation",
                order.id
            )));
        };
        match self.upstreams.commit(reservation).await? {
            Settled::Done => {
                let change = Transition {
                    step: Some(SagaStep::Committed),
                    ..Transition::default()
                };
                self.advance(order, change, SagaStep::Committed).await
            }
            Settled::WrongState => {
                self.fail(
                    order,
                    Failure::unavailable("the stock reservation expired before it was committed"),
                )
                .await
            }
        }
    }

    async fn capture(&self, order: &OrderRow) -> OrderResult<Next> {
        match self.payments.capture(order.id, order.total).await? {
            Ok(()) => {
                let change = Transition {
                    step: Some(SagaStep::Captured),
                    payment_status: Some("captured"),
                    ..Transition::default()
                };
                self.advance(order, change, SagaStep::Captured).await
            }
            // No answer: the books are sold and the money authorized; recovery captures.
            Err(ProviderError::Unavailable(reason)) => Err(OrderError::from(OrderRefusal::Unavailable(
                format!("payment capture pending ({reason})"),
            ))),
            Err(ProviderError::Refused(reason)) => {
                crate::metrics::payment_declined("capture");
                let mut failure = Failure::unavailable("the payment could not be captured");
                failure.note = format!("capture refused: {reason}");
                failure.code = ErrorCode::PaymentDeclined;
                failure.error = OrderError::from(OrderRefusal::PaymentDeclined { reason });
                self.fail(order, failure).await
            }
        }
    }

    async fn confirm(&self, order: &OrderRow) -> OrderResult<Next> {
        let change = Transition {
            step: Some(SagaStep::Done),
            status: Some((OrderStatus::Confirmed, "paid and reserved".to_owned())),
            ..Transition::default()
        };
        let next = self.advance(order, change, SagaStep::Done).await?;
        // The order stands without it; a failure here leaves books in the cart, not limbo.
        if let Err(error) = self.upstreams.clear_cart(order.user_id).await {
            tracing::warn!(order_id = %order.id, %error, "cart not cleared after checkout");
        }
        Ok(match next {
            Next::Continue(moved) => Next::Stop(None, moved),
            stop @ Next::Stop(..) => stop,
        })
    }

    /// Marks the order FAILED and gives back what it holds. The first attempt's caller gets
    /// `failure.error`.
    async fn fail(&self, order: &OrderRow, failure: Failure) -> OrderResult<Next> {
        let change = Transition {
            from_steps: vec![order.step],
            from_statuses: vec![OrderStatus::Pending],
            step: Some(SagaStep::Compensating),
            status: Some((OrderStatus::Failed, failure.note.clone())),
            payment_status: failure.payment_status,
            failure: Some((failure.code, failure.short_book_ids)),
            ..Transition::default()
        };
        let Some(failed) = orders::apply(&self.db, order.id, &change).await? else {
            return Ok(Next::Continue(None));
        };
        crate::metrics::checkout_ended(&crate::metrics::outcome(failure.code));
        // Inventory or the provider may be down: the recovery loop finishes the undo.
        if let Err(error) = self.compensate(&failed).await {
            tracing::warn!(order_id = %order.id, %error, "compensation deferred to recovery");
        }
        Ok(Next::Stop(Some(failure.error), None))
    }
}
