//! Order statuses, the saga's steps and their legal moves, orders, and checked checkout
//! input. No wire types: `grpc.rs` converts.

pub mod order;
pub mod payment;

/// Where an order stands for its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Shipped,
    Delivered,
    Cancelled,
    Failed,
}

impl OrderStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "PENDING",
            OrderStatus::Confirmed => "CONFIRMED",
            OrderStatus::Shipped => "SHIPPED",
            OrderStatus::Delivered => "DELIVERED",
            OrderStatus::Cancelled => "CANCELLED",
            OrderStatus::Failed => "FAILED",
        }
    }

    /// Reads the stored spelling.
    pub fn parse(stored: &str) -> Option<Self> {
        [
            OrderStatus::Pending,
            OrderStatus::Confirmed,
            OrderStatus::Shipped,
            OrderStatus::Delivered,
            OrderStatus::Cancelled,
            OrderStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == stored)
    }

    /// True once nothing can happen to the order any more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderStatus::Delivered | OrderStatus::Cancelled | OrderStatus::Failed
        )
    }

    /// The fulfilment moves an admin may make (cancelling goes through [`Self::can_cancel`]).
    pub fn can_move_to(self, next: OrderStatus) -> bool {
        matches!(
            (self, next),
            (OrderStatus::Confirmed, OrderStatus::Shipped) | (OrderStatus::Shipped, OrderStatus::Delivered)
        )
    }

    /// An order may be cancelled until it ships.
    pub fn can_cancel(self) -> bool {
        matches!(self, OrderStatus::Pending | OrderStatus::Confirmed)
    }
}

/// How far the checkout saga (or an undo) got. Each step is persisted before the next
/// starts, so after a crash the stored step says exactly what is left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SagaStep {
    /// The order is written, PENDING; nothing outside the database has happened yet.
    Created,
    /// Stock is held (reservation id stored).
    Reserved,
    /// The payment is authorized (authorization id stored).
    Authorized,
    /// The reservation is committed: the books are sold.
    Committed,
    /// The payment is captured; CONFIRMED follows.
    Captured,
    /// The order failed or was cancelled: its stock and money must go back.
    Compensating,
    /// Nothing left to do.
    Done,
}

impl SagaStep {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SagaStep::Created => "created",
            SagaStep::Reserved => "reserved",
            SagaStep::Authorized => "authorized",
            SagaStep::Committed => "committed",
            SagaStep::Captured => "captured",
            SagaStep::Compensating => "compensating",
            SagaStep::Done => "done",
        }
    }

    /// Reads the stored spelling.
    pub fn parse(stored: &str) -> Option<Self> {
        SagaStep::UNFINISHED
            .into_iter()
            .chain([SagaStep::Done])
            .find(|step| step.as_str() == stored)
    }

    /// Every step that leaves work for the saga or the recovery loop.
    pub const UNFINISHED: [SagaStep; 6] = [
        SagaStep::Created,
        SagaStep::Reserved,
        SagaStep::Authorized,
        SagaStep::Committed,
        SagaStep::Captured,
        SagaStep::Compensating,
    ];
}

/// Where a test may freeze the saga, as if the process died there: after a step is
/// persisted, or (`AuthorizeSent`) after the provider authorized but before the order
/// recorded it. Read from its name (`order.halt_at`) once, at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum HaltPoint {
    Step(SagaStep),
    AuthorizeSent,
}

impl std::str::FromStr for HaltPoint {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if name == "authorize_sent" {
            return Ok(HaltPoint::AuthorizeSent);
        }
        match SagaStep::parse(name) {
            Some(step) if step < SagaStep::Compensating => Ok(HaltPoint::Step(step)),
            _ => Err(format!(
                "unknown halt point {name:?}: one of created, reserved, authorize_sent, authorized, committed, captured"
            )),
        }
    }
}

impl TryFrom<String> for HaltPoint {
    type Error = String;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        name.parse()
    }
}

/// The most lines and copies one order may hold (inventory's Reserve caps agree).
pub const MAX_ORDER_LINES: usize = 100;

/// Checks a client-chosen idempotency key.
///
/// # Errors
/// Names `idempotency_key` when it is blank or longer than 128 characters.
pub fn parse_idempotency_key(raw: &str) -> Result<String, proto::types::InvalidField> {
    let key = raw.trim();
    if key.is_empty() {
        return Err(proto::types::InvalidField::new(
            "idempotency_key",
            "is required (e.g. a UUID per checkout attempt)",
        ));
    }
    if key.chars().count() > 128 || key.chars().any(char::is_control) {
        return Err(proto::types::InvalidField::new(
            "idempotency_key",
            "must be at most 128 printable characters",
        ));
    }
    Ok(key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fulfilment_moves_forward_are_legal() {
        assert!(OrderStatus::Confirmed.can_move_to(OrderStatus::Shipped));
        assert!(OrderStatus::Shipped.can_move_to(OrderStatus::Delivered));
        assert!(!OrderStatus::Pending.can_move_to(OrderStatus::Shipped));
        assert!(!OrderStatus::Delivered.can_move_to(OrderStatus::Shipped));
        assert!(!OrderStatus::Failed.can_move_to(OrderStatus::Confirmed));
        assert!(!OrderStatus::Shipped.can_cancel());
    }

    #[test]
    fn every_spelling_reads_back() {
        for step in SagaStep::UNFINISHED.into_iter().chain([SagaStep::Done]) {
            assert_eq!(SagaStep::parse(step.as_str()), Some(step));
        }
        assert_eq!("authorize_sent".parse(), Ok(HaltPoint::AuthorizeSent));
        assert!("done".parse::<HaltPoint>().is_err());
    }
}
