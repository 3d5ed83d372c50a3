//! Login throttling: failure counters in Redis, per account and per client address, that
//! expire by themselves. Shared by every replica, so scaling out does not loosen it.

use std::time::Duration;

use platform::store::{LazyRedis, RedisConnection};

use crate::error::{UserError, UserRefusal, UserResult};

/// Limits (`auth.login_*`).
#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    pub max_failures_per_account: u32,
    pub max_failures_per_address: u32,
    pub window: Duration,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            max_failures_per_account: 5,
            max_failures_per_address: 50,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// The failure counters.
#[derive(Debug, Clone)]
pub struct LoginThrottle {
    redis: LazyRedis,
    settings: ThrottleSettings,
}

impl LoginThrottle {
    /// Creates the throttle over `redis`.
    pub fn new(redis: LazyRedis, settings: ThrottleSettings) -> Self {
        Self { redis, settings }
    }

    /// Returns a connection, or UNAVAILABLE until Redis answers (failing closed: no
    /// unlimited guessing while it is away).
    fn connection(&self) -> UserResult<RedisConnection> {
        self.redis
            .get()
            .map(|store| store.connection())
            .ok_or(unavailable())
    }

    fn keys(&self, account: &str, address: Option<&str>) -> Vec<(String, u32)> {
        let mut keys = vec![(
            self.redis.key(&format!("user:login-failures:account:{account}")),
            self.settings.max_failures_per_account,
        )];
        if let Some(address) = address.filter(|address| !address.is_empty()) {
            keys.push((
                self.redis.key(&format!("user:login-failures:address:{address}")),
                self.settings.max_failures_per_address,
            ));
        }
        keys
    }

    /// Refuses the attempt when the account or the address has used up its failures.
    ///
    /// # Errors
    /// [`UserRefusal::Throttled`] with the time until the window ends; `Unavailable` when
    /// Redis does not answer (failing closed: no unlimited guessing while it is down).
    pub async fn check(&self, account: &str, address: Option<&str>) -> UserResult<()> {
        let mut connection = self.connection()?;
        for (key, limit) in self.keys(account, address) {
            let (count, ttl): (Option<u32>, i64) = redis::pipe()
                .get(&key)
                .ttl(&key)
                .query_async(&mut connection)
                .await
                .map_err(|_| unavailable())?;
            if count.unwrap_or(0) >= limit {
                let seconds = u64::try_from(ttl).unwrap_or(1).max(1);
                return Err(UserError::from(UserRefusal::Throttled {
                    retry_after: Duration::from_secs(seconds),
                }));
            }
        }
        Ok(())
    }

    /// Counts a failed attempt; the window starts at the first failure.
    ///
    /// # Errors
    /// `Unavailable` when Redis does not answer.
    pub async fn record_failure(&self, account: &str, address: Option<&str>) -> UserResult<()> {
        let mut connection = self.connection()?;
        let window = i64::try_from(self.settings.window.as_secs()).unwrap_or(i64::MAX);
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (key, _) in self.keys(account, address) {
            pipe.incr(&key, 1).ignore();
            pipe.cmd("EXPIRE").arg(&key).arg(window).arg("NX").ignore();
        }
        pipe.query_async::<()>(&mut connection)
            .await
            .map_err(|_| unavailable())
    }

    /// Forgets the account's failures after a successful login (the address keeps its count).
    ///
    /// # Errors
    /// `Unavailable` when Redis does not answer.
    pub async fn reset(&self, account: &str) -> UserResult<()> {
        let mut connection = self.connection()?;
        let key = self.redis.key(&format!("user:login-failures:account:{account}"));
        redis::cmd("DEL")
            .arg(&key)
            .query_async::<()>(&mut connection)
            .await
            .map_err(|_| unavailable())
    }
}

fn unavailable() -> UserError {
    UserError::from(UserRefusal::Unavailable("login is unavailable, retry shortly"))
}
