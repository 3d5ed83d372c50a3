//! PlaceOrder up to the written PENDING order: idempotency by (user, key), the cart read
//! from svc-cart, every line priced from the catalog (never from the client), the shipping
//! address copied. Payment input is checked before anything is written.

use std::collections::HashMap;

use proto::address::NewAddress;
use proto::types::InvalidField;
use uuid::Uuid;

use super::Saga;
use crate::domain::MAX_ORDER_LINES;
use crate::domain::payment::PaymentMethod;
use crate::error::{OrderError, OrderResult};
use crate::store::now_ms;
use crate::store::orders::{self, NewOrder, OrderLine, OrderRow};

/// Where the order goes.
#[derive(Debug, Clone)]
pub enum Shipping {
    /// A one-off address from the request.
    Address(NewAddress),
    /// One of the user's saved addresses, by id.
    Saved(String),
}

/// A checked PlaceOrder request.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub idempotency_key: String,
    pub shipping: Shipping,
    pub payment: PaymentMethod,
}

fn address_json(address: &NewAddress) -> String {
    serde_json::json!({
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "postal_code": address.postal_code,
        "country": address.country,
    })
    .to_string()
}

impl Saga {
    /// Places the order, or returns the one this user already placed under the key.
    ///
    /// # Errors
    /// `InvalidArgument` for an empty cart or a bad address; the saga's errors for a first
    /// attempt that fails (`OutOfStock`, `PaymentDeclined`, `Unavailable`).
    #[tracing::instrument(name = "order.place", skip_all, fields(user_id = %user))]
    pub async fn place(&self, user: Uuid, checkout: Checkout) -> OrderResult<OrderRow> {
        if let Some(existing) = orders::find_by_key(&self.db, user, &checkout.idempotency_key).await? {
            return Ok(existing);
        }
        let shipping = match &checkout.shipping {
            Shipping::Address(address) => address_json(address),
            Shipping::Saved(id) => {
                let saved = self.upstreams.address(user, id).await?;
                address_json(&NewAddress {
                    line1: saved.line1,
                    line2: saved.line2,
                    city: saved.city,
                    postal_code: saved.postal_code,
                    country: saved.country,
                    is_default: false,
                })
            }
        };
        let (currency, lines) = self.priced_cart(user).await?;
        let (brand, last4) = checkout.payment.summary();
        let order = NewOrder {
            id: Uuid::now_v7(),
            user_id: user,
            idempotency_key: checkout.idempotency_key.clone(),
            currency,
            shipping_address: shipping,
            payment_method: checkout.payment.kind(),
            payment_brand: brand,
            payment_last4: last4,
            lines,
            lease_until_ms: now_ms() + self.lease_ms(),
        };
        if !orders::insert(&self.db, &order).await? {
            // A concurrent request with the same key won the unique index: its order it is.
            return orders::find_by_key(&self.db, user, &checkout.idempotency_key)
                .await?
                .ok_or(OrderError::NotFound { entity: "order" });
        }
        tracing::info!(order_id = %order.id, total_minor = order.total_minor(), "order written, checkout starts");
        self.halt
            .check(crate::domain::HaltPoint::Step(crate::domain::SagaStep::Created))
            .await?;
        self.drive(order.id, Some(&checkout.payment)).await
    }

    /// Reads the cart and prices it: (currency, lines in cart order).
    async fn priced_cart(&self, user: Uuid) -> OrderResult<(String, Vec<OrderLine>)> {
        let cart = self.upstreams.cart(user).await?;
        if cart.is_empty() {
            return Err(InvalidField::new("cart", "is empty").into());
        }
        if cart.len() > MAX_ORDER_LINES {
            return Err(InvalidField::new(
                "cart",
                format!("an order holds at most {MAX_ORDER_LINES} different books"),
            )
            .into());
        }
        let ids = cart.iter().map(|(id, _)| id.clone()).collect();
        let (books, missing) = self.upstreams.books(ids).await?;
        if !missing.is_empty() {
            return Err(InvalidField::new(
                "cart",
                format!("no longer sold, remove from the cart: {}", missing.join(", ")),
            )
            .into());
        }
        let by_id: HashMap<&str, &proto::catalog::v1::Book> =
            books.iter().map(|book| (book.id.as_str(), book)).collect();
        let mut currency: Option<String> = None;
        let mut lines = Vec::with_capacity(cart.len());
        for (book_id, quantity) in &cart {
            let book = by_id.get(book_id.as_str()).ok_or_else(|| {
                OrderError::Internal(anyhow::anyhow!("catalog did not return book {book_id}"))
            })?;
            let price = book.price.clone().unwrap_or_default();
            match &currency {
                None => currency = Some(price.currency.clone()),
                Some(first) if *first != price.currency => {
                    return Err(
                        InvalidField::new("cart", "holds books priced in different currencies").into(),
                    );
                }
                Some(_) => {}
            }
            lines.push(OrderLine {
                book_id: Uuid::parse_str(book_id).map_err(|error| {
                    OrderError::Internal(anyhow::anyhow!("cart sent a bad book id: {error}"))
                })?,
                title: book.title.clone(),
                unit_price_minor: price.amount_minor,
                quantity: *quantity,
            });
        }
        Ok((currency.unwrap_or_default(), lines))
    }
}
