//! Turning a [`BookstoreConfig`] into running services: keys, contexts, listeners and the
//! dispatch to each service crate's `serve`. Shared by `up` (all in one process) and
//! `serve` (one per container).

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use platform::ServiceName;
use platform::auth::{KeySet, LocalSigner, SigningKey, TokenSource, Verifier};
use platform::server::ServeContext;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::BookstoreConfig;

/// The keys a process verifies with, and the one it signs with if it holds it.
#[derive(Debug, Clone)]
pub struct Keys {
    pub verification: KeySet,
    pub signing: Option<SigningKey>,
}

/// Loads the signing key file (if configured) and the verification key set.
///
/// # Errors
/// Fails when a key file cannot be read or parsed, or no verification key is configured.
pub fn load_keys(config: &BookstoreConfig) -> anyhow::Result<Keys> {
    let signing = match &config.auth.signing_key_file {
        Some(path) => Some(read_signing_key(path)?),
        None => None,
    };
    let verification = verification_keys(config, signing.as_ref())?;
    Ok(Keys {
        verification,
        signing,
    })
}

/// Returns the signing key under `data_dir`, generating and saving it on first use, so
/// tokens survive restarts of `bookstore up`.
///
/// # Errors
/// Fails when the file cannot be written or holds something that is not a key.
pub fn local_signing_key(data_dir: &Path) -> anyhow::Result<SigningKey> {
    let path = data_dir.join("jwt-signing-key.pem");
    if path.exists() {
        return read_signing_key(&path);
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("failed to create {}", data_dir.display()))?;
    let key = SigningKey::generate();
    let mut file = private_file(&path).with_context(|| format!("failed to create {}", path.display()))?;
    std::io::Write::write_all(&mut file, key.to_pem().as_bytes())
        .with_context(|| format!("failed to write {}", path.display()))?;
    Ok(key)
}

/// Creates a new file only its owner can read, from the first byte on.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn read_signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read auth.signing_key_file {}", path.display()))?;
    SigningKey::from_pem(&pem).with_context(|| format!("invalid auth.signing_key_file {}", path.display()))
}

fn verification_keys(config: &BookstoreConfig, signing: Option<&SigningKey>) -> anyhow::Result<KeySet> {
    let mut jwks = Vec::new();
    if let Some(json) = &config.auth.jwks {
        jwks.extend(
            KeySet::from_json(json)
                .context("invalid auth.jwks")?
                .jwks()
                .iter()
                .cloned(),
        );
    }
    if let Some(path) = &config.auth.jwks_file {
        let json = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read auth.jwks_file {}", path.display()))?;
        jwks.extend(
            KeySet::from_json(&json)
                .context("invalid auth.jwks_file")?
                .jwks()
                .iter()
                .cloned(),
        );
    }
    if let Some(key) = signing {
        jwks.push(key.public_jwk());
    }
    if jwks.is_empty() {
        anyhow::bail!(
            "invalid configuration `auth.jwks`: no verification keys; set BOOKSTORE_AUTH__JWKS, \
             BOOKSTORE_AUTH__JWKS_FILE or BOOKSTORE_AUTH__SIGNING_KEY_FILE"
        );
    }
    Ok(KeySet::from_jwks(jwks)?)
}

/// Builds the context `service` runs with: its verifier and, when this process holds the
/// signing key, service tokens for its outgoing calls.
pub fn serve_context(config: &BookstoreConfig, service: ServiceName, keys: &Keys) -> ServeContext {
    let verifier = Verifier::new(
        config.auth.issuer.clone(),
        service.as_str(),
        keys.verification.clone(),
    );
    let tokens = keys.signing.clone().map(|key| {
        TokenSource::new(LocalSigner::new(
            key,
            config.auth.issuer.clone(),
            service.as_str(),
            Duration::from_secs(config.auth.service_token_ttl_secs),
        ))
    });
    ServeContext {
        grpc: config.grpc.clone(),
        verifier,
        tokens,
    }
}

/// Binds `service`'s configured address.
///
/// # Errors
/// Fails with the address when it is taken or not local.
pub async fn bind(config: &BookstoreConfig, service: ServiceName) -> anyhow::Result<TcpListener> {
    let address = config.listen_address(service);
    TcpListener::bind(address)
        .await
        .with_context(|| format!("failed to listen on {address} for {service} (is it already running?)"))
}

/// Runs one service until `shutdown` is cancelled.
///
/// # Errors
/// Returns what stopped the service: its store, its listener, or bad upstream config.
pub async fn run_service(
    config: &BookstoreConfig,
    service: ServiceName,
    keys: &Keys,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let context = serve_context(config, service, keys);
    match service {
        ServiceName::User => {
            let service_config = svc_user::Config {
                database_url: config.database_url(service),
                migrate_on_start: config.section(service).migrate_on_start,
            };
            svc_user::serve(&service_config, &context, listener, shutdown).await
        }
        ServiceName::Catalog => {
            let service_config = svc_catalog::Config {
                database_url: config.database_url(service),
                migrate_on_start: config.section(service).migrate_on_start,
            };
            svc_catalog::serve(&service_config, &context, listener, shutdown).await
        }
        ServiceName::Order => {
            let service_config = svc_order::Config {
                database_url: config.database_url(service),
                migrate_on_start: config.section(service).migrate_on_start,
            };
            svc_order::serve(&service_config, &context, listener, shutdown).await
        }
        ServiceName::Inventory => {
            let service_config = svc_inventory::Config {
                database_url: config.database_url(service),
                migrate_on_start: config.section(service).migrate_on_start,
            };
            svc_inventory::serve(&service_config, &context, listener, shutdown).await
        }
        ServiceName::Cart => {
            let cart_config = svc_cart::Config {
                redis_url: config.redis_url.clone(),
                key_prefix: format!("{}:cart", config.redis_key_prefix),
            };
            svc_cart::serve(&cart_config, &context, listener, shutdown).await
        }
        ServiceName::Bff => {
            let upstreams =
                bff::Upstreams::new(|upstream| config.upstream(upstream), context.tokens.clone())?;
            let bff_config = bff::Config {
                readiness_timeout: Duration::from_millis(config.bff.readiness_timeout_ms),
            };
            bff::serve(&bff_config, upstreams, listener, shutdown).await
        }
    }
}

/// Serves `/metrics` for a lone service when `metrics_listen` is configured.
///
/// # Errors
/// Fails when the metrics address cannot be bound.
pub async fn metrics_listener(
    config: &BookstoreConfig,
    service: ServiceName,
) -> anyhow::Result<Option<TcpListener>> {
    let address = match service {
        ServiceName::Bff => None,
        grpc => config.section(grpc).metrics_listen,
    };
    let Some(address) = address else {
        return Ok(None);
    };
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("failed to listen on {address} for {service} metrics"))?;
    Ok(Some(listener))
}
