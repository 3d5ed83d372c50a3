//! Orders on the wire: a PlaceOrder request to a checked checkout, statuses both ways, and
//! an order with its lines and history to the wire `Order`.

use proto::address::NewAddress;
use proto::order::v1 as pb;
use proto::types::InvalidField;

use crate::domain::order::{OrderDetails, OrderPage, PaymentKind, ShippingAddress};
use crate::domain::payment::{CardInput, PaymentInput, PaymentMethod};
use crate::domain::{OrderStatus, parse_idempotency_key};
use crate::saga::{Checkout, Shipping};

/// Parses and checks a PlaceOrder request against today's date.
///
/// # Errors
/// Returns [`InvalidField`] naming the first bad field.
pub(super) fn checkout(request: &pb::PlaceOrderRequest) -> Result<Checkout, InvalidField> {
    let idempotency_key = parse_idempotency_key(&request.idempotency_key)?;
    let shipping = match &request.shipping {
        Some(pb::place_order_request::Shipping::ShippingAddress(address)) => {
            Shipping::Address(NewAddress::parse_at("shipping_address", Some(address))?)
        }
        Some(pb::place_order_request::Shipping::AddressId(id)) => Shipping::Saved(
            uuid::Uuid::parse_str(id.trim())
                .map_err(|_| InvalidField::new("address_id", "must be a UUID"))?,
        ),
        None => {
            return Err(InvalidField::new(
                "shipping_address",
                "a shipping_address or an address_id is required",
            ));
        }
    };
    let payment = request
        .payment
        .as_ref()
        .and_then(|payment| payment.method.as_ref())
        .map(|method| match method {
            pb::payment_method::Method::Card(card) => PaymentInput::Card(CardInput {
                number: &card.number,
                exp_month: card.exp_month,
                exp_year: card.exp_year,
                cvc: &card.cvc,
            }),
            pb::payment_method::Method::Paypal(paypal) => PaymentInput::Paypal { email: &paypal.email },
        });
    let payment = PaymentMethod::parse(payment.as_ref(), chrono::Utc::now().date_naive())?;
    Ok(Checkout {
        idempotency_key,
        shipping,
        payment,
    })
}

/// Reads the wire status; UNSPECIFIED (or unknown) is refused.
///
/// # Errors
/// Returns [`InvalidField`] naming `status`.
pub(super) fn status_from_wire(value: i32) -> Result<OrderStatus, InvalidField> {
    let unknown = || InvalidField::new("status", "must be a known order status");
    match pb::OrderStatus::try_from(value).map_err(|_| unknown())? {
        pb::OrderStatus::Unspecified => Err(unknown()),
        pb::OrderStatus::Pending => Ok(OrderStatus::Pending),
        pb::OrderStatus::Confirmed => Ok(OrderStatus::Confirmed),
        pb::OrderStatus::Shipped => Ok(OrderStatus::Shipped),
        pb::OrderStatus::Delivered => Ok(OrderStatus::Delivered),
        pb::OrderStatus::Cancelled => Ok(OrderStatus::Cancelled),
        pb::OrderStatus::Failed => Ok(OrderStatus::Failed),
    }
}

fn status_to_wire(status: OrderStatus) -> pb::OrderStatus {
    match status {
        OrderStatus::Pending => pb::OrderStatus::Pending,
        OrderStatus::Confirmed => pb::OrderStatus::Confirmed,
        OrderStatus::Shipped => pb::OrderStatus::Shipped,
        OrderStatus::Delivered => pb::OrderStatus::Delivered,
        OrderStatus::Cancelled => pb::OrderStatus::Cancelled,
        OrderStatus::Failed => pb::OrderStatus::Failed,
    }
}

fn address_to_wire(address: ShippingAddress) -> proto::common::v1::Address {
    proto::common::v1::Address {
        id: String::new(),
        line1: address.line1,
        line2: address.line2,
        city: address.city,
        postal_code: address.postal_code,
        country: address.country,
        is_default: false,
    }
}

fn method_to_wire(kind: PaymentKind) -> pb::PaymentMethodKind {
    match kind {
        PaymentKind::Card => pb::PaymentMethodKind::Card,
        PaymentKind::Paypal => pb::PaymentMethodKind::Paypal,
    }
}

/// Returns the wire message of an order with its lines and history.
pub(super) fn order_to_wire(details: OrderDetails) -> pb::Order {
    let OrderDetails {
        order,
        lines,
        history,
    } = details;
    pb::Order {
        id: order.id.to_string(),
        user_id: order.user_id.to_string(),
        status: status_to_wire(order.status).into(),
        lines: lines
            .into_iter()
            .map(|line| pb::OrderLine {
                book_id: line.book_id.to_string(),
                title: line.title,
                unit_price: Some(line.unit_price.to_wire()),
                quantity: line.quantity,
            })
            .collect(),
        total: Some(order.total.to_wire()),
        shipping_address: Some(address_to_wire(order.shipping_address)),
        payment: Some(pb::PaymentSummary {
            method: method_to_wire(order.payment_method).into(),
            brand: order.payment_brand,
            last4: order.payment_last4,
            status: order.payment_status,
        }),
        created_at: Some(proto::types::timestamp_millis(order.created_at_ms)),
        updated_at: Some(proto::types::timestamp_millis(order.updated_at_ms)),
        history: history
            .into_iter()
            .map(|event| pb::OrderEvent {
                status: status_to_wire(event.status).into(),
                at: Some(proto::types::timestamp_millis(event.at_ms)),
                note: event.note,
            })
            .collect(),
        failure_reason: order.failure_reason,
        short_book_ids: order.short_book_ids.iter().map(ToString::to_string).collect(),
    }
}

/// Returns the wire answer to ListOrders.
pub(super) fn page_to_wire(page: OrderPage) -> pb::ListOrdersResponse {
    let next_page_token = match (page.has_next_page, page.cursors.last()) {
        (true, Some(last)) => last.clone(),
        _ => String::new(),
    };
    pb::ListOrdersResponse {
        orders: page.orders.into_iter().map(order_to_wire).collect(),
        page_info: Some(proto::common::v1::PageInfo {
            next_page_token,
            has_next_page: page.has_next_page,
            total_count: page.total,
        }),
        cursors: page.cursors,
    }
}
