//! Outgoing gRPC: a lazily connecting, load-balanced [`MeshChannel`] that carries a service
//! token and the trace context and fails over when a replica refuses the connection, and
//! [`retry_idempotent`] for reads.

mod failover;

use std::path::PathBuf;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use tonic::body::Body;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use crate::ServiceName;
use crate::auth::TokenSource;

/// How to reach one upstream service (`<caller>.upstreams.<callee>` or the defaults).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamConfig {
    /// One or more `http://host:port` (or `https://`) endpoints; requests are balanced over
    /// them. For Kubernetes, list a headless Service's pod addresses or use one DNS name per
    /// replica.
    pub endpoints: Vec<String>,
    pub connect_timeout_ms: u64,
    /// Deadline of each call unless the caller sets a shorter one.
    pub request_timeout_ms: u64,
    /// CA certificate (PEM) that signed the upstream's TLS certificate.
    pub tls_ca_file: Option<PathBuf>,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            endpoints: Vec::new(),
            connect_timeout_ms: 1_000,
            request_timeout_ms: 5_000,
            tls_ca_file: None,
        }
    }
}

impl UpstreamConfig {
    /// Creates a config for one local endpoint with default timeouts.
    pub fn local(address: std::net::SocketAddr) -> Self {
        Self {
            endpoints: vec![format!("http://{address}")],
            ..Self::default()
        }
    }
}

/// A client config that cannot be turned into a channel.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("upstream `{0}` has no endpoints")]
    NoEndpoints(ServiceName),
    #[error("upstream `{service}` endpoint `{endpoint}` is invalid: {reason}")]
    InvalidEndpoint {
        service: ServiceName,
        endpoint: String,
        reason: String,
    },
}

/// A channel to one upstream service that adds a service token (unless the request already
/// carries a user's) and the current trace context to every call. Clone it freely.
#[derive(Debug, Clone)]
pub struct MeshChannel {
    inner: Channel,
    callee: ServiceName,
    tokens: Option<TokenSource>,
    /// One lazily connecting channel per endpoint when there are several: where a call
    /// the balanced channel could not send goes next (see [`failover`]).
    replicas: std::sync::Arc<[Channel]>,
}

impl MeshChannel {
    /// Builds a lazily connecting channel balanced over `config.endpoints`. Must be called
    /// inside a Tokio runtime.
    ///
    /// # Errors
    /// Returns [`ClientError`] when no endpoint is given, one does not parse, or the CA file
    /// cannot be read.
    pub fn new(
        callee: ServiceName,
        config: &UpstreamConfig,
        tokens: Option<TokenSource>,
    ) -> Result<Self, ClientError> {
        if config.endpoints.is_empty() {
            return Err(ClientError::NoEndpoints(callee));
        }
        let invalid = |endpoint: &str, reason: String| ClientError::InvalidEndpoint {
            service: callee,
            endpoint: endpoint.to_owned(),
            reason,
        };
        let mut endpoints = Vec::new();
        for address in &config.endpoints {
            let mut endpoint = Endpoint::from_shared(address.clone())
                .map_err(|error| invalid(address, error.to_string()))?
                .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
                .timeout(Duration::from_millis(config.request_timeout_ms))
                .tcp_nodelay(true);
            if let Some(ca_file) = &config.tls_ca_file {
                let pem = std::fs::read(ca_file).map_err(|error| invalid(address, error.to_string()))?;
                endpoint = endpoint
                    .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))
                    .map_err(|error| invalid(address, error.to_string()))?;
            }
            endpoints.push(endpoint);
        }
        let replicas: std::sync::Arc<[Channel]> = if endpoints.len() > 1 {
            endpoints
                .iter()
                .map(|endpoint| endpoint.clone().connect_lazy())
                .collect()
        } else {
            std::sync::Arc::new([])
        };
        let inner = if endpoints.len() == 1 {
            endpoints.remove(0).connect_lazy()
        } else {
            Channel::balance_list(endpoints.into_iter())
        };
        Ok(Self {
            inner,
            callee,
            tokens,
            replicas,
        })
    }

    /// Returns the service this channel calls.
    pub fn callee(&self) -> ServiceName {
        self.callee
    }
}

