//! Calls to the services checkout depends on, each with the channel's deadline. Reads and
//! the inventory calls (idempotent on the order or reservation by contract) are retried on
//! UNAVAILABLE; nothing else is. The client side of the wire: the only place besides
//! `grpc.rs` that reads or builds protobuf messages.

use platform::ErrorCode;
use platform::ServiceName;
use platform::client::{MeshChannel, RetryPolicy, retry_idempotent};
use proto::cart::v1 as cart;
use proto::catalog::v1 as catalog;
use proto::inventory::v1 as inventory;
use proto::types::{BookId, InvalidField, Money, OrderId, ReservationId, ShortLine, UserId};
use proto::user::v1 as user;
use uuid::Uuid;

use crate::domain::order::ShippingAddress;
use crate::error::{OrderError, OrderResult};

/// A book as the catalog sells it now: what checkout prices a line with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedBook {
    pub id: BookId,
    pub title: String,
    pub price: Money,
}

/// An answer from another service that breaks its contract: internal.
fn bad_answer(service: &str, error: &dyn std::fmt::Display) -> OrderError {
    OrderError::Internal(anyhow::anyhow!("{service} sent a bad answer: {error}"))
}

/// The mesh services svc-order calls.
#[derive(Debug, Clone)]
pub struct Upstreams {
    pub cart: MeshChannel,
    pub catalog: MeshChannel,
    pub inventory: MeshChannel,
    pub user: MeshChannel,
}

/// What Reserve answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserved {
    Held {
        reservation_id: ReservationId,
    },
    Short {
        lines: Vec<ShortLine>,
    },
    /// The order's reservation was released (or fenced off) before: it cannot hold stock.
    Refused,
}

/// What Commit or Release found when the reservation was already past that point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Done,
    /// Commit: the reservation was released or expired. Release: it was committed.
    WrongState,
}

fn owner(user: UserId) -> Option<cart::CartOwner> {
    Some(cart::CartOwner {
        owner: Some(cart::cart_owner::Owner::UserId(user.to_string())),
    })
}

fn settled<T>(result: Result<T, tonic::Status>, service: &'static str) -> OrderResult<Settled> {
    match result {
        Ok(_) => Ok(Settled::Done),
        Err(status) if status.code() == tonic::Code::FailedPrecondition => Ok(Settled::WrongState),
        Err(status) => Err(crate::error::upstream_error(service, &status)),
    }
}

impl Upstreams {
    /// The user's cart lines: (book id, quantity).
    pub async fn cart(&self, user: UserId) -> OrderResult<Vec<(BookId, i32)>> {
        let client = cart::cart_service_client::CartServiceClient::new(self.cart.clone());
        let cart = retry_idempotent(self.cart.budget(), RetryPolicy::default(), || {
            let mut client = client.clone();
            async move { client.get_cart(cart::GetCartRequest { owner: owner(user) }).await }
        })
        .await
        .map_err(|status| crate::error::upstream_error("cart", &status))?
        .into_inner()
        .cart
        .unwrap_or_default();
        cart.lines
            .into_iter()
            .map(|line| {
                let book =
                    BookId::parse("book_id", &line.book_id).map_err(|error| bad_answer("cart", &error))?;
                Ok((book, line.quantity))
            })
            .collect()
    }

    /// Empties the user's cart after a confirmed order.
    pub async fn clear_cart(&self, user: UserId) -> OrderResult<()> {
        let client = cart::cart_service_client::CartServiceClient::new(self.cart.clone());
        retry_idempotent(self.cart.budget(), RetryPolicy::default(), || {
            let mut client = client.clone();
            async move {
                client
                    .clear_cart(cart::ClearCartRequest { owner: owner(user) })
                    .await
            }
        })
        .await
        .map_err(|status| crate::error::upstream_error("cart", &status))?;
        Ok(())
    }

    /// The books as the catalog sells them now, and the ids it no longer has.
    pub async fn books(&self, ids: &[BookId]) -> OrderResult<(Vec<PricedBook>, Vec<String>)> {
        let ids: Vec<String> = ids.iter().map(BookId::to_string).collect();
        let client = catalog::catalog_service_client::CatalogServiceClient::new(self.catalog.clone());
        let response = retry_idempotent(self.catalog.budget(), RetryPolicy::default(), || {
            let (mut client, book_ids) = (client.clone(), ids.clone());
            async move {
                client
                    .batch_get_books(catalog::BatchGetBooksRequest { book_ids })
                    .await
            }
        })
        .await
        .map_err(|status| crate::error::upstream_error("catalog", &status))?
        .into_inner();
        let mut books = Vec::new();
        for book in response.books {
            books.push(PricedBook {
                id: BookId::parse("id", &book.id).map_err(|error| bad_answer("catalog", &error))?,
                price: Money::from_wire("price", book.price.as_ref())
                    .map_err(|error| bad_answer("catalog", &error))?,
                title: book.title,
            });
        }
        Ok((books, response.missing_ids))
    }

