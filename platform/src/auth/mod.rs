//! Who is calling, and may they? JWT verification, per-RPC policies, outgoing service tokens.
//!
//! - [`client_credentials`]: service tokens from svc-user's `IssueServiceToken`.
//! - [`jwks`]: the key set on the wire (`GetJwks`) and keeping a verifier in step with it.
//! - [`keys`]: Ed25519 signing keys (svc-user, and tests) and the verification [`KeySet`].
//! - [`claims`]: the token claims and the [`Verifier`] that turns a token into a [`Principal`].
//! - [`policy`]: who may call each RPC ([`Access`], [`PolicyTable`]).
//! - [`layer`]: [`AuthLayer`], the tower layer every gRPC server runs.
//! - [`token_source`]: [`TokenSource`], cached service tokens for outgoing calls.
//! - `verified`: the tokens a [`Verifier`] already checked, so repeat callers skip the signature.

pub mod claims;
pub mod client_credentials;
pub mod jwks;
pub mod keys;
pub mod layer;
pub mod policy;
pub mod token_source;
mod verified;

pub use claims::{Claims, Verifier, VerifyError};
pub use client_credentials::ClientCredentials;
pub use keys::{KeySet, SigningKey};
pub use layer::AuthLayer;
pub use policy::{Access, PolicyTable};
pub use token_source::{LocalSigner, MintedToken, TokenMinter, TokenSource};

use serde::{Deserialize, Serialize};

use crate::ServiceName;

/// The audience of end-user access tokens: every service of the mesh accepts them.
pub const MESH_AUDIENCE: &str = "bookstore";

/// A user's role, as carried in the `role` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Admin,
    Service,
}

/// The verified caller of an RPC, inserted into request extensions by [`AuthLayer`].
///
/// Handlers read it with [`Principal::of`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No token was presented (only reaches RPCs whose policy is public).
    Anonymous,
    /// An end user, propagated by the BFF; `session` is the token's `sid`, if any.
    User {
        id: proto::types::UserId,
        role: Role,
        session: Option<String>,
    },
    /// One of the mesh's services, or an outside system registered as a service client.
    Service { name: String },
}

impl Principal {
    /// Returns who is calling `request`; the auth layer put it there before the handler
    /// runs (anonymous when no layer did).
    pub fn of<T>(request: &tonic::Request<T>) -> Principal {
        request
            .extensions()
            .get::<Principal>()
            .cloned()
            .unwrap_or(Principal::Anonymous)
    }

    /// Returns true for a user with the admin role.
    pub fn is_admin(&self) -> bool {
        matches!(
            self,
            Principal::User {
                role: Role::Admin,
                ..
            }
        )
    }

    /// Returns the user id when the caller is an end user.
    pub fn user_id(&self) -> Option<proto::types::UserId> {
        match self {
            Principal::User { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// Returns true when the caller is the named mesh service.
    pub fn is_service(&self, service: ServiceName) -> bool {
        matches!(self, Principal::Service { name } if name == service.as_str())
    }
}
