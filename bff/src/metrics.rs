//! The BFF's metrics, all named here and described in [`describe`]: HTTP requests, GraphQL
//! operations, rate-limit refusals, load shedding and live subscriptions. Upstream calls are
//! counted by the platform's client layer (`grpc_client_*`), like every service's.
//!
//! Every label's values are bounded: `route` is a route template of the router (or
//! `storefront` for the shop's files), `method` a standard HTTP method (or `OTHER`),
//! `operation` a name the storefront, `bookstore loadgen` or the schema knows (or `other`),
//! `code` a code of the contract (or `OTHER`).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use async_graphql::parser::types::{
    DocumentOperations, OperationType, Selection, TypeKind, TypeSystemDefinition,
};
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// HTTP requests answered, by `method`, `route` and `status`.
pub const HTTP_REQUESTS_TOTAL: &str = "bff_http_requests_total";
/// Time from an HTTP request to its response headers, by `method` and `route`.
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "bff_http_request_duration_seconds";
/// GraphQL operations run (over HTTP, and each subscription over WebSocket at its first
/// answer), by `operation`, `type`, `outcome` (`ok` or `error`) and `code` (the first error's
/// `extensions.code`, empty when ok).
pub const GRAPHQL_OPERATIONS_TOTAL: &str = "bff_graphql_operations_total";
/// Time to run a GraphQL operation (for a subscription: to its first answer), by `operation`
/// and `type`.
pub const GRAPHQL_OPERATION_DURATION_SECONDS: &str = "bff_graphql_operation_duration_seconds";
/// Requests refused with 429 by the rate limit, by `key` (`user` or `address`).
pub const RATE_LIMITED_TOTAL: &str = "bff_rate_limited_total";
/// Requests refused with 503 at once because the BFF was at `bff.max_concurrent_requests`.
pub const REQUESTS_SHED_TOTAL: &str = "bff_requests_shed_total";
/// Subscriptions open over WebSocket now.
pub const SUBSCRIPTIONS_ACTIVE: &str = "bff_subscriptions_active";

/// The `operation` label of a name nobody registered, or of an anonymous document with
/// several root fields.
pub const OTHER: &str = "other";

/// The operation names the reference storefront (`web/src`) and `bookstore loadgen` send; a
/// test keeps this list and the storefront's documents in step.
pub const KNOWN_OPERATIONS: &[&str] = &[
    // web/src
    "AddAddress",
    "AddToCart",
    "Book",
    "Books",
    "Boot",
    "Cart",
    "Login",
    "Logout",
    "Order",
    "OrderUpdated",
    "Orders",
    "PlaceOrder",
    "Refresh",
    "Register",
    "RemoveAddress",
    "RemoveFromCart",
    "Topics",
    "UpdateCartItem",
    "UpdateProfile",
    // bookstore loadgen
    "AdminLogin",
    "Availability",
    "Browse",
    "CreateBook",
    "GetUser",
    "Restock",
    "Search",
    "SetStock",
    "Shelf",
    // graphql-http's audit and GraphiQL's schema fetch
    "IntrospectionQuery",
];

/// HELP text of every BFF metric; the recorder must be installed first.
pub fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS_TOTAL,
        "HTTP requests answered by the BFF, by method, route and status"
    );
    metrics::describe_histogram!(
        HTTP_REQUEST_DURATION_SECONDS,
        metrics::Unit::Seconds,
        "Time from an HTTP request to its response headers, by method and route"
    );
    metrics::describe_counter!(
        GRAPHQL_OPERATIONS_TOTAL,
        "GraphQL operations run, by operation, type, outcome (ok, error) and code (the first error's extensions.code)"
    );
    metrics::describe_histogram!(
        GRAPHQL_OPERATION_DURATION_SECONDS,
        metrics::Unit::Seconds,
        "Time to run a GraphQL operation (a subscription: to its first answer), by operation and type"
    );
    metrics::describe_counter!(
        RATE_LIMITED_TOTAL,
        "Requests refused with 429 by the rate limit, by key (user or address)"
    );
    metrics::describe_counter!(
        REQUESTS_SHED_TOTAL,
        "Requests refused with 503 because the BFF was at bff.max_concurrent_requests"
    );
    metrics::describe_gauge!(
        SUBSCRIPTIONS_ACTIVE,
        "GraphQL subscriptions open over WebSocket now"
    );
    // Series an alert or a panel reads exist from the start, at zero.
    for key in ["user", "address"] {
        metrics::counter!(RATE_LIMITED_TOTAL, "key" => key).absolute(0);
    }
    metrics::counter!(REQUESTS_SHED_TOTAL).absolute(0);
    metrics::gauge!(SUBSCRIPTIONS_ACTIVE).set(0.0);
}

