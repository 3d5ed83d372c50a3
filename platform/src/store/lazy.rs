//! Redis connected in the background, the one start-up behaviour of every service that uses
//! Redis: a service starts (NOT_SERVING) while Redis is late instead of crash-looping, and
//! serves once Redis answers. The connecting loop is a background task of the service
//! ([`crate::server::GrpcService::background`]), so it ends with the service.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::RedisStore;
use crate::server::ReadinessCheck;

/// A Redis store that may not be connected yet. Clones share the connection.
#[derive(Debug, Clone)]
pub struct LazyRedis {
    url: String,
    prefix: String,
    /// PEM CA certificates trusted for TLS instead of the system's roots.
    ca_pem: Option<Arc<Vec<u8>>>,
    /// `None` until [`LazyRedis::connect`] succeeds; readers wait on it or look at it.
    store: watch::Sender<Option<RedisStore>>,
}

impl LazyRedis {
    /// Creates the handle for `url` (keys under `prefix`); nothing connects before
    /// [`LazyRedis::connect`] runs.
    pub fn new(url: String, prefix: String) -> Self {
        let (store, _) = watch::channel(None);
        Self {
            url,
            prefix,
            ca_pem: None,
            store,
        }
    }

    /// Trusts the PEM CA certificates `ca_pem` (`redis_tls_ca_file`) for TLS.
    pub fn with_ca(mut self, ca_pem: Option<Arc<Vec<u8>>>) -> Self {
        self.ca_pem = ca_pem;
        self
    }

    /// Connects with backoff until Redis answers or `stop`; then returns, the connection
    /// living on in every clone.
    ///
    /// # Errors
    /// Only when Redis answers with a certificate that is not trusted: that is the
    /// configuration (`redis_tls_ca_file`), which waiting does not fix. A Redis that does
    /// not answer is retried.
    pub async fn connect(self, stop: CancellationToken) -> anyhow::Result<()> {
        let mut backoff = Duration::from_millis(100);
        loop {
            match RedisStore::connect_with_ca(&self.url, &self.prefix, self.ca_pem.clone()).await {
                Ok(connected) => {
                    self.store.send_replace(Some(connected));
                    tracing::info!("redis connected");
                    return Ok(());
                }
                Err(error) if super::is_untrusted_certificate(&error) => {
                    return Err(error.context(
                        "redis's TLS certificate is not trusted: redis_tls_ca_file must name the CA that signed it",
                    ));
                }
                Err(error) => {
                    tracing::warn!(error.cause_chain = %crate::telemetry::cause_chain(&error), "redis not answering yet, retrying")
                }
            }
            tokio::select! {
                () = stop.cancelled() => return Ok(()),
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    /// Returns the store once connected.
    pub fn get(&self) -> Option<RedisStore> {
        self.store.borrow().clone()
    }

    /// Waits until connected; `None` when `stop` comes first.
    pub async fn connected(&self, stop: &CancellationToken) -> Option<RedisStore> {
        let mut receiver = self.store.subscribe();
        tokio::select! {
            () = stop.cancelled() => None,
            connected = receiver.wait_for(Option::is_some) => connected.ok().and_then(|store| store.clone()),
        }
    }

    /// Returns the background task that connects it (see [`LazyRedis::connect`]).
    pub fn connector(&self) -> crate::server::Background {
        let lazy = self.clone();
        crate::server::Background::new("redis connector", move |stop| lazy.connect(stop))
    }

    /// Returns `<prefix>:<name>`, the key of `name` (known before Redis answers).
    pub fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// Returns a readiness check: not ready until connected, then a real `PING`.
    pub fn readiness(&self) -> ReadinessCheck {
        let lazy = self.clone();
        std::sync::Arc::new(move || {
            let store = lazy.get();
            Box::pin(async move {
                let Some(store) = store else {
                    return Err("redis: not connected yet".to_owned());
                };
                (store.readiness())().await
            })
        })
    }
}
