//! svc-user's refusals. The failures every service shares (bad input, not found, internal)
//! and the one mapping to `tonic::Status` are `platform::error`'s.

use std::time::Duration;

use platform::ErrorCode;
use platform::error::{Detail, Refusal, ServiceError};
use platform::store::{StoreError, Violation};

/// What only svc-user refuses with.
#[derive(Debug, thiserror::Error)]
pub enum UserRefusal {
    #[error("{0}")]
    AlreadyExists(&'static str),
    /// A wrong email and a wrong password look exactly alike.
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("invalid or expired refresh token")]
    InvalidRefreshToken,
    #[error("invalid client credentials")]
    InvalidClientCredentials,
    #[error("too many failed logins, retry in {} s", retry_after.as_secs())]
    Throttled { retry_after: Duration },
    #[error("{0}")]
    PermissionDenied(&'static str),
    #[error("{0}")]
    Unavailable(&'static str),
    /// Every place in the password hashing queue is taken.
    #[error("too many password checks at once, retry in {} s", retry_after.as_secs())]
    Busy { retry_after: Duration },
}

/// Every error of svc-user.
pub type UserError = ServiceError<UserRefusal>;

/// The result of every operation of svc-user.
pub type UserResult<T> = Result<T, UserError>;

impl Refusal for UserRefusal {
    fn error_code(&self) -> ErrorCode {
        match self {
            UserRefusal::AlreadyExists(_) => ErrorCode::Conflict,
            UserRefusal::InvalidCredentials
            | UserRefusal::InvalidRefreshToken
            | UserRefusal::InvalidClientCredentials => ErrorCode::Unauthenticated,
            UserRefusal::Throttled { .. } | UserRefusal::Busy { .. } => ErrorCode::Throttled,
            UserRefusal::PermissionDenied(_) => ErrorCode::Forbidden,
            UserRefusal::Unavailable(_) => ErrorCode::Unavailable,
        }
    }

    fn detail(&self) -> Detail<'_> {
        match self {
            UserRefusal::Throttled { retry_after } | UserRefusal::Busy { retry_after } => {
                Detail::RetryAfter(*retry_after)
            }
            _ => Detail::None,
        }
    }

    fn violated(violation: Violation, error: StoreError) -> UserError {
        match violation {
            Violation::Unique => UserRefusal::AlreadyExists(error.what()).into(),
            Violation::ForeignKey => UserError::NotFound { entity: "user" },
        }
    }
}
