//! Who may call each RPC of `bookstore.inventory.v1.InventoryService`; [`platform::auth::AuthLayer`] enforces it
//! before any handler runs. Ownership ("their own") is checked by the handler.

use platform::ServiceName;
use platform::auth::{Access, PolicyTable};
use proto::inventory::v1::inventory_service_server::InventoryServiceServer;
use tonic::server::NamedService;

/// The fully qualified gRPC service name, as the generated server names it.
pub const SERVICE: &str = <InventoryServiceServer<crate::grpc::InventoryGrpc> as NamedService>::NAME;

/// Returns the access rule of every RPC in the contract.
pub fn policies() -> PolicyTable {
    PolicyTable::new()
        .rpc(SERVICE, "GetStock", Access::AUTHENTICATED)
        .rpc(SERVICE, "BatchGetStock", Access::AUTHENTICATED)
        .rpc(
            SERVICE,
            "Reserve",
            Access::services(&[ServiceName::Order]).or_admin(),
        )
        .rpc(
            SERVICE,
            "Commit",
            Access::services(&[ServiceName::Order]).or_admin(),
        )
        .rpc(
            SERVICE,
            "Release",
            Access::services(&[ServiceName::Order]).or_admin(),
        )
        .rpc(SERVICE, "SetStock", Access::ADMIN)
        .rpc(
            SERVICE,
            "Restock",
            Access::ADMIN.or_services(&[ServiceName::Order]),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rpc_in_the_contract_declares_who_may_call_it() {
        assert_eq!(policies().missing_rpcs(SERVICE), Ok(Vec::<String>::new()));
    }
}
