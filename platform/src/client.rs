//! Outgoing gRPC: a lazily connecting, load-balanced [`MeshChannel`] that carries a service
//! token, the trace context and what is left of the caller's deadline, and fails over when a
//! replica refuses the connection, and [`retry_idempotent`] for reads, within each channel's
//! retry budget.

pub mod discovery;
mod failover;
pub mod in_process;
mod retry;

use std::path::PathBuf;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use tonic::body::Body;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tower::Layer as _;

use crate::ServiceName;
use crate::auth::TokenSource;
use crate::telemetry::client_spans::{ClientSpanLayer, ClientSpans};
pub use discovery::DiscoveryConfig;
pub use in_process::InProcess;
pub use retry::{RetryBudget, RetryPolicy, retry_idempotent};

/// How to reach one upstream service (`<caller>.upstreams.<callee>` or the defaults).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamConfig {
    /// One or more `http://host:port` (or `https://`) endpoints; requests are balanced over
    /// every address they resolve to, and the names are resolved again every
    /// `discovery.resolve_interval_ms` (for Kubernetes: one headless Service's name).
    pub endpoints: Vec<String>,
    pub connect_timeout_ms: u64,
    /// The longest deadline of a call: a call made while serving a request gets what is
    /// left of that request's deadline, at most this.
    pub request_timeout_ms: u64,
    /// CA certificate (PEM) that signed the upstream's TLS certificate.
    pub tls_ca_file: Option<PathBuf>,
    /// How the endpoints' names are resolved (process-wide `discovery.*`).
    #[serde(skip)]
    pub discovery: DiscoveryConfig,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            endpoints: Vec::new(),
            connect_timeout_ms: 1_000,
            request_timeout_ms: 5_000,
            tls_ca_file: None,
            discovery: DiscoveryConfig::default(),
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
    inner: ClientSpans<Transport>,
    callee: ServiceName,
    tokens: Option<TokenSource>,
    /// One lazily connecting channel per address of a fixed list of several: where a call
    /// the balanced channel could not send goes next (see [`failover`]).
    replicas: Arc<[ClientSpans<Channel>]>,
    budget: RetryBudget,
    /// The longest a call may wait for its answer when it carries no deadline of its own.
    request_timeout: Duration,
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
        let ca_pem =
            match &config.tls_ca_file {
                Some(ca_file) => Some(std::fs::read(ca_file).map_err(|error| {
                    invalid(&config.endpoints[0], format!("{}: {error}", ca_file.display()))
                })?),
                None => None,
            };
        let connect_timeout = Duration::from_millis(config.connect_timeout_ms);
        let request_timeout = Duration::from_millis(config.request_timeout_ms);
        let make: discovery::MakeEndpoint = Arc::new(move |uri: &str, host: &str| {
            let mut endpoint = Endpoint::from_shared(uri.to_owned())
                .map_err(|error| error.to_string())?
                .connect_timeout(connect_timeout)
                .timeout(request_timeout)
                .tcp_nodelay(true);
            if let Some(pem) = &ca_pem {
                // The certificate names the host, whatever address it resolved to.
                let tls = ClientTlsConfig::new()
                    .ca_certificate(Certificate::from_pem(pem))
                    .domain_name(host);
                endpoint = endpoint.tls_config(tls).map_err(|error| error.to_string())?;
            }
            Ok(endpoint)
        });
        let mut upstreams = Vec::new();
        let mut fixed = Vec::new();
        for address in &config.endpoints {
            let uri: http::Uri = address
                .parse()
                .map_err(|error: http::uri::InvalidUri| invalid(address, error.to_string()))?;
            let (Some(scheme), Some(host)) = (uri.scheme_str(), uri.host()) else {
                return Err(invalid(address, "expected scheme://host:port".to_owned()));
            };
            let port = match (uri.port_u16(), scheme) {
                (Some(port), _) => port,
                (None, "https") => 443,
                (None, _) => 80,
            };
            // `[::1]` in a URI is `::1` as an address.
            let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
            let endpoint = make(address, &host).map_err(|reason| invalid(address, reason))?;
            if host.parse::<std::net::IpAddr>().is_ok() {
                fixed.push((endpoint, ClientSpanLayer::new(Some((&host, port)))));
            }
            upstreams.push(discovery::Upstream {
                scheme: scheme.to_owned(),
                host,
                port,
            });
        }
        // A fixed list of several addresses gets one channel per replica besides the balanced
        // one: where a call the balancer could not send goes next (see [`failover`]). Names are
        // followed by discovery instead, which drops an address once DNS does.
        let replicas: Arc<[ClientSpans<Channel>]> = if fixed.len() == upstreams.len() && fixed.len() > 1 {
            fixed
                .iter()
                .map(|(endpoint, spans)| spans.layer(endpoint.clone().connect_lazy()))
                .collect()
        } else {
            Arc::new([])
        };
        // Client spans name the server when the channel has one (one address, or one name).
        let spans = match upstreams.as_slice() {
            [one] => ClientSpanLayer::new(Some((&one.host, one.port))),
            _ => ClientSpanLayer::new(None),
        };
        let inner = if fixed.len() == upstreams.len() {
            // Addresses only: nothing to resolve.
            if fixed.len() == 1 {
                fixed.remove(0).0.connect_lazy()
            } else {
                Channel::balance_list(fixed.into_iter().map(|(endpoint, _)| endpoint))
            }
        } else {
            let (channel, changes) = Channel::balance_channel(64);
            // Ends by itself when the last clone of the channel is dropped (see `follow`).
            tokio::spawn(discovery::follow(
                callee,
                upstreams,
                config.discovery.clone(),
                make,
                changes,
            ));
            channel
        };
        Ok(Self {
            inner: spans.layer(Transport::Network(inner)),
            callee,
            tokens,
            replicas,
            budget: RetryBudget::default(),
            request_timeout,
        })
    }

    /// Builds a channel to `callee`, which runs in this process: calls go straight to its
    /// server's stack instead of over TCP (see [`in_process`]), through the same tokens,
    /// deadlines and server layers. `config`'s timeouts apply; its endpoints are not used.
    /// `None` when `in_process` does not hold `callee`.
    pub fn in_process(
        callee: ServiceName,
        config: &UpstreamConfig,
        in_process: &InProcess,
        tokens: Option<TokenSource>,
    ) -> Option<Self> {
        let direct = in_process.direct(callee)?;
        // No peer address: the call never leaves the process.
        Some(Self {
            inner: ClientSpanLayer::new(None).layer(Transport::InProcess(direct)),
            callee,
            tokens,
            replicas: Arc::new([]),
            budget: RetryBudget::default(),
            request_timeout: Duration::from_millis(config.request_timeout_ms),
        })
    }

    /// Returns the service this channel calls.
    pub fn callee(&self) -> ServiceName {
        self.callee
    }

    /// Returns the retry budget every clone of this channel shares.
    pub fn budget(&self) -> &RetryBudget {
        &self.budget
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
        // Counted and timed as the caller sees it: token, failover and deadline included.
        let observed = crate::telemetry::client_metrics::ClientCall::start(request.uri().path());
        // The channel that was polled ready must be the one that is called.
        let ready_channel = self.inner.clone();
        let mut channel = std::mem::replace(&mut self.inner, ready_channel);
        let tokens = self.tokens.clone();
        let callee = self.callee;
        let replicas = Arc::clone(&self.replicas);
        let request_timeout = self.request_timeout;
        Box::pin(observed.around(async move {
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
            // What is left of the deadline of the request being served: a call for a caller
            // who has given up is not made, and none outlives the call that needs it.
            if let Some(left) = crate::deadline::remaining() {
                if left.is_zero() {
                    return Ok(
                        tonic::Status::deadline_exceeded("the caller's deadline has passed").into_http(),
                    );
                }
                let asked = request
                    .headers()
                    .get("grpc-timeout")
                    .and_then(|value| value.to_str().ok())
                    .and_then(crate::deadline::parse_grpc_timeout);
                let timeout = match asked {
                    Some(asked) => asked.min(left),
                    None => left,
                };
                if let Ok(value) = crate::deadline::format_grpc_timeout(timeout).parse() {
                    request.headers_mut().insert("grpc-timeout", value);
                }
            }
            // The answer's headers must come within the call's deadline even when no endpoint
            // is there to take it (a name that does not resolve yet queues the call in the
            // balancer, where the endpoints' own timeouts do not reach).
            let limit = request
                .headers()
                .get("grpc-timeout")
                .and_then(|value| value.to_str().ok())
                .and_then(crate::deadline::parse_grpc_timeout)
                .unwrap_or(request_timeout);
            let send = async move {
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
                outcome
            };
            let Ok(answer) = tokio::time::timeout(limit, send).await else {
                return Ok(tonic::Status::deadline_exceeded(format!(
                    "no {callee} endpoint answered in time"
                ))
                .into_http());
            };
            match answer {
                Ok(response) => Ok(response.map(|body| {
                    Body::new(http_body_util::BodyExt::map_err(body, move |status| {
                        body_status(callee, status)
                    }))
                })),
                Err(error) => Ok(transport_status(callee, error).into_http()),
            }
        }))
    }
}