/// The middleware that counts and times every HTTP request; outermost, so refusals of the
/// layers inside (shed, rate limit, body limit) are counted too.
pub async fn http(request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route = match request.extensions().get::<MatchedPath>() {
        Some(path) => path.as_str().to_owned(),
        None => "storefront".to_owned(),
    };
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed().as_secs_f64();
    metrics::histogram!(HTTP_REQUEST_DURATION_SECONDS, "method" => method, "route" => route.clone())
        .record(elapsed);
    metrics::counter!(
        HTTP_REQUESTS_TOTAL,
        "method" => method,
        "route" => route,
        "status" => response.status().as_u16().to_string()
    )
    .increment(1);
    response
}

fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}

/// A rate-limit refusal, keyed by user or by address.
pub fn rate_limited(by_user: bool) {
    metrics::counter!(RATE_LIMITED_TOTAL, "key" => if by_user { "user" } else { "address" }).increment(1);
}

/// What one GraphQL request runs, as labelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// A known operation name, the schema's root field of an anonymous or unknown one, or
    /// [`OTHER`].
    pub name: String,
    /// `query`, `mutation`, `subscription`, or `unknown` when the document does not parse.
    pub kind: &'static str,
}

impl Operation {
    /// A request whose document could not be read (it does not parse, or was refused before).
    pub fn unknown() -> Self {
        Self {
            name: OTHER.to_owned(),
            kind: "unknown",
        }
    }
}

/// Names requests by what they run, with a bounded set of names.
#[derive(Debug, Clone, Default)]
pub struct OperationNames {
    /// Every field of the schema's Query, Mutation and Subscription types.
    root_fields: HashSet<String>,
}

impl OperationNames {
    /// Learns the root fields from the schema's SDL.
    pub fn new(sdl: &str) -> Self {
        let mut root_fields = HashSet::new();
        if let Ok(document) = async_graphql::parser::parse_schema(sdl) {
            for definition in document.definitions {
                let TypeSystemDefinition::Type(definition) = definition else {
                    continue;
                };
                let definition = definition.node;
                if !matches!(
                    definition.name.node.as_str(),
                    "Query" | "Mutation" | "Subscription"
                ) {
                    continue;
                }
                if let TypeKind::Object(object) = definition.kind {
                    root_fields.extend(
                        object
                            .fields
                            .into_iter()
                            .map(|field| field.node.name.node.to_string()),
                    );
                }
            }
        }
        Self { root_fields }
    }

    /// Labels the operation `request` runs (its document parsed here, once, and kept on it).
    pub fn classify(&self, request: &mut async_graphql::Request) -> Operation {
        let wanted = request.operation_name.clone();
        let Ok(document) = request.parsed_query() else {
            return Operation::unknown();
        };
        let (name, operation) = match (&document.operations, wanted) {
            (DocumentOperations::Single(operation), _) => (None, operation),
            (DocumentOperations::Multiple(operations), Some(wanted)) => {
                match operations.iter().find(|(name, _)| name.as_str() == wanted) {
                    Some((name, operation)) => (Some(name.as_str()), operation),
                    None => return Operation::unknown(),
                }
            }
            (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
                match operations.iter().next() {
                    Some((name, operation)) => (Some(name.as_str()), operation),
                    None => return Operation::unknown(),
                }
            }
            (DocumentOperations::Multiple(_), None) => return Operation::unknown(),
        };
        let kind = match operation.node.ty {
            OperationType::Query => "query",
            OperationType::Mutation => "mutation",
            OperationType::Subscription => "subscription",
        };
        if let Some(name) = name
            && KNOWN_OPERATIONS.contains(&name)
        {
            return Operation {
                name: name.to_owned(),
                kind,
            };
        }
        let mut fields = operation
            .node
            .selection_set
            .node
            .items
            .iter()
            .filter_map(|item| match &item.node {
                Selection::Field(field) if field.node.name.node != "__typename" => {
                    Some(field.node.name.node.as_str())
                }
                Selection::Field(_) => None,
                // A fragment at the root: which fields it selects is not looked up.
                _ => Some(""),
            });
        let name = match (fields.next(), fields.next()) {
            (Some(field), None) if self.root_fields.contains(field) => field,
            _ => OTHER,
        };
        Operation {
            name: name.to_owned(),
            kind,
        }
    }
}

