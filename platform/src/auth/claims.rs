//! Token claims, signing, and verification into a [`Principal`].

use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Header, Validation};
use serde::{Deserialize, Serialize};

use super::verified::VerifiedTokens;
use super::{KeySet, MESH_AUDIENCE, Principal, Role, SigningKey};

/// Clock skew tolerated between services, in seconds.
const LEEWAY_SECONDS: u64 = 5;

/// The claims of every token the mesh issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// A user id (UUID) for user tokens, the client id for service tokens.
    pub sub: String,
    pub role: Role,
    pub iss: String,
    /// [`MESH_AUDIENCE`] for user tokens, the callee services for service tokens.
    pub aud: Vec<String>,
    pub exp: u64,
    pub iat: u64,
    pub jti: String,
    /// The session (refresh-token family) a user token belongs to, so logout can end it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

impl Claims {
    /// Creates claims issued now and valid for `lifetime`.
    pub fn new(
        sub: impl Into<String>,
        role: Role,
        issuer: &str,
        aud: Vec<String>,
        lifetime: Duration,
    ) -> Self {
        let now = unix_now();
        Self {
            sub: sub.into(),
            role,
            iss: issuer.to_owned(),
            aud,
            exp: now + lifetime.as_secs(),
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            sid: None,
        }
    }

    /// Signs the claims with `key`, writing its `kid` into the header.
    ///
    /// # Errors
    /// Returns the signing library's error (it does not fail for well-formed Ed25519 keys).
    pub fn sign(&self, key: &SigningKey) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(KeySet::ALGORITHM);
        header.kid = Some(key.kid().to_owned());
        jsonwebtoken::encode(&header, self, key.encoding_key())
    }
}

/// Returns the current Unix time in seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}

/// Why a token was refused. Every variant is answered `UNAUTHENTICATED`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing bearer token")]
    Missing,
    #[error("malformed token")]
    Malformed,
    #[error("token signed by an unknown key")]
    UnknownKey,
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("token is not meant for this service")]
    WrongAudience,
    #[error("token issuer is not trusted")]
    WrongIssuer,
    #[error("token claims are invalid")]
    InvalidClaims,
}

/// Verifies tokens for one service: signature by a listed key, expiry, issuer, audience.
///
/// The key set sits behind a lock so it can be replaced when svc-user rotates keys; the
/// lock is held only to clone a key, never across `.await`. Tokens that verified are
/// remembered (see [`super::verified`]), so a caller pays for the signature check once.
#[derive(Debug, Clone)]
pub struct Verifier {
    issuer: String,
    own_audience: String,
    keys: Arc<RwLock<KeySet>>,
    verified: Arc<VerifiedTokens>,
}

impl Verifier {
    /// Creates a verifier for the service whose audience is `own_audience`.
    pub fn new(issuer: impl Into<String>, own_audience: impl Into<String>, keys: KeySet) -> Self {
        Self {
            issuer: issuer.into(),
            own_audience: own_audience.into(),
            keys: Arc::new(RwLock::new(keys)),
            verified: Arc::default(),
        }
    }

    /// Replaces the key set (after fetching svc-user's JWKS again).
    pub fn replace_keys(&self, keys: KeySet) {
        if let Ok(mut guard) = self.keys.write() {
            *guard = keys;
        }
    }

    /// Returns a verifier sharing this one's keys and issuer but accepting `audience`'s
    /// service tokens (so `bookstore up` verifies with one key set for every service).
    /// It remembers verified tokens apart: a service token's answer depends on the audience.
    pub fn for_audience(&self, audience: impl Into<String>) -> Self {
        Self {
            issuer: self.issuer.clone(),
            own_audience: audience.into(),
            keys: Arc::clone(&self.keys),
            verified: Arc::default(),
        }
    }

