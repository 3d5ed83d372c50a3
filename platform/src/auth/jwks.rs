//! The key set on the wire: svc-user's `GetJwks` answer, and keeping a [`Verifier`] in step
//! with it so a key rotation needs no restart.

use std::time::Duration;

use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, KeyAlgorithm, OctetKeyPairParameters,
    OctetKeyPairType, PublicKeyUse,
};
use proto::user::v1 as pb;
use proto::user::v1::user_service_client::UserServiceClient;
use tokio_util::sync::CancellationToken;

use super::keys::KeyError;
use super::{KeySet, Verifier};
use crate::client::MeshChannel;

/// Returns the set as `GetJwks` sends it.
pub fn to_proto(set: &KeySet) -> Vec<pb::Jwk> {
    let mut keys = Vec::new();
    for jwk in set.jwks() {
        let AlgorithmParameters::OctetKeyPair(okp) = &jwk.algorithm else {
            continue;
        };
        keys.push(pb::Jwk {
            kid: jwk.common.key_id.clone().unwrap_or_default(),
            kty: "OKP".to_owned(),
            crv: "Ed25519".to_owned(),
            alg: "EdDSA".to_owned(),
            x: okp.x.clone(),
            n: String::new(),
            e: String::new(),
            r#use: "sig".to_owned(),
        });
    }
    keys
}

/// Builds a key set from `GetJwks`' answer.
///
/// # Errors
/// Returns [`KeyError::UnusableKey`] for a key that is not Ed25519 or has no `kid`.
pub fn from_proto(keys: &[pb::Jwk]) -> Result<KeySet, KeyError> {
    let mut jwks = Vec::new();
    for key in keys {
        if key.kty != "OKP" || key.crv != "Ed25519" {
            return Err(KeyError::UnusableKey {
                kid: key.kid.clone(),
                reason: format!(
                    "only Ed25519 (OKP) keys are accepted, got {} {}",
                    key.kty, key.crv
                ),
            });
        }
        jwks.push(Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(KeyAlgorithm::EdDSA),
                key_id: Some(key.kid.clone()),
                ..CommonParameters::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: key.x.clone(),
            }),
        });
    }
    KeySet::from_jwks(jwks)
}

/// Fetches svc-user's current key set.
///
/// # Errors
/// Fails when svc-user does not answer or answers with an unusable key.
pub async fn fetch(channel: MeshChannel) -> anyhow::Result<KeySet> {
    let response = UserServiceClient::new(channel)
        .get_jwks(pb::GetJwksRequest {})
        .await?;
    Ok(from_proto(&response.into_inner().keys)?)
}

/// Refetches the key set every `interval` into `verifier` until `shutdown`; a failed fetch
/// keeps the keys it had (tokens keep verifying while svc-user restarts).
pub async fn keep_fresh(
    verifier: Verifier,
    channel: MeshChannel,
    interval: Duration,
    shutdown: CancellationToken,
) {
    loop {
        match fetch(channel.clone()).await {
            Ok(keys) if keys.is_empty() => {
                tracing::warn!("svc-user sent an empty key set, keeping the old one");
            }
            Ok(keys) => verifier.replace_keys(keys),
            Err(error) => {
                tracing::warn!(error.cause_chain = %crate::telemetry::cause_chain(&error), "failed to refresh key set, keeping the old one")
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Claims, MESH_AUDIENCE, Role, SigningKey};

    #[test]
    fn a_key_set_survives_the_wire_and_verifies_tokens() {
        let key = SigningKey::generate();
        let wire = to_proto(&KeySet::from_signing_keys(std::slice::from_ref(&key)));
        assert_eq!(wire[0].kid, key.kid());

        let verifier = Verifier::new("issuer", "catalog", from_proto(&wire).unwrap());
        let claims = Claims::new(
            uuid::Uuid::new_v4().to_string(),
            Role::Customer,
            "issuer",
            vec![MESH_AUDIENCE.to_owned()],
            Duration::from_secs(60),
        );
        assert!(verifier.verify(&claims.sign(&key).unwrap()).is_ok());
    }

    #[test]
    fn keys_the_mesh_cannot_verify_with_are_refused() {
        let rsa = pb::Jwk {
            kid: "r1".to_owned(),
            kty: "RSA".to_owned(),
            n: "AQAB".to_owned(),
            e: "AQAB".to_owned(),
            ..pb::Jwk::default()
        };
        assert!(from_proto(&[rsa]).is_err());
    }
}