impl tower::Service<http::Request<Body>> for MeshChannel {
    type Response = http::Response<Body>;
    type Error = tonic::transport::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        tower::Service::poll_ready(&mut self.inner, context)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        crate::telemetry::propagation::inject_current(request.headers_mut());
        // The channel that was polled ready must be the one that is called.
        let ready_channel = self.inner.clone();
        let mut channel = std::mem::replace(&mut self.inner, ready_channel);
        let tokens = self.tokens.clone();
        let callee = self.callee;
        let replicas = std::sync::Arc::clone(&self.replicas);
        Box::pin(async move {
            // Health is public (probes carry no token), and must answer even while svc-user,
            // which mints tokens, is down.
            let is_health = request.uri().path().starts_with("/grpc.health.v1.Health/");
            let needs_token = !is_health && !request.headers().contains_key(http::header::AUTHORIZATION);
            if let (true, Some(tokens)) = (needs_token, tokens) {
                match tokens.token(callee.as_str()).await {
                    Ok(token) => {
                        if let Ok(value) = http::HeaderValue::from_str(&format!("Bearer {token}")) {
                            request.headers_mut().insert(http::header::AUTHORIZATION, value);
                        }
                    }
                    Err(status) => return Ok(status.into_http()),
                }
            }
            let (head, body) = request.into_parts();
            // Only a call that may go elsewhere is worth reading ahead.
            let mut body = if replicas.is_empty() {
                failover::RequestBody::Streaming(body)
            } else {
                failover::RequestBody::read(body)
            };
            let request = http::Request::from_parts(failover::copy_head(&head), body.take());
            let mut outcome = channel.call(request).await;
            // Then each replica in turn, from a random one, until one takes the call.
            let first = rand::random::<u32>() as usize % replicas.len().max(1);
            for index in (0..replicas.len()).map(|offset| (first + offset) % replicas.len()) {
                match &outcome {
                    Err(error) if body.replayable() && failover::never_sent(error) => {}
                    _ => break,
                }
                tracing::debug!(%callee, replica = index, "call not sent, sending it to another replica");
                let mut replica = replicas[index].clone();
                outcome = match tower::ServiceExt::ready(&mut replica).await {
                    Ok(ready) => {
                        ready
                            .call(http::Request::from_parts(failover::copy_head(&head), body.take()))
                            .await
                    }
                    Err(error) => Err(error),
                };
            }
            match outcome {
                Ok(response) => Ok(response.map(|body| {
                    Body::new(http_body_util::BodyExt::map_err(body, move |status| {
                        body_status(callee, status)
                    }))
                })),
                Err(error) => Ok(transport_status(callee, error).into_http()),
            }
        })
    }
}

/// The status of a call the transport failed. tonic maps a refused connection to
/// UNAVAILABLE and its own deadline to CANCELLED, but a connection lost mid-call (the
/// replica was killed) to UNKNOWN, which callers would report as an internal error. It is
/// the textbook transient failure, so it becomes UNAVAILABLE too; a write retried after it
/// must be one the callee deduplicates, as every write of the mesh is.
fn transport_status(callee: ServiceName, error: tonic::transport::Error) -> tonic::Status {
    tracing::debug!(%callee, error = ?error, "call failed in the transport");
    let status = tonic::Status::from_error(Box::new(error));
    if status.code() == tonic::Code::Unknown {
        tracing::warn!(%callee, error = ?status, "connection lost during a call");
        return tonic::Status::unavailable(format!("{callee} connection lost"));
    }
    status
}

/// The status of a response body that failed to arrive. A callee's own answer comes in the
/// trailers, never as a body error, so this is the connection: a replica killed after its
/// headers were sent reaches tonic as INTERNAL ("h2 protocol error: error reading a body
/// from connection"), which the chaos run saw the BFF report as INTERNAL. It is UNAVAILABLE,
/// like a connection lost before the headers.
fn body_status(callee: ServiceName, status: tonic::Status) -> tonic::Status {
    match status.code() {
        tonic::Code::Internal | tonic::Code::Unknown => {
            tracing::warn!(%callee, error = ?status, "connection lost while reading an answer");
            tonic::Status::unavailable(format!("{callee} connection lost"))
        }
        _ => status,
    }
}

