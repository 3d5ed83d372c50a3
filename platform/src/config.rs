//! Layered configuration: serde defaults < optional TOML file < `BOOKSTORE_…` variables.
//!
//! Nesting in variable names uses `__`: `BOOKSTORE_INVENTORY__LISTEN=0.0.0.0:50055` sets
//! `inventory.listen`, `BOOKSTORE_REDIS_URL` sets `redis_url`. The loader takes the
//! environment as a map so tests never touch the process environment.

mod section;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use figment::providers::Format as _;
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::de::DeserializeOwned;

pub use section::{Common, Section, ServiceWiring};

/// The prefix of every variable the loader reads.
pub const ENV_PREFIX: &str = "BOOKSTORE_";

/// `BOOKSTORE_` variables that are not configuration keys: the config file's path and the
/// test suite's own settings.
const NOT_KEYS: [&str; 2] = ["BOOKSTORE_CONFIG", "BOOKSTORE_TEST_"];

/// A configuration value that cannot be used; names the key and where it came from.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration `{key}`{origin}: {reason}")]
pub struct ConfigError {
    /// The dotted key, e.g. `inventory.listen`.
    pub key: String,
    origin: String,
    /// What is wrong, lowercase.
    pub reason: String,
}

impl ConfigError {
    /// Creates an error for a value that parsed but fails validation.
    pub fn invalid(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            origin: String::new(),
            reason: reason.into(),
        }
    }

    fn from_figment(error: figment::Error) -> Self {
        let key = error.path.join(".");
        let origin = match &error.metadata {
            // A file names itself; a variable is named from the key path.
            Some(metadata) => match &metadata.source {
                Some(source) => format!(" (from {source})"),
                None if !error.path.is_empty() => {
                    let keys: Vec<&str> = error.path.iter().map(String::as_str).collect();
                    format!(" (from {})", metadata.interpolate(&Profile::Default, &keys))
                }
                None => format!(" (from {})", metadata.name),
            },
            None => String::new(),
        };
        Self {
            key: if key.is_empty() { "<root>".to_owned() } else { key },
            origin,
            reason: error.kind.to_string(),
        }
    }
}

/// A configuration whose raw values need checks serde cannot express.
pub trait Validate {
    /// Checks cross-field and range rules.
    ///
    /// # Errors
    /// Returns a [`ConfigError`] naming the first bad key.
    fn validate(&self) -> Result<(), ConfigError>;
}

/// Loads `T` from its serde defaults, then `file` (TOML) if given, then the `BOOKSTORE_`
/// variables in `env`, and validates it.
///
/// # Errors
/// Returns a [`ConfigError`] naming the key whose value does not parse or validate, or the
/// file that cannot be read.
pub fn load<T>(file: Option<&Path>, env: &HashMap<String, String>) -> Result<T, ConfigError>
where
    T: DeserializeOwned + Validate,
{
    let mut figment = Figment::new();
    if let Some(path) = file {
        if !path.is_file() {
            return Err(ConfigError::invalid(
                "config file",
                format!("{} does not exist", path.display()),
            ));
        }
        figment = figment.merge(figment::providers::Toml::file(path));
    }
    figment = figment.merge(EnvMap::from_env(env));
    // Lossy: "1234" is a fine string and a fine number, whatever the field wants.
    let config: T = figment.extract_lossy().map_err(ConfigError::from_figment)?;
    config.validate()?;
    Ok(config)
}

/// The `BOOKSTORE_` variables of an environment map, as a figment provider.
struct EnvMap {
    /// Dotted lowercase key -> raw value, sorted so errors are deterministic.
    values: BTreeMap<String, String>,
}

impl EnvMap {
    fn from_env(env: &HashMap<String, String>) -> Self {
        let mut values = BTreeMap::new();
        for (name, value) in env {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if NOT_KEYS
                .iter()
                .any(|skipped| name == skipped || (skipped.ends_with('_') && name.starts_with(skipped)))
            {
                continue;
            }
            if rest.is_empty() {
                continue;
            }
            values.insert(rest.to_ascii_lowercase().replace("__", "."), value.clone());
        }
        Self { values }
    }
}

