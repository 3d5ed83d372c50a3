//! A service's table in the configuration holds two kinds of keys: the ones every service
//! has (where it listens, how callers reach it, its stores: [`ServiceWiring`]) and the
//! service's own knobs (its crate's `Settings`). [`Section`] reads one table into both, so
//! `BOOKSTORE_INVENTORY__LISTEN` and `BOOKSTORE_INVENTORY__SWEEP_INTERVAL_MS` keep one
//! prefix while each part is declared once, where it belongs.
//!
//! serde's `flatten` cannot do this here: it buffers values, which loses the loader's
//! "text first" reading of environment variables (`"500"` as a number) and the key path in
//! errors. [`Section`] instead hands the shared keys to [`Common::take`] as they come and the
//! rest to the derived `Deserialize` of the service's settings, which still refuses unknown
//! keys.

use std::fmt;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeSeed, IntoDeserializer as _, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// The keys of a table read by hand, so the other keys can go to a derived struct.
pub trait Common: Default {
    /// Reads the value of `key` from `map` into `self` when `key` is one of this part's keys;
    /// returns false (consuming nothing) otherwise.
    ///
    /// # Errors
    /// The value's deserialization error, which names the key.
    fn take<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error>;
}

/// One table read into the part every service shares (`common`) and the service's own
/// settings (`own`), whose derived `Deserialize` refuses any other key.
#[derive(Debug, Clone, Default)]
pub struct Section<C, S> {
    pub common: C,
    pub own: S,
}

impl<'de, C: Common, S: Deserialize<'de>> Deserialize<'de> for Section<C, S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(SectionVisitor(PhantomData))
    }
}

struct SectionVisitor<C, S>(PhantomData<(C, S)>);

impl<'de, C: Common, S: Deserialize<'de>> Visitor<'de> for SectionVisitor<C, S> {
    type Value = Section<C, S>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a table of settings")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let mut common = C::default();
        let own = S::deserialize(MapAccessDeserializer::new(Routed {
            map,
            common: &mut common,
        }))?;
        Ok(Section { common, own })
    }
}

/// The table as the service's settings see it: the shared keys are taken on the way.
struct Routed<'a, A, C> {
    map: A,
    common: &'a mut C,
}

impl<'de, A: MapAccess<'de>, C: Common> MapAccess<'de> for Routed<'_, A, C> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        while let Some(key) = self.map.next_key::<String>()? {
            if !self.common.take(&key, &mut self.map)? {
                return seed.deserialize(key.into_deserializer()).map(Some);
            }
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// Where a gRPC service listens, how callers reach it and which stores it uses: the keys
/// of every service's section (`<service>.listen`, `<service>.database_url`, …).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceWiring {
    /// Where it listens; default `127.0.0.1:<its port>` (user 50051 … inventory 50055).
    pub listen: Option<SocketAddr>,
    /// Where `serve` exposes `/metrics` for Prometheus; off when unset.
    pub metrics_listen: Option<SocketAddr>,
    /// Default: `sqlite://<data_dir>/<service>.db?mode=rwc`. Unused by cart (Redis).
    pub database_url: Option<String>,
    /// `database_url` read from this file (a mounted Secret); the binary reads it at start.
    pub database_url_file: Option<PathBuf>,
    /// This service's Redis instead of the top-level `redis_url`, e.g. carts on a cluster
    /// while catalog's stock-event consumer stays on one node.
    pub redis_url: Option<String>,
    /// `redis_url` read from this file.
    pub redis_url_file: Option<PathBuf>,
    /// Apply pending migrations before serving (`bookstore migrate` does it otherwise).
    pub migrate_on_start: bool,
    /// How other services reach it; default `http://<listen>`.
    pub endpoints: Vec<String>,
    /// Callers' connect timeout and per-call deadline.
    pub connect_timeout_ms: u64,
    pub request_timeout_ms: u64,
}

