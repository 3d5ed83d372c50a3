//! The one gRPC server bootstrap every service uses: tonic-health with two names, reflection
//! v1 and v1alpha, telemetry and auth layers, optional TLS, deadlines, the service's
//! background tasks and graceful shutdown.
//!
//! # Health
//! - [`LIVENESS`] (the empty name) answers whether the process serves at all: SERVING from
//!   the moment the server runs, whatever its stores do, because restarting a process does
//!   not bring a database back (the kubelet's liveness probe asks this name).
//! - The service's own name (`bookstore.inventory.v1.InventoryService`) answers whether it
//!   should get traffic: NOT_SERVING until its stores answer, while one does not, and from
//!   the first moment of a shutdown (the readiness probe asks this name).

mod background;
mod context;
mod shed;

pub use background::Background;
pub use context::{ServeContext, Stores};
pub use shed::{SHED_RETRY_AFTER, ShedLayer};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::future::BoxFuture;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::service::RoutesBuilder;
use tonic::transport::{Identity, Server, ServerTlsConfig};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::ServiceName;
use crate::auth::{AuthLayer, PolicyTable};
use crate::deadline::DeadlineLayer;
use crate::telemetry::metrics::GrpcTelemetryLayer;

/// Answers `Ok` when a store the service needs responds; the error says which and why.
pub type ReadinessCheck = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// Settings shared by every gRPC server (`grpc.*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpcServerConfig {
    /// Upper bound on any request but the long-running ones; a smaller `grpc-timeout` from the
    /// caller wins.
    pub request_timeout_ms: u64,
    /// How often readiness checks run, so health follows the stores both ways.
    pub health_interval_ms: u64,
    /// How long in-flight requests and streams may run after shutdown starts; then the
    /// server closes them (streams such as health `Watch` never end by themselves).
    pub drain_timeout_ms: u64,
    /// PEM certificate chain and key; plaintext when unset.
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    /// PEM CA that signed the other services' certificates, for calls between services.
    pub tls_ca_file: Option<PathBuf>,
    /// Calls one server runs at once; one more is refused at once with RESOURCE_EXHAUSTED
    /// and a retry hint (health exempt). Default: 64 per CPU the process may use.
    pub max_concurrent_requests: usize,
    /// Age after which a client connection is asked to go away (GOAWAY), so clients that do
    /// not resolve names themselves reconnect and spread over the replicas that exist now.
    /// Unset by default: the mesh's own clients follow the pods by resolving names
    /// (`discovery.*`), and under load an aged-out connection fails the calls the client had
    /// queued on it (the 500-buyer storm lost 411 checkouts to "h2 protocol error" at the
    /// 60 s mark with tonic 0.14).
    pub max_connection_age_ms: Option<u64>,
    /// How long calls on a connection past its age may still run before it is closed;
    /// unset (the default), open calls and streams finish however long they take (only new
    /// calls move): a shorter grace cuts what a caller is still waiting for (a checkout queued
    /// in a storm, an order being watched).
    pub max_connection_age_grace_ms: Option<u64>,
}

/// Default of `grpc.max_concurrent_requests`: 64 calls per CPU. A gRPC call mostly waits
/// for its database or another service, so this is a guard against pile-ups (a burst of
/// hundreds at once is refused rather than queued past its deadline), not the latency
/// control: that is the BFF's tighter limit at the mesh's edge.
pub fn default_max_concurrent_requests() -> usize {
    64 * available_cpus()
}

/// The CPUs this process may run on (its affinity mask or cgroup quota), at least 1.
pub fn available_cpus() -> usize {
    std::thread::available_parallelism().map_or_else(|_| 1, std::num::NonZeroUsize::get)
}

impl Default for GrpcServerConfig {
    fn default() -> Self {
        Self {
            request_timeout_ms: 10_000,
            health_interval_ms: 2_000,
            drain_timeout_ms: 10_000,
            tls_cert_file: None,
            tls_key_file: None,
            tls_ca_file: None,
            max_concurrent_requests: default_max_concurrent_requests(),
            max_connection_age_ms: None,
            max_connection_age_grace_ms: None,
        }
    }
}

