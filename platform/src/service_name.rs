//! The one list of the mesh's services.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A process the `bookstore` binary can run; also the JWT audience and service-token subject
/// of each gRPC service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceName {
    User,
    Catalog,
    Cart,
    Order,
    Inventory,
    Bff,
}

impl ServiceName {
    /// Returns every service, gRPC services first, the BFF last.
    pub fn all() -> [ServiceName; 6] {
        [
            ServiceName::User,
            ServiceName::Catalog,
            ServiceName::Cart,
            ServiceName::Order,
            ServiceName::Inventory,
            ServiceName::Bff,
        ]
    }

    /// Returns the five gRPC services (everything but the BFF).
    pub fn grpc_services() -> [ServiceName; 5] {
        [
            ServiceName::User,
            ServiceName::Catalog,
            ServiceName::Cart,
            ServiceName::Order,
            ServiceName::Inventory,
        ]
    }

    /// Returns the lowercase name used on the command line, in config keys and in tokens.
    pub fn as_str(&self) -> &'static str {
        match self {
            ServiceName::User => "user",
            ServiceName::Catalog => "catalog",
            ServiceName::Cart => "cart",
            ServiceName::Order => "order",
            ServiceName::Inventory => "inventory",
            ServiceName::Bff => "bff",
        }
    }

    /// Returns the fully qualified gRPC service name that tonic-health reports on, as the
    /// generated server names it (`NamedService::NAME`).
    pub fn grpc_name(&self) -> &'static str {
        use proto::cart::v1::cart_service_server::CartServiceServer;
        use proto::catalog::v1::catalog_service_server::CatalogServiceServer;
        use proto::inventory::v1::inventory_service_server::InventoryServiceServer;
        use proto::order::v1::order_service_server::OrderServiceServer;
        use proto::user::v1::user_service_server::UserServiceServer;
        use tonic::server::NamedService;
        match self {
            ServiceName::User => <UserServiceServer<()> as NamedService>::NAME,
            ServiceName::Catalog => <CatalogServiceServer<()> as NamedService>::NAME,
            ServiceName::Cart => <CartServiceServer<()> as NamedService>::NAME,
            ServiceName::Order => <OrderServiceServer<()> as NamedService>::NAME,
            ServiceName::Inventory => <InventoryServiceServer<()> as NamedService>::NAME,
            // Not a gRPC service: the name only labels the BFF's own health.
            ServiceName::Bff => "bookstore.bff",
        }
    }

    /// Returns the services this one calls: the audiences its service tokens need.
    pub fn callees(&self) -> &'static [ServiceName] {
        match self {
            ServiceName::User | ServiceName::Catalog => &[],
            ServiceName::Cart | ServiceName::Inventory => &[ServiceName::Catalog],
            ServiceName::Order => &[
                ServiceName::User,
                ServiceName::Catalog,
                ServiceName::Cart,
                ServiceName::Inventory,
            ],
            ServiceName::Bff => &[
                ServiceName::User,
                ServiceName::Catalog,
                ServiceName::Cart,
                ServiceName::Order,
                ServiceName::Inventory,
            ],
        }
    }

    /// Returns the port `bookstore up` listens on by default.
    pub fn default_port(&self) -> u16 {
        match self {
            ServiceName::User => 50051,
            ServiceName::Catalog => 50052,
            ServiceName::Cart => 50053,
            ServiceName::Order => 50054,
            ServiceName::Inventory => 50055,
            ServiceName::Bff => 8080,
        }
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A name that is not one of the mesh's services.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown service `{0}`, expected one of: user, catalog, cart, order, inventory, bff")]
pub struct UnknownService(pub String);

impl FromStr for ServiceName {
    type Err = UnknownService;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        for service in ServiceName::all() {
            if service.as_str() == value {
                return Ok(service);
            }
        }
        Err(UnknownService(value.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips_and_unknown_names_list_the_valid_ones() {
        for service in ServiceName::all() {
            assert_eq!(service.as_str().parse::<ServiceName>().unwrap(), service);
        }
        let error = "payments".parse::<ServiceName>().unwrap_err();
        assert!(
            error
                .to_string()
                .contains("user, catalog, cart, order, inventory, bff")
        );
    }
}
