//! Password hashing (argon2id, off the async runtime, through a bounded queue) and opaque
//! random tokens stored only as SHA-256 hashes.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use tracing::Instrument as _;

use crate::domain::Password;
use crate::error::{UserRefusal, UserResult};

/// What a caller refused by a full hashing queue is told to wait.
const BUSY_RETRY_AFTER: Duration = Duration::from_secs(1);

/// How many hashes run at once and how many may wait (`auth.password_hash_workers`,
/// `auth.password_hash_queue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashQueueSettings {
    pub workers: usize,
    pub queue: usize,
}

impl Default for HashQueueSettings {
    /// One hash per CPU (each takes a core for its whole time), and 16 waiting: about 0.4 s
    /// of waiting at 50 ms a hash on two cores, well inside a login's deadline.
    fn default() -> Self {
        Self {
            workers: platform::server::available_cpus(),
            queue: 16,
        }
    }
}

/// Admission to hashing: a permit to wait (workers + queue of them) and a permit to run.
/// A request that finds every waiting place taken is refused at once: a burst of
/// registrations gets a retry hint instead of a timeout after waiting.
#[derive(Debug)]
struct HashQueue {
    places: Arc<tokio::sync::Semaphore>,
    workers: Arc<tokio::sync::Semaphore>,
}

impl HashQueue {
    fn new(settings: HashQueueSettings) -> Self {
        let workers = settings.workers.max(1);
        Self {
            places: Arc::new(tokio::sync::Semaphore::new(workers + settings.queue)),
            workers: Arc::new(tokio::sync::Semaphore::new(workers)),
        }
    }

    /// Runs `work` on the blocking pool when a worker is free, or refuses at once when the
    /// queue is full.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> UserResult<T> {
        let Ok(_place) = Arc::clone(&self.places).try_acquire_owned() else {
            metrics::counter!(crate::metrics::PASSWORD_HASH_REFUSED_TOTAL).increment(1);
            return Err(UserRefusal::Busy {
                retry_after: BUSY_RETRY_AFTER,
            }
            .into());
        };
        let _worker = Arc::clone(&self.workers)
            .acquire_owned()
            .await
            .map_err(|_| anyhow::anyhow!("password hashing queue closed"))?;
        let done = tokio::task::spawn_blocking(work)
            .await
            .context("password hashing task failed")?;
        Ok(done)
    }
}

/// argon2id cost parameters (`auth.argon2_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Settings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Settings {
    /// OWASP's argon2id memory (19 MiB, 1 lane) with six passes instead of the minimum two,
    /// for a hash time chosen on the reference machine (the README's benchmark section,
    /// "Measured choices").
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 6,
            parallelism: 1,
        }
    }
}

/// Hashes and verifies passwords on the blocking pool. Verification of an unknown account
/// runs against a dummy hash with the same cost, so it takes as long as a real one.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    dummy_hash: Arc<String>,
    queue: Arc<HashQueue>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("PasswordHasher").finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// Creates a hasher with `settings` (hashing one dummy password to have one).
    ///
    /// # Errors
    /// Fails when the parameters are out of argon2's range.
    pub fn new(settings: Argon2Settings, queue: HashQueueSettings) -> anyhow::Result<Self> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|error| anyhow::anyhow!("invalid argon2 parameters: {error}"))?;
        let dummy = random_token();
        let dummy_hash = hash_blocking(&params, dummy.as_bytes())?;
        Ok(Self {
            params,
            dummy_hash: Arc::new(dummy_hash),
            queue: Arc::new(HashQueue::new(queue)),
        })
    }

    /// Returns the PHC string of `password`.
    ///
    /// # Errors
    /// `Busy` when the hashing queue is full; internal if argon2 refuses its input.
    pub async fn hash(&self, password: &Password) -> UserResult<String> {
        let params = self.params.clone();
        let secret = password.expose().as_bytes().to_vec();
        let span = tracing::info_span!("user.hash_password");
        let hash = self
            .queue
            .run(move || span.in_scope(|| hash_blocking(&params, &secret)))
            .instrument(tracing::Span::current())
            .await??;
        Ok(hash)
    }

    /// Checks `password` against `stored` (a PHC string); with no stored hash it checks the
    /// dummy and answers false, spending the same time.
    ///
    /// # Errors
    /// `Busy` when the hashing queue is full.
    pub async fn verify(&self, password: &Password, stored: Option<&str>) -> UserResult<bool> {
        let known = stored.is_some();
        let hash = stored
            .map(str::to_owned)
            .unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        let secret = password.expose().as_bytes().to_vec();
        let span = tracing::info_span!("user.verify_password");
        let verified = self
            .queue
            .run(move || {
                let verified =
                    span.in_scope(|| Argon2::default().verify_password(&secret, hash.as_str()).is_ok());
                platform::release_freed_memory();
                verified
            })
            .await?;
        Ok(verified && known)
    }
}

fn hash_blocking(params: &Params, secret: &[u8]) -> anyhow::Result<String> {
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let hash = argon2
        .hash_password(secret)
        .map(|hash| hash.to_string())
        .map_err(|error| anyhow::anyhow!("failed to hash password: {error}"));
    // The 19 MiB of blocks would otherwise stay resident until this thread allocates again.
    platform::release_freed_memory();
    hash
}

/// Returns 32 random bytes, base64url: refresh tokens and client secrets.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Returns the SHA-256 of a high-entropy token, hex: what is stored instead of the token.
/// (A slow hash is for guessable passwords; these are 256 random bits.)
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// Compares two hashes in time independent of where they differ.
pub fn hashes_match(left: &str, right: &str) -> bool {
    if left.len() != right.len() {
        return false;
    }
    let mut difference = 0u8;
    for (a, b) in left.bytes().zip(right.bytes()) {
        difference |= a ^ b;
    }
    difference == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(
            Argon2Settings {
                memory_kib: 1024,
                iterations: 1,
                parallelism: 1,
            },
            HashQueueSettings::default(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_only_its_password_and_is_argon2id() {
        let hasher = cheap();
        let password = Password::presented("correct horse battery");
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert!(hasher.verify(&password, Some(&hash)).await.unwrap());
        assert!(
            !hasher
                .verify(&Password::presented("wrong horse battery"), Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !hasher.verify(&password, None).await.unwrap(),
            "no account never verifies"
        );
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_with_a_retry_hint() {
        let queue = HashQueue::new(HashQueueSettings { workers: 1, queue: 1 });
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = std::sync::Mutex::new(wait);
        let queue = Arc::new(queue);
        // One hash runs (blocked until released), one waits: the queue is full.
        let running = tokio::spawn({
            let queue = Arc::clone(&queue);
            async move {
                queue
                    .run(move || {
                        let _ = wait.lock().map(|wait| wait.recv());
                    })
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let waiting = tokio::spawn({
            let queue = Arc::clone(&queue);
            async move { queue.run(|| ()).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = std::time::Instant::now();
        let refused = queue.run(|| ()).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(50), "refused at once");
        let status = tonic::Status::from(refused);
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert_eq!(status.metadata().get("retry-after").unwrap(), "1");
        release.send(()).unwrap();
        running.await.unwrap().unwrap();
        waiting.await.unwrap().unwrap();
        queue.run(|| ()).await.expect("places came back");
    }

    #[test]
    fn tokens_are_random_and_stored_as_fixed_length_hashes() {
        let first = random_token();
        assert_ne!(first, random_token());
        assert_eq!(token_hash(&first).len(), 64);
        assert!(hashes_match(&token_hash(&first), &token_hash(&first)));
        assert!(!hashes_match(&token_hash(&first), &token_hash("other")));
    }
}
