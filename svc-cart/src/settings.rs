//! svc-cart's own settings: the `cart.*` keys beside the wiring every service has
//! (`cart.listen`, `cart.redis_url`, … in `platform::config::ServiceWiring`).

use std::time::Duration;

use platform::config::{ConfigError, Validate};
use serde::Deserialize;

/// svc-cart's knobs.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `cart.ttl_secs`: how long an untouched cart lives, refreshed on every write (default
    /// 2592000, 30 days).
    pub ttl_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            ttl_secs: 30 * 24 * 60 * 60,
        }
    }
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.ttl_secs == 0 {
            return Err(ConfigError::invalid("cart.ttl_secs", "must be greater than 0"));
        }
        Ok(())
    }
}

impl Settings {
    /// How long an untouched cart lives.
    pub fn ttl(&self) -> Duration {
        Duration::from_secs(self.ttl_secs)
    }
}
