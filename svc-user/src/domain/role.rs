//! The roles a user account can hold.

use platform::auth::Role;

/// CUSTOMER or ADMIN; SERVICE belongs to service clients, never to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRole {
    Customer,
    Admin,
}

impl UserRole {
    /// Returns the value stored in the `users.role` column.
    pub fn as_str(&self) -> &'static str {
        match self {
            UserRole::Customer => "customer",
            UserRole::Admin => "admin",
        }
    }

    /// Reads the stored column value; anything unknown is a customer, never an admin.
    pub fn from_stored(value: &str) -> UserRole {
        if value == "admin" {
            UserRole::Admin
        } else {
            UserRole::Customer
        }
    }

    /// Returns the role claim of the user's tokens.
    pub fn claim(&self) -> Role {
        match self {
            UserRole::Customer => Role::Customer,
            UserRole::Admin => Role::Admin,
        }
    }
}
