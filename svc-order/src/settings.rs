//! svc-order's own settings: the `order.*` keys beside the wiring every service has
//! (`order.listen`, `order.database_url`, … in `platform::config::ServiceWiring`). They time
//! the checkout saga and inject faults into the sandbox payment provider.

use std::time::Duration;

use platform::config::{ConfigError, Validate};
use serde::Deserialize;

use crate::domain::HaltPoint;
use crate::payments::sandbox::SandboxFaults;
use crate::saga::SagaSettings;

/// svc-order's knobs.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `order.reservation_ttl_secs`: how long inventory holds an order's stock without a
    /// Commit (default 600).
    pub reservation_ttl_secs: u64,
    /// `order.lease_ms`: how long the request that placed an order drives it alone before
    /// the recovery loop may take over (default 30000); the longest a stalled order stays
    /// PENDING is about this plus `recovery_interval_ms`.
    pub lease_ms: u64,
    /// `order.recovery_interval_ms`: how often the recovery loop looks for stalled orders
    /// (default 1000).
    pub recovery_interval_ms: u64,
    /// `order.watch_poll_ms`: how often WatchOrder re-reads an order (default 250).
    pub watch_poll_ms: u64,
    /// `order.sandbox_latency_ms` and `order.sandbox_failure_rate`: fault injection of the
    /// sandbox payment provider, latency added to every call and the share of calls (0 to
    /// 1) that time out (default 0 and 0).
    pub sandbox_latency_ms: u64,
    pub sandbox_failure_rate: f64,
    /// `order.payment_timeout_ms`: the deadline of every payment provider call (default 5000).
    pub payment_timeout_ms: u64,
    /// `order.halt_at`: tests only, freeze checkout at this point as if the process died
    /// (`created`, `reserved`, `authorize_sent`, `authorized`, `committed`, `captured`).
    pub halt_at: Option<HaltPoint>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            reservation_ttl_secs: 10 * 60,
            lease_ms: 30_000,
            recovery_interval_ms: 1_000,
            watch_poll_ms: 250,
            sandbox_latency_ms: 0,
            sandbox_failure_rate: 0.0,
            payment_timeout_ms: 5_000,
            halt_at: None,
        }
    }
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        if !(0.0..=1.0).contains(&self.sandbox_failure_rate) {
            return Err(ConfigError::invalid(
                "order.sandbox_failure_rate",
                "must be between 0 and 1",
            ));
        }
        if self.lease_ms == 0
            || self.recovery_interval_ms == 0
            || self.watch_poll_ms == 0
            || self.payment_timeout_ms == 0
        {
            return Err(ConfigError::invalid(
                "order.lease_ms",
                "lease, intervals and the payment timeout must be greater than 0",
            ));
        }
        if self.reservation_ttl_secs == 0 || self.reservation_ttl_secs > i32::MAX as u64 {
            return Err(ConfigError::invalid(
                "order.reservation_ttl_secs",
                "must be between 1 and 2^31-1",
            ));
        }
        Ok(())
    }
}

impl Settings {
    /// The saga's timings.
    pub fn saga(&self) -> SagaSettings {
        SagaSettings {
            reservation_ttl: Duration::from_secs(self.reservation_ttl_secs),
            lease: Duration::from_millis(self.lease_ms),
            recovery_interval: Duration::from_millis(self.recovery_interval_ms),
        }
    }

    /// The sandbox provider's injected faults.
    pub fn sandbox_faults(&self) -> SandboxFaults {
        SandboxFaults {
            latency: Duration::from_millis(self.sandbox_latency_ms),
            failure_rate: self.sandbox_failure_rate,
        }
    }

    /// The deadline of every payment provider call.
    pub fn payment_timeout(&self) -> Duration {
        Duration::from_millis(self.payment_timeout_ms)
    }

    /// How often WatchOrder re-reads an order.
    pub fn watch_poll(&self) -> Duration {
        Duration::from_millis(self.watch_poll_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Root {
        order: Settings,
    }

    impl Validate for Root {
        fn validate(&self) -> Result<(), ConfigError> {
            self.order.validate()
        }
    }

    fn load(pairs: &[(&str, &str)]) -> Result<Root, ConfigError> {
        platform::config::load(None, &platform::config::env_map(pairs))
    }

    #[test]
    fn the_halt_point_is_parsed_once_at_load_and_a_bad_one_is_named() {
        let root = load(&[("BOOKSTORE_ORDER__HALT_AT", "authorize_sent")]).unwrap();
        assert_eq!(root.order.halt_at, Some(HaltPoint::AuthorizeSent));
        let error = load(&[("BOOKSTORE_ORDER__HALT_AT", "done")]).unwrap_err();
        assert_eq!(error.key, "order.halt_at");
        let error = load(&[("BOOKSTORE_ORDER__SANDBOX_FAILURE_RATE", "2")]).unwrap_err();
        assert_eq!(error.key, "order.sandbox_failure_rate");
    }
}
