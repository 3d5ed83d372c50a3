//! Ed25519 keys: the private key that signs (svc-user only) and the public set that verifies.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, OctetKeyPairParameters,
    OctetKeyPairType, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

/// A key that does not load; says which and why.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("signing key is not an Ed25519 PKCS#8 PEM: {0}")]
    InvalidSigningKey(String),
    #[error("key set is not a JWKS document: {0}")]
    InvalidKeySet(String),
    #[error("key `{kid}` in the key set cannot verify tokens: {reason}")]
    UnusableKey { kid: String, reason: String },
}

/// An Ed25519 private key with its key id; signs access and service tokens.
///
/// `Debug` prints only the key id.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    public_x: String,
    pkcs8_pem: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh key (for tests and `bookstore up`).
    pub fn generate() -> Self {
        let secret = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        Self::from_dalek(&secret)
    }

    /// Loads a PKCS#8 PEM private key. Its key id is derived from the public key, so the
    /// same file always yields the same `kid`.
    ///
    /// # Errors
    /// Returns [`KeyError::InvalidSigningKey`] when the PEM is not an Ed25519 private key.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let secret = ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
            .map_err(|error| KeyError::InvalidSigningKey(error.to_string()))?;
        Ok(Self::from_dalek(&secret))
    }

    fn from_dalek(secret: &ed25519_dalek::SigningKey) -> Self {
        let der = secret
            .to_pkcs8_der()
            .map(|document| document.as_bytes().to_vec())
            .unwrap_or_default();
        let pkcs8_pem = secret
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .map(|pem| pem.to_string())
            .unwrap_or_default();
        let public_x = URL_SAFE_NO_PAD.encode(secret.verifying_key().to_bytes());
        Self {
            kid: format!("ed25519-{}", &public_x[..16]),
            encoding: EncodingKey::from_ed_der(&der),
            public_x,
            pkcs8_pem,
        }
    }

    /// Returns the key id written into each token's `kid` header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Returns the PKCS#8 PEM, so `bookstore up` can keep a generated key across restarts.
    pub fn to_pem(&self) -> &str {
        &self.pkcs8_pem
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    /// Returns the public half as a JWK.
    pub fn public_jwk(&self) -> Jwk {
        Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(KeyAlgorithm::EdDSA),
                key_id: Some(self.kid.clone()),
                ..CommonParameters::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: self.public_x.clone(),
            }),
        }
    }
}

/// The public keys a service accepts tokens from, by key id.
///
/// Several keys may be listed so svc-user can rotate: it signs with the newest, everyone
/// verifies with all of them.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: HashMap<String, DecodingKey>,
    jwks: Vec<Jwk>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kids: Vec<&String> = self.keys.keys().collect();
        kids.sort();
        formatter.debug_struct("KeySet").field("kids", &kids).finish()
    }
}

impl KeySet {
    /// Builds a set from JWKs; only Ed25519 (`OKP`, `EdDSA`) keys with a `kid` are accepted.
    ///
    /// # Errors
    /// Returns [`KeyError::UnusableKey`] for a key of another type or without a `kid`.
    pub fn from_jwks(jwks: Vec<Jwk>) -> Result<Self, KeyError> {
        let mut keys = HashMap::new();
        for jwk in &jwks {
            let kid = jwk.common.key_id.clone().unwrap_or_default();
            if kid.is_empty() {
                return Err(KeyError::UnusableKey {
                    kid,
                    reason: "has no `kid`".to_owned(),
                });
            }
            if !matches!(jwk.algorithm, AlgorithmParameters::OctetKeyPair(_)) {
                return Err(KeyError::UnusableKey {
                    kid,
                    reason: "only Ed25519 (OKP) keys are accepted".to_owned(),
                });
            }
            let decoding = DecodingKey::from_jwk(jwk).map_err(|error| KeyError::UnusableKey {
                kid: kid.clone(),
                reason: error.to_string(),
            })?;
            keys.insert(kid, decoding);
        }
        Ok(Self { keys, jwks })
    }

    /// Parses a JWKS JSON document (`{"keys": [...]}`).
    ///
    /// # Errors
    /// Returns [`KeyError`] when the JSON is not a key set or a key is unusable.
    pub fn from_json(json: &str) -> Result<Self, KeyError> {
        let set: JwkSet =
            serde_json::from_str(json).map_err(|error| KeyError::InvalidKeySet(error.to_string()))?;
        Self::from_jwks(set.keys)
    }

    /// Builds the set that verifies what `signing_keys` sign.
    pub fn from_signing_keys(signing_keys: &[SigningKey]) -> Self {
        let jwks = signing_keys.iter().map(SigningKey::public_jwk).collect();
        // Keys we generated ourselves are always well-formed Ed25519 JWKs.
        Self::from_jwks(jwks).unwrap_or_default()
    }

    /// Returns the JWKS JSON document for this set.
    pub fn to_json(&self) -> String {
        let set = JwkSet {
            keys: self.jwks.clone(),
        };
        serde_json::to_string(&set).unwrap_or_else(|_| "{\"keys\":[]}".to_owned())
    }

    /// Returns the JWKs, for `GetJwks`.
    pub fn jwks(&self) -> &[Jwk] {
        &self.jwks
    }

    /// Returns the key for `kid`, if listed.
    pub fn get(&self, kid: &str) -> Option<&DecodingKey> {
        self.keys.get(kid)
    }

    /// Returns true when no key is listed (every token will be refused).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The one algorithm the mesh signs with.
    pub const ALGORITHM: Algorithm = Algorithm::EdDSA;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_round_trips_through_pem_and_jwks_json() {
        let key = SigningKey::generate();
        let reloaded = SigningKey::from_pem(key.to_pem()).unwrap();
        assert_eq!(reloaded.public_jwk(), key.public_jwk());
        assert_eq!(reloaded.kid(), key.kid());

        let set = KeySet::from_signing_keys(std::slice::from_ref(&key));
        let parsed = KeySet::from_json(&set.to_json()).unwrap();
        assert!(parsed.get(key.kid()).is_some());
    }

    #[test]
    fn bad_keys_are_refused_with_a_reason() {
        assert!(SigningKey::from_pem("not a pem").is_err());
        assert!(KeySet::from_json("{").is_err());
        let error = KeySet::from_json(r#"{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"h"}]}"#).unwrap_err();
        assert!(error.to_string().contains("only Ed25519"), "{error}");
    }
}
