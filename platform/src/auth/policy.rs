//! Who may call each RPC. Each service declares a [`PolicyTable`]; [`super::AuthLayer`]
//! enforces it before the handler runs, failing closed for any method it does not list.

use std::collections::HashMap;

use crate::ServiceName;

use super::{Principal, Role};

/// The callers one RPC accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    anonymous: bool,
    customers: bool,
    admins: bool,
    any_service: bool,
    services: &'static [ServiceName],
}

/// Why a caller was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No token, and the RPC needs one.
    Unauthenticated,
    /// A valid token whose holder may not call this RPC.
    Forbidden,
}

impl Access {
    /// Anyone, with or without a token (health, login, key set).
    pub const PUBLIC: Access = Access {
        anonymous: true,
        customers: true,
        admins: true,
        any_service: true,
        services: &[],
    };

    /// Any verified user or service.
    pub const AUTHENTICATED: Access = Access {
        anonymous: false,
        customers: true,
        admins: true,
        any_service: true,
        services: &[],
    };

    /// Any signed-in user; the handler checks that they own what they touch (admins may
    /// touch anyone's).
    pub const OWNER: Access = Access {
        anonymous: false,
        customers: true,
        admins: true,
        any_service: false,
        services: &[],
    };

    /// Admin users only.
    pub const ADMIN: Access = Access {
        anonymous: false,
        customers: false,
        admins: true,
        any_service: false,
        services: &[],
    };

    /// Only the named mesh services.
    pub const fn services(services: &'static [ServiceName]) -> Access {
        Access {
            anonymous: false,
            customers: false,
            admins: false,
            any_service: false,
            services,
        }
    }

    /// Also accepts the named mesh services. Name them all in one call: a rule holds one
    /// list (a second call would replace it, so it is refused).
    pub const fn or_services(self, services: &'static [ServiceName]) -> Access {
        assert!(
            self.services.is_empty(),
            "or_services takes the whole list at once"
        );
        Access { services, ..self }
    }

    /// Also accepts admin users.
    pub const fn or_admin(self) -> Access {
        Access { admins: true, ..self }
    }

    /// Decides whether `principal` may call.
    ///
    /// # Errors
    /// Returns [`Denied::Unauthenticated`] for an anonymous caller of a non-public RPC and
    /// [`Denied::Forbidden`] for a verified caller the policy does not list.
    pub fn check(&self, principal: &Principal) -> Result<(), Denied> {
        let allowed = match principal {
            Principal::Anonymous => {
                if !self.anonymous {
                    return Err(Denied::Unauthenticated);
                }
                true
            }
            Principal::User {
                role: Role::Admin, ..
            } => self.admins,
            Principal::User { .. } => self.customers,
            Principal::Service { name } => {
                self.any_service || self.services.iter().any(|service| service.as_str() == name)
            }
        };
        if allowed { Ok(()) } else { Err(Denied::Forbidden) }
    }
}

/// The access rule of every RPC a server exposes, keyed by gRPC path
/// (`/bookstore.inventory.v1.InventoryService/Reserve`).
#[derive(Debug, Clone, Default)]
pub struct PolicyTable {
    rules: HashMap<String, Access>,
}

/// gRPC infrastructure every caller may use without a token (Kubernetes probes, grpcurl).
const PUBLIC_PREFIXES: [&str; 2] = ["/grpc.health.v1.Health/", "/grpc.reflection."];

impl PolicyTable {
    /// Creates an empty table: every RPC but health and reflection is refused.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares the rule for `method` of the fully qualified `grpc_service`.
    pub fn rpc(mut self, grpc_service: &str, method: &str, access: Access) -> Self {
        self.rules.insert(format!("/{grpc_service}/{method}"), access);
        self
    }

