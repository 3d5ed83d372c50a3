//! Orders: statuses, lines priced at checkout, payment summaries, history, order pages.

use async_graphql::{Enum, SimpleObject};
use proto::order::v1 as order;

use async_graphql::Result;

use super::{Address, Money, PageInfo};
use crate::graphql::errors::broken_answer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Shipped,
    Delivered,
    Cancelled,
    Failed,
}

impl OrderStatus {
    /// Reads the wire status of `what`.
    ///
    /// # Errors
    /// INTERNAL, logged, for UNSPECIFIED or a value the contract does not know: never read as
    /// PENDING.
    pub fn from_wire(status: i32, what: &dyn std::fmt::Display) -> Result<Self> {
        match order::OrderStatus::try_from(status) {
            Ok(order::OrderStatus::Pending) => Ok(OrderStatus::Pending),
            Ok(order::OrderStatus::Confirmed) => Ok(OrderStatus::Confirmed),
            Ok(order::OrderStatus::Shipped) => Ok(OrderStatus::Shipped),
            Ok(order::OrderStatus::Delivered) => Ok(OrderStatus::Delivered),
            Ok(order::OrderStatus::Cancelled) => Ok(OrderStatus::Cancelled),
            Ok(order::OrderStatus::Failed) => Ok(OrderStatus::Failed),
            Ok(order::OrderStatus::Unspecified) | Err(_) => Err(broken_answer(format_args!(
                "{what} has an unknown status {status}"
            ))),
        }
    }