    /// One of the user's saved addresses.
    pub async fn address(&self, user: UserId, address_id: Uuid) -> OrderResult<ShippingAddress> {
        let client = user::user_service_client::UserServiceClient::new(self.user.clone());
        let addresses = retry_idempotent(self.user.budget(), RetryPolicy::default(), || {
            let mut client = client.clone();
            let request = user::ListAddressesRequest {
                user_id: user.to_string(),
            };
            async move { client.list_addresses(request).await }
        })
        .await
        .map_err(|status| match status.code() {
            // No such user in svc-user: then certainly not their address.
            tonic::Code::NotFound => {
                OrderError::from(InvalidField::new("address_id", "is not one of your addresses"))
            }
            _ => crate::error::upstream_error("user", &status),
        })?
        .into_inner()
        .addresses;
        let address = addresses
            .into_iter()
            .find(|address| address.id == address_id.to_string())
            .ok_or_else(|| {
                OrderError::from(InvalidField::new("address_id", "is not one of your addresses"))
            })?;
        Ok(ShippingAddress {
            line1: address.line1,
            line2: address.line2,
            city: address.city,
            postal_code: address.postal_code,
            country: address.country,
        })
    }

    fn inventory(&self) -> inventory::inventory_service_client::InventoryServiceClient<MeshChannel> {
        inventory::inventory_service_client::InventoryServiceClient::new(self.inventory.clone())
    }

    /// Holds stock for the order (idempotent on the order id).
    pub async fn reserve(
        &self,
        order: OrderId,
        lines: &[(BookId, i32)],
        ttl_seconds: i32,
    ) -> OrderResult<Reserved> {
        let client = self.inventory();
        let request = inventory::ReserveRequest {
            order_id: order.to_string(),
            lines: lines
                .iter()
                .map(|(book, quantity)| inventory::ReserveLine {
                    book_id: book.to_string(),
                    quantity: *quantity,
                })
                .collect(),
            ttl_seconds,
        };
        match retry_idempotent(self.inventory.budget(), RetryPolicy::default(), || {
            let (mut client, request) = (client.clone(), request.clone());
            async move { client.reserve(request).await }
        })
        .await
        {
            Ok(response) => {
                let reservation = response.into_inner().reservation.unwrap_or_default();
                let reservation_id = ReservationId::parse("reservation_id", &reservation.reservation_id)
                    .map_err(|error| bad_answer("inventory", &error))?;
                Ok(Reserved::Held { reservation_id })
            }
            Err(status) if ErrorCode::from_status(&status) == ErrorCode::OutOfStock => {
                let lines = platform::error_code::short_lines(&status)
                    .iter()
                    .map(ShortLine::from_wire)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|error| {
                        OrderError::Internal(anyhow::anyhow!("inventory sent a bad short line: {error}"))
                    })?;
                Ok(Reserved::Short { lines })
            }
            Err(status) if status.code() == tonic::Code::FailedPrecondition => Ok(Reserved::Refused),
            Err(status) => Err(crate::error::upstream_error("inventory", &status)),
        }
    }

    /// Turns the reservation into a sale (idempotent).
    pub async fn commit(&self, reservation: ReservationId) -> OrderResult<Settled> {
        let client = self.inventory();
        let request = inventory::CommitRequest {
            reservation_id: reservation.to_string(),
        };
        settled(
            retry_idempotent(self.inventory.budget(), RetryPolicy::default(), || {
                let (mut client, request) = (client.clone(), request.clone());
                async move { client.commit(request).await }
            })
            .await,
            "inventory",
        )
    }

    /// Gives the order's held stock back, or fences the order off when it never reserved
    /// (idempotent).
    pub async fn release(&self, order: OrderId, reason: &str) -> OrderResult<Settled> {
        let client = self.inventory();
        let request = inventory::ReleaseRequest {
            target: Some(inventory::release_request::Target::OrderId(order.to_string())),
            reason: reason.to_owned(),
        };
        settled(
            retry_idempotent(self.inventory.budget(), RetryPolicy::default(), || {
                let (mut client, request) = (client.clone(), request.clone());
                async move { client.release(request).await }
            })
            .await,
            "inventory",
        )
    }

    /// Returns a cancelled order's books to stock (idempotent per order and book).
    pub async fn restock(&self, order: OrderId, book: BookId, quantity: i32) -> OrderResult<()> {
        let client = self.inventory();
        let request = inventory::RestockRequest {
            book_id: book.to_string(),
            quantity: i64::from(quantity),
            reason: "order_cancelled".to_owned(),
            order_id: Some(order.to_string()),
        };
        retry_idempotent(self.inventory.budget(), RetryPolicy::default(), || {
            let (mut client, request) = (client.clone(), request.clone());
            async move { client.restock(request).await }
        })
        .await
        .map_err(|status| crate::error::upstream_error("inventory", &status))?;
        Ok(())
    }
}

/// The services this one calls.
pub const CALLEES: [ServiceName; 4] = [
    ServiceName::Cart,
    ServiceName::Catalog,
    ServiceName::Inventory,
    ServiceName::User,
];
