//! `bookstore up`: the whole mesh in one process on embedded SQLite, wired as in production
//! (each service on its own listener, called over real gRPC with the same tokens, deadlines
//! and server layers), except that the services reach each other over in-memory pipes
//! rather than loopback TCP (`platform::client::in_process`).

use anyhow::Context as _;
use platform::ServiceName;
use platform::auth::KeySet;
use platform::client::InProcess;
use secrecy::SecretString;
use tokio::task::JoinSet;

use crate::config::BookstoreConfig;
use crate::launch::{self, Keys};

/// Arguments of `up`.
#[derive(Debug, clap::Args)]
pub struct Args {}

impl Args {
    /// Starts every service, prints where they listen, and runs until Ctrl-C or until one
    /// of them stops, which it reports.
    ///
    /// # Errors
    /// Fails when a listener cannot be bound or any service stops with an error.
    pub async fn execute(self, mut config: BookstoreConfig) -> anyhow::Result<()> {
        let keys = up_keys(&config)?;
        let demo_admin = ensure_demo_admin(&mut config)?;
        // Bind everything first: a taken port fails before anything starts.
        let mut listeners = Vec::new();
        for service in ServiceName::all() {
            listeners.push((service, launch::bind(&config, service).await?));
        }

        // Every service runs here, so they call each other in memory, not over loopback TCP;
        // each still listens for the world (the BFF for browsers, the others for tools).
        let in_process = InProcess::new(ServiceName::grpc_services());
        let shutdown = platform::shutdown::on_signal();
        let mut tasks = JoinSet::new();
        for (service, listener) in listeners {
            let config = config.clone();
            let keys = keys.clone();
            let token = shutdown.clone();
            let in_process = in_process.clone();
            tasks.spawn(async move {
                let verifier = launch::verifier(&config, service, &keys);
                let result =
                    launch::run_service(&config, service, &keys, verifier, listener, &in_process, token)
                        .await;
                (service, result)
            });
        }
        print_urls(&config, demo_admin.as_ref());
        // Not a service: outside the set whose first exit stops everything.
        let (demo_config, demo_in_process) = (config.clone(), in_process.clone());
        let seeding = tokio::spawn(async move {
            if let Err(error) = crate::cmd::seed::seed_demo_if_empty(&demo_config, &demo_in_process).await {
                tracing::warn!(error.cause_chain = %platform::telemetry::cause_chain(&error), "failed to seed the demo catalog");
            }
        });

        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            let (service, result) = match joined {
                Ok(outcome) => outcome,
                Err(panic) => {
                    // Keep draining the others; report the panic at the end.
                    shutdown.cancel();
                    first_error.get_or_insert(anyhow::anyhow!("a service task panicked: {panic}"));
                    continue;
                }
            };
            if !shutdown.is_cancelled() {
                tracing::error!(%service, "service stopped unexpectedly, stopping the others");
                shutdown.cancel();
            }
            if let Err(error) = result {
                tracing::error!(%service, error.cause_chain = %platform::telemetry::cause_chain(&error), "service failed");
                first_error.get_or_insert(error.context(format!("{service} failed")));
            }
        }
        seeding.abort();
        match first_error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// Uses the configured keys, or a key generated once under `data_dir` for local use, and a
/// fresh client secret per service so every service gets its tokens from svc-user, as in
/// production.
fn up_keys(config: &BookstoreConfig) -> anyhow::Result<Keys> {
    let mut keys = launch::load_keys(config)?;
    if keys.signing.is_none() {
        let signing = launch::local_signing_key(&config.data_dir)?;
        let mut jwks = vec![signing.public_jwk()];
        jwks.extend(keys.verification.jwks().iter().cloned());
        keys.verification = KeySet::from_jwks(jwks)?;
        keys.signing = Some(signing);
    }
    for service in ServiceName::all() {
        if !service.callees().is_empty() {
            keys.client_secrets
                .insert(service, SecretString::from(random_secret()));
        }
    }
    Ok(keys)
}

/// Email of the admin `up` creates when no bootstrap admin is configured.
pub(crate) const DEMO_ADMIN_EMAIL: &str = "admin@bookstore.local";

/// Configures the demo admin unless one is configured: its password is generated once and
/// kept (owner-readable only) under `data_dir`, so it still works after a restart. Returns
/// the credentials to print.
fn ensure_demo_admin(config: &mut BookstoreConfig) -> anyhow::Result<Option<(String, String)>> {
    if config.bootstrap_admin_email.is_some() {
        return Ok(None);
    }
    let path = config.data_dir.join("admin-password");
    let password = if path.exists() {
        std::fs::read_to_string(&path)
            .with_context(|| format!("failed to read {}", path.display()))?
            .trim()
            .to_owned()
    } else {
        let password = random_secret();
        launch::write_private_file(&path, &password)?;
        password
    };
    config.bootstrap_admin_email = Some(DEMO_ADMIN_EMAIL.to_owned());
    config.bootstrap_admin_password = Some(SecretString::from(password.clone()));
    Ok(Some((DEMO_ADMIN_EMAIL.to_owned(), password)))
}

fn random_secret() -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn print_urls(config: &BookstoreConfig, demo_admin: Option<&(String, String)>) {
    let bff = config.listen_address(ServiceName::Bff);
    println!("bookstore is up (data in {})", config.data_dir.display());
    println!("  shop       http://{bff}/  (GraphQL and GraphiQL at http://{bff}/graphql)");
    println!("  bff        http://{bff}/livez  http://{bff}/readyz?verbose  http://{bff}/metrics");
    for service in ServiceName::grpc_services() {
        println!(
            "  {:<10} grpc://{}",
            service.as_str(),
            config.listen_address(service)
        );
    }
    if let Some((email, password)) = demo_admin {
        println!("  admin      {email} / {password}  (demo account; the password is kept in the data dir)");
    }
    println!("press ctrl-c to stop");
}