    /// Checks `token` and returns who presented it.
    ///
    /// # Errors
    /// Returns the [`VerifyError`] that says why the token is refused.
    pub fn verify(&self, token: &str) -> Result<Principal, VerifyError> {
        if let Some((principal, kid)) = self.verified.lookup(token, unix_now()) {
            if self.lists_key(&kid) {
                return Ok(principal);
            }
            self.verified.forget(token);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
        if header.alg != KeySet::ALGORITHM {
            return Err(VerifyError::Malformed);
        }
        let kid = header.kid.ok_or(VerifyError::UnknownKey)?;
        let key = {
            let keys = self.keys.read().map_err(|_| VerifyError::UnknownKey)?;
            keys.get(&kid).cloned().ok_or(VerifyError::UnknownKey)?
        };

        let mut validation = Validation::new(KeySet::ALGORITHM);
        validation.leeway = LEEWAY_SECONDS;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[MESH_AUDIENCE, self.own_audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let data =
            jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => VerifyError::Expired,
                ErrorKind::InvalidAudience => VerifyError::WrongAudience,
                ErrorKind::InvalidIssuer => VerifyError::WrongIssuer,
                ErrorKind::InvalidSignature => VerifyError::BadSignature,
                ErrorKind::Json(_) | ErrorKind::MissingRequiredClaim(_) => VerifyError::InvalidClaims,
                _ => VerifyError::Malformed,
            })?;
        let accepted_until = data.claims.exp.saturating_add(LEEWAY_SECONDS);
        let principal = self.principal(data.claims)?;
        self.verified.remember(token, &principal, kid, accepted_until);
        Ok(principal)
    }

    fn lists_key(&self, kid: &str) -> bool {
        self.keys
            .read()
            .map(|keys| keys.get(kid).is_some())
            .unwrap_or(false)
    }

