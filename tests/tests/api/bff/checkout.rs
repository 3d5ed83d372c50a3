//! Checkout and admin operations through GraphQL: placeOrder with every error code the
//! contract names, orders and order, cancel, and the admin mutations.

use platform::auth::Role;
use serde_json::{Value, json};

use super::{Auth, books, graphql, mesh};

const ORDER_FIELDS: &str = "id status total { amount currency } lines { bookId title quantity unitPrice { amount } } \
    shippingAddress { city } payment { method brand last4 status } createdAt history { status at note }";

fn card(number: &str) -> Value {
    json!({ "card": { "number": number, "expMonth": 12, "expYear": 2035, "cvc": "123" } })
}

fn place_input(key: &str, payment: Value) -> Value {
    json!({ "input": {
        "idempotencyKey": key,
        "shippingAddress": { "line1": "1 Rue de la Paix", "city": "Paris", "postalCode": "75002", "country": "FR" },
        "payment": payment,
    }})
}

fn place_query() -> String {
    format!("mutation($input: PlaceOrderInput!) {{ placeOrder(input: $input) {{ {ORDER_FIELDS} }} }}")
}

async fn add(mesh: &bookstore_tests::TestMesh, token: &str, book: &str, quantity: i32) {
    let reply = graphql(
        mesh,
        &Auth::bearer(token),
        "mutation($id: ID!, $q: Int!) { addToCart(bookId: $id, quantity: $q) { totalQuantity } }",
        json!({ "id": book, "q": quantity }),
    )
    .await;
    assert!(reply.body["errors"].is_null(), "{:?}", reply.body);
}

