//! Issuing JWTs: user access tokens and service tokens, signed with the newest key. The
//! private key lives only here; `GetJwks` publishes the public set.

use std::time::Duration;

use platform::auth::{Claims, KeySet, MESH_AUDIENCE, Role, SigningKey};
use proto::types::UserId;

use crate::domain::UserRole;
use crate::error::UserResult;

/// Lifetimes of what svc-user issues (`auth.*_ttl_secs`).
#[derive(Debug, Clone, Copy)]
pub struct TokenLifetimes {
    pub access: Duration,
    pub refresh: Duration,
    pub service: Duration,
}

impl Default for TokenLifetimes {
    fn default() -> Self {
        Self {
            access: Duration::from_secs(15 * 60),
            refresh: Duration::from_secs(30 * 24 * 60 * 60),
            service: Duration::from_secs(5 * 60),
        }
    }
}

/// Signs tokens with the current key and knows every key tokens may still carry.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    issuer: String,
    signing_key: SigningKey,
    /// The signing key's public half plus retired keys whose tokens have not expired yet.
    published: KeySet,
    pub lifetimes: TokenLifetimes,
}

impl TokenIssuer {
    /// Creates an issuer that signs with `signing_key` and also publishes `retired` keys.
    ///
    /// # Errors
    /// Fails when a retired key is unusable.
    pub fn new(
        issuer: String,
        signing_key: SigningKey,
        retired: &KeySet,
        lifetimes: TokenLifetimes,
    ) -> anyhow::Result<Self> {
        let mut jwks = vec![signing_key.public_jwk()];
        for jwk in retired.jwks() {
            if jwk.common.key_id.as_deref() != Some(signing_key.kid()) {
                jwks.push(jwk.clone());
            }
        }
        Ok(Self {
            issuer,
            signing_key,
            published: KeySet::from_jwks(jwks)?,
            lifetimes,
        })
    }

    /// Returns an access token for a user's session.
    ///
    /// # Errors
    /// Internal if signing fails.
    pub fn access_token(&self, user: UserId, role: UserRole, session: uuid::Uuid) -> UserResult<String> {
        let mut claims = Claims::new(
            user.to_string(),
            role.claim(),
            &self.issuer,
            vec![MESH_AUDIENCE.to_owned()],
            self.lifetimes.access,
        );
        claims.sid = Some(session.to_string());
        Ok(claims.sign(&self.signing_key).map_err(anyhow::Error::from)?)
    }

    /// Returns a service token for `client_id` addressed to `audiences`.
    ///
    /// # Errors
    /// Internal if signing fails.
    pub fn service_token(&self, client_id: &str, audiences: Vec<String>) -> UserResult<String> {
        let claims = Claims::new(
            client_id,
            Role::Service,
            &self.issuer,
            audiences,
            self.lifetimes.service,
        );
        Ok(claims.sign(&self.signing_key).map_err(anyhow::Error::from)?)
    }

    /// Returns the public key set (`GetJwks`).
    pub fn published_keys(&self) -> &KeySet {
        &self.published
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_key_signs_and_retired_keys_stay_published_for_verification() {
        let retired = SigningKey::generate();
        let current = SigningKey::generate();
        let retired_set = KeySet::from_signing_keys(std::slice::from_ref(&retired));
        let issuer = TokenIssuer::new(
            "iss".to_owned(),
            current.clone(),
            &retired_set,
            TokenLifetimes::default(),
        )
        .unwrap();

        let published = issuer.published_keys();
        assert!(published.get(current.kid()).is_some());
        assert!(published.get(retired.kid()).is_some());

        let token = issuer
            .access_token(UserId::generate(), UserRole::Customer, uuid::Uuid::now_v7())
            .unwrap();
        let header = jsonwebtoken_header_kid(&token);
        assert_eq!(header, current.kid(), "new tokens carry the newest key's kid");

        // A token the retired key signed before the rotation still verifies.
        let old_claims = Claims::new(
            UserId::generate().to_string(),
            Role::Customer,
            "iss",
            vec![MESH_AUDIENCE.to_owned()],
            Duration::from_secs(60),
        );
        let old_token = old_claims.sign(&retired).unwrap();
        let verifier = platform::auth::Verifier::new("iss", "catalog", published.clone());
        assert!(verifier.verify(&old_token).is_ok());
        assert!(verifier.verify(&token).is_ok());
    }

    fn jsonwebtoken_header_kid(token: &str) -> String {
        use base64::Engine as _;
        let header = token.split('.').next().unwrap();
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        value["kid"].as_str().unwrap().to_owned()
    }
}