    pub fn to_wire(self) -> order::OrderStatus {
        match self {
            OrderStatus::Pending => order::OrderStatus::Pending,
            OrderStatus::Confirmed => order::OrderStatus::Confirmed,
            OrderStatus::Shipped => order::OrderStatus::Shipped,
            OrderStatus::Delivered => order::OrderStatus::Delivered,
            OrderStatus::Cancelled => order::OrderStatus::Cancelled,
            OrderStatus::Failed => order::OrderStatus::Failed,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PaymentMethodKind {
    Card,
    Paypal,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct OrderLine {
    pub book_id: async_graphql::ID,
    pub title: String,
    pub unit_price: Money,
    pub quantity: i32,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct PaymentSummary {
    pub method: PaymentMethodKind,
    pub brand: Option<String>,
    pub last4: Option<String>,
    pub status: String,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct OrderEvent {
    pub status: OrderStatus,
    pub at: chrono::DateTime<chrono::Utc>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Order {
    pub id: async_graphql::ID,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    pub total: Money,
    pub shipping_address: Address,
    pub payment: PaymentSummary,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub history: Vec<OrderEvent>,
    /// Set when FAILED: the error code that caused it (OUT_OF_STOCK, PAYMENT_DECLINED, …).
    pub failure_reason: Option<String>,
}

/// Reads a wire time of `what`; a missing or impossible one is an error, never 1970.
fn time(
    timestamp: Option<&prost_types::Timestamp>,
    what: &dyn std::fmt::Display,
) -> Result<chrono::DateTime<chrono::Utc>> {
    proto::types::datetime("at", timestamp).map_err(|error| broken_answer(format_args!("{what}: {error}")))
}

/// Reads the wire payment method of `what`; UNSPECIFIED is an error, never a card.
fn method(kind: i32, what: &dyn std::fmt::Display) -> Result<PaymentMethodKind> {
    match order::PaymentMethodKind::try_from(kind) {
        Ok(order::PaymentMethodKind::Card) => Ok(PaymentMethodKind::Card),
        Ok(order::PaymentMethodKind::Paypal) => Ok(PaymentMethodKind::Paypal),
        Ok(order::PaymentMethodKind::Unspecified) | Err(_) => Err(broken_answer(format_args!(
            "{what} has an unknown payment method {kind}"
        ))),
    }
}

fn non_empty(text: &str) -> Option<String> {
    if text.is_empty() {
        None
    } else {
        Some(text.to_owned())
    }
}

impl Order {
    /// Reads a wire order.
    ///
    /// # Errors
    /// INTERNAL, logged, when the order breaks the contract (no order at all, an unknown
    /// status or payment method, a missing price, time or address): nothing is made up.
    pub fn from_wire(wire: Option<&order::Order>) -> Result<Self> {
        let Some(wire) = wire else {
            return Err(broken_answer("svc-order answered without an order"));
        };
        let what = format!("order {}", wire.id);
        let Some(payment) = &wire.payment else {
            return Err(broken_answer(format_args!("{what} has no payment summary")));
        };
        let Some(address) = &wire.shipping_address else {
            return Err(broken_answer(format_args!("{what} has no shipping address")));
        };
        let mut lines = Vec::with_capacity(wire.lines.len());
        for line in &wire.lines {
            lines.push(OrderLine {
                book_id: line.book_id.clone().into(),
                title: line.title.clone(),
                unit_price: Money::from_wire(
                    line.unit_price.as_ref(),
                    &format_args!("{what} line {}", line.book_id),
                )?,
                quantity: line.quantity,
            });
        }
        let mut history = Vec::with_capacity(wire.history.len());
        for event in &wire.history {
            history.push(OrderEvent {
                status: OrderStatus::from_wire(event.status, &what)?,
                at: time(event.at.as_ref(), &format_args!("{what} history"))?,
                note: non_empty(&event.note),
            });
        }
        Ok(Order {
            id: wire.id.clone().into(),
            status: OrderStatus::from_wire(wire.status, &what)?,
            lines,
            total: Money::from_wire(wire.total.as_ref(), &format_args!("{what} total"))?,
            shipping_address: Address::from_wire(address),
            payment: PaymentSummary {
                method: method(payment.method, &what)?,
                brand: non_empty(&payment.brand),
                last4: non_empty(&payment.last4),
                status: payment.status.clone(),
            },
            created_at: time(wire.created_at.as_ref(), &format_args!("{what} created_at"))?,
            history,
            failure_reason: non_empty(&wire.failure_reason),
        })
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct OrderEdge {
    pub cursor: String,
    pub node: Order,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct OrderConnection {
    pub edges: Vec<OrderEdge>,
    pub page_info: PageInfo,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire() -> order::Order {
        let at = Some(prost_types::Timestamp {
            seconds: 1_764_000_000,
            nanos: 0,
        });
        order::Order {
            id: "o1".to_owned(),
            status: order::OrderStatus::Confirmed.into(),
            total: Some(proto::common::v1::Money {
                amount_minor: 1299,
                currency: "USD".to_owned(),
            }),
            shipping_address: Some(proto::common::v1::Address::default()),
            payment: Some(order::PaymentSummary {
                method: order::PaymentMethodKind::Card.into(),
                ..Default::default()
            }),
            created_at: at,
            history: vec![order::OrderEvent {
                status: order::OrderStatus::Pending.into(),
                at,
                note: String::new(),
            }],
            ..Default::default()
        }
    }

    fn code(error: async_graphql::Error) -> Option<async_graphql::Value> {
        let error = error.into_server_error(async_graphql::Pos::default());
        error
            .extensions
            .and_then(|extensions| extensions.get("code").cloned())
    }

    #[test]
    fn an_order_that_breaks_the_contract_is_an_internal_error_not_a_made_up_value() {
        let good = Order::from_wire(Some(&wire())).unwrap();
        assert_eq!(good.status, OrderStatus::Confirmed);
        assert_eq!(good.total.formatted, "$12.99");
        type Spoil = fn(&mut order::Order);
        let cases: [(Spoil, &str); 6] = [
            (
                |order| order.status = order::OrderStatus::Unspecified.into(),
                "no status: not PENDING",
            ),
            (|order| order.status = 99, "an unknown status: not PENDING"),
            (|order| order.created_at = None, "no time: not 1970"),
            (|order| order.history[0].at = None, "no event time: not 1970"),
            (
                |order| order.payment.as_mut().unwrap().method = 0,
                "no method: not a card",
            ),
            (|order| order.total = None, "no total: not $0"),
        ];
        for (spoil, case) in cases {
            let mut broken = wire();
            spoil(&mut broken);
            let error = Order::from_wire(Some(&broken)).unwrap_err();
            assert_eq!(
                code(error),
                Some(async_graphql::Value::from("INTERNAL")),
                "{case}"
            );
        }
        assert_eq!(
            code(Order::from_wire(None).unwrap_err()),
            Some(async_graphql::Value::from("INTERNAL"))
        );
    }
}
