//! Calls between services that run in one process (`bookstore up`) without the network.
//!
//! - A service's client calls the callee's server stack directly: the same telemetry,
//!   shedding, auth and deadline layers and routes its TCP listener serves, as one tower
//!   service ([`Direct`]), with the same [`super::MeshChannel`] (tokens, trace context,
//!   deadlines) in front. No HTTP/2 framing, header compression or connection tasks: on the
//!   catalogue page those cost more than the two services' own work (issue #22).
//! - A plain tonic channel (`up`'s demo seeding, whose client streams want a
//!   [`Channel`]) goes over an in-memory duplex pipe ([`tokio::io::duplex`]) that the server
//!   accepts beside its TCP listener.
//!
//! Services the process does not run are not in the [`InProcess`] set and are still reached
//! over the network.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::FutureExt as _;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tonic::body::Body;
use tonic::transport::Channel;
use tonic::transport::server::{Connected, TcpConnectInfo};

use crate::ServiceName;

/// Connections accepted in process, by callee: each in-process connection made counts once.
pub const IN_PROCESS_CONNECTIONS_TOTAL: &str = "mesh_in_process_connections_total";
/// Calls made in process, by callee: each direct call to a server's stack counts once.
pub const IN_PROCESS_CALLS_TOTAL: &str = "mesh_in_process_calls_total";

/// A server's whole stack (its layers around its routes) as one service, for direct calls.
pub(crate) type Stack =
    tower::util::BoxCloneSyncService<http::Request<Body>, http::Response<Body>, Infallible>;

/// Whether a service of this process takes direct calls.
#[derive(Clone)]
enum Serving {
    /// Its server has not started yet: a call waits (within its deadline).
    Starting,
    Now(Stack),
    /// Its server is draining or gone: a call is refused, as a closed port would be.
    Stopped,
}

/// Bytes either end may write before the other reads: a few HTTP/2 frames of 16 KiB.
const PIPE_BYTES: usize = 256 * 1024;

/// Connections waiting for a server to accept them (a client may connect before the server
/// is up; more than this waiting at once means the server is gone or stuck).
const BACKLOG: usize = 1024;

/// The services one process runs, each reachable in process. Clone it freely: clones share
/// the set. Built once by whoever starts the services (`bookstore up`), before any starts.
#[derive(Clone, Default)]
pub struct InProcess {
    services: Arc<HashMap<ServiceName, Endpoint>>,
}

struct Endpoint {
    connect: mpsc::Sender<DuplexStream>,
    /// Taken by the service's server when it starts.
    accept: Mutex<Option<mpsc::Receiver<DuplexStream>>>,
    /// Set by the service's server: its stack while it serves.
    serving: watch::Sender<Serving>,
}

impl std::fmt::Debug for InProcess {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut services: Vec<_> = self.services.keys().map(|service| service.as_str()).collect();
        services.sort_unstable();
        formatter
            .debug_struct("InProcess")
            .field("services", &services)
            .finish()
    }
}

impl InProcess {
    /// Declares `services` as run by this process.
    pub fn new(services: impl IntoIterator<Item = ServiceName>) -> Self {
        let services = services
            .into_iter()
            .map(|service| {
                let (connect, accept) = mpsc::channel(BACKLOG);
                (
                    service,
                    Endpoint {
                        connect,
                        accept: Mutex::new(Some(accept)),
                        serving: watch::Sender::new(Serving::Starting),
                    },
                )
            })
            .collect();
        Self {
            services: Arc::new(services),
        }
    }

    /// Whether `service` runs in this process.
    pub fn runs(&self, service: ServiceName) -> bool {
        self.services.contains_key(&service)
    }

    /// Returns a plain tonic channel to `callee` over in-memory pipes, when this process runs
    /// it (for callers that add their own token, such as `up`'s demo seeding; services use
    /// [`super::MeshChannel::in_process`]). It connects lazily.
    pub fn channel(&self, callee: ServiceName, connect_timeout: std::time::Duration) -> Option<Channel> {
        let connector = self.connector(callee)?;
        Some(
            tonic::transport::Endpoint::from_static("http://in-process")
                .connect_timeout(connect_timeout)
                .connect_with_connector_lazy(connector),
        )
    }

    /// Returns the connector of a channel to `callee`, when this process runs it.
    pub(crate) fn connector(&self, callee: ServiceName) -> Option<Connector> {
        let endpoint = self.services.get(&callee)?;
        Some(Connector {
            callee,
            connect: endpoint.connect.clone(),
        })
    }

    /// Returns a service that calls `callee`'s server stack directly, when this process runs
    /// `callee`.
    pub(crate) fn direct(&self, callee: ServiceName) -> Option<Direct> {
        let endpoint = self.services.get(&callee)?;
        Some(Direct {
            callee,
            serving: endpoint.serving.subscribe(),
        })
    }