impl GrpcServerConfig {
    /// Whether servers speak TLS (`grpc.tls_cert_file` and `grpc.tls_key_file` set).
    pub fn tls_enabled(&self) -> bool {
        self.tls_cert_file.is_some() && self.tls_key_file.is_some()
    }
}

impl crate::config::Validate for GrpcServerConfig {
    fn validate(&self) -> Result<(), crate::config::ConfigError> {
        use crate::config::ConfigError;
        if self.request_timeout_ms == 0 {
            return Err(ConfigError::invalid(
                "grpc.request_timeout_ms",
                "must be greater than 0",
            ));
        }
        if self.drain_timeout_ms == 0 {
            return Err(ConfigError::invalid(
                "grpc.drain_timeout_ms",
                "must be greater than 0",
            ));
        }
        if self.health_interval_ms == 0 {
            return Err(ConfigError::invalid(
                "grpc.health_interval_ms",
                "must be greater than 0",
            ));
        }
        if self.max_concurrent_requests == 0 {
            return Err(ConfigError::invalid(
                "grpc.max_concurrent_requests",
                "must be greater than 0",
            ));
        }
        if self.max_connection_age_ms == Some(0) {
            return Err(ConfigError::invalid(
                "grpc.max_connection_age_ms",
                "must be greater than 0",
            ));
        }
        if self.tls_cert_file.is_some() != self.tls_key_file.is_some() {
            return Err(ConfigError::invalid(
                "grpc.tls_cert_file",
                "tls_cert_file and tls_key_file must be set together",
            ));
        }
        Ok(())
    }
}

/// What a service hands to [`serve`]: its routes, who may call them, what must answer
/// before it reports SERVING, and the loops that run beside it.
pub struct GrpcService {
    pub name: ServiceName,
    pub routes: RoutesBuilder,
    pub policies: PolicyTable,
    pub readiness: Vec<ReadinessCheck>,
    /// Full paths of RPCs exempt from `grpc.request_timeout_ms` (client streams that may run
    /// for minutes); the caller's own `grpc-timeout` still applies.
    pub long_running: Vec<String>,
    /// Sweepers, consumers, relays, connectors: started with the server, stopped with it; a
    /// failure or panic of one stops the service with an error.
    pub background: Vec<Background>,
}

impl GrpcService {
    /// Creates a service from its generated server(s) in `routes`, with its access rules.
    pub fn new(name: ServiceName, routes: RoutesBuilder, policies: PolicyTable) -> Self {
        Self {
            name,
            routes,
            policies,
            readiness: Vec::new(),
            long_running: Vec::new(),
            background: Vec::new(),
        }
    }

    /// Adds a check that must pass before the service reports SERVING.
    pub fn readiness(mut self, check: ReadinessCheck) -> Self {
        self.readiness.push(check);
        self
    }

    /// Exempts `method` (a client stream that may run for minutes) from
    /// `grpc.request_timeout_ms`.
    pub fn long_running(mut self, method: &str) -> Self {
        self.long_running
            .push(format!("/{}/{method}", self.name.grpc_name()));
        self
    }

    /// Adds a loop that runs beside the server.
    pub fn background(mut self, task: Background) -> Self {
        self.background.push(task);
        self
    }

    /// Serves until `shutdown` (see [`serve`]).
    ///
    /// # Errors
    /// As [`serve`].
    pub async fn serve(
        self,
        context: &ServeContext,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        serve(self, context, listener, shutdown).await
    }
}

impl std::fmt::Debug for GrpcService {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("GrpcService")
            .field("name", &self.name)
            .field("readiness_checks", &self.readiness.len())
            .field("background", &self.background)
            .finish_non_exhaustive()
    }
}

