//! One checkout, one trace: the whole stack (a `bookstore serve` process per service)
//! exports to a real OTLP receiver on loopback, and the spans it gets for one `placeOrder`
//! form one tree with the conventions' names and attributes; a log line written inside the
//! request carries the same trace and span id.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bookstore_tests::eventually;
use bookstore_tests::stack::{ADMIN_EMAIL, ADMIN_PASSWORD, Stack, shop};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use tokio_util::sync::CancellationToken;

/// One span as received, with the resource it came from.
#[derive(Debug, Clone)]
struct Received {
    service: String,
    resource: HashMap<String, String>,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    name: String,
    kind: SpanKind,
    attributes: HashMap<String, String>,
    failed: bool,
}

impl Received {
    fn attribute(&self, key: &str) -> &str {
        match self.attributes.get(key) {
            Some(value) => value,
            None => "",
        }
    }
}

/// The OTLP trace service, keeping every span it is sent.
#[derive(Debug, Clone, Default)]
struct Receiver {
    spans: Arc<Mutex<Vec<Received>>>,
}

fn text(value: Option<&AnyValue>) -> String {
    match value.and_then(|value| value.value.as_ref()) {
        Some(any_value::Value::StringValue(text)) => text.clone(),
        Some(any_value::Value::IntValue(number)) => number.to_string(),
        Some(any_value::Value::BoolValue(flag)) => flag.to_string(),
        Some(any_value::Value::DoubleValue(number)) => number.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn map(attributes: &[KeyValue]) -> HashMap<String, String> {
    attributes
        .iter()
        .map(|pair| (pair.key.clone(), text(pair.value.as_ref())))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut received = Vec::new();
        for resource_spans in request.into_inner().resource_spans {
            let resource = map(&resource_spans
                .resource
                .map(|resource| resource.attributes)
                .unwrap_or_default());
            let service = resource.get("service.name").cloned().unwrap_or_default();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    received.push(Received {
                        service: service.clone(),
                        resource: resource.clone(),
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_span_id: hex(&span.parent_span_id),
                        kind: SpanKind::try_from(span.kind).unwrap_or(SpanKind::Unspecified),
                        failed: matches!(span.status, Some(status) if status.code == 2),
                        attributes: map(&span.attributes),
                        name: span.name,
                    });
                }
            }
        }
        self.spans.lock().unwrap().extend(received);
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// Starts the receiver on a free loopback port; returns it and its endpoint.
async fn start_receiver(stop: CancellationToken) -> (Receiver, String) {
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    let service = TraceServiceServer::new(receiver.clone());
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming_shutdown(incoming, stop.cancelled_owned())
            .await
    });
    (receiver, endpoint)
}

const PLACE_ORDER: &str =
    "mutation placeOrder($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }";

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

fn names(spans: &[Received]) -> Vec<String> {
    spans
        .iter()
        .map(|span| format!("{}: {}", span.service, span.name))
        .collect()
}

