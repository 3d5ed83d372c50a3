//! Sending a call again when it provably never reached a replica (its connection was refused,
//! or closed by the replica's drain before the call went out: the replica stopped, or is
//! draining after SIGTERM), so a caller with several endpoints fails over instead of failing.
//! gRPC calls this a transparent retry: the callee never saw the request, so repeating it is
//! safe for every RPC, writes included, and adds no load to any server.
//!
//! Why it is needed: tonic keeps a replica whose connection failed in the balancer (it may
//! come back) and hands the calls routed to it the connection error, without sending them;
//! the balancer keeps choosing it (it has nothing in flight). So the call is sent again
//! straight to each replica in turn, over a connection of its own, and not through the
//! balancer, until one takes it.

use futures::{FutureExt as _, StreamExt as _};
use http_body_util::{BodyExt as _, Full, StreamBody};
use tonic::body::Body;
use tonic::codegen::Bytes;

/// The most of a request body kept to send again; a larger one (a client stream whose items
/// are all at hand, such as a book import) is sent once, as it comes, and never copied.
const REPLAY_LIMIT_BYTES: usize = 64 * 1024;

/// A request body read to its end when it was complete already (a unary call's message is)
/// and small, so the call can be sent again; a body still being written (a client stream) or
/// a large one is kept as is and its call is never repeated.
#[derive(Debug)]
pub(super) enum RequestBody {
    Complete(Bytes),
    Streaming(Body),
}

impl RequestBody {
    /// Reads what `body` holds without waiting for more.
    pub(super) fn read(mut body: Body) -> RequestBody {
        let mut read = Vec::new();
        loop {
            match body.frame().now_or_never() {
                // Ended: every byte of the call is here.
                Some(None) => return RequestBody::Complete(Bytes::from(read.concat::<u8>())),
                Some(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => {
                        read.push(data);
                        if read.iter().map(Bytes::len).sum::<usize>() > REPLAY_LIMIT_BYTES {
                            return RequestBody::Streaming(resume(read, None, body));
                        }
                    }
                    // Trailers in a request: send what came as it came.
                    Err(frame) => return RequestBody::Streaming(resume(read, Some(Ok(frame)), body)),
                },
                Some(Some(Err(status))) => {
                    return RequestBody::Streaming(resume(read, Some(Err(status)), body));
                }
                // Still being written.
                None => return RequestBody::Streaming(resume(read, None, body)),
            }
        }
    }

    /// A body to send: a copy of a complete one, or the streaming one (once).
    pub(super) fn take(&mut self) -> Body {
        match self {
            RequestBody::Complete(bytes) => Body::new(Full::new(bytes.clone())),
            RequestBody::Streaming(body) => std::mem::replace(body, Body::empty()),
        }
    }

    /// Whether the call may be sent again.
    pub(super) fn replayable(&self) -> bool {
        matches!(self, RequestBody::Complete(_))
    }
}

/// The frames already read, then `next`, then the rest of `body`.
fn resume(
    read: Vec<Bytes>,
    next: Option<Result<http_body::Frame<Bytes>, tonic::Status>>,
    body: Body,
) -> Body {
    let before = read
        .into_iter()
        .map(|data| Ok(http_body::Frame::data(data)))
        .chain(next);
    let rest = http_body_util::BodyStream::new(body);
    Body::new(StreamBody::new(futures::stream::iter(before).chain(rest)))
}

/// Whether the transport failed before the request left: the connection was refused, or
/// hyper cancelled the call because its connection closed (a drain's GOAWAY) before sending it.
pub(super) fn never_sent(error: &tonic::transport::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>()
            && hyper.is_canceled()
        {
            return true;
        }
        source = cause.source();
    }
    false
}

/// Copies what a request carries besides its body.
pub(super) fn copy_head(parts: &http::request::Parts) -> http::request::Parts {
    let mut copy = http::Request::new(()).into_parts().0;
    copy.method = parts.method.clone();
    copy.uri = parts.uri.clone();
    copy.version = parts.version;
    copy.headers = parts.headers.clone();
    copy.extensions = parts.extensions.clone();
    copy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_complete_body_is_read_and_can_be_sent_twice() {
        let mut body = RequestBody::read(Body::new(Full::new(Bytes::from_static(b"\0\0\0\0\x01x"))));
        assert!(body.replayable());
        for _ in 0..2 {
            let sent = body.take().collect().await.unwrap().to_bytes();
            assert_eq!(&sent[..], b"\0\0\0\0\x01x");
        }
    }

    #[tokio::test]
    async fn a_body_still_being_written_is_sent_once_and_whole() {
        let (sender, receiver) =
            futures::channel::mpsc::unbounded::<Result<http_body::Frame<Bytes>, tonic::Status>>();
        sender
            .unbounded_send(Ok(http_body::Frame::data(Bytes::from_static(b"ab"))))
            .unwrap();
        let mut body = RequestBody::read(Body::new(StreamBody::new(receiver)));
        assert!(!body.replayable());
        let taken = body.take();
        sender
            .unbounded_send(Ok(http_body::Frame::data(Bytes::from_static(b"cd"))))
            .unwrap();
        drop(sender);
        assert_eq!(&taken.collect().await.unwrap().to_bytes()[..], b"abcd");
    }

    #[tokio::test]
    async fn a_large_body_is_sent_once_and_whole_without_a_copy_kept() {
        let chunk = Bytes::from(vec![7u8; REPLAY_LIMIT_BYTES / 2 + 1]);
        let frames: Vec<Result<_, tonic::Status>> = (0..3)
            .map(|_| Ok(http_body::Frame::data(chunk.clone())))
            .collect();
        let mut body = RequestBody::read(Body::new(StreamBody::new(futures::stream::iter(frames))));
        assert!(!body.replayable());
        let sent = body.take().collect().await.unwrap().to_bytes();
        assert_eq!(sent.len(), 3 * chunk.len());
    }

    #[tokio::test]
    async fn a_refused_connection_counts_as_never_sent() {
        use tower::{Service as _, ServiceExt as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let mut channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
            .unwrap()
            .connect_lazy();
        let request = http::Request::new(Body::empty());
        let error = channel.ready().await.unwrap().call(request).await.unwrap_err();
        assert!(never_sent(&error), "{error:?}");
    }

    #[tokio::test]
    async fn calls_go_to_the_replica_that_runs_when_the_other_refuses_connections() {
        use crate::ServiceName;
        use crate::client::{MeshChannel, UpstreamConfig};
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
}
