//! Service tokens for outgoing calls: minted per callee, cached, refreshed before expiry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tonic_types::ErrorDetails;

use super::claims::Claims;
use super::{Role, SigningKey};
use crate::ErrorCode;

/// A token and when to stop using it.
#[derive(Debug, Clone)]
pub struct MintedToken {
    pub token: String,
    /// The token's lifetime as issued; the cache refreshes after three quarters of it.
    pub lifetime: Duration,
}

/// Something that can obtain a service token for one callee: svc-user's
/// `IssueServiceToken` in production, a local key in `bookstore up` and tests.
pub trait TokenMinter: Send + Sync + std::fmt::Debug + 'static {
    /// Obtains a fresh token whose audience is `audience`.
    fn mint<'a>(&'a self, audience: &'a str) -> BoxFuture<'a, anyhow::Result<MintedToken>>;
}

/// Signs service tokens with a key this process holds.
#[derive(Debug, Clone)]
pub struct LocalSigner {
    key: SigningKey,
    issuer: String,
    subject: String,
    lifetime: Duration,
}

impl LocalSigner {
    /// Creates a signer that issues tokens for `subject` (the calling service).
    pub fn new(
        key: SigningKey,
        issuer: impl Into<String>,
        subject: impl Into<String>,
        lifetime: Duration,
    ) -> Self {
        Self {
            key,
            issuer: issuer.into(),
            subject: subject.into(),
            lifetime,
        }
    }
}

impl TokenMinter for LocalSigner {
    fn mint<'a>(&'a self, audience: &'a str) -> BoxFuture<'a, anyhow::Result<MintedToken>> {
        Box::pin(async move {
            let claims = Claims::new(
                self.subject.clone(),
                Role::Service,
                &self.issuer,
                vec![audience.to_owned()],
                self.lifetime,
            );
            let token = claims.sign(&self.key)?;
            Ok(MintedToken {
                token,
                lifetime: self.lifetime,
            })
        })
    }
}

#[derive(Debug, Clone)]
struct CachedToken {
    token: String,
    refresh_at: Instant,
}

/// Hands out a valid service token per callee, minting only when the cached one is near
/// expiry. Cheap to clone; clones share the cache.
#[derive(Debug, Clone)]
pub struct TokenSource {
    minter: Arc<dyn TokenMinter>,
    /// Audience -> token. Locked only to read or write an entry, never across `.await`.
    cache: Arc<Mutex<HashMap<String, CachedToken>>>,
}

impl TokenSource {
    /// Creates a source backed by `minter`.
    pub fn new(minter: impl TokenMinter) -> Self {
        Self {
            minter: Arc::new(minter),
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Returns a token for `audience`, from the cache when it is still fresh.
    ///
    /// # Errors
    /// Returns `UNAVAILABLE` when no token can be minted (svc-user down).
    pub async fn token(&self, audience: &str) -> Result<String, tonic::Status> {
        if let Some(token) = self.cached(audience) {
            return Ok(token);
        }
        let minted = self.minter.mint(audience).await.map_err(|error| {
            tracing::warn!(error.cause_chain = %crate::telemetry::cause_chain(&error), audience, "failed to mint service token");
            ErrorCode::Unavailable.status("cannot obtain a service token", ErrorDetails::new())
        })?;
        let refresh_at = Instant::now() + minted.lifetime.mul_f64(0.75);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(
                audience.to_owned(),
                CachedToken {
                    token: minted.token.clone(),
                    refresh_at,
                },
            );
        }
        Ok(minted.token)
    }

    fn cached(&self, audience: &str) -> Option<String> {
        let cache = self.cache.lock().ok()?;
        let entry = cache.get(audience)?;
        if Instant::now() < entry.refresh_at {
            Some(entry.token.clone())
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::auth::{KeySet, Principal, Verifier};

    #[derive(Debug)]
    struct CountingMinter {
        inner: LocalSigner,
        calls: Arc<AtomicUsize>,
    }

    impl TokenMinter for CountingMinter {
        fn mint<'a>(&'a self, audience: &'a str) -> BoxFuture<'a, anyhow::Result<MintedToken>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.inner.mint(audience)
        }
    }

    #[tokio::test]
    async fn tokens_are_cached_per_audience_and_verify_at_their_callee() {
        let key = SigningKey::generate();
        let calls = Arc::new(AtomicUsize::new(0));
        let source = TokenSource::new(CountingMinter {
            inner: LocalSigner::new(key.clone(), "issuer", "order", Duration::from_secs(300)),
            calls: Arc::clone(&calls),
        });

        let first = source.token("inventory").await.unwrap();
        let second = source.token("inventory").await.unwrap();
        assert_eq!(first, second);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        source.token("catalog").await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let inventory = Verifier::new("issuer", "inventory", KeySet::from_signing_keys(&[key]));
        assert_eq!(
            inventory.verify(&first).unwrap(),
            Principal::Service {
                name: "order".to_owned()
            }
        );
    }

    #[tokio::test]
    async fn a_token_near_expiry_is_replaced() {
        let key = SigningKey::generate();
        let calls = Arc::new(AtomicUsize::new(0));
        let source = TokenSource::new(CountingMinter {
            inner: LocalSigner::new(key, "issuer", "order", Duration::from_millis(40)),
            calls: Arc::clone(&calls),
        });
        source.token("inventory").await.unwrap();
        tokio::time::sleep(Duration::from_millis(35)).await;
        source.token("inventory").await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