    /// Returns the rule for a request path, or `None` when the table does not list it.
    pub fn access(&self, path: &str) -> Option<Access> {
        if PUBLIC_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) {
            return Some(Access::PUBLIC);
        }
        self.rules.get(path).copied()
    }

    /// Merges another table (for a server hosting several services).
    pub fn merge(mut self, other: PolicyTable) -> Self {
        self.rules.extend(other.rules);
        self
    }

    /// Returns the methods of `grpc_service` in the contract that have no rule, so a test
    /// can insist every RPC declares who may call it.
    ///
    /// # Errors
    /// Returns the service name when the contract has no such service (a typo would
    /// otherwise make the check pass vacuously).
    pub fn missing_rpcs(&self, grpc_service: &str) -> Result<Vec<String>, String> {
        let methods = contract_methods(grpc_service);
        if methods.is_empty() {
            return Err(format!("the contract has no service `{grpc_service}`"));
        }
        let mut missing = Vec::new();
        for method in methods {
            if !self.rules.contains_key(&format!("/{grpc_service}/{method}")) {
                missing.push(method);
            }
        }
        Ok(missing)
    }
}

/// Returns the method names of a service as the compiled contract declares them.
pub fn contract_methods(grpc_service: &str) -> Vec<String> {
    use prost::Message as _;
    let Ok(set) = prost_types::FileDescriptorSet::decode(proto::FILE_DESCRIPTOR_SET) else {
        return Vec::new();
    };
    let mut methods = Vec::new();
    for file in set.file {
        for service in &file.service {
            let full_name = format!("{}.{}", file.package(), service.name());
            if full_name == grpc_service {
                methods.extend(service.method.iter().map(|method| method.name().to_owned()));
            }
        }
    }
    methods
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role) -> Principal {
        Principal::User {
            id: proto::types::UserId::generate(),
            role,
            session: None,
        }
    }

    fn service(name: &str) -> Principal {
        Principal::Service {
            name: name.to_owned(),
        }
    }

    #[test]
    fn each_access_rule_admits_exactly_its_callers() {
        let reserve = Access::services(&[ServiceName::Order]).or_admin();
        let cases = [
            (Access::PUBLIC, Principal::Anonymous, Ok(())),
            (
                Access::AUTHENTICATED,
                Principal::Anonymous,
                Err(Denied::Unauthenticated),
            ),
            (Access::AUTHENTICATED, service("outside-erp"), Ok(())),
            (Access::OWNER, user(Role::Customer), Ok(())),
            (Access::OWNER, service("catalog"), Err(Denied::Forbidden)),
            (Access::ADMIN, user(Role::Customer), Err(Denied::Forbidden)),
            (Access::ADMIN, user(Role::Admin), Ok(())),
            (reserve, service("order"), Ok(())),
            (reserve, service("cart"), Err(Denied::Forbidden)),
            (reserve, user(Role::Customer), Err(Denied::Forbidden)),
            (reserve, user(Role::Admin), Ok(())),
        ];
        for (index, (access, principal, expected)) in cases.into_iter().enumerate() {
            assert_eq!(access.check(&principal), expected, "case {index}: {principal:?}");
        }
    }

    #[test]
    fn unlisted_methods_have_no_rule_but_health_and_reflection_are_public() {
        let table = PolicyTable::new().rpc(
            "bookstore.inventory.v1.InventoryService",
            "GetStock",
            Access::AUTHENTICATED,
        );
        assert_eq!(
            table.access("/bookstore.inventory.v1.InventoryService/GetStock"),
            Some(Access::AUTHENTICATED)
        );
        assert_eq!(
            table.access("/bookstore.inventory.v1.InventoryService/Reserve"),
            None
        );
        assert_eq!(table.access("/grpc.health.v1.Health/Check"), Some(Access::PUBLIC));
        assert_eq!(
            table.access("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"),
            Some(Access::PUBLIC)
        );
    }

    #[test]
    fn the_contract_is_read_from_the_descriptor_set() {
        let methods = contract_methods("bookstore.inventory.v1.InventoryService");
        assert!(methods.contains(&"Reserve".to_owned()), "{methods:?}");
        let table = PolicyTable::new().rpc(
            "bookstore.inventory.v1.InventoryService",
            "Reserve",
            Access::ADMIN,
        );
        let missing = table
            .missing_rpcs("bookstore.inventory.v1.InventoryService")
            .unwrap();
        assert!(missing.contains(&"Commit".to_owned()));
        assert!(!missing.contains(&"Reserve".to_owned()));
        assert!(
            table
                .missing_rpcs("bookstore.inventory.v1.InventorySrvice")
                .is_err()
        );
    }
}