#[tokio::test]
async fn checkout_orders_cancel_and_every_error_code() {
    let mesh = mesh().await;
    let ids = books(&mesh, 2, 3).await;
    let (_, token) = mesh.keys().user_token(Role::Customer);
    let shopper = Auth::bearer(&token);

    add(&mesh, &token, &ids[0], 2).await;
    let placed = graphql(
        &mesh,
        &shopper,
        &place_query(),
        place_input("gql-1", card("4242 4242 4242 4242")),
    )
    .await;
    let order = &placed.data()["placeOrder"];
    assert_eq!(order["status"], "CONFIRMED", "{:?}", placed.body);
    assert_eq!(
        order["payment"],
        json!({ "method": "CARD", "brand": "visa", "last4": "4242", "status": "captured" })
    );
    assert_eq!(order["lines"][0]["quantity"], 2);
    let order_id = order["id"].as_str().unwrap().to_owned();
    let again = graphql(
        &mesh,
        &shopper,
        &place_query(),
        place_input("gql-1", card("4242 4242 4242 4242")),
    )
    .await;
    assert_eq!(again.data()["placeOrder"]["id"], order_id.as_str(), "idempotent");
    let cart = graphql(&mesh, &shopper, "{ cart { totalQuantity } }", json!({})).await;
    assert_eq!(cart.data()["cart"]["totalQuantity"], 0, "cart cleared");

    // OUT_OF_STOCK names the books.
    add(&mesh, &token, &ids[1], 5).await;
    let short = graphql(
        &mesh,
        &shopper,
        &place_query(),
        place_input("gql-2", card("4242424242424242")),
    )
    .await;
    assert_eq!(short.code(), "OUT_OF_STOCK", "{:?}", short.body);
    assert_eq!(short.body["errors"][0]["extensions"]["bookIds"], json!([ids[1]]));
    let set = graphql(
        &mesh,
        &shopper,
        "mutation($id: ID!) { updateCartItem(bookId: $id, quantity: 1) { totalQuantity } }",
        json!({ "id": ids[1] }),
    )
    .await;
    assert_eq!(set.data()["updateCartItem"]["totalQuantity"], 1);
    // PAYMENT_DECLINED, and BAD_USER_INPUT naming the GraphQL field.
    let declined = graphql(
        &mesh,
        &shopper,
        &place_query(),
        place_input("gql-3", card("4000000000000002")),
    )
    .await;
    assert_eq!(declined.code(), "PAYMENT_DECLINED", "{:?}", declined.body);
    let bad_card = graphql(
        &mesh,
        &shopper,
        &place_query(),
        place_input("gql-4", json!({ "card": { "number": "4242424242424242", "expMonth": 13, "expYear": 2035, "cvc": "123" } })),
    )
    .await;
    assert_eq!(bad_card.code(), "BAD_USER_INPUT");
    assert_eq!(
        bad_card.body["errors"][0]["extensions"]["field"],
        "payment.card.expMonth"
    );
    let both = graphql(
        &mesh,
        &shopper,
        &place_query(),
        place_input(
            "gql-5",
            json!({ "card": card("4242424242424242")["card"], "paypal": { "email": "a@example.com" } }),
        ),
    )
    .await;
    assert_eq!(both.body["errors"][0]["extensions"]["field"], "payment");
    let paypal = graphql(
        &mesh,
        &shopper,
        &place_query(),
        place_input("gql-6", json!({ "paypal": { "email": "buyer@example.com" } })),
    )
    .await;
    assert_eq!(
        paypal.data()["placeOrder"]["payment"]["method"],
        "PAYPAL",
        "{:?}",
        paypal.body
    );

    // Listing and reading.
    let orders = graphql(
        &mesh,
        &shopper,
        "{ orders(first: 10) { edges { cursor node { id status } } pageInfo { hasNextPage } } }",
        json!({}),
    )
    .await;
    let edges = orders.data()["orders"]["edges"].as_array().unwrap().clone();
    assert!(edges.len() >= 2, "{:?}", orders.body);
    let one = graphql(
        &mesh,
        &shopper,
        "query($id: ID!) { order(id: $id) { id status } }",
        json!({ "id": order_id }),
    )
    .await;
    assert_eq!(one.data()["order"]["id"], order_id.as_str());
    let stranger = mesh.keys().user_token(Role::Customer).1;
    let hidden = graphql(
        &mesh,
        &Auth::bearer(&stranger),
        "query($id: ID!) { order(id: $id) { id } }",
        json!({ "id": order_id }),
    )
    .await;
    assert!(
        hidden.data()["order"].is_null(),
        "someone else's order reads as null"
    );

    // Admin moves it; the owner cannot cancel once shipped; an admin-only mutation is FORBIDDEN.
    let admin = Auth::bearer(&mesh.keys().user_token(Role::Admin).1);
    let shipped = graphql(
        &mesh,
        &admin,
        "mutation($id: ID!) { updateOrderStatus(id: $id, status: SHIPPED) { status history { status } } }",
        json!({ "id": order_id }),
    )
    .await;
    assert_eq!(
        shipped.data()["updateOrderStatus"]["status"],
        "SHIPPED",
        "{:?}",
        shipped.body
    );
    let late = graphql(
        &mesh,
        &shopper,
        "mutation($id: ID!) { cancelOrder(id: $id) { status } }",
        json!({ "id": order_id }),
    )
    .await;
    assert_eq!(late.code(), "CONFLICT", "{:?}", late.body);
    let paypal_id = paypal.data()["placeOrder"]["id"].as_str().unwrap();
    let cancelled = graphql(
        &mesh,
        &shopper,
        "mutation($id: ID!) { cancelOrder(id: $id) { status payment { status } } }",
        json!({ "id": paypal_id }),
    )
    .await;
    assert_eq!(
        cancelled.data()["cancelOrder"]["status"],
        "CANCELLED",
        "{:?}",
        cancelled.body
    );
    let forbidden = graphql(
        &mesh,
        &shopper,
        "mutation($id: ID!) { deleteBook(id: $id) }",
        json!({ "id": ids[0] }),
    )
    .await;
    assert_eq!(forbidden.code(), "FORBIDDEN");
    let missing = graphql(
        &mesh,
        &shopper,
        "mutation { cancelOrder(id: \"00000000-0000-7000-8000-000000000000\") { status } }",
        json!({}),
    )
    .await;
    assert_eq!(missing.code(), "NOT_FOUND");

    // A real internal failure: svc-order loses a table under its feet. The storefront gets
    // INTERNAL with a reference to the log line, never the database's words.
    {
        use sea_orm::ConnectionTrait as _;
        let db = sea_orm::Database::connect(mesh.database_url(platform::ServiceName::Order).unwrap())
            .await
            .unwrap();
        db.execute_unprepared("DROP TABLE order_events").await.unwrap();
        db.close().await.unwrap();
    }
    let broken = graphql(
        &mesh,
        &shopper,
        "query($id: ID!) { order(id: $id) { id history { status } } }",
        json!({ "id": order_id }),
    )
    .await;
    assert_eq!(broken.code(), "INTERNAL", "{:?}", broken.body);
    let message = broken.body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("reference") && !message.contains("order_events"),
        "{message}"
    );

    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn admins_manage_books_and_stock() {
    let mesh = mesh().await;
    let ids = books(&mesh, 1, 2).await;
    let admin = Auth::bearer(&mesh.keys().user_token(Role::Admin).1);
    let restocked = graphql(
        &mesh,
        &admin,
        "mutation($id: ID!) { restock(bookId: $id, quantity: 5) { inStock available } }",
        json!({ "id": ids[0] }),
    )
    .await;
    assert_eq!(
        restocked.data()["restock"],
        json!({ "inStock": true, "available": 7 }),
        "{:?}",
        restocked.body
    );
    let book = graphql(
        &mesh,
        &admin,
        "query($id: ID!) { book(id: $id) { isbn authors topics } }",
        json!({ "id": ids[0] }),
    )
    .await;
    let isbn = book.data()["book"]["isbn"].as_str().unwrap().to_owned();
    let updated = graphql(
        &mesh,
        &admin,
        "mutation($id: ID!, $input: BookInput!) { updateBook(id: $id, input: $input) { title price { amount } } }",
        json!({ "id": ids[0], "input": { "isbn": isbn, "title": "Renamed", "authors": ["A"], "topics": [], "price": 999 } }),
    )
    .await;
    assert_eq!(
        updated.data()["updateBook"],
        json!({ "title": "Renamed", "price": { "amount": 999 } }),
        "{:?}",
        updated.body
    );
    let duplicate = graphql(
        &mesh,
        &admin,
        "mutation($input: BookInput!) { createBook(input: $input) { id } }",
        json!({ "input": { "isbn": isbn, "title": "Twin", "authors": ["A"], "topics": [], "price": 1 } }),
    )
    .await;
    assert_eq!(duplicate.code(), "CONFLICT", "{:?}", duplicate.body);
    let deleted = graphql(
        &mesh,
        &admin,
        "mutation($id: ID!) { deleteBook(id: $id) }",
        json!({ "id": ids[0] }),
    )
    .await;
    assert_eq!(deleted.data()["deleteBook"], true);
    let gone = graphql(
        &mesh,
        &admin,
        "query($id: ID!) { book(id: $id) { id } }",
        json!({ "id": ids[0] }),
    )
    .await;
    assert!(gone.data()["book"].is_null());
    mesh.shutdown().await.unwrap();
}
