//! svc-user's own settings. They have always been read from the `auth.*` table (and
//! `BOOKSTORE_AUTH__…`), beside the mesh's token keys that every process reads from it
//! (`auth.issuer`, `auth.signing_key_file`, …, in the binary's `config.rs`), so that is
//! where they stay: `platform::config::Section` reads one table into both.

use std::collections::BTreeMap;
use std::time::Duration;

use platform::ServiceName;
use platform::config::{ConfigError, Validate};
use secrecy::SecretString;
use serde::Deserialize;

use crate::secrets::{Argon2Settings, HashQueueSettings};
use crate::throttle::ThrottleSettings;

/// svc-user's knobs: user token lifetimes, password hashing cost, login throttling and the
/// mesh's service clients.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `auth.access_token_ttl_secs`: lifetime of user access tokens (default 900).
    pub access_token_ttl_secs: u64,
    /// `auth.refresh_token_ttl_secs`: lifetime of refresh tokens; each is single use, a
    /// session lasts while it is refreshed (default 2592000).
    pub refresh_token_ttl_secs: u64,
    /// `auth.argon2_memory_kib`, `auth.argon2_iterations`, `auth.argon2_parallelism`:
    /// argon2id cost, memory in KiB, passes, lanes (default 19456, 6, 1; the hash time it
    /// gives is in the README's benchmark section).
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// `auth.password_hash_workers`, `auth.password_hash_queue`: password hashes (and
    /// checks) run at once, and how many more may wait; beyond that a register or login is
    /// refused at once with RESOURCE_EXHAUSTED and a retry hint (default one per CPU, 16).
    pub password_hash_workers: usize,
    pub password_hash_queue: usize,
    /// `auth.login_max_failures_per_account_address`, `auth.login_max_failures_per_address`,
    /// `auth.login_failure_window_secs`: failed logins one client address may have on one
    /// account, and on all accounts, within the window before it is refused until the
    /// window ends (default 5, 50, 900).
    pub login_max_failures_per_account_address: u32,
    pub login_max_failures_per_address: u32,
    pub login_failure_window_secs: u64,
    /// `auth.login_account_slow_after`, `auth.login_account_delay_ms`: after this many
    /// failures of one account from any addresses in the window, each of its logins waits
    /// this long; an account is never refused for everyone (default 20, 1000).
    pub login_account_slow_after: u32,
    pub login_account_delay_ms: u64,
    /// `auth.service_clients.<service>`: the client secret of each mesh service, registered
    /// at start so those services can obtain service tokens.
    pub service_clients: BTreeMap<String, SecretString>,
}

impl Default for Settings {
    fn default() -> Self {
        let argon2 = Argon2Settings::default();
        let queue = HashQueueSettings::default();
        let throttle = ThrottleSettings::default();
        Self {
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 60 * 60,
            argon2_memory_kib: argon2.memory_kib,
            argon2_iterations: argon2.iterations,
            argon2_parallelism: argon2.parallelism,
            password_hash_workers: queue.workers,
            password_hash_queue: queue.queue,
            login_max_failures_per_account_address: throttle.max_failures_per_account_address,
            login_max_failures_per_address: throttle.max_failures_per_address,
            login_failure_window_secs: throttle.window.as_secs(),
            login_account_slow_after: throttle.account_slow_after,
            login_account_delay_ms: u64::try_from(throttle.account_delay.as_millis()).unwrap_or(u64::MAX),
            service_clients: BTreeMap::new(),
        }
    }
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        for (key, value) in [
            (
                "auth.login_max_failures_per_account_address",
                self.login_max_failures_per_account_address,
            ),
            (
                "auth.login_max_failures_per_address",
                self.login_max_failures_per_address,
            ),
            ("auth.login_account_slow_after", self.login_account_slow_after),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(key, "must be at least 1"));
            }
        }
        if self.login_failure_window_secs == 0 {
            return Err(ConfigError::invalid(
                "auth.login_failure_window_secs",
                "must be greater than 0",
            ));
        }
        if self.login_account_delay_ms > 60_000 {
            return Err(ConfigError::invalid(
                "auth.login_account_delay_ms",
                "must be at most 60000 (it slows, it must not hang a login)",
            ));
        }
        if self.password_hash_workers == 0 {
            return Err(ConfigError::invalid(
                "auth.password_hash_workers",
                "must be greater than 0",
            ));
        }
        for name in self.service_clients.keys() {
            // `<service>_file` is the file form, read by the binary at start.
            name.trim_end_matches("_file")
                .parse::<ServiceName>()
                .map_err(|error| {
                    ConfigError::invalid(format!("auth.service_clients.{name}"), error.to_string())
                })?;
        }
        Ok(())
    }
}

impl Settings {
    /// The password hashing cost.
    pub fn argon2(&self) -> Argon2Settings {
        Argon2Settings {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            parallelism: self.argon2_parallelism,
        }
    }

    /// How many password hashes run and wait.
    pub fn hash_queue(&self) -> HashQueueSettings {
        HashQueueSettings {
            workers: self.password_hash_workers,
            queue: self.password_hash_queue,
        }
    }

    /// The login throttle's limits.
    pub fn throttle(&self) -> ThrottleSettings {
        ThrottleSettings {
            max_failures_per_account_address: self.login_max_failures_per_account_address,
            max_failures_per_address: self.login_max_failures_per_address,
            account_slow_after: self.login_account_slow_after,
            account_delay: Duration::from_millis(self.login_account_delay_ms),
            window: Duration::from_secs(self.login_failure_window_secs),
        }
    }

    /// The mesh services registered as clients, with their secrets (checked at load).
    pub fn mesh_clients(&self) -> Vec<(ServiceName, SecretString)> {
        self.service_clients
            .iter()
            .filter_map(|(name, secret)| Some((name.parse().ok()?, secret.clone())))
            .collect()
    }
}
