//! Carts: lines whose books and prices are read from the catalog when shown.

use async_graphql::{ComplexObject, Context, Object, SimpleObject};

use super::{Book, Money, load_book};
use crate::graphql::loaders::Loaders;

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
            .ok_or_else(|| crate::graphql::errors::error("NOT_FOUND", "this book is no longer sold"))
    }

    async fn line_total(&self, context: &Context<'_>) -> async_graphql::Result<Money> {
        let book = self.book(context).await?;
        let price = Money::from_wire(book.0.price.as_ref(), &format_args!("book {}", book.0.id))?;
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
                let price = Money::from_wire(book.price.as_ref(), &format_args!("book {}", book.id))?;
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