/// How a [`MeshChannel`]'s calls travel: over HTTP/2 to the network, or straight into the
/// stack of a server in this process.
#[derive(Debug, Clone)]
enum Transport {
    Network(Channel),
    InProcess(in_process::Direct),
}

impl tower::Service<http::Request<Body>> for Transport {
    type Response = http::Response<Body>;
    type Error = tonic::transport::Error;
    type Future = futures::future::Either<
        tonic::transport::channel::ResponseFuture,
        futures::future::MapErr<
            <in_process::Direct as tower::Service<http::Request<Body>>>::Future,
            fn(std::convert::Infallible) -> tonic::transport::Error,
        >,
    >;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match self {
            Transport::Network(channel) => tower::Service::poll_ready(channel, context),
            Transport::InProcess(_) => Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        use futures::TryFutureExt as _;
        match self {
            Transport::Network(channel) => futures::future::Either::Left(channel.call(request)),
            Transport::InProcess(direct) => {
                let never: fn(std::convert::Infallible) -> tonic::transport::Error = |never| match never {};
                futures::future::Either::Right(direct.call(request).map_err(never))
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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

    /// An upstream that answers every call OK and keeps the `grpc-timeout` each one carried.
    async fn recording_upstream() -> (std::net::SocketAddr, Arc<std::sync::Mutex<Vec<Option<String>>>>) {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        let app = axum::Router::new().fallback(move |headers: http::HeaderMap| {
            let record = Arc::clone(&record);
            async move {
                let timeout = headers
                    .get("grpc-timeout")
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned);
                record.lock().unwrap().push(timeout);
                (
                    [("content-type", "application/grpc"), ("grpc-status", "0")],
                    axum::body::Body::empty(),
                )
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (address, seen)
    }

    fn call(channel: &MeshChannel) -> impl std::future::Future<Output = http::Response<Body>> + use<> {
        let request = http::Request::builder()
            .method("POST")
            .uri("http://upstream/pkg.Inventory/Reserve")
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(Body::empty())
            .unwrap();
        let mut channel = channel.clone();
        async move {
            tower::ServiceExt::ready(&mut channel).await.unwrap();
            tower::Service::call(&mut channel, request).await.unwrap()
        }
    }

    #[tokio::test]
    async fn an_outgoing_call_gets_what_is_left_of_the_incoming_deadline_and_none_once_it_passed() {
        let (address, seen) = recording_upstream().await;
        let channel =
            MeshChannel::new(ServiceName::Inventory, &UpstreamConfig::local(address), None).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
        crate::deadline::scope(deadline, call(&channel)).await;
        // Outside a request: the channel's own cap (request_timeout_ms) applies, no header.
        call(&channel).await;
        let past = tokio::time::Instant::now();
        let refused = crate::deadline::scope(past, call(&channel)).await;
        let status = tonic::Status::from_header_map(refused.headers()).unwrap();
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);

        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2, "the call past its deadline was not made: {seen:?}");
        let sent = seen[0]
            .as_deref()
            .and_then(crate::deadline::parse_grpc_timeout)
            .unwrap();
        assert!(
            sent <= Duration::from_millis(300) && sent > Duration::from_millis(200),
            "{sent:?}"
        );
        // tonic's own timeout layer writes the cap when the request carries none.
        let capped = seen[1].as_deref().and_then(crate::deadline::parse_grpc_timeout);
        assert!(
            capped.is_none() || capped <= Some(Duration::from_millis(5_000)),
            "{capped:?}"
        );
    }

    #[tokio::test]
    async fn a_call_to_a_name_that_never_resolves_ends_at_its_deadline() {
        let config = UpstreamConfig {
            endpoints: vec!["http://inventory.invalid:50055".to_owned()],
            request_timeout_ms: 300,
            ..UpstreamConfig::default()
        };
        let channel = MeshChannel::new(ServiceName::Inventory, &config, None).unwrap();
        let started = std::time::Instant::now();
        let answer = call(&channel).await;
        let status = tonic::Status::from_header_map(answer.headers()).unwrap();
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{status:?}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
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