    fn principal(&self, claims: Claims) -> Result<Principal, VerifyError> {
        let has_audience = |audience: &str| claims.aud.iter().any(|listed| listed == audience);
        match claims.role {
            // A service token names its callee: one minted for catalog is useless at inventory.
            Role::Service => {
                if !has_audience(&self.own_audience) {
                    return Err(VerifyError::WrongAudience);
                }
                Ok(Principal::Service { name: claims.sub })
            }
            Role::Customer | Role::Admin => {
                if !has_audience(MESH_AUDIENCE) {
                    return Err(VerifyError::WrongAudience);
                }
                let id = proto::types::UserId::parse("sub", &claims.sub)
                    .map_err(|_| VerifyError::InvalidClaims)?;
                Ok(Principal::User {
                    id,
                    role: claims.role,
                    session: claims.sid,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "bookstore-user";

    fn user_claims(role: Role) -> Claims {
        Claims::new(
            uuid::Uuid::new_v4().to_string(),
            role,
            ISSUER,
            vec![MESH_AUDIENCE.to_owned()],
            Duration::from_secs(60),
        )
    }

    /// Order's service token for catalog.
    fn order_to_catalog() -> Claims {
        Claims::new(
            "order",
            Role::Service,
            ISSUER,
            vec!["catalog".to_owned()],
            Duration::from_secs(60),
        )
    }

    fn verifier_for(key: &SigningKey) -> Verifier {
        Verifier::new(
            ISSUER,
            "inventory",
            KeySet::from_signing_keys(std::slice::from_ref(key)),
        )
    }

    #[test]
    fn a_user_token_signed_by_a_listed_key_is_accepted() {
        let key = SigningKey::generate();
        let claims = user_claims(Role::Admin);
        let principal = verifier_for(&key).verify(&claims.sign(&key).unwrap()).unwrap();
        assert!(principal.is_admin());
        assert_eq!(principal.user_id().unwrap().to_string(), claims.sub);
    }

    #[test]
    fn any_of_several_listed_keys_verifies_during_rotation() {
        let old_key = SigningKey::generate();
        let new_key = SigningKey::generate();
        let verifier = Verifier::new(
            ISSUER,
            "inventory",
            KeySet::from_signing_keys(&[old_key.clone(), new_key.clone()]),
        );
        for key in [&old_key, &new_key] {
            assert!(
                verifier
                    .verify(&user_claims(Role::Customer).sign(key).unwrap())
                    .is_ok()
            );
        }
    }

    #[test]
    fn refused_tokens_say_why() {
        let key = SigningKey::generate();
        let verifier = verifier_for(&key);
        let stranger = SigningKey::generate();

        let mut expired = user_claims(Role::Customer);
        expired.exp = unix_now() - 60;
        let mut foreign_issuer = user_claims(Role::Customer);
        foreign_issuer.iss = "evil".to_owned();
        let mut other_audience = user_claims(Role::Customer);
        other_audience.aud = vec!["another-shop".to_owned()];
        let service_for_catalog = order_to_catalog();

        let cases = [
            ("garbage", "not.a.token".to_owned(), VerifyError::Malformed),
            (
                "unknown key",
                user_claims(Role::Customer).sign(&stranger).unwrap(),
                VerifyError::UnknownKey,
            ),
            ("expired", expired.sign(&key).unwrap(), VerifyError::Expired),
            (
                "issuer",
                foreign_issuer.sign(&key).unwrap(),
                VerifyError::WrongIssuer,
            ),
            (
                "audience",
                other_audience.sign(&key).unwrap(),
                VerifyError::WrongAudience,
            ),
            (
                "other callee",
                service_for_catalog.sign(&key).unwrap(),
                VerifyError::WrongAudience,
            ),
            (
                "alg none",
                unsigned_token(&user_claims(Role::Admin), key.kid()),
                VerifyError::Malformed,
            ),
        ];
        for (name, token, expected) in cases {
            assert_eq!(verifier.verify(&token), Err(expected), "case {name}");
        }
    }

    #[test]
    fn a_token_whose_signature_was_tampered_with_is_refused() {
        let key = SigningKey::generate();
        let token = user_claims(Role::Customer).sign(&key).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut admin = user_claims(Role::Admin);
        admin.sub = uuid::Uuid::new_v4().to_string();
        let forged_payload = admin.sign(&key).unwrap();
        parts[1] = forged_payload.split('.').nth(1).unwrap().to_owned();
        let forged = parts.join(".");
        let verifier = verifier_for(&key);
        assert!(
            verifier.verify(&token).is_ok(),
            "the genuine token, now remembered"
        );
        assert_eq!(verifier.verify(&forged), Err(VerifyError::BadSignature));
    }

    #[test]
    fn a_remembered_token_is_refused_once_its_key_is_rotated_out() {
        let old_key = SigningKey::generate();
        let verifier = verifier_for(&old_key);
        let token = user_claims(Role::Customer).sign(&old_key).unwrap();
        let first = verifier.verify(&token).unwrap();
        assert_eq!(
            verifier.verify(&token).unwrap(),
            first,
            "a repeat answers the same"
        );

        verifier.replace_keys(KeySet::from_signing_keys(&[SigningKey::generate()]));
        assert_eq!(verifier.verify(&token), Err(VerifyError::UnknownKey));
    }

    #[test]
    fn a_service_token_remembered_for_one_audience_is_still_refused_by_another() {
        let key = SigningKey::generate();
        let catalog = verifier_for(&key).for_audience("catalog");
        let inventory = catalog.for_audience("inventory");
        let token = order_to_catalog().sign(&key).unwrap();
        assert!(catalog.verify(&token).is_ok());
        assert_eq!(inventory.verify(&token), Err(VerifyError::WrongAudience));
    }

    /// Builds `{"alg":"none"}.claims.` by hand: the signing library refuses to.
    pub(crate) fn unsigned_token(claims: &Claims, kid: &str) -> String {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = engine.encode(format!(r#"{{"alg":"none","typ":"JWT","kid":"{kid}"}}"#));
        let payload = engine.encode(serde_json::to_vec(claims).unwrap());
        format!("{header}.{payload}.")
    }
}
