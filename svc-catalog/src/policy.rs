//! Who may call each RPC of `bookstore.catalog.v1.CatalogService`; [`platform::auth::AuthLayer`] enforces it
//! before any handler runs. Ownership ("their own") is checked by the handler.

use platform::auth::{Access, PolicyTable};
use proto::catalog::v1::catalog_service_server::CatalogServiceServer;
use tonic::server::NamedService;

/// The fully qualified gRPC service name, as the generated server names it.
pub const SERVICE: &str = <CatalogServiceServer<crate::grpc::CatalogGrpc> as NamedService>::NAME;

/// Returns the access rule of every RPC in the contract.
pub fn policies() -> PolicyTable {
    PolicyTable::new()
        .rpc(SERVICE, "GetBook", Access::AUTHENTICATED)
        .rpc(SERVICE, "BatchGetBooks", Access::AUTHENTICATED)
        .rpc(SERVICE, "GetBookByIsbn", Access::AUTHENTICATED)
        .rpc(SERVICE, "SearchBooks", Access::AUTHENTICATED)
        .rpc(SERVICE, "ListTopics", Access::AUTHENTICATED)
        .rpc(SERVICE, "CreateBook", Access::ADMIN)
        .rpc(SERVICE, "UpdateBook", Access::ADMIN)
        .rpc(SERVICE, "DeleteBook", Access::ADMIN)
        .rpc(SERVICE, "ImportBooks", Access::ADMIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rpc_in_the_contract_declares_who_may_call_it() {
        assert_eq!(policies().missing_rpcs(SERVICE), Ok(Vec::<String>::new()));
    }
}
