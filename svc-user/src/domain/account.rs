//! What svc-user answers with: an account and its addresses, a session's tokens, and the
//! service clients. `grpc.rs` turns them into wire messages.

use chrono::{DateTime, Utc};
use proto::types::UserId;
use uuid::Uuid;

use super::UserRole;

/// An account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: UserRole,
    /// Oldest first; empty where a read skips them (batch reads).
    pub addresses: Vec<Address>,
    pub created_at: DateTime<Utc>,
}

/// A stored shipping address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub id: Uuid,
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub postal_code: String,
    pub country: String,
    pub is_default: bool,
}

/// A session's tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    /// Opaque and single use; stored only as its SHA-256.
    pub refresh_token: String,
    pub expires_in_seconds: i64,
}

/// A registered service client, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceClient {
    pub client_id: String,
    pub audiences: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A client just registered: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewServiceClient {
    pub client_id: String,
    pub client_secret: String,
    pub audiences: Vec<String>,
}