/// The codes the contract gives `extensions.code` (`docs/api.md`).
const CONTRACT_CODES: &[&str] = &[
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "OUT_OF_STOCK",
    "PAYMENT_DECLINED",
    "CONFLICT",
    "UNAVAILABLE",
    "INTERNAL",
];

/// Counts and times one operation's answer.
pub fn operation_answered(operation: &Operation, response: &async_graphql::Response, elapsed: Duration) {
    let code = response.errors.first().map(|error| {
        let code = error
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.get("code"))
            .and_then(|code| match code {
                async_graphql::Value::String(code) => Some(code.as_str()),
                _ => None,
            });
        match code {
            Some(code) => CONTRACT_CODES
                .iter()
                .find(|known| **known == code)
                .copied()
                .unwrap_or("OTHER"),
            None => "BAD_USER_INPUT",
        }
    });
    metrics::histogram!(
        GRAPHQL_OPERATION_DURATION_SECONDS,
        "operation" => operation.name.clone(),
        "type" => operation.kind
    )
    .record(elapsed.as_secs_f64());
    metrics::counter!(
        GRAPHQL_OPERATIONS_TOTAL,
        "operation" => operation.name.clone(),
        "type" => operation.kind,
        "outcome" => if code.is_some() { "error" } else { "ok" },
        "code" => code.unwrap_or_default()
    )
    .increment(1);
}

/// Held while a subscription is open: [`SUBSCRIPTIONS_ACTIVE`] counts the live ones.
#[derive(Debug)]
pub struct OpenSubscription(());

impl OpenSubscription {
    pub fn open() -> Self {
        metrics::gauge!(SUBSCRIPTIONS_ACTIVE).increment(1.0);
        Self(())
    }
}

impl Drop for OpenSubscription {
    fn drop(&mut self) {
        metrics::gauge!(SUBSCRIPTIONS_ACTIVE).decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(query: &str, operation_name: Option<&str>) -> Operation {
        let names = OperationNames::new(&crate::graphql::sdl());
        let mut request = async_graphql::Request::new(query);
        if let Some(name) = operation_name {
            request = request.operation_name(name);
        }
        names.classify(&mut request)
    }

    fn labelled(name: &str, kind: &'static str) -> Operation {
        Operation {
            name: name.to_owned(),
            kind,
        }
    }

    #[test]
    fn names_are_bounded_by_the_storefront_and_the_schema() {
        assert_eq!(
            classify("query Books { books { totalCount } }", None),
            labelled("Books", "query")
        );
        assert_eq!(
            classify("{ books { totalCount } }", None),
            labelled("books", "query")
        );
        // A name nobody registered is labelled by its root field, never by itself.
        assert_eq!(
            classify("query Random8213 { books { totalCount } }", None),
            labelled("books", "query")
        );
        assert_eq!(
            classify(
                "mutation X { login(email: \"a\", password: \"b\") { accessToken } }",
                None
            ),
            labelled("login", "mutation")
        );
        assert_eq!(classify("{ nonsense }", None), labelled(OTHER, "query"));
        assert_eq!(
            classify("{ books { totalCount } topics }", None),
            labelled(OTHER, "query")
        );
        assert_eq!(
            classify("query A { topics } query Cart { cart { id } }", Some("Cart")),
            labelled("Cart", "query")
        );
        assert_eq!(
            classify("query A { topics } query B { topics }", None),
            Operation::unknown()
        );
        assert_eq!(classify("{ books {", None), Operation::unknown());
        assert_eq!(
            classify(
                "subscription OrderUpdated { orderUpdated(id: \"x\") { id } }",
                None
            ),
            labelled("OrderUpdated", "subscription")
        );
    }

    /// Every operation the storefront sends has its own name in the metrics.
    #[test]
    fn every_storefront_operation_is_known() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/src");
        let mut missing = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(root)];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                if path.ends_with("gql") {
                    continue;
                }
                stack.extend(
                    std::fs::read_dir(&path)
                        .unwrap()
                        .map(|entry| entry.unwrap().path()),
                );
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for keyword in ["query ", "mutation ", "subscription "] {
                for (index, _) in text.match_indices(keyword) {
                    let name: String = text[index + keyword.len()..]
                        .chars()
                        .take_while(char::is_ascii_alphanumeric)
                        .collect();
                    let first_upper =
                        matches!(name.chars().next(), Some(first) if first.is_ascii_uppercase());
                    if first_upper && !KNOWN_OPERATIONS.contains(&name.as_str()) {
                        missing.push(format!("{name} ({})", path.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "add to KNOWN_OPERATIONS: {missing:?}");
    }
}
