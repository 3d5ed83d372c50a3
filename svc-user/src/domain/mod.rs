//! svc-user's vocabulary: values parsed once from the wire, so `ops/` and `store/` never
//! see a raw string that breaks a rule, and what the service answers with.

pub mod account;
pub mod email;
pub mod name;
pub mod password;
pub mod role;

pub use account::{Account, Address, NewServiceClient, ServiceClient, Tokens};
pub use email::Email;
pub use name::DisplayName;
pub use password::Password;
pub use proto::address::NewAddress;
pub use role::UserRole;
