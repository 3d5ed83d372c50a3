//! PlaceOrder up to the written PENDING order: idempotency by (user, key), the cart read
//! from svc-cart, every line priced from the catalog (never from the client), the shipping
//! address copied. Payment input is checked before anything is written.

use std::collections::HashMap;

use proto::address::NewAddress;
use proto::types::{BookId, Currency, InvalidField, Money, OrderId, UserId};
use uuid::Uuid;

use super::Saga;
use crate::domain::MAX_ORDER_LINES;
use crate::domain::order::{Order, OrderLine, ShippingAddress};
use crate::domain::payment::PaymentMethod;
use crate::error::{OrderError, OrderResult};
use crate::store::now_ms;
use crate::store::orders::{self, NewOrder};
use crate::upstream::PricedBook;

/// Where the order goes.
#[derive(Debug, Clone)]
pub enum Shipping {
    /// A one-off address from the request.
    Address(NewAddress),
    /// One of the user's saved addresses, by id.
    Saved(Uuid),
}

/// A checked PlaceOrder request.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub idempotency_key: String,
    pub shipping: Shipping,
    pub payment: PaymentMethod,
}

impl Saga {
    /// Places the order, or returns the one this user already placed under the key.
    ///
    /// # Errors
    /// `InvalidArgument` for an empty cart or a bad address; the saga's errors for a first
    /// attempt that fails (`OutOfStock`, `PaymentDeclined`, `Unavailable`).
    #[tracing::instrument(name = "order.place", skip_all, fields(user_id = %user))]
    pub async fn place(&self, user: UserId, checkout: Checkout) -> OrderResult<Order> {
        let started = std::time::Instant::now();
        if let Some(existing) = orders::find_by_key(&self.db, user, &checkout.idempotency_key).await? {
            return Ok(existing);
        }
        let shipping = match &checkout.shipping {
            Shipping::Address(address) => ShippingAddress::from(address),
            Shipping::Saved(id) => self.upstreams.address(user, *id).await?,
        };
        let (total, lines) = self.priced_cart(user).await?;
        let (brand, last4) = checkout.payment.summary();
        let order = NewOrder {
            id: OrderId::generate(),
            user_id: user,
            idempotency_key: checkout.idempotency_key.clone(),
            total,
            shipping_address: shipping,
            payment_method: checkout.payment.kind(),
            payment_brand: brand,
            payment_last4: last4,
            lines,
            lease_until_ms: now_ms() + self.lease_ms(),
        };
        let Some(written) = orders::insert(&self.db, &order).await? else {
            // A concurrent request with the same key won the unique index: its order it is.
            return orders::find_by_key(&self.db, user, &checkout.idempotency_key)
                .await?
                .ok_or(OrderError::NotFound { entity: "order" });
        };
        tracing::info!(order_id = %order.id, total_minor = order.total.minor(), "order written, checkout starts");
        self.halt
            .check(crate::domain::HaltPoint::Step(crate::domain::SagaStep::Created))
            .await?;
        let lines: Vec<(BookId, i32)> = order
            .lines
            .iter()
            .map(|line| (line.book_id, line.quantity))
            .collect();
        let placed = self
            .drive_from(order.id, Some(written), Some(&lines), Some(&checkout.payment))
            .await;
        crate::metrics::checkout_answered(started.elapsed(), &placed);
        placed
    }

    /// Reads the cart and prices it: (total, lines in cart order).
    async fn priced_cart(&self, user: UserId) -> OrderResult<(Money, Vec<OrderLine>)> {
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
        let ids: Vec<BookId> = cart.iter().map(|(id, _)| *id).collect();
        let (books, missing) = self.upstreams.books(&ids).await?;
        if !missing.is_empty() {
            return Err(InvalidField::new(
                "cart",
                format!("no longer sold, remove from the cart: {}", missing.join(", ")),
            )
            .into());
        }
        let by_id: HashMap<BookId, &PricedBook> = books.iter().map(|book| (book.id, book)).collect();
        let mut currency: Option<Currency> = None;
        let mut total_minor: i64 = 0;
        let mut lines = Vec::with_capacity(cart.len());
        for (book_id, quantity) in &cart {
            let book = by_id.get(book_id).ok_or_else(|| {
                OrderError::Internal(anyhow::anyhow!("catalog did not return book {book_id}"))
            })?;
            match currency {
                None => currency = Some(book.price.currency()),
                Some(first) if first != book.price.currency() => {
                    return Err(
                        InvalidField::new("cart", "holds books priced in different currencies").into(),
                    );
                }
                Some(_) => {}
            }
            total_minor += book.price.minor() * i64::from(*quantity);
            lines.push(OrderLine {
                book_id: *book_id,
                title: book.title.clone(),
                unit_price: book.price,
                quantity: *quantity,
            });
        }
        // The cart is not empty (checked above), so the first line set the currency.
        let currency = currency
            .ok_or_else(|| OrderError::Internal(anyhow::anyhow!("a priced cart without a currency")))?;
        Ok((Money::new("total", total_minor, currency)?, lines))
    }
}
