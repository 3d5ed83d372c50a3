//! Who may call each RPC of `bookstore.order.v1.OrderService`; [`platform::auth::AuthLayer`] enforces it
//! before any handler runs. Ownership ("their own") is checked by the handler.

use platform::auth::{Access, PolicyTable};
use proto::order::v1::order_service_server::OrderServiceServer;
use tonic::server::NamedService;

/// The fully qualified gRPC service name, as the generated server names it.
pub const SERVICE: &str = <OrderServiceServer<crate::grpc::OrderGrpc> as NamedService>::NAME;

/// Returns the access rule of every RPC in the contract.
pub fn policies() -> PolicyTable {
    PolicyTable::new()
        .rpc(SERVICE, "PlaceOrder", Access::OWNER)
        .rpc(SERVICE, "GetOrder", Access::OWNER)
        .rpc(SERVICE, "ListOrders", Access::OWNER)
        .rpc(SERVICE, "WatchOrder", Access::OWNER)
        .rpc(SERVICE, "CancelOrder", Access::OWNER)
        .rpc(SERVICE, "UpdateOrderStatus", Access::ADMIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rpc_in_the_contract_declares_who_may_call_it() {
        assert_eq!(policies().missing_rpcs(SERVICE), Ok(Vec::<String>::new()));
    }
}
