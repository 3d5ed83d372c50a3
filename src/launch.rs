//! Turning a [`BookstoreConfig`] into running services: keys, verifiers, token sources,
//! listeners and the dispatch to each service crate's `serve`. Shared by `up` (all in one
//! process), `serve` (one per container) and the test harness.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use platform::ServiceName;
use platform::auth::{ClientCredentials, KeySet, LocalSigner, SigningKey, TokenSource, Verifier};
use platform::client::{InProcess, MeshChannel};
use platform::server::{ServeContext, Stores};
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::BookstoreConfig;

/// The keys and credentials a process holds.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    /// Public keys tokens are verified with (empty: fetch svc-user's set).
    pub verification: KeySet,
    /// The private key; svc-user signs with it (tests and `up` also mint with it).
    pub signing: Option<SigningKey>,
    /// Client secrets per service, for `up` where one process runs every service;
    /// `serve` uses `auth.client_secret`.
    pub client_secrets: HashMap<ServiceName, SecretString>,
}

/// Loads the configured keys: the signing key file and the verification key set (which
/// includes the signing key's public half). Both may be absent: then `serve` fetches the key
/// set from svc-user.
///
/// # Errors
/// Fails when a key file cannot be read or parsed.
pub fn load_keys(config: &BookstoreConfig) -> anyhow::Result<Keys> {
    let signing = match &config.auth.common.signing_key_file {
        Some(path) => Some(read_signing_key(path)?),
        None => None,
    };
    let mut jwks = Vec::new();
    if let Some(json) = &config.auth.common.jwks {
        jwks.extend(
            KeySet::from_json(json)
                .context("invalid auth.jwks")?
                .jwks()
                .iter()
                .cloned(),
        );
    }
    if let Some(path) = &config.auth.common.jwks_file {
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
    if let Some(key) = &signing {
        jwks.push(key.public_jwk());
    }
    Ok(Keys {
        verification: KeySet::from_jwks(jwks)?,
        signing,
        client_secrets: HashMap::new(),
    })
}

/// Fetches svc-user's key set, retrying with backoff until it answers or `shutdown`.
///
/// # Errors
/// Fails only when shutdown comes first.
pub async fn fetch_key_set(config: &BookstoreConfig, shutdown: &CancellationToken) -> anyhow::Result<KeySet> {
    let channel = MeshChannel::new(ServiceName::User, &config.upstream(ServiceName::User), None)?;
    let mut backoff = Duration::from_millis(200);
    loop {
        match platform::auth::jwks::fetch(channel.clone()).await {
            Ok(keys) if !keys.is_empty() => return Ok(keys),
            Ok(_) => tracing::warn!("svc-user published no keys yet, retrying"),
            Err(error) => {
                tracing::warn!(error.cause_chain = %platform::telemetry::cause_chain(&error), "svc-user key set not available yet, retrying")
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => anyhow::bail!("stopped before svc-user published its key set"),
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
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
    let key = SigningKey::generate();
    write_private_file(&path, key.to_pem())?;
    Ok(key)
}

/// Writes a new file only its owner can read, from the first byte on.
///
/// # Errors
/// Fails when the directory cannot be created or the file already exists.
pub fn write_private_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    if let Some(directory) = path.parent() {
        std::fs::create_dir_all(directory)
            .with_context(|| format!("failed to create {}", directory.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("failed to create {}", path.display()))?;
    std::io::Write::write_all(&mut file, contents.as_bytes())
        .with_context(|| format!("failed to write {}", path.display()))
}

fn read_signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read auth.signing_key_file {}", path.display()))?;
    SigningKey::from_pem(&pem).with_context(|| format!("invalid auth.signing_key_file {}", path.display()))
}

/// Returns the verifier of `service`: its own name as audience, `keys`' key set.
pub fn verifier(config: &BookstoreConfig, service: ServiceName, keys: &Keys) -> Verifier {
    Verifier::new(
        config.auth.common.issuer.clone(),
        service.as_str(),
        keys.verification.clone(),
    )
}

/// Returns where `service`'s outgoing service tokens come from: svc-user's client
/// credentials grant when the service has a client secret, else the local signing key
/// (tests), else nowhere (the service calls nobody).
///
/// # Errors
/// Fails when svc-user's endpoints are invalid.
pub fn token_source(
    config: &BookstoreConfig,
    service: ServiceName,
    keys: &Keys,
    in_process: &InProcess,
) -> anyhow::Result<Option<TokenSource>> {
    let secret = keys
        .client_secrets
        .get(&service)
        .or(config.auth.common.client_secret.as_ref());
    if let (Some(secret), false) = (secret, service == ServiceName::User) {
        let upstream = config.upstream(ServiceName::User);
        let user_service = match MeshChannel::in_process(ServiceName::User, &upstream, in_process, None) {
            Some(channel) if !config.grpc.tls_enabled() && upstream.tls_ca_file.is_none() => channel,
            _ => MeshChannel::new(ServiceName::User, &upstream, None)?,
        };
        let minter = ClientCredentials::new(user_service, service.as_str(), secret.clone());
        return Ok(Some(TokenSource::new(minter)));
    }
    let Some(key) = keys.signing.clone() else {
        return Ok(None);
    };
    let lifetime = Duration::from_secs(config.auth.common.service_token_ttl_secs);
    let signer = LocalSigner::new(key, config.auth.common.issuer.clone(), service.as_str(), lifetime);
    Ok(Some(TokenSource::new(signer)))
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

/// Returns what `service` is started with beside its own settings: the gRPC server
/// settings, its verifier and token source, its stores, where every other service is, and
/// which of them run in this process (`in_process`, empty but for `up`).
///
/// # Errors
/// Fails when svc-user's endpoints (for service tokens) are invalid.
pub fn serve_context(
    config: &BookstoreConfig,
    service: ServiceName,
    keys: &Keys,
    verifier: Verifier,
    in_process: &InProcess,
) -> anyhow::Result<ServeContext> {
    Ok(ServeContext {
        grpc: config.grpc.clone(),
        verifier,
        tokens: token_source(config, service, keys, in_process)?,
        stores: Stores {
            database_url: config.database_url(service),
            migrate_on_start: service == ServiceName::Bff || config.wiring(service).migrate_on_start,
            redis_url: config.redis_url(service),
            redis_ca_pem: match &config.redis_tls_ca_file {
                Some(path) => Some(std::sync::Arc::new(
                    platform::store::read_ca_file(path)
                        .context("invalid configuration `redis_tls_ca_file`")?,
                )),
                None => None,
            },
            redis_key_prefix: config.redis_key_prefix.clone(),
        },
        upstreams: ServiceName::grpc_services()
            .into_iter()
            .map(|upstream| (upstream, config.upstream(upstream)))
            .collect(),
        replica: replica_name(service),
        in_process: in_process.clone(),
    })
}

/// Runs one service until `shutdown` is cancelled: each crate gets its own settings and the
/// process-wide context. The services in `in_process` (all of them under `up`) are called
/// in memory, and this one accepts their calls beside `listener`.
///
/// # Errors
/// Returns what stopped the service: its store, its listener, or bad upstream config.
pub async fn run_service(
    config: &BookstoreConfig,
    service: ServiceName,
    keys: &Keys,
    verifier: Verifier,
    listener: TcpListener,
    in_process: &InProcess,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let context = serve_context(config, service, keys, verifier, in_process)?;
    match service {
        ServiceName::User => {
            svc_user::serve(
                &config.auth.own,
                &issuing(config, keys)?,
                &context,
                listener,
                shutdown,
            )
            .await
        }
        ServiceName::Catalog => svc_catalog::serve(&config.catalog.own, &context, listener, shutdown).await,
        ServiceName::Cart => svc_cart::serve(&config.cart.own, &context, listener, shutdown).await,
        ServiceName::Order => svc_order::serve(&config.order.own, &context, listener, shutdown).await,
        ServiceName::Inventory => {
            svc_inventory::serve(&config.inventory.own, &context, listener, shutdown).await
        }
        ServiceName::Bff => bff::serve(&config.bff, &context, listener, shutdown).await,
    }
}

/// Returns a short-lived admin token signed with the signing key this operator holds
/// (`auth.signing_key_file`, or `bookstore up`'s key under `data_dir`): for `seed`, which
/// is an operator's tool, not a user's.
///
/// # Errors
/// Fails when no signing key is available.
pub fn operator_token(config: &BookstoreConfig) -> anyhow::Result<String> {
    let key = match &config.auth.common.signing_key_file {
        Some(path) => read_signing_key(path)?,
        None => {
            let path = config.data_dir.join("jwt-signing-key.pem");
            if !path.exists() {
                anyhow::bail!(
                    "invalid configuration `auth.signing_key_file`: seeding acts as an admin and needs the \
                     signing key (set BOOKSTORE_AUTH__SIGNING_KEY_FILE, or --data-dir of `bookstore up`)"
                );
            }
            read_signing_key(&path)?
        }
    };
    let claims = platform::auth::Claims::new(
        uuid::Uuid::nil().to_string(),
        platform::auth::Role::Admin,
        &config.auth.common.issuer,
        vec![platform::auth::MESH_AUDIENCE.to_owned()],
        Duration::from_secs(3600),
    );
    Ok(claims.sign(&key)?)
}

/// Returns a channel to `service` without a per-call deadline, for long streams (imports):
/// in memory when this process runs `service` (`in_process`) and the mesh is plaintext.
///
/// # Errors
/// Fails when the service's first endpoint is not a URL.
pub fn long_call_channel(
    config: &BookstoreConfig,
    service: ServiceName,
    in_process: &InProcess,
) -> anyhow::Result<tonic::transport::Channel> {
    let upstream = config.upstream(service);
    if !config.grpc.tls_enabled()
        && upstream.tls_ca_file.is_none()
        && let Some(channel) = in_process.channel(service, Duration::from_millis(upstream.connect_timeout_ms))
    {
        return Ok(channel);
    }
    let endpoint = upstream
        .endpoints
        .first()
        .ok_or_else(|| anyhow::anyhow!("no endpoint for {service}"))?;
    let endpoint = tonic::transport::Endpoint::from_shared(endpoint.clone())
        .with_context(|| format!("invalid endpoint for {service}"))?
        .connect_timeout(Duration::from_millis(upstream.connect_timeout_ms));
    Ok(endpoint.connect_lazy())
}

/// A name for this replica: the pod name in Kubernetes, else a fresh one per process.
fn replica_name(service: ServiceName) -> String {
    match std::env::var("HOSTNAME") {
        Ok(host) if !host.is_empty() => format!("{service}-{host}-{}", std::process::id()),
        _ => format!("{service}-{}", uuid::Uuid::new_v4().simple()),
    }
}

/// Returns what svc-user issues with: the signing key, the published key set, the mesh's
/// token rules, the mesh clients `up` made secrets for, and the bootstrap admin.
///
/// # Errors
/// Fails without a signing key: svc-user is the issuer and must hold one.
pub fn issuing(config: &BookstoreConfig, keys: &Keys) -> anyhow::Result<svc_user::Issuing> {
    let Some(signing_key) = keys.signing.clone() else {
        anyhow::bail!(
            "invalid configuration `auth.signing_key_file`: svc-user signs every token and needs \
             its Ed25519 private key (set BOOKSTORE_AUTH__SIGNING_KEY_FILE)"
        );
    };
    let bootstrap_admin = match (&config.bootstrap_admin_email, &config.bootstrap_admin_password) {
        (Some(email), Some(password)) => Some((email.clone(), password.clone())),
        _ => None,
    };
    Ok(svc_user::Issuing {
        issuer: config.auth.common.issuer.clone(),
        signing_key,
        retired_keys: keys.verification.clone(),
        service_token_lifetime: Duration::from_secs(config.auth.common.service_token_ttl_secs),
        mesh_clients: keys
            .client_secrets
            .iter()
            .map(|(service, secret)| (*service, secret.clone()))
            .collect(),
        bootstrap_admin,
    })
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
        grpc => config.wiring(grpc).metrics_listen,
    };
    let Some(address) = address else {
        return Ok(None);
    };
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("failed to listen on {address} for {service} metrics"))?;
    Ok(Some(listener))
}
