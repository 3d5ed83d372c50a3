//! The contract's object types, by area. Wrappers over the gRPC messages resolve their
//! fields lazily, so a field that needs another service (a book's availability, a cart
//! line's book) goes through a DataLoader and costs one batched call per request.

mod account;
mod cart;
mod catalog;
mod orders;

use async_graphql::SimpleObject;

pub use account::{Address, AuthPayload, Role, User};
pub use cart::{Cart, CartItem};
pub use catalog::{Availability, Book, BookConnection, BookEdge, Money, Topic, load_book};
pub use orders::{
    Order, OrderConnection, OrderEdge, OrderEvent, OrderLine, OrderStatus, PaymentMethodKind, PaymentSummary,
};

#[derive(Debug, Clone, SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}
