//! Stored orders to the wire `Order`, with lines and history loaded in one query each for
//! any number of orders.

use std::collections::HashMap;

use proto::common::v1 as common;
use proto::order::v1 as pb;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::error::OrderResult;
use crate::store::orders::{self, OrderEvent, OrderLine, OrderRow};

fn timestamp(ms: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: i32::try_from(ms.rem_euclid(1000) * 1_000_000).unwrap_or(0),
    }
}

fn money(amount_minor: i64, currency: &str) -> common::Money {
    common::Money {
        amount_minor,
        currency: currency.to_owned(),
    }
}

fn address(json: &str) -> common::Address {
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let field = |name: &str| value[name].as_str().unwrap_or_default().to_owned();
    common::Address {
        id: String::new(),
        line1: field("line1"),
        line2: field("line2"),
        city: field("city"),
        postal_code: field("postal_code"),
        country: field("country"),
        is_default: false,
    }
}

fn method(stored: &str) -> pb::PaymentMethodKind {
    match stored {
        "card" => pb::PaymentMethodKind::Card,
        "paypal" => pb::PaymentMethodKind::Paypal,
        _ => pb::PaymentMethodKind::Unspecified,
    }
}

/// Converts one stored order with its lines and history.
pub fn to_wire(order: &OrderRow, lines: &[OrderLine], history: &[OrderEvent]) -> pb::Order {
    pb::Order {
        id: order.id.to_string(),
        user_id: order.user_id.to_string(),
        status: order.status.to_wire().into(),
        lines: lines
            .iter()
            .map(|line| pb::OrderLine {
                book_id: line.book_id.to_string(),
                title: line.title.clone(),
                unit_price: Some(money(line.unit_price_minor, &order.currency)),
                quantity: line.quantity,
            })
            .collect(),
        total: Some(money(order.total_minor, &order.currency)),
        shipping_address: Some(address(&order.shipping_address)),
        payment: Some(pb::PaymentSummary {
            method: method(&order.payment_method).into(),
            brand: order.payment_brand.clone(),
            last4: order.payment_last4.clone(),
            status: order.payment_status.clone(),
        }),
        created_at: Some(timestamp(order.created_at_ms)),
        updated_at: Some(timestamp(order.updated_at_ms)),
        history: history
            .iter()
            .map(|event| pb::OrderEvent {
                status: event.status.to_wire().into(),
                at: Some(timestamp(event.at_ms)),
                note: event.note.clone(),
            })
            .collect(),
        failure_reason: order.failure_reason.clone(),
        short_book_ids: order.short_book_ids.clone(),
    }
}

/// Loads lines and history for `orders` and converts them, keeping their order.
///
/// # Errors
/// Fails when the database cannot be read.
pub async fn load(db: &impl ConnectionTrait, rows: &[OrderRow]) -> OrderResult<Vec<pb::Order>> {
    let ids: Vec<Uuid> = rows.iter().map(|order| order.id).collect();
    let mut lines: HashMap<Uuid, Vec<OrderLine>> = HashMap::new();
    for (id, line) in orders::lines(db, &ids).await? {
        lines.entry(id).or_default().push(line);
    }
    let mut history: HashMap<Uuid, Vec<OrderEvent>> = HashMap::new();
    for (id, event) in orders::events(db, &ids).await? {
        history.entry(id).or_default().push(event);
    }
    Ok(rows
        .iter()
        .map(|order| {
            to_wire(
                order,
                lines.get(&order.id).map(Vec::as_slice).unwrap_or_default(),
                history.get(&order.id).map(Vec::as_slice).unwrap_or_default(),
            )
        })
        .collect())
}