impl Provider for EnvMap {
    fn metadata(&self) -> Metadata {
        Metadata::named("environment variable").interpolater(|_profile, keys| {
            let upper: Vec<String> = keys.iter().map(|key| key.to_ascii_uppercase()).collect();
            format!("{ENV_PREFIX}{}", upper.join("__"))
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut root = Dict::new();
        for (key, raw) in &self.values {
            let path: Vec<&str> = key.split('.').collect();
            // Scalars stay strings (lossy extraction converts them); lists and tables parse.
            let value = if raw.starts_with('[') || raw.starts_with('{') {
                match raw.parse::<Value>() {
                    Ok(value) => value,
                    Err(never) => match never {},
                }
            } else {
                Value::from(raw.clone())
            };
            insert_nested(&mut root, &path, value);
        }
        Ok(Profile::Default.collect(root))
    }
}

fn insert_nested(dict: &mut Dict, path: &[&str], value: Value) {
    let [first, rest @ ..] = path else {
        return;
    };
    if rest.is_empty() {
        dict.insert((*first).to_owned(), value);
        return;
    }
    let entry = dict
        .entry((*first).to_owned())
        .or_insert_with(|| Value::from(Dict::new()));
    if !matches!(entry, Value::Dict(..)) {
        *entry = Value::from(Dict::new());
    }
    if let Value::Dict(_, inner) = entry {
        insert_nested(inner, rest, value);
    }
}

/// Returns an environment map of `pairs`, as a test or a tool builds one (never `set_var`).
pub fn env_map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

/// Returns the process environment as a map, for the binary; tests build their own.
/// Variables that are not valid UTF-8 are skipped (none of ours can be).
pub fn process_env() -> HashMap<String, String> {
    let mut env = HashMap::new();
    for (name, value) in std::env::vars_os() {
        if let (Ok(name), Ok(value)) = (name.into_string(), value.into_string()) {
            env.insert(name, value);
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Sample {
        redis_url: String,
        inventory: Inventory,
    }

    #[derive(Debug, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Inventory {
        listen: SocketAddr,
        replicas: u16,
    }

    impl Default for Sample {
        fn default() -> Self {
            Self {
                redis_url: "redis://127.0.0.1:6379".to_owned(),
                inventory: Inventory::default(),
            }
        }
    }

    impl Default for Inventory {
        fn default() -> Self {
            Self {
                listen: "127.0.0.1:50055".parse().unwrap(),
                replicas: 1,
            }
        }
    }

    impl Validate for Sample {
        fn validate(&self) -> Result<(), ConfigError> {
            if self.inventory.replicas == 0 {
                return Err(ConfigError::invalid("inventory.replicas", "must be at least 1"));
            }
            Ok(())
        }
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config: Sample = load(None, &env_map(&[])).unwrap();
        assert_eq!(config.inventory.listen.port(), 50055);
    }

    #[test]
    fn environment_overrides_file_which_overrides_defaults() {
        let dir = std::env::temp_dir().join(format!("bookstore-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("bookstore.toml");
        std::fs::write(
            &file,
            "redis_url = \"redis://file:1\"\n[inventory]\nreplicas = 3\n",
        )
        .unwrap();
        let config: Sample = load(
            Some(&file),
            &env_map(&[("BOOKSTORE_INVENTORY__REPLICAS", "5"), ("UNRELATED", "x")]),
        )
        .unwrap();
        assert_eq!(config.redis_url, "redis://file:1");
        assert_eq!(config.inventory.replicas, 5);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_bad_value_names_the_key_and_the_variable() {
        let error = load::<Sample>(
            None,
            &env_map(&[("BOOKSTORE_INVENTORY__LISTEN", "not-an-address")]),
        )
        .unwrap_err();
        assert_eq!(error.key, "inventory.listen");
        let message = error.to_string();
        assert!(message.contains("BOOKSTORE_INVENTORY__LISTEN"), "{message}");
    }

    #[test]
    fn an_unknown_key_and_a_failed_validation_are_named() {
        let error = load::<Sample>(None, &env_map(&[("BOOKSTORE_INVENTORY__LISTN", "x")])).unwrap_err();
        assert!(error.to_string().contains("listn"), "{error}");
        let error = load::<Sample>(None, &env_map(&[("BOOKSTORE_INVENTORY__REPLICAS", "0")])).unwrap_err();
        assert_eq!(error.key, "inventory.replicas");
    }

    #[test]
    fn numeric_looking_strings_and_non_key_variables_are_fine() {
        let config: Sample = load(
            None,
            &env_map(&[
                ("BOOKSTORE_REDIS_URL", "1234"),
                ("BOOKSTORE_CONFIG", "/etc/bookstore.toml"),
                ("BOOKSTORE_TEST_DATABASE", "postgres"),
                ("BOOKSTORE_INVENTORY__REPLICAS", "7"),
            ]),
        )
        .unwrap();
        assert_eq!(config.redis_url, "1234");
        assert_eq!(config.inventory.replicas, 7);
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let error =
            load::<Sample>(Some(Path::new("/nonexistent/bookstore.toml")), &env_map(&[])).unwrap_err();
        assert!(error.to_string().contains("does not exist"));
    }
}
