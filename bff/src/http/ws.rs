//! Subscriptions over `graphql-transport-ws` at `/graphql/ws`. The access token comes from
//! the `connection_init` payload (`{"authorization": "Bearer …"}`) or the session cookie of
//! the upgrade request.

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::Extension;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::client_address::ClientAddress;
use super::{GraphqlState, request_data};
use crate::graphql::caller::VerifiedToken;

/// Upgrades to a GraphQL WebSocket.
pub async fn subscriptions(
    State(state): State<std::sync::Arc<GraphqlState>>,
    Extension(ClientAddress(client)): Extension<ClientAddress>,
    verified: Option<Extension<VerifiedToken>>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let schema = state.schema.clone();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload: serde_json::Value| async move {
                    let mut headers = headers;
                    if let Some(token) = payload.get("authorization").and_then(serde_json::Value::as_str)
                        && let Ok(value) = HeaderValue::from_str(token)
                    {
                        headers.insert(header::AUTHORIZATION, value);
                    }
                    // A token from the payload differs from the checked one and is verified anew.
                    let verified = verified.map(|Extension(checked)| checked);
                    Ok(request_data(&state, &headers, verified, Some(client)))
                })
                .serve()
        })
        .into_response()
}
