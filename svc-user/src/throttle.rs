//! Login throttling that cannot be turned against a user (OWASP's authentication cheat
//! sheet): failures count per (account, client address) and per client address, and only
//! those are refused for a while; an account's failures from every address together only
//! slow its logins down, so nobody can lock a customer out by knowing their email.
//!
//! The counters live in Redis, shared by every replica, and expire by themselves. Every key
//! carries the hash tag `{login}`, so on Redis Cluster they share one slot and each step is
//! one Lua script (atomic, and never CROSSSLOT). Logins are rare next to cart writes, so
//! one slot carries them all easily.

use std::sync::LazyLock;
use std::time::Duration;

use platform::store::{LazyRedis, RedisConnection};
use redis::Script;

use crate::error::{UserError, UserRefusal, UserResult};

/// Limits (`auth.login_*`).
#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    /// Failures one address may have on one account before that pair is refused.
    pub max_failures_per_account_address: u32,
    /// Failures one address may have on any accounts before it is refused.
    pub max_failures_per_address: u32,
    /// Failures of one account from any address after which its logins are slowed.
    pub account_slow_after: u32,
    /// How much each login of such an account is slowed.
    pub account_delay: Duration,
    /// How long failures are remembered, from the first one.
    pub window: Duration,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            max_failures_per_account_address: 5,
            max_failures_per_address: 50,
            account_slow_after: 20,
            account_delay: Duration::from_secs(1),
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// Reads (ARGV[1] = 0) or counts a failure on (ARGV[1] = 1, ARGV[2] = window seconds) the
/// pair, address and account counters (KEYS[1..3]); answers each count and the pair's and
/// the address's seconds to live.
static COUNTERS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        if ARGV[1] == '1' then
          for index = 1, 3 do
            redis.call('INCR', KEYS[index])
            redis.call('EXPIRE', KEYS[index], ARGV[2], 'NX')
          end
        end
        local answer = {}
        for index = 1, 3 do
          answer[#answer + 1] = tonumber(redis.call('GET', KEYS[index]) or '0')
        end
        answer[#answer + 1] = redis.call('TTL', KEYS[1])
        answer[#answer + 1] = redis.call('TTL', KEYS[2])
        return answer
        ",
    )
});

/// Forgets the pair's and the account's failures after a successful login (one script, so
/// both keys go together; the address keeps its count).
static RESET: LazyLock<Script> = LazyLock::new(|| Script::new("return redis.call('DEL', KEYS[1], KEYS[2])"));

/// What the counters held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    pair: u32,
    address: u32,
    account: u32,
    pair_ttl: i64,
    address_ttl: i64,
}

/// The failure counters.
#[derive(Debug, Clone)]
pub struct LoginThrottle {
    redis: LazyRedis,
    settings: ThrottleSettings,
}

/// The three keys of one attempt.
struct Keys {
    pair: String,
    address: String,
    account: String,
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

    /// A caller that passes no address (a mesh service, not a browser) is one address, `-`.
    fn keys(&self, account: &str, address: Option<&str>) -> Keys {
        let address = match address {
            Some(address) if !address.is_empty() => address,
            _ => "-",
        };
        Keys {
            pair: self
                .redis
                .key(&format!("user:{{login}}:pair:{address}:{account}")),
            address: self.redis.key(&format!("user:{{login}}:address:{address}")),
            account: self.redis.key(&format!("user:{{login}}:account:{account}")),
        }
    }

    async fn counters(&self, keys: &Keys, failure: bool) -> UserResult<Counts> {
        let window = self.settings.window.as_secs().max(1);
        let answer: Vec<i64> = COUNTERS
            .key(&keys.pair)
            .key(&keys.address)
            .key(&keys.account)
            .arg(u8::from(failure))
            .arg(window)
            .invoke_async(&mut self.connection()?)
            .await
            .map_err(|_| unavailable())?;
        let [pair, address, account, pair_ttl, address_ttl] = answer[..] else {
            return Err(UserError::Internal(anyhow::anyhow!(
                "login throttle script answered {answer:?}"
            )));
        };
        let count = |value: i64| u32::try_from(value).unwrap_or(u32::MAX);
        Ok(Counts {
            pair: count(pair),
            address: count(address),
            account: count(account),
            pair_ttl,
            address_ttl,
        })
    }

    /// Refuses the attempt when the (account, address) pair or the address has used up its
    /// failures; slows it by `auth.login_account_delay_ms` when the account has seen many
    /// failures from anywhere.
    ///
    /// # Errors
    /// [`UserRefusal::Throttled`] with the time until the pair's or the address's window
    /// ends; `Unavailable` when Redis does not answer.
    pub async fn check(&self, account: &str, address: Option<&str>) -> UserResult<()> {
        let counts = self.counters(&self.keys(account, address), false).await?;
        if counts.pair >= self.settings.max_failures_per_account_address {
            return Err(throttled(counts.pair_ttl));
        }
        if counts.address >= self.settings.max_failures_per_address {
            return Err(throttled(counts.address_ttl));
        }
        if counts.account >= self.settings.account_slow_after {
            tracing::info!(
                failures = counts.account,
                "login slowed for an account under attack"
            );
            tokio::time::sleep(self.settings.account_delay).await;
        }
        Ok(())
    }

    /// Counts a failed attempt on all three counters; each window starts at its first
    /// failure.
    ///
    /// # Errors
    /// `Unavailable` when Redis does not answer.
    pub async fn record_failure(&self, account: &str, address: Option<&str>) -> UserResult<()> {
        self.counters(&self.keys(account, address), true).await?;
        Ok(())
    }

    /// Forgets the pair's and the account's failures after a successful login (the address
    /// keeps its count).
    ///
    /// # Errors
    /// `Unavailable` when Redis does not answer.
    pub async fn reset(&self, account: &str, address: Option<&str>) -> UserResult<()> {
        let keys = self.keys(account, address);
        RESET
            .key(&keys.pair)
            .key(&keys.account)
            .invoke_async::<()>(&mut self.connection()?)
            .await
            .map_err(|_| unavailable())
    }
}

fn throttled(ttl: i64) -> UserError {
    let seconds = u64::try_from(ttl).unwrap_or(1).max(1);
    UserError::from(UserRefusal::Throttled {
        retry_after: Duration::from_secs(seconds),
    })
}

fn unavailable() -> UserError {
    UserError::from(UserRefusal::Unavailable("login is unavailable, retry shortly"))
}