    /// Hands `service`'s stack to the direct callers (from its server, when it starts).
    pub(crate) fn serve_directly(&self, service: ServiceName, stack: Stack) {
        if let Some(endpoint) = self.services.get(&service) {
            endpoint.serving.send_replace(Serving::Now(stack));
        }
    }

    /// Refuses direct calls to `service` from now on (its server is draining); calls already
    /// made run to their end.
    pub(crate) fn stop_serving(&self, service: ServiceName) {
        if let Some(endpoint) = self.services.get(&service) {
            endpoint.serving.send_replace(Serving::Stopped);
        }
    }

    /// Takes the in-process connections of `service`, for its server; `None` when this
    /// process does not run it or its server already took them.
    pub(crate) fn take_incoming(&self, service: ServiceName) -> Option<mpsc::Receiver<DuplexStream>> {
        let endpoint = self.services.get(&service)?;
        endpoint
            .accept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

/// Calls a service of this process: its server's stack runs the call in the caller's task,
/// from the request as the client built it to the response the client reads.
#[derive(Clone)]
pub(crate) struct Direct {
    callee: ServiceName,
    serving: watch::Receiver<Serving>,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Direct")
            .field("callee", &self.callee)
            .finish()
    }
}

impl tower::Service<http::Request<Body>> for Direct {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = futures::future::BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let (callee, mut serving) = (self.callee, self.serving.clone());
        Box::pin(async move {
            let refused =
                || tonic::Status::unavailable(format!("{callee} is not serving in this process")).into_http();
            let stack = loop {
                let state = serving.borrow_and_update().clone();
                match state {
                    Serving::Now(stack) => break stack,
                    Serving::Stopped => return Ok(refused()),
                    Serving::Starting => {
                        if serving.changed().await.is_err() {
                            return Ok(refused());
                        }
                    }
                }
            };
            metrics::counter!(IN_PROCESS_CALLS_TOTAL, "callee" => callee.as_str()).increment(1);
            // A handler that panics fails its call, as it would on its own connection's task,
            // and not the caller's whole request.
            let answered = std::panic::AssertUnwindSafe(tower::ServiceExt::oneshot(stack, request))
                .catch_unwind()
                .await;
            Ok(match answered {
                Ok(Ok(response)) => response,
                Ok(Err(never)) => match never {},
                Err(_) => {
                    tracing::error!(%callee, "a handler panicked on a call made in process");
                    tonic::Status::internal(format!("{callee} failed the call")).into_http()
                }
            })
        })
    }
}

/// Opens a connection to a service of this process: a fresh duplex pipe whose far end goes
/// to the server's accept queue. A tower service of `Uri`, as tonic's custom connectors are.
#[derive(Clone, Debug)]
pub(crate) struct Connector {
    callee: ServiceName,
    connect: mpsc::Sender<DuplexStream>,
}

impl tower::Service<http::Uri> for Connector {
    type Response = hyper_util::rt::TokioIo<DuplexStream>;
    type Error = std::io::Error;
    type Future = futures::future::BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Uri) -> Self::Future {
        let (connect, callee) = (self.connect.clone(), self.callee);
        Box::pin(async move {
            let (client, server) = tokio::io::duplex(PIPE_BYTES);
            connect.send(server).await.map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::ConnectionRefused,
                    format!("{callee} is not serving in this process"),
                )
            })?;
            metrics::counter!(IN_PROCESS_CONNECTIONS_TOTAL, "callee" => callee.as_str()).increment(1);
            tracing::debug!(%callee, "connected in process");
            Ok(hyper_util::rt::TokioIo::new(client))
        })
    }
}

/// A connection a server accepted: from its TCP listener or from this process.
#[derive(Debug)]
pub(crate) enum Incoming {
    Tcp(TcpStream),
    InProcess(DuplexStream),
}

impl Connected for Incoming {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        match self {
            Incoming::Tcp(stream) => stream.connect_info(),
            Incoming::InProcess(_) => TcpConnectInfo {
                local_addr: None,
                remote_addr: None,
            },
        }
    }
}

impl AsyncRead for Incoming {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Incoming::Tcp(stream) => Pin::new(stream).poll_read(context, buf),
            Incoming::InProcess(stream) => Pin::new(stream).poll_read(context, buf),
        }
    }
}

