//! An order as svc-order keeps it: the order itself, its lines (titled and priced at
//! checkout) and its history. `store/` reads and writes them, `grpc.rs` converts them.

use proto::types::{BookId, Money, OrderId, ReservationId, UserId};
use serde::{Deserialize, Serialize};

use super::{OrderStatus, SagaStep};

/// How the customer paid, as stored (`card`, `paypal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentKind {
    Card,
    Paypal,
}

impl PaymentKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentKind::Card => "card",
            PaymentKind::Paypal => "paypal",
        }
    }

    /// Reads the stored spelling; `None` for anything else.
    pub fn from_stored(stored: &str) -> Option<PaymentKind> {
        [PaymentKind::Card, PaymentKind::Paypal]
            .into_iter()
            .find(|kind| kind.as_str() == stored)
    }
}

/// Where an order goes, copied from the request or the user's saved address at checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingAddress {
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

impl From<&proto::address::NewAddress> for ShippingAddress {
    fn from(address: &proto::address::NewAddress) -> Self {
        ShippingAddress {
            line1: address.line1.clone(),
            line2: address.line2.clone(),
            city: address.city.clone(),
            postal_code: address.postal_code.clone(),
            country: address.country.clone(),
        }
    }
}

/// One line, priced and titled at checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub book_id: BookId,
    pub title: String,
    pub unit_price: Money,
    pub quantity: i32,
}

/// An order (without lines and history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub user_id: UserId,
    pub status: OrderStatus,
    pub step: SagaStep,
    pub total: Money,
    pub shipping_address: ShippingAddress,
    pub payment_method: PaymentKind,
    pub payment_brand: String,
    pub payment_last4: String,
    pub payment_status: String,
    pub authorization_id: Option<String>,
    pub reservation_id: Option<ReservationId>,
    /// The error code that failed it (`OUT_OF_STOCK`, `PAYMENT_DECLINED`, …), or empty.
    pub failure_reason: String,
    pub short_book_ids: Vec<BookId>,
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

/// An order with its lines and history, as callers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDetails {
    pub order: Order,
    pub lines: Vec<OrderLine>,
    pub history: Vec<OrderEvent>,
}

/// One page of a user's orders, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPage {
    pub orders: Vec<OrderDetails>,
    /// One opaque cursor per order.
    pub cursors: Vec<String>,
    pub has_next_page: bool,
    pub total: i64,
}