/// Retry settings for idempotent reads.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            first_backoff: Duration::from_millis(25),
            max_backoff: Duration::from_millis(250),
        }
    }
}

/// Calls `call` until it succeeds, fails with a non-transient status, or the attempts run
/// out, sleeping with exponential backoff and jitter in between. Use it only for calls that
/// are safe to repeat (reads, and writes the callee deduplicates).
///
/// # Errors
/// Returns the last status when every attempt failed, or the first non-transient one.
pub async fn retry_idempotent<T, F, Fut>(policy: RetryPolicy, mut call: F) -> Result<T, tonic::Status>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    let mut backoff = policy.first_backoff;
    let mut attempt = 1;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(status) if attempt < policy.attempts && is_transient(&status) => {
                let jitter = rand::random::<f64>() * 0.5 + 0.75;
                tokio::time::sleep(backoff.mul_f64(jitter)).await;
                backoff = (backoff * 2).min(policy.max_backoff);
                attempt += 1;
            }
            Err(status) => return Err(status),
        }
    }
}

fn is_transient(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        tonic::Code::Unavailable | tonic::Code::ResourceExhausted
    )
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn fast() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            first_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
        }
    }

    #[test]
    fn an_answer_cut_off_mid_body_is_unavailable() {
        let cut = tonic::Status::internal("h2 protocol error: error reading a body from connection");
        let status = body_status(ServiceName::Order, cut);
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert_eq!(status.message(), "order connection lost");
        let cancelled = body_status(ServiceName::Order, tonic::Status::cancelled("dropped"));
        assert_eq!(
            cancelled.code(),
            tonic::Code::Cancelled,
            "other codes pass through"
        );
    }

    #[tokio::test]
    async fn transient_failures_are_retried_until_success() {
        let calls = AtomicU32::new(0);
        let result = retry_idempotent(fast(), || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(tonic::Status::unavailable("down"))
            } else {
                Ok("book")
            }
        })
        .await;
        assert_eq!(result.unwrap(), "book");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn permanent_failures_and_exhausted_attempts_are_returned() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry_idempotent(fast(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(tonic::Status::not_found("no such book"))
        })
        .await;
        assert_eq!(result.unwrap_err().code(), tonic::Code::NotFound);
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        calls.store(0, Ordering::SeqCst);
        let result: Result<(), _> = retry_idempotent(fast(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(tonic::Status::unavailable("down"))
        })
        .await;
        assert_eq!(result.unwrap_err().code(), tonic::Code::Unavailable);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn calls_go_to_the_replica_that_runs_when_the_other_refuses_connections() {
        use tonic_health::pb::HealthCheckRequest;
        use tonic_health::pb::health_client::HealthClient;
        let live = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let live_address = live.local_addr().unwrap();
        let (_reporter, health) = tonic_health::server::health_reporter();
        let server = tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(health)
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(live)),
        );
        let stopped = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let stopped_address = stopped.local_addr().unwrap();
        drop(stopped);
        let config = UpstreamConfig {
            endpoints: vec![
                format!("http://{stopped_address}"),
                format!("http://{live_address}"),
            ],
            ..UpstreamConfig::default()
        };
        let channel = MeshChannel::new(ServiceName::Inventory, &config, None).unwrap();
        let mut failed = Vec::new();
        for _ in 0..50 {
            let request = HealthCheckRequest::default();
            if let Err(status) = HealthClient::new(channel.clone()).check(request).await {
                failed.push(status);
            }
        }
        assert!(
            failed.is_empty(),
            "{} of 50 failed: {:?}",
            failed.len(),
            failed.first()
        );
        server.abort();
    }

    #[tokio::test]
    async fn a_config_without_endpoints_is_refused_with_the_service_named() {
        let error = MeshChannel::new(ServiceName::Inventory, &UpstreamConfig::default(), None).unwrap_err();
        assert_eq!(error.to_string(), "upstream `inventory` has no endpoints");
        let config = UpstreamConfig {
            endpoints: vec!["not a uri".to_owned()],
            ..UpstreamConfig::default()
        };
        assert!(MeshChannel::new(ServiceName::Catalog, &config, None).is_err());
    }
}
