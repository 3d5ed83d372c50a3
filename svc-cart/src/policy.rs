//! Who may call each RPC of `bookstore.cart.v1.CartService`; [`platform::auth::AuthLayer`] enforces it
//! before any handler runs. Ownership ("their own") is checked by the handler.

use platform::ServiceName;
use platform::auth::{Access, PolicyTable};
use proto::cart::v1::cart_service_server::CartServiceServer;
use tonic::server::NamedService;

/// The fully qualified gRPC service name, as the generated server names it.
pub const SERVICE: &str = <CartServiceServer<crate::grpc::CartGrpc> as NamedService>::NAME;

/// A user's cart by its owner (checked in the handler), a guest cart by the BFF that vouches
/// for the session cookie, any cart of an order's user by svc-order.
const CART_ACCESS: Access = Access::OWNER.or_services(&[ServiceName::Bff, ServiceName::Order]);

/// Returns the access rule of every RPC in the contract.
pub fn policies() -> PolicyTable {
    PolicyTable::new()
        .rpc(SERVICE, "GetCart", CART_ACCESS)
        .rpc(SERVICE, "AddItem", CART_ACCESS)
        .rpc(SERVICE, "SetQuantity", CART_ACCESS)
        .rpc(SERVICE, "RemoveItem", CART_ACCESS)
        .rpc(SERVICE, "ClearCart", CART_ACCESS)
        .rpc(
            SERVICE,
            "MergeCarts",
            Access::OWNER.or_services(&[ServiceName::Bff]),
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
