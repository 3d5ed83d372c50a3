//! Who may call each RPC of `bookstore.user.v1.UserService`; [`platform::auth::AuthLayer`] enforces it
//! before any handler runs. Ownership ("their own") is checked by the handler.

use platform::ServiceName;
use platform::auth::{Access, PolicyTable};
use proto::user::v1::user_service_server::UserServiceServer;
use tonic::server::NamedService;

/// The fully qualified gRPC service name, as the generated server names it.
pub const SERVICE: &str = <UserServiceServer<crate::grpc::UserGrpc> as NamedService>::NAME;

/// Returns the access rule of every RPC in the contract.
pub fn policies() -> PolicyTable {
    PolicyTable::new()
        .rpc(SERVICE, "Register", Access::services(&[ServiceName::Bff]))
        .rpc(SERVICE, "Login", Access::services(&[ServiceName::Bff]))
        .rpc(SERVICE, "Refresh", Access::services(&[ServiceName::Bff]))
        .rpc(SERVICE, "Logout", Access::OWNER.or_services(&[ServiceName::Bff]))
        .rpc(
            SERVICE,
            "GetProfile",
            Access::OWNER.or_services(&[ServiceName::Bff, ServiceName::Order]),
        )
        .rpc(
            SERVICE,
            "BatchGetUsers",
            Access::ADMIN.or_services(&[ServiceName::Bff, ServiceName::Order]),
        )
        .rpc(SERVICE, "UpdateProfile", Access::OWNER)
        .rpc(SERVICE, "AddAddress", Access::OWNER)
        .rpc(
            SERVICE,
            "ListAddresses",
            Access::OWNER.or_services(&[ServiceName::Order]),
        )
        .rpc(SERVICE, "RemoveAddress", Access::OWNER)
        .rpc(SERVICE, "SetRole", Access::ADMIN)
        .rpc(SERVICE, "GetJwks", Access::PUBLIC)
        .rpc(SERVICE, "IssueServiceToken", Access::PUBLIC)
        .rpc(SERVICE, "CreateServiceClient", Access::ADMIN)
        .rpc(SERVICE, "RevokeServiceClient", Access::ADMIN)
        .rpc(SERVICE, "ListServiceClients", Access::ADMIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rpc_in_the_contract_declares_who_may_call_it() {
        assert_eq!(policies().missing_rpcs(SERVICE), Ok(Vec::<String>::new()));
    }
}