impl AsyncWrite for Incoming {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Incoming::Tcp(stream) => Pin::new(stream).poll_write(context, buf),
            Incoming::InProcess(stream) => Pin::new(stream).poll_write(context, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Incoming::Tcp(stream) => Pin::new(stream).poll_write_vectored(context, bufs),
            Incoming::InProcess(stream) => Pin::new(stream).poll_write_vectored(context, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Incoming::Tcp(stream) => stream.is_write_vectored(),
            Incoming::InProcess(stream) => stream.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Incoming::Tcp(stream) => Pin::new(stream).poll_flush(context),
            Incoming::InProcess(stream) => Pin::new(stream).poll_flush(context),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Incoming::Tcp(stream) => Pin::new(stream).poll_shutdown(context),
            Incoming::InProcess(stream) => Pin::new(stream).poll_shutdown(context),
        }
    }
}

/// Every connection of a server: its TCP listener's (with `TCP_NODELAY`, as tonic's own
/// incoming sets it) and, when it runs in a process that declared it, the in-process ones.
pub(crate) fn incoming(
    listener: tokio::net::TcpListener,
    in_process: Option<mpsc::Receiver<DuplexStream>>,
) -> impl futures::Stream<Item = std::io::Result<Incoming>> + Send + 'static {
    use futures::StreamExt as _;
    let tcp = tonic::transport::server::TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .map(|accepted| accepted.map(Incoming::Tcp));
    let local = futures::stream::unfold(in_process, |receiver| async move {
        let mut receiver = receiver?;
        let stream = receiver.recv().await?;
        Some((Ok(Incoming::InProcess(stream)), Some(receiver)))
    });
    futures::stream::select(tcp, local)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(response: &http::Response<Body>) -> tonic::Status {
        tonic::Status::from_header_map(response.headers()).unwrap_or_else(|| tonic::Status::ok(""))
    }

    fn request() -> http::Request<Body> {
        http::Request::new(Body::empty())
    }

    #[tokio::test]
    async fn a_direct_call_waits_for_the_server_and_is_refused_once_it_drains() {
        let mesh = InProcess::new([ServiceName::Catalog]);
        let mut direct = mesh.direct(ServiceName::Catalog).unwrap();
        assert!(mesh.direct(ServiceName::Inventory).is_none());
        let early = tokio::spawn(tower::Service::call(&mut direct, request()));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(
            !early.is_finished(),
            "a call before the server starts waits for it"
        );

        let answering = tower::service_fn(|_: http::Request<Body>| async move {
            let mut response = http::Response::new(Body::empty());
            *response.status_mut() = http::StatusCode::ACCEPTED;
            Ok::<_, Infallible>(response)
        });
        mesh.serve_directly(ServiceName::Catalog, Stack::new(answering));
        let answer = early.await.unwrap().unwrap();
        assert_eq!(answer.status(), http::StatusCode::ACCEPTED);

        mesh.stop_serving(ServiceName::Catalog);
        let refused = tower::Service::call(&mut direct, request()).await.unwrap();
        assert_eq!(status_of(&refused).code(), tonic::Code::Unavailable);
    }

    #[tokio::test]
    async fn a_handler_that_panics_fails_its_call_and_not_the_caller() {
        let mesh = InProcess::new([ServiceName::Catalog]);
        let panicking = tower::service_fn(|_: http::Request<Body>| async move {
            if std::hint::black_box(true) {
                panic!("the handler broke");
            }
            Ok::<_, Infallible>(http::Response::new(Body::empty()))
        });
        mesh.serve_directly(ServiceName::Catalog, Stack::new(panicking));
        let mut direct = mesh.direct(ServiceName::Catalog).unwrap();
        let answer = tower::Service::call(&mut direct, request()).await.unwrap();
        let status = status_of(&answer);
        assert_eq!(status.code(), tonic::Code::Internal);
        assert_eq!(status.message(), "catalog failed the call");
    }

    #[tokio::test]
    async fn a_connection_reaches_the_server_that_took_the_incoming_side_and_none_other() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mesh = InProcess::new([ServiceName::Catalog]);
        assert!(mesh.runs(ServiceName::Catalog));
        assert!(!mesh.runs(ServiceName::Inventory));
        assert!(mesh.connector(ServiceName::Inventory).is_none());
        let mut accept = mesh.take_incoming(ServiceName::Catalog).unwrap();
        assert!(
            mesh.take_incoming(ServiceName::Catalog).is_none(),
            "one server per service"
        );
        let mut connector = mesh.connector(ServiceName::Catalog).unwrap();
        let mut client = tower::Service::call(&mut connector, http::Uri::from_static("http://catalog"))
            .await
            .unwrap()
            .into_inner();
        let mut server = accept.recv().await.unwrap();
        client.write_all(b"ping").await.unwrap();
        let mut read = [0u8; 4];
        server.read_exact(&mut read).await.unwrap();
        assert_eq!(&read, b"ping");

        drop(accept);
        let refused = tower::Service::call(&mut connector, http::Uri::from_static("http://catalog"))
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    }
}
