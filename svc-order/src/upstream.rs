//! Calls to the services checkout depends on, each with the channel's deadline. Reads and
//! the inventory calls (idempotent on the order or reservation by contract) are retried on
//! UNAVAILABLE; nothing else is.

use platform::ErrorCode;
use platform::ServiceName;
use platform::client::{MeshChannel, RetryPolicy, retry_idempotent};
use proto::cart::v1 as cart;
use proto::catalog::v1 as catalog;
use proto::common::v1::Address;
use proto::inventory::v1 as inventory;
use proto::types::ShortLine;
use proto::user::v1 as user;
use uuid::Uuid;

use crate::error::{OrderError, OrderResult};

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
        reservation_id: Uuid,
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

fn owner(user: Uuid) -> Option<cart::CartOwner> {
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
    pub async fn cart(&self, user: Uuid) -> OrderResult<Vec<(String, i32)>> {
        let client = cart::cart_service_client::CartServiceClient::new(self.cart.clone());
        let cart = retry_idempotent(RetryPolicy::default(), || {
            let mut client = client.clone();
            async move { client.get_cart(cart::GetCartRequest { owner: owner(user) }).await }
        })
        .await
        .map_err(|status| crate::error::upstream_error("cart", &status))?
        .into_inner()
        .cart
        .unwrap_or_default();
        Ok(cart
            .lines
            .into_iter()
            .map(|line| (line.book_id, line.quantity))
            .collect())
    }

    /// Empties the user's cart after a confirmed order.
    pub async fn clear_cart(&self, user: Uuid) -> OrderResult<()> {
        let client = cart::cart_service_client::CartServiceClient::new(self.cart.clone());
        retry_idempotent(RetryPolicy::default(), || {
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
    pub async fn books(&self, ids: Vec<String>) -> OrderResult<(Vec<catalog::Book>, Vec<String>)> {
        let client = catalog::catalog_service_client::CatalogServiceClient::new(self.catalog.clone());
        let response = retry_idempotent(RetryPolicy::default(), || {
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
        Ok((response.books, response.missing_ids))
    }

    /// One of the user's saved addresses.
    pub async fn address(&self, user: Uuid, address_id: &str) -> OrderResult<Address> {
        let client = user::user_service_client::UserServiceClient::new(self.user.clone());
        let addresses = retry_idempotent(RetryPolicy::default(), || {
            let mut client = client.clone();
            let request = user::ListAddressesRequest {
                user_id: user.to_string(),
            };
            async move { client.list_addresses(request).await }
        })
        .await
        .map_err(|status| match status.code() {
            // No such user in svc-user: then certainly not their address.
            tonic::Code::NotFound => OrderError::from(proto::types::InvalidField::new(
                "address_id",
                "is not one of your addresses",
            )),
            _ => crate::error::upstream_error("user", &status),
        })?
        .into_inner()
        .addresses;
        addresses
            .into_iter()
            .find(|address| address.id == address_id)
            .ok_or_else(|| {
                proto::types::InvalidField::new("address_id", "is not one of your addresses").into()
            })
    }

    fn inventory(&self) -> inventory::inventory_service_client::InventoryServiceClient<MeshChannel> {
        inventory::inventory_service_client::InventoryServiceClient::new(self.inventory.clone())
    }

    /// Holds stock for the order (idempotent on the order id).
    pub async fn reserve(
        &self,
        order: Uuid,
        lines: &[(Uuid, i32)],
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
        match retry_idempotent(RetryPolicy::default(), || {
            let (mut client, request) = (client.clone(), request.clone());
            async move { client.reserve(request).await }
        })
        .await
        {
            Ok(response) => {
                let reservation = response.into_inner().reservation.unwrap_or_default();
                let reservation_id = Uuid::parse_str(&reservation.reservation_id).map_err(|error| {
                    OrderError::Internal(anyhow::anyhow!("inventory sent a bad id: {error}"))
                })?;
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
    pub async fn commit(&self, reservation: Uuid) -> OrderResult<Settled> {
        let client = self.inventory();
        let request = inventory::CommitRequest {
            reservation_id: reservation.to_string(),
        };
        settled(
            retry_idempotent(RetryPolicy::default(), || {
                let (mut client, request) = (client.clone(), request.clone());
                async move { client.commit(request).await }
            })
            .await,
            "inventory",
        )
    }

    /// Gives the order's held stock back, or fences the order off when it never reserved
    /// (idempotent).
    pub async fn release(&self, order: Uuid, reason: &str) -> OrderResult<Settled> {
        let client = self.inventory();
        let request = inventory::ReleaseRequest {
            target: Some(inventory::release_request::Target::OrderId(order.to_string())),
            reason: reason.to_owned(),
        };
        settled(
            retry_idempotent(RetryPolicy::default(), || {
                let (mut client, request) = (client.clone(), request.clone());
                async move { client.release(request).await }
            })
            .await,
            "inventory",
        )
    }

    /// Returns a cancelled order's books to stock (idempotent per order and book).
    pub async fn restock(&self, order: Uuid, book: Uuid, quantity: i32) -> OrderResult<()> {
        let client = self.inventory();
        let request = inventory::RestockRequest {
            book_id: book.to_string(),
            quantity: i64::from(quantity),
            reason: "order_cancelled".to_owned(),
            order_id: Some(order.to_string()),
        };
        retry_idempotent(RetryPolicy::default(), || {
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
