//! The contract's object types. Wrappers over the gRPC messages resolve their fields
//! lazily, so a field that needs another service (a book's availability, a cart line's
//! book) goes through a DataLoader and costs one batched call per request.

use async_graphql::{ComplexObject, Context, Enum, Object, SimpleObject};
use proto::catalog::v1 as catalog;
use proto::common::v1 as common;
use proto::order::v1 as order;
use proto::user::v1 as user;

use super::loaders::Loaders;

/// Money in minor units with its currency, and a display form.
#[derive(Debug, Clone, SimpleObject)]
pub struct Money {
    pub amount: i64,
    pub currency: String,
    pub formatted: String,
}

impl Money {
    pub fn new(amount: i64, currency: &str) -> Self {
        let decimals: u32 = if matches!(currency, "JPY" | "KRW") { 0 } else { 2 };
        let scale = 10_u64.pow(decimals);
        let sign = if amount < 0 { "-" } else { "" };
        // `unsigned_abs`: i64::MIN has no positive i64 (`abs` overflows and panics).
        let magnitude = amount.unsigned_abs();
        let (whole, fraction) = (magnitude / scale, magnitude % scale);
        let number = if decimals == 0 {
            whole.to_string()
        } else {
            format!("{whole}.{fraction:0width$}", width = decimals as usize)
        };
        let formatted = match currency {
            "USD" => format!("{sign}${number}"),
            "EUR" => format!("{sign}€{number}"),
            "GBP" => format!("{sign}£{number}"),
            other => format!("{sign}{number} {other}"),
        };
        Self {
            amount,
            currency: currency.to_owned(),
            formatted,
        }
    }

    pub fn from_wire(money: Option<&common::Money>) -> Self {
        match money {
            Some(money) => Money::new(money.amount_minor, &money.currency),
            None => Money::new(0, "USD"),
        }
    }
}

/// How many copies can be sold now.
#[derive(Debug, Clone, Copy, SimpleObject)]
pub struct Availability {
    pub in_stock: bool,
    pub available: i32,
}

