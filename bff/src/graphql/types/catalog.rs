//! The catalogue's types: books with their price and availability, topics, book pages.

use async_graphql::{Context, Object, SimpleObject};
use proto::catalog::v1 as catalog;
use proto::common::v1 as common;

use super::PageInfo;
use crate::graphql::errors::broken_answer;
use crate::graphql::loaders::Loaders;

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

    /// Reads the wire money of `what` (`book <id>`, `order <id> total`).
    ///
    /// # Errors
    /// INTERNAL, logged, when there is none: a missing price is never shown as 0.
    pub fn from_wire(
        money: Option<&common::Money>,
        what: &dyn std::fmt::Display,
    ) -> async_graphql::Result<Self> {
        match money {
            Some(money) => Ok(Money::new(money.amount_minor, &money.currency)),
            None => Err(broken_answer(format_args!("{what} has no price"))),
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
        Self::new(stock.available)
    }

    /// From the copies available.
    pub fn new(available: i64) -> Self {
        Availability {
            in_stock: available > 0,
            available: i32::try_from(available).unwrap_or(i32::MAX),
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Topic {
    pub name: String,
    pub book_count: i32,
}

/// A book as the catalog sells it (shared with the catalogue cache).
#[derive(Debug, Clone)]
pub struct Book(pub std::sync::Arc<catalog::Book>);

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

    async fn price(&self) -> async_graphql::Result<Money> {
        Money::from_wire(self.0.price.as_ref(), &format_args!("book {}", self.0.id))
    }

    /// From inventory, batched per request. Null with an UNAVAILABLE error when inventory is
    /// down, so the rest of the page still arrives.
    async fn availability(&self, context: &Context<'_>) -> async_graphql::Result<Option<Availability>> {
        let loaders = context.data::<Loaders>()?;
        loaders
            .availability
            .load_one(self.0.id.clone())
            .await
            .map_err(|error| error.0)
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
    fn a_missing_price_is_an_internal_error_not_zero() {
        let error = Money::from_wire(None, &"book b1").unwrap_err();
        let error = error.into_server_error(async_graphql::Pos::default());
        let code = error
            .extensions
            .and_then(|extensions| extensions.get("code").cloned());
        assert_eq!(code, Some(async_graphql::Value::from("INTERNAL")));
        assert!(
            !error.message.contains("b1"),
            "details stay in the log: {}",
            error.message
        );
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
