//! The `_file` form of every URL and secret setting, the container convention
//! (`BOOKSTORE_REDIS_URL_FILE=/run/secrets/redis-url`): the value is read from the file (one
//! trailing newline dropped), so a Kubernetes Secret can be mounted as a file instead of
//! living in the process environment. Setting both forms of one key is refused, naming both.
//!
//! | key | file form |
//! |---|---|
//! | `redis_url` | `redis_url_file` |
//! | `<service>.database_url`, `<service>.redis_url` | `<service>.database_url_file`, `<service>.redis_url_file` |
//! | `auth.client_secret` | `auth.client_secret_file` |
//! | `auth.service_clients.<service>` | `auth.service_clients.<service>_file` |
//! | `bootstrap_admin_password` | `bootstrap_admin_password_file` |

use std::path::{Path, PathBuf};

use platform::ServiceName;
use platform::config::ConfigError;
use secrecy::SecretString;

use super::BookstoreConfig;

/// The file's text without its trailing newline.
fn read(key: &str, path: &Path) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| ConfigError::invalid(key, format!("cannot read {}: {error}", path.display())))?;
    let value = text.strip_suffix('\n').unwrap_or(&text);
    let value = value.strip_suffix('\r').unwrap_or(value);
    if value.is_empty() {
        return Err(ConfigError::invalid(key, format!("{} is empty", path.display())));
    }
    Ok(value.to_owned())
}

fn both(key: &str) -> ConfigError {
    ConfigError::invalid(
        format!("{key}_file"),
        format!("`{key}` and `{key}_file` are both set; set one of them"),
    )
}

/// Reads `file` into `value` under `key`, refusing both set.
fn resolve(key: &str, value: &mut Option<String>, file: &mut Option<PathBuf>) -> Result<(), ConfigError> {
    let Some(path) = file.take() else {
        return Ok(());
    };
    if value.is_some() {
        return Err(both(key));
    }
    *value = Some(read(&format!("{key}_file"), &path)?);
    Ok(())
}

fn resolve_secret(
    key: &str,
    value: &mut Option<SecretString>,
    file: &mut Option<PathBuf>,
) -> Result<(), ConfigError> {
    let Some(path) = file.take() else {
        return Ok(());
    };
    if value.is_some() {
        return Err(both(key));
    }
    *value = Some(SecretString::from(read(&format!("{key}_file"), &path)?));
    Ok(())
}

