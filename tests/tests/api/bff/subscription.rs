//! `orderUpdated` over a real WebSocket (`graphql-transport-ws`): the order now, then its
//! changes as an admin moves it.

use futures::{SinkExt as _, StreamExt as _};
use platform::auth::Role;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use super::{Auth, books, graphql, mesh};

async fn next_json<S>(socket: &mut S) -> Value
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// `bff_subscriptions_active` on the BFF's /metrics (this is the suite's one test that
/// subscribes, so the process-wide gauge is this test's own).
async fn subscriptions_open(mesh: &bookstore_tests::TestMesh) -> f64 {
    let text = reqwest::get(format!("{}/metrics", mesh.bff_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("bff_subscriptions_active "))
        .and_then(|value| value.parse().ok())
        .unwrap_or(f64::NAN)
}

#[tokio::test]
async fn order_updated_streams_the_order_and_its_changes() {
    let mesh = mesh().await;
    let ids = books(&mesh, 1, 5).await;
    let (_, token) = mesh.keys().user_token(Role::Customer);
    let shopper = Auth::bearer(&token);
    graphql(
        &mesh,
        &shopper,
        "mutation($id: ID!) { addToCart(bookId: $id) { totalQuantity } }",
        json!({ "id": ids[0] }),
    )
    .await;
    let placed = graphql(
        &mesh,
        &shopper,
        "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }",
        json!({ "input": {
            "idempotencyKey": "ws-1",
            "shippingAddress": { "line1": "1 Main St", "city": "Berlin", "postalCode": "10115", "country": "DE" },
            "payment": { "paypal": { "email": "buyer@example.com" } },
        }}),
    )
    .await;
    let order_id = placed.data()["placeOrder"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", placed.body))
        .to_owned();

    let url = mesh.bff_url().replace("http://", "ws://") + "/graphql/ws";
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init =
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    socket.send(Message::text(init.to_string())).await.unwrap();
    assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription($id: ID!) { orderUpdated(id: $id) { id status history { status } } }",
        "variables": { "id": order_id },
    }});
    socket.send(Message::text(subscribe.to_string())).await.unwrap();
    let first = next_json(&mut socket).await;
    assert_eq!(
        first["payload"]["data"]["orderUpdated"]["status"], "CONFIRMED",
        "{first:?}"
    );
    assert_eq!(
        subscriptions_open(&mesh).await,
        1.0,
        "the open subscription is counted"
    );

    let admin = Auth::bearer(&mesh.keys().user_token(Role::Admin).1);
    let shipped = graphql(
        &mesh,
        &admin,
        "mutation($id: ID!) { updateOrderStatus(id: $id, status: SHIPPED) { status } }",
        json!({ "id": order_id }),
    )
    .await;
    assert_eq!(shipped.data()["updateOrderStatus"]["status"], "SHIPPED");
    let update = next_json(&mut socket).await;
    assert_eq!(
        update["payload"]["data"]["orderUpdated"]["status"], "SHIPPED",
        "{update:?}"
    );
    graphql(
        &mesh,
        &admin,
        "mutation($id: ID!) { updateOrderStatus(id: $id, status: DELIVERED) { status } }",
        json!({ "id": order_id }),
    )
    .await;
    let delivered = next_json(&mut socket).await;
    assert_eq!(
        delivered["payload"]["data"]["orderUpdated"]["status"],
        "DELIVERED"
    );
    let complete = next_json(&mut socket).await;
    assert_eq!(
        complete["type"], "complete",
        "a terminal status ends the subscription"
    );
    let closed = bookstore_tests::eventually(
        std::time::Duration::from_secs(5),
        std::time::Duration::from_millis(50),
        || async {
            match subscriptions_open(&mesh).await {
                0.0 => Ok(()),
                open => Err(open),
            }
        },
    )
    .await;
    assert_eq!(closed, Ok(()), "an ended subscription is no longer counted");

    // The alias limit holds over the socket too.
    let fields: Vec<String> = (0..31).map(|index| format!("a{index}: id")).collect();
    let aliased = json!({ "id": "2", "type": "subscribe", "payload": {
        "query": format!("subscription($id: ID!) {{ orderUpdated(id: $id) {{ {} }} }}", fields.join(" ")),
        "variables": { "id": order_id },
    }});
    socket.send(Message::text(aliased.to_string())).await.unwrap();
    let refused = next_json(&mut socket).await;
    assert!(refused.to_string().contains("too many aliases"), "{refused:?}");
    mesh.shutdown().await.unwrap();
}
