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

    /// Reads the stored column value.
    ///
    /// # Errors
    /// A value that is neither role is an internal error naming it: guessing would either
    /// grant admin or silently demote one.
    pub fn from_stored(value: &str) -> anyhow::Result<UserRole> {
        match value {
            "customer" => Ok(UserRole::Customer),
            "admin" => Ok(UserRole::Admin),
            other => anyhow::bail!("stored role `{other}` is neither customer nor admin"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_roles_read_back_and_an_unknown_one_is_an_error() {
        for role in [UserRole::Customer, UserRole::Admin] {
            assert_eq!(UserRole::from_stored(role.as_str()).unwrap(), role);
        }
        let error = UserRole::from_stored("superuser").unwrap_err();
        assert!(error.to_string().contains("superuser"), "{error}");
    }
}
