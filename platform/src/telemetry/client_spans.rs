//! A client span (kind client) around every outgoing gRPC call, carrying the current trace
//! context to the callee inside it, so the callee's server span is the client span's child.
//!
//! Hand-written rather than `tower-http`'s `TraceLayer` or `tonic-tracing-opentelemetry`:
//! the span must be current while the `traceparent` header is written (TraceLayer never
//! touches the request, so it would need a second layer inside it, and its hooks would
//! hold the same semconv code as this file); `tonic-tracing-opentelemetry` pins other
//! `opentelemetry` versions than the mesh's and names spans with the leading slash. What the
//! span carries is [`super::rpc`]'s, shared with the server side.
//!
//! The span lives until the answer's body is read to its end (or dropped), and the status
//! comes from the trailers when the headers did not carry it: a unary call that succeeds
//! sends `grpc-status: 0` only in its trailers.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http_body::Frame;
use tonic::body::Body;
use tracing::Instrument as _;

use super::rpc::{self, Side};

/// Where the calls of one channel go, for `server.address` and `server.port`: the host as
/// configured (a Service's name, or an address), `None` when a channel balances over several.
#[derive(Debug, Clone)]
struct Peer {
    address: Arc<str>,
    port: u16,
}

/// Wraps a channel in [`ClientSpans`].
#[derive(Debug, Clone, Default)]
pub struct ClientSpanLayer {
    peer: Option<Peer>,
}

impl ClientSpanLayer {
    /// A layer whose spans name `peer` (host, port) as the server, when there is one.
    pub fn new(peer: Option<(&str, u16)>) -> Self {
        Self {
            peer: peer.map(|(address, port)| Peer {
                address: address.into(),
                port,
            }),
        }
    }
}

impl<S> tower::Layer<S> for ClientSpanLayer {
    type Service = ClientSpans<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientSpans {
            inner,
            peer: self.peer.clone(),
        }
    }
}

/// A channel whose calls each get a client span and carry the trace context.
#[derive(Debug, Clone)]
pub struct ClientSpans<S> {
    inner: S,
    peer: Option<Peer>,
}

impl<S> tower::Service<http::Request<Body>> for ClientSpans<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        let span = rpc::span(Side::Client, request.uri().path(), true);
        if let Some(peer) = &self.peer {
            span.record("server.address", &*peer.address);
            span.record("server.port", peer.port);
        }
        let sent = {
            let _entered = span.enter();
            super::propagation::inject_current(request.headers_mut());
            self.inner.call(request)
        };
        let in_span = span.clone();
        Box::pin(
            async move {
                let response = match sent.await {
                    Ok(response) => response,
                    Err(error) => {
                        // Never reached the callee: the caller turns it into UNAVAILABLE.
                        span.record("otel.status_code", "ERROR");
                        span.record("error.type", "transport");
                        return Err(error);
                    }
                };
                if let Some(code) = rpc::status_of(response.headers()) {
                    rpc::record_status(&span, Side::Client, code);
                    return Ok(response);
                }
                if !response.status().is_success() {
                    span.record("otel.status_code", "ERROR");
                    span.record("error.type", response.status().as_str());
                    return Ok(response);
                }
                Ok(response.map(|body| Body::new(SpanBody { inner: body, span })))
            }
            .instrument(in_span),
        )
    }
}

pin_project_lite::pin_project! {
    /// An answer's body that records the status from its trailers and keeps the span open
    /// until it is read or dropped.
    struct SpanBody {
        #[pin]
        inner: Body,
        span: tracing::Span,
    }
}

impl http_body::Body for SpanBody {
    type Data = tonic::codegen::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(context);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(rpc::status_of) {
                    rpc::record_status(this.span, Side::Client, code);
                }
            }
            Poll::Ready(Some(Err(status))) => rpc::record_status(this.span, Side::Client, status.code()),
            Poll::Ready(None) | Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
