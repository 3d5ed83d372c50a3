//! The BFF's channels to the five gRPC services, and typed clients over them.

use std::sync::Arc;

use platform::ServiceName;
use platform::client::{ClientError, MeshChannel};
use platform::server::ServeContext;
use proto::cart::v1::cart_service_client::CartServiceClient;
use proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use proto::order::v1::order_service_client::OrderServiceClient;
use proto::user::v1::user_service_client::UserServiceClient;

/// One lazily connecting channel per upstream service. Calls carry the BFF's service token
/// unless the request already carries the end user's. Clones share the channels (every
/// request and loader holds one: a clone is one reference count).
#[derive(Debug, Clone)]
pub struct Upstreams {
    channels: Arc<Channels>,
}

#[derive(Debug)]
struct Channels {
    user: MeshChannel,
    catalog: MeshChannel,
    cart: MeshChannel,
    order: MeshChannel,
    inventory: MeshChannel,
}

impl Upstreams {
    /// Builds a channel to every gRPC service, carrying the BFF's tokens.
    ///
    /// # Errors
    /// Returns [`ClientError`] naming the service whose endpoints are missing or invalid.
    pub fn new(context: &ServeContext) -> Result<Self, ClientError> {
        Ok(Self {
            channels: Arc::new(Channels {
                user: context.channel(ServiceName::User)?,
                catalog: context.channel(ServiceName::Catalog)?,
                cart: context.channel(ServiceName::Cart)?,
                order: context.channel(ServiceName::Order)?,
                inventory: context.channel(ServiceName::Inventory)?,
            }),
        })
    }

    /// Returns every channel, one per gRPC service.
    pub fn all(&self) -> [&MeshChannel; 5] {
        [
            &self.channels.user,
            &self.channels.catalog,
            &self.channels.cart,
            &self.channels.order,
            &self.channels.inventory,
        ]
    }

    pub fn user(&self) -> UserServiceClient<MeshChannel> {
        UserServiceClient::new(self.channels.user.clone())
    }

    pub fn catalog(&self) -> CatalogServiceClient<MeshChannel> {
        CatalogServiceClient::new(self.channels.catalog.clone())
    }

    pub fn cart(&self) -> CartServiceClient<MeshChannel> {
        CartServiceClient::new(self.channels.cart.clone())
    }

    pub fn order(&self) -> OrderServiceClient<MeshChannel> {
        OrderServiceClient::new(self.channels.order.clone())
    }

    pub fn inventory(&self) -> InventoryServiceClient<MeshChannel> {
        InventoryServiceClient::new(self.channels.inventory.clone())
    }
}
