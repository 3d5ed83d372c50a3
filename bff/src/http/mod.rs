//! GraphQL over HTTP (`POST` and `GET /graphql`, both `application/graphql-response+json`
//! and `application/json`), GraphiQL for browsers, subscriptions over `graphql-transport-ws`
//! at `/graphql/ws`. Each request gets its caller (token from the bearer header or the
//! session cookie, guest cart session, address), fresh DataLoaders and a deadline.

pub mod client_address;
pub mod rate_limit;
mod request;
pub mod shed;
pub mod storefront;
pub mod trace;
mod ws;

use std::net::IpAddr;
use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::Upstreams;
use crate::cache::responses::{self, ResponseKey};
use crate::graphql::caller::{Caller, UpstreamCalls, VerifiedToken};
use crate::graphql::guard::GuardedSchema;
use crate::graphql::loaders::Loaders;
use crate::graphql::session::{
    self, CART_SESSION_COOKIE, CART_SESSION_HEADER, CookiePolicy, REFRESH_COOKIE, read_cookie,
};
use crate::graphql::{Limits, RefreshCookie};
use crate::metrics::Operation;
use client_address::ClientAddress;

pub use ws::subscriptions;

/// What every GraphQL handler shares.
#[derive(Clone)]
pub struct GraphqlState {
    pub schema: GuardedSchema,
    pub upstreams: Upstreams,
    pub verifier: platform::auth::Verifier,
    pub limits: Limits,
    pub cookies: CookiePolicy,
    pub graphiql: bool,
    /// The whole budget of one request; what is left is each gRPC call's deadline.
    pub request_timeout: Duration,
    /// Report upstream calls per request in `extensions.upstreamCalls`.
    pub report_upstream_calls: bool,
    /// The catalogue cache, when `bff.cache.enabled`.
    pub cache: Option<crate::cache::CatalogCache>,
}

impl std::fmt::Debug for GraphqlState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("GraphqlState")
            .field("limits", &self.limits)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// Builds the request data: caller, loaders, upstreams, cookies.
pub(crate) fn request_data(
    state: &GraphqlState,
    headers: &HeaderMap,
    verified: Option<VerifiedToken>,
    client: Option<IpAddr>,
) -> async_graphql::Data {
    request_data_counted(state, headers, verified, client).data
}

/// What one request brings: its GraphQL data, the upstream call counter when reporting is
/// on, and whether its session cookie holds a token that no longer verifies.
struct RequestData {
    data: async_graphql::Data,
    calls: Option<UpstreamCalls>,
    stale_cookie: bool,
}

/// [`request_data`], with the upstream call counter when reporting is on. `verified` is the
/// rate limiter's check of the same token, reused when it matches.
///
/// A bearer token that does not verify is refused (the client sent it on purpose). A session
/// cookie whose token does not verify (a rotated key, a forged or stale cookie) is ignored, so
/// the browser shops as a guest, and the answer clears it: an HttpOnly cookie is one the
/// storefront cannot remove itself.
fn request_data_counted(
    state: &GraphqlState,
    headers: &HeaderMap,
    verified: Option<VerifiedToken>,
    client: Option<IpAddr>,
) -> RequestData {
    let cookies = session::cookies(headers);
    let presented = session::presented_token(headers);
    let via_cookie = matches!(presented, Some((_, true)));
    let mut token = presented.map(|(token, _)| match verified {
        Some(checked) if checked.token == token => checked,
        _ => VerifiedToken::verify(&state.verifier, token),
    });
    let stale_cookie = via_cookie && matches!(&token, Some(VerifiedToken { user: None, .. }));
    if stale_cookie {
        token = None;
    }
    let cart_session = headers
        .get(CART_SESSION_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .or_else(|| read_cookie(&cookies, CART_SESSION_COOKIE).map(str::to_owned));
    let mut caller = Caller::new(
        token,
        via_cookie,
        cart_session,
        client.map(|address| address.to_string()),
        tokio::time::Instant::now() + state.request_timeout,
    );
    if state.report_upstream_calls {
        caller.calls = Some(UpstreamCalls::default());
    }
    let calls = caller.calls.clone();
    let mut data = async_graphql::Data::default();
    data.insert(Loaders::new(&state.upstreams, &caller, state.cache.as_ref()));
    if let Some(cache) = &state.cache {
        data.insert(cache.clone());
    }
    data.insert(caller);
    data.insert(state.upstreams.clone());
    data.insert(state.cookies);
    if let Some(refresh) = read_cookie(&cookies, REFRESH_COOKIE) {
        data.insert(RefreshCookie(refresh.to_owned()));
    }
    RequestData {
        data,
        calls,
        stale_cookie,
    }
}

/// Which media type the client accepts for the response (`None`: neither: 406).
fn response_type(headers: &HeaderMap) -> Option<&'static str> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|value| value.to_str().ok()) else {
        return Some(JSON);
    };
    let accepts = |media: &str| {
        accept
            .split(',')
            .any(|part| part.split(';').next().unwrap_or_default().trim() == media)
    };
    if accepts(GRAPHQL_RESPONSE) {
        Some(GRAPHQL_RESPONSE)
    } else if accepts(JSON) || accepts("application/*") || accepts("*/*") {
        Some(JSON)
    } else {
        None
    }
}

