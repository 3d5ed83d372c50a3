//! Admin mutations: the catalog, stock and fulfilment. Services enforce the admin role too;
//! checking it here first gives a clear FORBIDDEN without a round trip.

use async_graphql::{Context, ID, InputObject, Object, Result};
use proto::catalog::v1 as catalog;
use proto::inventory::v1 as inventory;

use super::caller::Caller;
use super::errors::from_status;
use super::types::{Availability, Book, Order, OrderStatus};
use super::upstreams;

#[derive(Debug, Clone, InputObject)]
pub struct BookInput {
    pub isbn: String,
    pub title: String,
    pub authors: Vec<String>,
    pub topics: Vec<String>,
    pub description: Option<String>,
    pub published_year: Option<i32>,
    /// Minor units.
    pub price: i32,
    /// Empty or absent: the catalog's default currency.
    pub currency: Option<String>,
}

impl BookInput {
    fn to_wire(&self) -> catalog::BookInput {
        catalog::BookInput {
            isbn: self.isbn.clone(),
            title: self.title.clone(),
            authors: self.authors.clone(),
            topics: self.topics.clone(),
            description: self.description.clone().unwrap_or_default(),
            published_year: self.published_year,
            price: Some(proto::common::v1::Money {
                amount_minor: i64::from(self.price),
                currency: self.currency.clone().unwrap_or_default(),
            }),
            ..catalog::BookInput::default()
        }
    }
}

/// Drops a book this request changed from the catalogue cache, when it is on.
fn forget_book(context: &Context<'_>, id: &str) {
    if let Some(cache) = context.data_opt::<crate::cache::CatalogCache>() {
        cache.book_changed(Some(id));
    }
}

/// Drops the availability of a book this request restocked, when the cache is on.
fn forget_stock(context: &Context<'_>, id: &str) {
    if let Some(cache) = context.data_opt::<crate::cache::CatalogCache>() {
        cache.forget_stock(id);
    }
}

#[derive(Debug, Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    async fn create_book(&self, context: &Context<'_>, input: BookInput) -> Result<Book> {
        let caller = Caller::of(context)?;
        caller.admin()?;
        let request = caller.request(catalog::CreateBookRequest {
            book: Some(input.to_wire()),
        });
        let response = upstreams(context)?
            .catalog()
            .create_book(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner();
        let book = response.book.unwrap_or_default();
        // This replica shows its own writes at once; the others hear the book event.
        forget_book(context, &book.id);
        Ok(Book(std::sync::Arc::new(book)))
    }

    async fn update_book(&self, context: &Context<'_>, id: ID, input: BookInput) -> Result<Book> {
        let caller = Caller::of(context)?;
        caller.admin()?;
        let request = caller.request(catalog::UpdateBookRequest {
            book_id: id.to_string(),
            book: Some(input.to_wire()),
        });
        let response = upstreams(context)?
            .catalog()
            .update_book(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner();
        forget_book(context, &id);
        Ok(Book(std::sync::Arc::new(response.book.unwrap_or_default())))
    }

    async fn delete_book(&self, context: &Context<'_>, id: ID) -> Result<bool> {
        let caller = Caller::of(context)?;
        caller.admin()?;
        let request = caller.request(catalog::DeleteBookRequest {
            book_id: id.to_string(),
        });
        upstreams(context)?
            .catalog()
            .delete_book(request)
            .await
            .map_err(|status| from_status(&status))?;
        forget_book(context, &id);
        Ok(true)
    }

    async fn set_stock(&self, context: &Context<'_>, book_id: ID, on_hand: i32) -> Result<Availability> {
        let caller = Caller::of(context)?;
        caller.admin()?;
        let request = caller.request(inventory::SetStockRequest {
            book_id: book_id.to_string(),
            on_hand: i64::from(on_hand),
            reason: String::new(),
        });
        let response = upstreams(context)?
            .inventory()
            .set_stock(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner();
        forget_stock(context, &book_id);
        Ok(Availability::from_wire(&response.stock.unwrap_or_default()))
    }

    async fn restock(&self, context: &Context<'_>, book_id: ID, quantity: i32) -> Result<Availability> {
        let caller = Caller::of(context)?;
        caller.admin()?;
        let request = caller.request(inventory::RestockRequest {
            book_id: book_id.to_string(),
            quantity: i64::from(quantity),
            reason: "delivery".to_owned(),
            order_id: None,
        });
        let response = upstreams(context)?
            .inventory()
            .restock(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner();
        forget_stock(context, &book_id);
        Ok(Availability::from_wire(&response.stock.unwrap_or_default()))
    }

    async fn update_order_status(&self, context: &Context<'_>, id: ID, status: OrderStatus) -> Result<Order> {
        let caller = Caller::of(context)?;
        caller.admin()?;
        let request = caller.request(proto::order::v1::UpdateOrderStatusRequest {
            order_id: id.to_string(),
            status: status.to_wire().into(),
            note: String::new(),
        });
        let response = upstreams(context)?
            .order()
            .update_order_status(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner();
        Order::from_wire(response.order.as_ref())
    }
}