impl Default for ServiceWiring {
    fn default() -> Self {
        let client = crate::client::UpstreamConfig::default();
        Self {
            listen: None,
            metrics_listen: None,
            database_url: None,
            database_url_file: None,
            redis_url: None,
            redis_url_file: None,
            migrate_on_start: true,
            endpoints: Vec::new(),
            connect_timeout_ms: client.connect_timeout_ms,
            request_timeout_ms: client.request_timeout_ms,
        }
    }
}

impl Common for ServiceWiring {
    fn take<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "listen" => self.listen = map.next_value()?,
            "metrics_listen" => self.metrics_listen = map.next_value()?,
            "database_url" => self.database_url = map.next_value()?,
            "redis_url" => self.redis_url = map.next_value()?,
            "database_url_file" => self.database_url_file = map.next_value()?,
            "redis_url_file" => self.redis_url_file = map.next_value()?,
            "migrate_on_start" => self.migrate_on_start = map.next_value()?,
            "endpoints" => self.endpoints = map.next_value()?,
            "connect_timeout_ms" => self.connect_timeout_ms = map.next_value()?,
            "request_timeout_ms" => self.request_timeout_ms = map.next_value()?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigError, Validate, env_map, load};

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Knobs {
        sweep_interval_ms: u64,
        halt: bool,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Root {
        inventory: Section<ServiceWiring, Knobs>,
        user: ServiceWiring,
    }

    impl Validate for Root {
        fn validate(&self) -> Result<(), ConfigError> {
            Ok(())
        }
    }

    /// Every key of the wiring, as a variable of `service`.
    fn every_wiring_key(service: &str) -> Vec<(String, &'static str)> {
        [
            ("LISTEN", "0.0.0.0:6000"),
            ("METRICS_LISTEN", "0.0.0.0:6001"),
            ("DATABASE_URL", "postgres://db/x"),
            ("REDIS_URL", "redis://cache:1"),
            ("MIGRATE_ON_START", "false"),
            ("ENDPOINTS", "[\"http://a:1\", \"http://b:1\"]"),
            ("CONNECT_TIMEOUT_MS", "7"),
            ("REQUEST_TIMEOUT_MS", "8"),
        ]
        .into_iter()
        .map(|(key, value)| (format!("BOOKSTORE_{service}__{key}"), value))
        .collect()
    }

    #[test]
    fn shared_keys_go_to_the_wiring_and_the_rest_to_the_service_read_from_text() {
        let mut pairs = every_wiring_key("INVENTORY");
        pairs.extend(every_wiring_key("USER"));
        pairs.push(("BOOKSTORE_INVENTORY__SWEEP_INTERVAL_MS".to_owned(), "500"));
        pairs.push(("BOOKSTORE_INVENTORY__HALT".to_owned(), "true"));
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(key, value)| (key.as_str(), *value)).collect();
        let root: Root = load(None, &env_map(&pairs)).unwrap();
        assert_eq!(root.inventory.own.sweep_interval_ms, 500);
        assert!(root.inventory.own.halt);
        // Taken by hand and derived alike: the same keys, the same values.
        assert_eq!(format!("{:?}", root.inventory.common), format!("{:?}", root.user));
        assert_eq!(root.user.endpoints.len(), 2);
        assert!(!root.user.migrate_on_start);
    }

    #[test]
    fn bad_and_unknown_keys_are_named_in_either_part() {
        let error = load::<Root>(None, &env_map(&[("BOOKSTORE_INVENTORY__LISTEN", "nope")])).unwrap_err();
        assert_eq!(error.key, "inventory.listen");
        assert!(
            error.to_string().contains("BOOKSTORE_INVENTORY__LISTEN"),
            "{error}"
        );
        let error = load::<Root>(
            None,
            &env_map(&[("BOOKSTORE_INVENTORY__SWEEP_INTERVAL_MS", "soon")]),
        )
        .unwrap_err();
        assert_eq!(error.key, "inventory.sweep_interval_ms");
        let error = load::<Root>(None, &env_map(&[("BOOKSTORE_INVENTORY__LISTN", "x")])).unwrap_err();
        assert!(error.to_string().contains("listn"), "{error}");
    }
}
