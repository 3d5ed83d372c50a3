//! `bookstore serve <service>`: one service, as each Kubernetes Deployment runs it.

use anyhow::Context as _;
use platform::ServiceName;

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
    /// # Errors
    /// Fails when keys, listener or store cannot be set up, or the service stops with an error.
    pub async fn execute(self, config: BookstoreConfig) -> anyhow::Result<()> {
        let service = self.service;
        let keys = launch::load_keys(&config)?;
        let shutdown = platform::shutdown::on_signal();
        let listener = launch::bind(&config, service).await?;
        let mut tasks = tokio::task::JoinSet::new();
        if let Some(metrics) = launch::metrics_listener(&config, service).await? {
            let token = shutdown.clone();
            tasks.spawn(async move {
                platform::telemetry::metrics::serve_metrics(metrics, token)
                    .await
                    .context("metrics endpoint failed")
            });
        }
        let result = launch::run_service(&config, service, &keys, listener, shutdown.clone()).await;
        shutdown.cancel();
        while let Some(joined) = tasks.join_next().await {
            joined.context("metrics task panicked")??;
        }
        result.with_context(|| format!("{service} stopped"))
    }
}