impl Availability {
    pub fn from_wire(stock: &proto::inventory::v1::Stock) -> Self {
        Availability {
            in_stock: stock.available > 0,
            available: i32::try_from(stock.available).unwrap_or(i32::MAX),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Topic {
    pub name: String,
    pub book_count: i32,
}

/// A book as the catalog sells it.
#[derive(Debug, Clone)]
pub struct Book(pub catalog::Book);

#[Object]
impl Book {
    async fn id(&self) -> async_graphql::ID {
        self.0.id.clone().into()
    }

    /// ISBN-13, no hyphens.
    async fn isbn(&self) -> &str {
        &self.0.isbn13
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn authors(&self) -> &[String] {
        &self.0.authors
    }

    async fn topics(&self) -> &[String] {
        &self.0.topics
    }

    async fn description(&self) -> Option<&str> {
        if self.0.description.is_empty() {
            None
        } else {
            Some(&self.0.description)
        }
    }

    async fn published_year(&self) -> Option<i32> {
        self.0.published_year
    }

    async fn price(&self) -> Money {
        Money::from_wire(self.0.price.as_ref())
    }

    /// From inventory, batched per request. Null with an UNAVAILABLE error when inventory is
    /// down, so the rest of the page still arrives.
    async fn availability(&self, context: &Context<'_>) -> async_graphql::Result<Option<Availability>> {
        let loaders = context.data::<Loaders>()?;
        let stock = loaders
            .availability
            .load_one(self.0.id.clone())
            .await
            .map_err(|error| error.0)?;
        Ok(stock.map(|stock| Availability::from_wire(&stock)))
    }
}

/// Loads one book through the request's loader. A string that is not a book id names no
/// book: it is absent (null, as the contract says), and it never joins the batch, where the
/// catalog would refuse it together with every other book the request asked for.
pub async fn load_book(context: &Context<'_>, id: &str) -> async_graphql::Result<Option<Book>> {
    if proto::types::BookId::parse("id", id).is_err() {
        return Ok(None);
    }
    let loaders = context.data::<Loaders>()?;
    Ok(loaders
        .books
        .load_one(id.to_owned())
        .await
        .map_err(|error| error.0)?
        .map(Book))
}

#[derive(Debug, Clone, SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct BookEdge {
    pub cursor: String,
    pub node: Book,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct BookConnection {
    pub edges: Vec<BookEdge>,
    pub page_info: PageInfo,
    pub total_count: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Role {
    Customer,
    Admin,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Address {
    pub id: async_graphql::ID,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub country: String,
    pub is_default: bool,
}

impl Address {
    pub fn from_wire(address: &common::Address) -> Self {
        Address {
            id: address.id.clone().into(),
            line1: address.line1.clone(),
            line2: if address.line2.is_empty() {
                None
            } else {
                Some(address.line2.clone())
            },
            city: address.city.clone(),
            postal_code: address.postal_code.clone(),
            country: address.country.clone(),
            is_default: address.is_default,
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct User {
    pub id: async_graphql::ID,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub addresses: Vec<Address>,
}

impl User {
    pub fn from_wire(wire: &user::User) -> Self {
        User {
            id: wire.id.clone().into(),
            email: wire.email.clone(),
            name: wire.name.clone(),
            role: if wire.role == user::Role::Admin as i32 {
                Role::Admin
            } else {
                Role::Customer
            },
            addresses: wire.addresses.iter().map(Address::from_wire).collect(),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct AuthPayload {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i32,
    pub user: User,
}

/// One line of a cart: the book is read from the catalog (batched), priced now.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct CartItem {
    #[graphql(skip)]
    pub book_id: String,
    pub quantity: i32,
}

#[ComplexObject]
impl CartItem {
    async fn book(&self, context: &Context<'_>) -> async_graphql::Result<Book> {
        load_book(context, &self.book_id)
            .await?
            .ok_or_else(|| super::errors::error("NOT_FOUND", "this book is no longer sold"))
    }

    async fn line_total(&self, context: &Context<'_>) -> async_graphql::Result<Money> {
        let book = self.book(context).await?;
        let price = Money::from_wire(book.0.price.as_ref());
        Ok(Money::new(
            price.amount * i64::from(self.quantity),
            &price.currency,
        ))
    }
}

/// The caller's cart.
#[derive(Debug, Clone)]
pub struct Cart(pub Vec<CartItem>);

#[Object]
impl Cart {
    async fn items(&self) -> &[CartItem] {
        &self.0
    }

    async fn total_quantity(&self) -> i32 {
        self.0.iter().map(|item| item.quantity).sum()
    }

    /// Sum of line totals at today's catalog prices (one batched catalog call).
    async fn subtotal(&self, context: &Context<'_>) -> async_graphql::Result<Money> {
        let loaders = context.data::<Loaders>()?;
        let ids: Vec<String> = self.0.iter().map(|item| item.book_id.clone()).collect();
        let books = loaders.books.load_many(ids).await.map_err(|error| error.0)?;
        let mut amount = 0;
        let mut currency = String::from("USD");
        for item in &self.0 {
            if let Some(book) = books.get(&item.book_id) {
                let price = Money::from_wire(book.price.as_ref());
                amount += price.amount * i64::from(item.quantity);
                currency = price.currency;
            }
        }
        Ok(Money::new(amount, &currency))
    }
}

impl Cart {
    pub fn from_wire(cart: Option<proto::cart::v1::Cart>) -> Self {
        Cart(
            cart.unwrap_or_default()
                .lines
                .into_iter()
                .map(|line| CartItem {
                    book_id: line.book_id,
                    quantity: line.quantity,
                })
                .collect(),
        )
    }
}

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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::Money;

    /// The amount a formatted price shows, read back: digits without the separator.
    fn shown(formatted: &str) -> u64 {
        let digits: String = formatted.chars().filter(char::is_ascii_digit).collect();
        digits.parse().unwrap()
    }

    #[test]
    fn prices_read_as_people_write_them() {
        assert_eq!(Money::new(1999, "USD").formatted, "$19.99");
        assert_eq!(Money::new(-5, "EUR").formatted, "-€0.05");
        assert_eq!(Money::new(1200, "JPY").formatted, "1200 JPY");
        assert_eq!(Money::new(i64::MIN, "GBP").formatted, "-£92233720368547758.08");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn any_amount_formats_to_the_same_amount(
            amount in any::<i64>(),
            currency in prop_oneof![Just("USD".to_owned()), Just("JPY".to_owned()), "[A-Z]{3}", "[^0-9]{0,8}"],
        ) {
            let money = Money::new(amount, &currency);
            prop_assert_eq!(money.amount, amount);
            prop_assert_eq!(money.formatted.starts_with('-'), amount < 0);
            let without_currency = money.formatted.replace(currency.as_str(), "");
            prop_assert_eq!(shown(&without_currency), amount.unsigned_abs());
        }
    }
}