fn plain_error(status: StatusCode, media: &'static str, message: &str) -> Response {
    let body =
        serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_USER_INPUT" } }] });
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(media))],
        body.to_string(),
    )
        .into_response()
}

/// The key under which a guest's answer may be kept by the catalogue cache (`None`: the
/// cache is off, or the request carries a token).
fn response_key(
    state: &GraphqlState,
    headers: &HeaderMap,
    media: &'static str,
    get: bool,
    request: Bytes,
) -> Option<ResponseKey> {
    state.cache.as_ref()?;
    if session::presented_token(headers).is_some() {
        return None;
    }
    Some(ResponseKey { media, get, request })
}

/// A kept answer, written as [`run`] writes a fresh one and counted as the operation it
/// repeats.
fn kept(
    state: &GraphqlState,
    media: &'static str,
    data: &[u8],
    operation: &Operation,
    started: std::time::Instant,
) -> Response {
    crate::metrics::operation_answered(operation, &async_graphql::Response::default(), started.elapsed());
    let mut body = Vec::with_capacity(data.len() + 48);
    body.extend_from_slice(b"{\"data\":");
    body.extend_from_slice(data);
    if state.report_upstream_calls {
        body.extend_from_slice(b",\"extensions\":{\"upstreamCalls\":{}}");
    }
    body.push(b'}');
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(media))],
        body,
    )
        .into_response()
}