#[tokio::test]
async fn one_place_order_is_one_trace_across_every_hop_and_its_log_lines_carry_the_trace_id() {
    let stop = CancellationToken::new();
    let (receiver, endpoint) = start_receiver(stop.clone()).await;
    // The standard variables only: the endpoint, a short batch delay so spans arrive within
    // the test, a resource attribute every process must report.
    let stack = Stack::builder(env!("CARGO_BIN_EXE_bookstore"))
        .setting("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .setting("OTEL_BSP_SCHEDULE_DELAY", "100")
        .setting(
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment.name=trace-test",
        )
        .setting("OTEL_TRACES_SAMPLER", "parentbased_always_on")
        .start()
        .await
        .unwrap();
    let graphql = stack.graphql();
    let admin = graphql.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.unwrap();
    let book = graphql.create_book(&admin, "Traced", 1_250, 5).await.unwrap();
    let shopper = graphql.register_shoppers("traced", 1, 1).await.unwrap().remove(0);
    graphql.fill_cart(&shopper, &book, 2).await.unwrap();

    // The storefront's own trace: the BFF must continue it.
    let placed = graphql
        .http()
        .post(graphql.url())
        .bearer_auth(&shopper.token)
        .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN}-01"))
        .json(&serde_json::json!({
            // Named: an anonymous operation's span is only `mutation` (the conventions).
            "query": PLACE_ORDER,
            "variables": shop::place_input("traced-1", shop::GOOD_CARD),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status().as_u16(), 200);
    let body: serde_json::Value = placed.json().await.unwrap();
    assert_eq!(body["data"]["placeOrder"]["status"], "CONFIRMED", "{body}");

    // Until every hop's spans are in: the last to end is the BFF's HTTP span.
    let expected_services: BTreeSet<&str> = [
        "bookstore-bff",
        "bookstore-order",
        "bookstore-cart",
        "bookstore-catalog",
        "bookstore-inventory",
    ]
    .into();
    let trace = eventually(Duration::from_secs(20), Duration::from_millis(200), || async {
        let spans: Vec<Received> = receiver
            .spans
            .lock()
            .unwrap()
            .iter()
            .filter(|span| span.trace_id == TRACE_ID)
            .cloned()
            .collect();
        let services: BTreeSet<&str> = spans.iter().map(|span| span.service.as_str()).collect();
        let http_done = spans.iter().any(|span| span.name == "POST /graphql");
        let payment = spans.iter().any(|span| span.name == "payment authorize");
        // Each process exports its ended spans in batches, so a span can arrive a batch
        // before its parent: wait for every parent too.
        let ids: BTreeSet<&str> = spans.iter().map(|span| span.span_id.as_str()).collect();
        let orphans = spans
            .iter()
            .filter(|span| span.parent_span_id != CALLER_SPAN && !ids.contains(span.parent_span_id.as_str()))
            .count();
        if expected_services.is_subset(&services) && http_done && payment && orphans == 0 {
            Ok(spans)
        } else {
            Err(format!(
                "services {services:?}, http span {http_done}, payment {payment}, {orphans} spans without their parent"
            ))
        }
    })
    .await
    .unwrap_or_else(|last| panic!("the trace never completed: {last}"));
    let all = receiver.spans.lock().unwrap().clone();

    // Every span of the checkout's operations is in this one trace, wherever it was made.
    for span in &all {
        let of_checkout = span.attribute("rpc.method") == "PlaceOrder"
            || span.name.starts_with("payment ")
            || span.name == "mutation placeOrder";
        assert!(
            !of_checkout || span.trace_id == TRACE_ID,
            "{span:?} is a span of the checkout outside its trace"
        );
        assert_eq!(
            span.resource
                .get("deployment.environment.name")
                .map(String::as_str),
            Some("trace-test"),
            "OTEL_RESOURCE_ATTRIBUTES reaches every process: {span:?}"
        );
    }

    let by_id: HashMap<&str, &Received> = trace.iter().map(|span| (span.span_id.as_str(), span)).collect();
    let parent = |span: &Received| by_id.get(span.parent_span_id.as_str()).copied();

    // The BFF's HTTP span is the caller's child; everything else hangs under it.
    let http: Vec<&Received> = trace.iter().filter(|span| span.name == "POST /graphql").collect();
    assert_eq!(http.len(), 1, "{http:?}");
    let http = http[0];
    assert_eq!(http.service, "bookstore-bff");
    assert_eq!(
        http.parent_span_id, CALLER_SPAN,
        "the traceparent header is continued"
    );
    assert_eq!(http.kind, SpanKind::Server);
    assert_eq!(http.attribute("http.request.method"), "POST");
    assert_eq!(http.attribute("http.route"), "/graphql");
    assert_eq!(http.attribute("url.path"), "/graphql");
    assert_eq!(http.attribute("http.response.status_code"), "200");
    for span in &trace {
        if span.span_id != http.span_id {
            assert!(parent(span).is_some(), "parent of {span:?} is not in the trace");
        }
    }

    let operation = trace
        .iter()
        .find(|span| span.name == "mutation placeOrder")
        .unwrap_or_else(|| panic!("the GraphQL operation has no span: {:?}", names(&trace)));
    assert_eq!(operation.attribute("graphql.operation.name"), "placeOrder");
    assert_eq!(operation.attribute("graphql.operation.type"), "mutation");
    let mut ancestor = parent(operation);
    while let Some(span) = ancestor.filter(|span| span.span_id != http.span_id) {
        ancestor = parent(span);
    }
    assert!(
        ancestor.is_some(),
        "the operation runs inside the HTTP span: {:?}",
        names(&trace)
    );

    // Every RPC: a client span in the caller, a server span in the callee, its child.
    let mut servers = BTreeSet::new();
    for span in trace
        .iter()
        .filter(|span| span.attributes.contains_key("rpc.system"))
    {
        let (service, method) = (span.attribute("rpc.service"), span.attribute("rpc.method"));
        assert_eq!(span.attribute("rpc.system"), "grpc", "{span:?}");
        assert!(
            service.starts_with("bookstore.") || service.starts_with("grpc."),
            "{span:?}"
        );
        assert_eq!(
            span.name,
            format!("{service}/{method}"),
            "no leading slash: {span:?}"
        );
        assert_eq!(span.attribute("rpc.grpc.status_code"), "0", "{span:?}");
        assert!(!span.failed, "{span:?}");
        match span.kind {
            SpanKind::Client => {
                assert_eq!(span.attribute("server.address"), "127.0.0.1", "{span:?}");
                assert!(span.attribute("server.port").parse::<u16>().is_ok(), "{span:?}");
            }
            SpanKind::Server => {
                let client = parent(span).unwrap();
                assert_eq!(client.kind, SpanKind::Client, "{span:?} under {client:?}");
                assert_eq!(client.name, span.name, "{span:?} under {client:?}");
                assert_ne!(client.service, span.service);
                servers.insert(span.service.as_str());
            }
            other => panic!("an RPC span of kind {other:?}: {span:?}"),
        }
    }
    for service in [
        "bookstore-order",
        "bookstore-cart",
        "bookstore-catalog",
        "bookstore-inventory",
    ] {
        assert!(
            servers.contains(service),
            "no server span in {service}: {servers:?}"
        );
    }
    let place = trace
        .iter()
        .find(|span| {
            span.kind == SpanKind::Server && span.name == "bookstore.order.v1.OrderService/PlaceOrder"
        })
        .expect("svc-order's server span");
    assert_eq!(place.attribute("rpc.service"), "bookstore.order.v1.OrderService");

    // The card network is a hop of its own, under svc-order's handling of the call.
    let payment = trace
        .iter()
        .find(|span| span.name == "payment authorize")
        .unwrap();
    assert_eq!(payment.service, "bookstore-order");
    assert_eq!(payment.kind, SpanKind::Client);
    assert_eq!(payment.attribute("payment.operation"), "authorize");

    // Stores: SQL in the SQL services, Redis in cart, each a client span.
    for (service, system) in [
        ("bookstore-order", None),
        ("bookstore-inventory", None),
        // Through sea-orm's entity API (`store::traced`).
        ("bookstore-catalog", None),
        ("bookstore-cart", Some("redis")),
    ] {
        let store_span = trace
            .iter()
            .find(|span| span.service == service && span.attributes.contains_key("db.system.name"))
            .unwrap_or_else(|| panic!("no store span in {service}"));
        assert_eq!(store_span.kind, SpanKind::Client, "{store_span:?}");
        assert!(
            !store_span.attribute("db.operation.name").is_empty(),
            "{store_span:?}"
        );
        match system {
            Some(system) => assert_eq!(store_span.attribute("db.system.name"), system),
            None => assert!(
                ["sqlite", "postgresql"].contains(&store_span.attribute("db.system.name")),
                "{store_span:?}"
            ),
        }
    }
    assert!(
        // Reserve is one statement of data-modifying CTEs: its span is named by its first word.
        trace.iter().any(|span| span.service == "bookstore-inventory"
            && !span.attribute("db.system.name").is_empty()
            && span.attribute("db.operation.name") == "WITH"),
        "the reservation's statement has its span"
    );

    // A log line svc-order wrote inside the request, in JSON: the same trace, and the span
    // the collector got as the one that was current.
    let logs = stack.logs();
    let line = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|line| line["message"] == "order written, checkout starts" && line["trace_id"] == TRACE_ID)
        .unwrap_or_else(|| panic!("no log line of the checkout carries its trace id"));
    let span_id = line["span_id"].as_str().unwrap();
    let current = by_id
        .get(span_id)
        .unwrap_or_else(|| panic!("the log line's span {span_id} is not in the trace: {line}"));
    assert_eq!(current.service, "bookstore-order");
    assert_eq!(current.name, "order.place", "{line}");
    stop.cancel();
}
