//! Orders: statuses, lines priced at checkout, payment summaries, history, order pages.

use async_graphql::{Enum, SimpleObject};
use proto::order::v1 as order;

use super::{Address, Money, PageInfo};

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
    pub fn from_wire(status: i32) -> Self {
        match order::OrderStatus::try_from(status).unwrap_or(order::OrderStatus::Unspecified) {
            order::OrderStatus::Confirmed => OrderStatus::Confirmed,
            order::OrderStatus::Shipped => OrderStatus::Shipped,
            order::OrderStatus::Delivered => OrderStatus::Delivered,
            order::OrderStatus::Cancelled => OrderStatus::Cancelled,
            order::OrderStatus::Failed => OrderStatus::Failed,
            order::OrderStatus::Pending | order::OrderStatus::Unspecified => OrderStatus::Pending,
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

fn time(timestamp: Option<&prost_types::Timestamp>) -> chrono::DateTime<chrono::Utc> {
    timestamp
        .and_then(|at| chrono::DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).unwrap_or(0)))
        .unwrap_or_default()
}

fn non_empty(text: &str) -> Option<String> {
    if text.is_empty() {
        None
    } else {
        Some(text.to_owned())
    }
}

impl Order {
    pub fn from_wire(wire: &order::Order) -> Self {
        let payment = wire.payment.clone().unwrap_or_default();
        Order {
            id: wire.id.clone().into(),
            status: OrderStatus::from_wire(wire.status),
            lines: wire
                .lines
                .iter()
                .map(|line| OrderLine {
                    book_id: line.book_id.clone().into(),
                    title: line.title.clone(),
                    unit_price: Money::from_wire(line.unit_price.as_ref()),
                    quantity: line.quantity,
                })
                .collect(),
            total: Money::from_wire(wire.total.as_ref()),
            shipping_address: Address::from_wire(&wire.shipping_address.clone().unwrap_or_default()),
            payment: PaymentSummary {
                method: if payment.method == order::PaymentMethodKind::Paypal as i32 {
                    PaymentMethodKind::Paypal
                } else {
                    PaymentMethodKind::Card
                },
                brand: non_empty(&payment.brand),
                last4: non_empty(&payment.last4),
                status: payment.status,
            },
            created_at: time(wire.created_at.as_ref()),
            history: wire
                .history
                .iter()
                .map(|event| OrderEvent {
                    status: OrderStatus::from_wire(event.status),
                    at: time(event.at.as_ref()),
                    note: non_empty(&event.note),
                })
                .collect(),
            failure_reason: non_empty(&wire.failure_reason),
        }
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