/// Runs one GraphQL request and writes the response as the client asked; with `key`, keeps
/// the answer in the catalogue cache when it may be kept.
async fn run(
    state: &GraphqlState,
    media: &'static str,
    graphql_request: async_graphql::Request,
    headers: &HeaderMap,
    verified: Option<VerifiedToken>,
    client: Option<IpAddr>,
    key: Option<ResponseKey>,
) -> Response {
    let RequestData {
        data,
        calls,
        stale_cookie,
    } = request_data_counted(state, headers, verified, client);
    let started = std::time::Instant::now();
    let mut graphql_request = graphql_request;
    graphql_request.data = data;
    // Stamped before execution: an event during it makes the answer one never served.
    let keep = match (&state.cache, key) {
        (Some(cache), Some(key)) if responses::cacheable(&mut graphql_request) => {
            cache.stamp().map(|stamp| (cache, key, stamp))
        }
        _ => None,
    };
    let (operation, admitted) = state.schema.admit_labelled(graphql_request);
    let execute = async {
        match admitted {
            Ok(request) => state.schema.execute_admitted(request).await,
            Err(error) => async_graphql::Response::from_errors(vec![error]),
        }
    };
    let mut timed_out = false;
    let mut response = match tokio::time::timeout(state.request_timeout, execute).await {
        Ok(response) => response,
        Err(_) => {
            timed_out = true;
            let mut error = async_graphql::ServerError::new("the request took too long; retry", None);
            let mut extensions = async_graphql::ErrorExtensionValues::default();
            extensions.set("code", "UNAVAILABLE");
            error.extensions = Some(extensions);
            async_graphql::Response::from_errors(vec![error])
        }
    };
    // Parse, validation and limit errors come without a code; the contract wants one on all.
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "BAD_USER_INPUT");
        }
    }
    crate::metrics::operation_answered(&operation, &response, started.elapsed());
    if let Some(calls) = calls
        && let Ok(calls) = calls.lock()
    {
        let counts: async_graphql::indexmap::IndexMap<async_graphql::Name, async_graphql::Value> = calls
            .iter()
            .map(|(name, count)| (async_graphql::Name::new(name), async_graphql::Value::from(*count)))
            .collect();
        response
            .extensions
            .insert("upstreamCalls".to_owned(), async_graphql::Value::Object(counts));
    }
    // Under graphql-response+json, an answer without a `data` entry is a 4xx/5xx: a request
    // that never executed (parse, validation, limits) is a 400, one cut off by its deadline a
    // 503. A request that executed is a 200 even when a field error nulled all of `data`
    // (a declined payment): its errors carry a path, and `data: null` is part of the answer.
    let executed = response.data != async_graphql::Value::Null
        || response.errors.iter().any(|error| !error.path.is_empty());
    let status = match (media == GRAPHQL_RESPONSE, executed, timed_out) {
        (true, false, true) => StatusCode::SERVICE_UNAVAILABLE,
        (true, false, false) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    if let Some((cache, key, stamp)) = keep
        && status == StatusCode::OK
        && response.errors.is_empty()
        && response.http_headers.is_empty()
        && !stale_cookie
        && let Ok(data) = serde_json::to_vec(&response.data)
    {
        cache.put_response(stamp, key, Bytes::from(data), operation.clone());
    }
    let extra_headers = response.http_headers.clone();
    let body = if status != StatusCode::OK {
        // A request that never ran has no `data` entry at all.
        let mut object = serde_json::Map::new();
        object.insert(
            "errors".to_owned(),
            serde_json::to_value(&response.errors).unwrap_or_default(),
        );
        if !response.extensions.is_empty() {
            let extensions = serde_json::to_value(&response.extensions).unwrap_or_default();
            object.insert("extensions".to_owned(), extensions);
        }
        serde_json::to_vec(&object)
    } else {
        serde_json::to_vec(&response)
    }
    .unwrap_or_default();
    let mut http = (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(media))],
        body,
    )
        .into_response();
    for (name, value) in &extra_headers {
        http.headers_mut().append(name, value.clone());
    }
    if stale_cookie {
        let clear = session::cookie(session::ACCESS_COOKIE, "", 0, state.cookies.secure);
        if let Ok(value) = HeaderValue::from_str(&clear) {
            http.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    http
}

/// `POST /graphql`.
pub async fn post(
    State(state): State<std::sync::Arc<GraphqlState>>,
    Extension(ClientAddress(client)): Extension<ClientAddress>,
    verified: Option<Extension<VerifiedToken>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(media) = response_type(&headers) else {
        return StatusCode::NOT_ACCEPTABLE.into_response();
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if content_type.split(';').next().unwrap_or_default().trim() != JSON {
        return plain_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            "send the request as application/json",
        );
    }
    let key = response_key(&state, &headers, media, false, body.clone());
    let started = std::time::Instant::now();
    if let (Some(cache), Some(key)) = (&state.cache, &key)
        && let Some((data, operation)) = cache.response(key)
    {
        return kept(&state, media, &data, &operation, started);
    }
    let graphql_request = match request::from_json(&body) {
        Ok(graphql_request) => graphql_request,
        Err(message) => return plain_error(StatusCode::BAD_REQUEST, media, &message),
    };
    let verified = verified.map(|Extension(checked)| checked);
    run(
        &state,
        media,
        graphql_request,
        &headers,
        verified,
        Some(client),
        key,
    )
    .await
}

/// `GET /graphql`: GraphiQL for a browser, otherwise a query (never a mutation).
pub async fn get(
    State(state): State<std::sync::Arc<GraphqlState>>,
    Extension(ClientAddress(client)): Extension<ClientAddress>,
    verified: Option<Extension<VerifiedToken>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if accepts_html(&headers) && query.is_none() {
        if state.graphiql {
            return Html(
                GraphiQLSource::build()
                    .endpoint("/graphql")
                    .subscription_endpoint("/graphql/ws")
                    .finish(),
            )
            .into_response();
        }
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(media) = response_type(&headers) else {
        return StatusCode::NOT_ACCEPTABLE.into_response();
    };
    let raw = query.as_deref().unwrap_or_default();
    let key = response_key(
        &state,
        &headers,
        media,
        true,
        Bytes::copy_from_slice(raw.as_bytes()),
    );
    let started = std::time::Instant::now();
    if let (Some(cache), Some(key)) = (&state.cache, &key)
        && let Some((data, operation)) = cache.response(key)
    {
        return kept(&state, media, &data, &operation, started);
    }
    let graphql_request = match request::from_query_string(raw) {
        Ok(graphql_request) => graphql_request,
        Err(request::Refusal::Mutation) => {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, HeaderValue::from_static("POST"))],
                "mutations must be sent with POST",
            )
                .into_response();
        }
        Err(request::Refusal::Invalid(message)) => {
            return plain_error(StatusCode::BAD_REQUEST, media, &message);
        }
    };
    let verified = verified.map(|Extension(checked)| checked);
    run(
        &state,
        media,
        graphql_request,
        &headers,
        verified,
        Some(client),
        key,
    )
    .await
}

/// Whether the client is a browser opening the URL (it accepts HTML).
fn accepts_html(headers: &HeaderMap) -> bool {
    match headers.get(header::ACCEPT).and_then(|value| value.to_str().ok()) {
        Some(accept) => accept.contains("text/html"),
        None => false,
    }
}

/// A body refused as too large is left unread on the socket, so the server will not reuse
/// the connection; saying so stops a client from pooling it and sending its next request
/// into a socket that is about to close.
pub async fn close_after_refused_body(mut response: Response) -> Response {
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
