//! svc-inventory's own settings: the `inventory.*` keys beside the wiring every service has
//! (`inventory.listen`, `inventory.database_url`, … in `platform::config::ServiceWiring`).

use std::time::Duration;

use platform::config::{ConfigError, Validate};
use serde::Deserialize;

/// svc-inventory's knobs.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `inventory.reservation_ttl_secs`: how long a reservation holds when Reserve does not
    /// say (default 900).
    pub reservation_ttl_secs: u64,
    /// `inventory.sweep_interval_ms`: how often the sweeper releases expired reservations
    /// (default 1000).
    pub sweep_interval_ms: u64,
    /// `inventory.verify_books`: ask the catalog whether a book exists before SetStock or
    /// Restock (an unknown id is NOT_FOUND) and before Reserve (a deleted book has nothing
    /// to sell) (default true).
    pub verify_books: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            reservation_ttl_secs: 15 * 60,
            sweep_interval_ms: 1_000,
            verify_books: true,
        }
    }
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.reservation_ttl_secs == 0 {
            return Err(ConfigError::invalid(
                "inventory.reservation_ttl_secs",
                "must be greater than 0",
            ));
        }
        if self.sweep_interval_ms == 0 {
            return Err(ConfigError::invalid(
                "inventory.sweep_interval_ms",
                "must be greater than 0",
            ));
        }
        Ok(())
    }
}

impl Settings {
    /// How long a reservation holds when Reserve does not say.
    pub fn reservation_ttl(&self) -> Duration {
        Duration::from_secs(self.reservation_ttl_secs)
    }

    /// How often the sweeper runs.
    pub fn sweep_interval(&self) -> Duration {
        Duration::from_millis(self.sweep_interval_ms)
    }
}
