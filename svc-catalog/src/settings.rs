//! svc-catalog's own settings: the `catalog.*` keys beside the wiring every service has
//! (`catalog.listen`, `catalog.database_url`, … in `platform::config::ServiceWiring`).

use platform::config::{ConfigError, Validate};
use serde::Deserialize;

/// svc-catalog's knobs: none yet. A knob added here is read from `catalog.<name>` (and
/// `BOOKSTORE_CATALOG__<NAME>`) and documented in the README's configuration table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}