/// Serves `service` on `listener` with its background tasks until `shutdown` is cancelled
/// or a background task fails, then flips health to NOT_SERVING, drains in-flight requests
/// and waits for the tasks.
///
/// # Errors
/// Fails when the TLS files cannot be read, the transport stops with an error, or a
/// background task fails or panics.
pub async fn serve(
    mut service: GrpcService,
    context: &ServeContext,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // Stops the server and the tasks: the caller's shutdown, or a task that failed.
    let shutdown = shutdown.child_token();
    let mut tasks = background::Tasks::start(std::mem::take(&mut service.background), &shutdown);
    let served = serve_routes(service, context, listener, &shutdown);
    tokio::pin!(served);
    let mut failure = None;
    let result = loop {
        tokio::select! {
            result = &mut served => break result,
            Some(outcome) = tasks.next_failure(), if failure.is_none() => {
                if let Err(error) = outcome {
                    failure = Some(error);
                    shutdown.cancel();
                }
            }
        }
    };
    shutdown.cancel();
    let finished = tasks.finish().await;
    match failure {
        Some(error) => Err(error),
        None => result.and(finished),
    }
}

/// The server itself, until `shutdown` and the drain.
async fn serve_routes(
    service: GrpcService,
    context: &ServeContext,
    listener: TcpListener,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let config = &context.grpc;
    let verifier = context.verifier.clone();
    let (reporter, health_server) = tonic_health::server::health_reporter();
    set_readiness(&reporter, service.name, ServingStatus::NotServing).await;
    reporter
        .set_service_status(LIVENESS, ServingStatus::Serving)
        .await;

    let mut routes = service.routes;
    routes.add_service(health_server);
    routes.add_service(reflection(service.name).build_v1()?);
    routes.add_service(reflection(service.name).build_v1alpha()?);

    let mut builder = Server::builder();
    if let Some(age) = config.max_connection_age_ms {
        builder = builder.max_connection_age(Duration::from_millis(age));
    }
    if let Some(grace) = config.max_connection_age_grace_ms {
        builder = builder.max_connection_age_grace(Duration::from_millis(grace));
    }
    if let (Some(cert_file), Some(key_file)) = (&config.tls_cert_file, &config.tls_key_file) {
        let cert = tokio::fs::read(cert_file)
            .await
            .with_context(|| format!("failed to read {}", cert_file.display()))?;
        let key = tokio::fs::read(key_file)
            .await
            .with_context(|| format!("failed to read {}", key_file.display()))?;
        builder = builder.tls_config(ServerTlsConfig::new().identity(Identity::from_pem(cert, key)))?;
    }

    let readiness_stop = shutdown.child_token();
    let readiness_task = tokio::spawn(track_readiness(
        reporter.clone(),
        service.name,
        service.readiness,
        Duration::from_millis(config.health_interval_ms),
        readiness_stop.clone(),
    ));

    let address = listener.local_addr()?;
    tracing::info!(service = %service.name, %address, "grpc server listening");
    // Services of this process connect in memory, beside the listener (plaintext only: the
    // server's TLS would wrap these too, and their clients do not speak it in process).
    let in_process = if config.tls_enabled() {
        None
    } else {
        context.in_process.take_incoming(service.name)
    };
    let incoming = crate::client::in_process::incoming(listener, in_process);
    let drain_reporter = reporter.clone();
    let drain_readiness = readiness_stop.clone();
    let drain_signal = shutdown.clone();
    let direct_callers = context.in_process.clone();
    let telemetry = GrpcTelemetryLayer::new(service.policies.clone());
    // Shed before auth: a refusal must cost less than verifying a token. One layer for the
    // listener and the direct callers, so they share the limit.
    let shed = ShedLayer::new(service.name.as_str(), config.max_concurrent_requests);
    let auth = AuthLayer::new(verifier, service.policies);
    let deadline = DeadlineLayer::new(
        Duration::from_millis(config.request_timeout_ms),
        service.long_running.into_iter().collect(),
    );
    let routes = routes.routes();
    if !config.tls_enabled() {
        // Services of this process call this one's stack directly (see `client::in_process`).
        let stack = tower::ServiceBuilder::new()
            .layer(telemetry.clone())
            .layer(shed.clone())
            .layer(auth.clone())
            .layer(deadline.clone())
            .service(routes.clone());
        context
            .in_process
            .serve_directly(service.name, tower::util::BoxCloneSyncService::new(stack));
    }
    let server = builder
        .layer(telemetry)
        .layer(shed)
        .layer(auth)
        .layer(deadline)
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming, async move {
            drain_signal.cancelled().await;
            drain_readiness.cancel();
            direct_callers.stop_serving(service.name);
            set_readiness(&drain_reporter, service.name, ServingStatus::NotServing).await;
            tracing::info!(service = %service.name, "draining grpc server");
        });
    let drain_timeout = Duration::from_millis(config.drain_timeout_ms);
    let result = tokio::select! {
        result = server => result,
        () = drain_deadline(shutdown, drain_timeout) => {
            tracing::warn!(service = %service.name, "drain timed out, closing open calls");
            Ok(())
        }
    };
    readiness_stop.cancel();
    readiness_task.await.context("readiness task panicked")?;
    result.context("grpc server failed")?;
    tracing::info!(service = %service.name, "grpc server stopped");
    Ok(())
}

