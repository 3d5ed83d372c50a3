//! svc-user's one error type and its one mapping to `tonic::Status`.

use std::time::Duration;

use platform::ErrorCode;
use platform::store::{StoreError, Violation};
use proto::types::InvalidField;
use tonic_types::ErrorDetails;

/// What went wrong, in terms of what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{0}")]
    InvalidArgument(#[from] InvalidField),
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
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
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The result of every operation of svc-user.
pub type UserResult<T> = Result<T, UserError>;

impl UserError {
    /// Returns the mesh-wide code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            UserError::InvalidArgument(_) => ErrorCode::BadUserInput,
            UserError::NotFound { .. } => ErrorCode::NotFound,
            UserError::AlreadyExists(_) => ErrorCode::Conflict,
            UserError::InvalidCredentials
            | UserError::InvalidRefreshToken
            | UserError::InvalidClientCredentials => ErrorCode::Unauthenticated,
            UserError::Throttled { .. } => ErrorCode::Throttled,
            UserError::PermissionDenied(_) => ErrorCode::Forbidden,
            UserError::Unavailable(_) => ErrorCode::Unavailable,
            UserError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<UserError> for tonic::Status {
    fn from(error: UserError) -> Self {
        match &error {
            UserError::InvalidArgument(invalid) => platform::error_code::invalid_field_status(invalid),
            UserError::Throttled { retry_after } => {
                let mut details = ErrorDetails::new();
                details.set_retry_info(Some(*retry_after));
                let mut status = ErrorCode::Throttled.status(error.to_string(), details);
                if let Ok(value) = retry_after.as_secs().to_string().parse() {
                    status.metadata_mut().insert("retry-after", value);
                }
                status
            }
            UserError::Internal(cause) => platform::error_code::internal_status(cause),
            other => other.error_code().status(other.to_string(), ErrorDetails::new()),
        }
    }
}

impl From<StoreError> for UserError {
    fn from(error: StoreError) -> Self {
        match error.violation() {
            Some(Violation::Unique) => UserError::AlreadyExists(error.what()),
            Some(Violation::ForeignKey) => UserError::NotFound { entity: "user" },
            None => UserError::Internal(error.into()),
        }
    }
}
