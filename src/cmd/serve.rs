//! `bookstore serve <service>`: one service, as each Kubernetes Deployment runs it.

use std::time::Duration;

use anyhow::Context as _;
use platform::ServiceName;
use platform::client::MeshChannel;

use crate::config::BookstoreConfig;
use crate::launch;

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// One of: user, catalog, cart, order, inventory, bff.
    pub service: ServiceName,
}

impl Args {
    /// Serves the one service until SIGTERM or Ctrl-C.
    ///
    /// Without configured verification keys, a service other than svc-user fetches svc-user's
    /// key set first (waiting for it) and keeps it fresh, so a key rotation needs no restart
    /// and no secret is shared.
    ///
    /// # Errors
    /// Fails when keys, listener or store cannot be set up, or the service stops with an error.
    pub async fn execute(self, config: BookstoreConfig) -> anyhow::Result<()> {
        let service = self.service;
        let mut keys = launch::load_keys(&config)?;
        let shutdown = platform::shutdown::on_signal();
        let fetch_keys = keys.verification.is_empty() && service != ServiceName::User;
        if fetch_keys {
            keys.verification = launch::fetch_key_set(&config, &shutdown).await?;
        }
        let verifier = launch::verifier(&config, service, &keys);
        let listener = launch::bind(&config, service).await?;

        let mut tasks = tokio::task::JoinSet::new();
        if fetch_keys {
            let channel = MeshChannel::new(ServiceName::User, &config.upstream(ServiceName::User), None)?;
            let interval = Duration::from_secs(config.auth.common.jwks_refresh_secs);
            let refresh =
                platform::auth::jwks::keep_fresh(verifier.clone(), channel, interval, shutdown.clone());
            tasks.spawn(async move {
                refresh.await;
                Ok(())
            });
        }
        if let Some(metrics) = launch::metrics_listener(&config, service).await? {
            let token = shutdown.clone();
            tasks.spawn(async move {
                platform::telemetry::metrics::serve_metrics(metrics, token)
                    .await
                    .context("metrics endpoint failed")
            });
        }
        let result = launch::run_service(
            &config,
            service,
            &keys,
            verifier,
            listener,
            &platform::client::InProcess::default(),
            shutdown.clone(),
        )
        .await;
        shutdown.cancel();
        while let Some(joined) = tasks.join_next().await {
            let outcome: anyhow::Result<()> = joined.context("background task panicked")?;
            outcome?;
        }
        result.with_context(|| format!("{service} stopped"))
    }
}
