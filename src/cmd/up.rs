//! `bookstore up`: the whole mesh in one process on embedded SQLite, wired exactly as in
//! production (each service on its own loopback listener, called over real gRPC).

use std::path::PathBuf;

use platform::ServiceName;
use platform::auth::KeySet;
use tokio::task::JoinSet;

use crate::config::BookstoreConfig;
use crate::launch::{self, Keys};

/// Arguments of `up`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where SQLite files and the generated signing key live (overrides `data_dir`).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

impl Args {
    pub(crate) fn override_config(&self, config: &mut BookstoreConfig) {
        if let Some(data_dir) = &self.data_dir {
            config.data_dir = data_dir.clone();
        }
    }

    /// Starts every service, prints where they listen, and runs until Ctrl-C or until one
    /// of them stops, which it reports.
    ///
    /// # Errors
    /// Fails when a listener cannot be bound or any service stops with an error.
    pub async fn execute(self, config: BookstoreConfig) -> anyhow::Result<()> {
        let keys = up_keys(&config)?;
        // Bind everything first: a taken port fails before anything starts.
        let mut listeners = Vec::new();
        for service in ServiceName::all() {
            listeners.push((service, launch::bind(&config, service).await?));
        }

        let shutdown = platform::shutdown::on_signal();
        let mut tasks = JoinSet::new();
        for (service, listener) in listeners {
            let config = config.clone();
            let keys = keys.clone();
            let token = shutdown.clone();
            tasks.spawn(async move {
                let result = launch::run_service(&config, service, &keys, listener, token).await;
                (service, result)
            });
        }
        print_urls(&config);

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
                tracing::error!(%service, error.cause_chain = ?error, "service failed");
                first_error.get_or_insert(error.context(format!("{service} failed")));
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// Uses the configured keys, or a key generated once under `data_dir` for local use.
fn up_keys(config: &BookstoreConfig) -> anyhow::Result<Keys> {
    if config.auth.signing_key_file.is_some() {
        return launch::load_keys(config);
    }
    let signing = launch::local_signing_key(&config.data_dir)?;
    let mut jwks = vec![signing.public_jwk()];
    if config.auth.jwks.is_some() || config.auth.jwks_file.is_some() {
        jwks.extend(launch::load_keys(config)?.verification.jwks().iter().cloned());
    }
    Ok(Keys {
        verification: KeySet::from_jwks(jwks)?,
        signing: Some(signing),
    })
}

fn print_urls(config: &BookstoreConfig) {
    let bff = config.listen_address(ServiceName::Bff);
    println!("bookstore is up (data in {})", config.data_dir.display());
    println!("  bff        http://{bff}/healthz  http://{bff}/readyz  http://{bff}/metrics");
    for service in ServiceName::grpc_services() {
        println!(
            "  {:<10} grpc://{}",
            service.as_str(),
            config.listen_address(service)
        );
    }
    println!("press ctrl-c to stop");
}