/// Replaces every `_file` form set in `config` with what its file holds.
///
/// # Errors
/// A [`ConfigError`] naming the `_file` key whose file cannot be read or is empty, or both
/// keys when both forms are set.
pub fn read_secret_files(config: &mut BookstoreConfig) -> Result<(), ConfigError> {
    if let Some(path) = config.redis_url_file.take() {
        // `redis_url` has a default, so "set" means set to something else.
        if config.redis_url != BookstoreConfig::default().redis_url {
            return Err(both("redis_url"));
        }
        config.redis_url = read("redis_url_file", &path)?;
    }
    for service in ServiceName::grpc_services() {
        let wiring = config.wiring_mut(service);
        resolve(
            &format!("{service}.database_url"),
            &mut wiring.database_url,
            &mut wiring.database_url_file,
        )?;
        resolve(
            &format!("{service}.redis_url"),
            &mut wiring.redis_url,
            &mut wiring.redis_url_file,
        )?;
    }
    resolve_secret(
        "auth.client_secret",
        &mut config.auth.common.client_secret,
        &mut config.auth.common.client_secret_file,
    )?;
    resolve_secret(
        "bootstrap_admin_password",
        &mut config.bootstrap_admin_password,
        &mut config.bootstrap_admin_password_file,
    )?;
    let clients = &mut config.auth.own.service_clients;
    let file_forms: Vec<String> = clients
        .keys()
        .filter(|name| name.ends_with("_file"))
        .cloned()
        .collect();
    for file_key in file_forms {
        let name = file_key.trim_end_matches("_file").to_owned();
        let key = format!("auth.service_clients.{name}");
        if clients.contains_key(&name) {
            return Err(both(&key));
        }
        let Some(path) = clients.remove(&file_key) else {
            continue;
        };
        let path = PathBuf::from(secrecy::ExposeSecret::expose_secret(&path));
        let secret = read(&format!("{key}_file"), &path)?;
        clients.insert(name, SecretString::from(secret));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::config::{env_map, load};

    fn secret_file(contents: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("bookstore-secret-{}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn loaded(pairs: &[(&str, &str)]) -> Result<BookstoreConfig, ConfigError> {
        let mut config: BookstoreConfig = load(None, &env_map(pairs))?;
        read_secret_files(&mut config)?;
        Ok(config)
    }

    #[test]
    fn every_url_and_secret_reads_its_file_form() {
        let redis = secret_file("rediss://:pw@cache:6380\n");
        let database = secret_file("postgres://app:pw@db/inventory");
        let secret = secret_file("client secret\r\n");
        let admin = secret_file("admin password\n");
        let cart = secret_file("cart secret");
        let pairs = [
            ("BOOKSTORE_REDIS_URL_FILE", redis.to_str().unwrap()),
            (
                "BOOKSTORE_INVENTORY__DATABASE_URL_FILE",
                database.to_str().unwrap(),
            ),
            ("BOOKSTORE_CART__REDIS_URL_FILE", redis.to_str().unwrap()),
            ("BOOKSTORE_AUTH__CLIENT_SECRET_FILE", secret.to_str().unwrap()),
            ("BOOKSTORE_BOOTSTRAP_ADMIN_EMAIL", "admin@shop.example"),
            ("BOOKSTORE_BOOTSTRAP_ADMIN_PASSWORD_FILE", admin.to_str().unwrap()),
            (
                "BOOKSTORE_AUTH__SERVICE_CLIENTS__CART_FILE",
                cart.to_str().unwrap(),
            ),
        ];
        let config = loaded(&pairs).unwrap();
        use secrecy::ExposeSecret as _;
        assert_eq!(config.redis_url, "rediss://:pw@cache:6380");
        assert_eq!(
            config.database_url(ServiceName::Inventory),
            "postgres://app:pw@db/inventory"
        );
        assert_eq!(config.redis_url(ServiceName::Cart), "rediss://:pw@cache:6380");
        assert_eq!(
            config.auth.common.client_secret.unwrap().expose_secret(),
            "client secret"
        );
        assert_eq!(
            config.bootstrap_admin_password.unwrap().expose_secret(),
            "admin password"
        );
        let clients = config.auth.own.mesh_clients();
        assert_eq!(clients.len(), 1);
        assert_eq!(
            (clients[0].0, clients[0].1.expose_secret()),
            (ServiceName::Cart, "cart secret")
        );
        for path in [redis, database, secret, admin, cart] {
            let _ = std::fs::remove_file(path);
        }
    }

    #[test]
    fn both_forms_or_an_unreadable_file_are_refused_naming_the_keys() {
        let file = secret_file("redis://cache:1");
        let path = file.to_str().unwrap();
        for (pairs, named) in [
            (
                vec![
                    ("BOOKSTORE_REDIS_URL", "redis://x:1"),
                    ("BOOKSTORE_REDIS_URL_FILE", path),
                ],
                "`redis_url` and `redis_url_file`",
            ),
            (
                vec![
                    ("BOOKSTORE_USER__DATABASE_URL", "postgres://db/u"),
                    ("BOOKSTORE_USER__DATABASE_URL_FILE", path),
                ],
                "`user.database_url` and `user.database_url_file`",
            ),
            (
                vec![
                    ("BOOKSTORE_AUTH__SERVICE_CLIENTS__BFF", "s"),
                    ("BOOKSTORE_AUTH__SERVICE_CLIENTS__BFF_FILE", path),
                ],
                "`auth.service_clients.bff` and `auth.service_clients.bff_file`",
            ),
            (
                vec![("BOOKSTORE_AUTH__CLIENT_SECRET_FILE", "/nonexistent/secret")],
                "auth.client_secret_file",
            ),
        ] {
            let error = loaded(&pairs).unwrap_err().to_string();
            assert!(error.contains(named), "{error}");
        }
        let _ = std::fs::remove_file(file);
    }
}