/// Completes `timeout` after `shutdown` is cancelled.
async fn drain_deadline(shutdown: &CancellationToken, timeout: Duration) {
    shutdown.cancelled().await;
    tokio::time::sleep(timeout).await;
}

/// Reflection for this service and health only, so `grpcurl list` shows what this port serves.
fn reflection(service: ServiceName) -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .with_service_name(service.grpc_name())
        .with_service_name("grpc.health.v1.Health")
}

/// The health name of liveness: the empty name, which is also what a probe without a
/// `service` asks, so a bare probe can never restart a pod for a store outage.
pub const LIVENESS: &str = "";

/// Sets readiness, the service's own health name; liveness never follows it.
async fn set_readiness(reporter: &HealthReporter, service: ServiceName, status: ServingStatus) {
    reporter.set_service_status(service.grpc_name(), status).await;
}

/// The first pause before checking a store that did not answer again; it doubles up to the
/// readiness interval.
const RETRY_FIRST: Duration = Duration::from_millis(25);

/// Runs the readiness checks every `interval` and mirrors the result into health, so a
/// service goes NOT_SERVING when its store disappears and comes back by itself.
async fn track_readiness(
    reporter: HealthReporter,
    service: ServiceName,
    checks: Vec<ReadinessCheck>,
    interval: Duration,
    stop: CancellationToken,
) {
    let mut serving: Option<bool> = None;
    // While a store does not answer, look again soon rather than a whole interval later: a
    // lazily connecting Redis is there within milliseconds of start-up, and `bookstore up`
    // waited a whole interval to be SERVING whenever a first check came before the connection.
    let mut retry = RETRY_FIRST;
    loop {
        let outcome = check_all(&checks, interval).await;
        // Once draining has begun, health stays NOT_SERVING whatever the stores say.
        if stop.is_cancelled() {
            return;
        }
        let now_serving = outcome.is_ok();
        if serving != Some(now_serving) {
            match &outcome {
                Ok(()) => tracing::info!(%service, "stores answer, serving"),
                Err(reason) => tracing::warn!(%service, reason, "store not answering, not serving"),
            }
            let status = if now_serving {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            set_readiness(&reporter, service, status).await;
            serving = Some(now_serving);
        }
        let pause = if now_serving {
            retry = RETRY_FIRST;
            interval
        } else {
            let pause = retry.min(interval);
            retry = retry.saturating_mul(2);
            pause
        };
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

async fn check_all(checks: &[ReadinessCheck], timeout: Duration) -> Result<(), String> {
    for check in checks {
        match tokio::time::timeout(timeout, check()).await {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => return Err(reason),
            Err(_) => return Err("readiness check timed out".to_owned()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
