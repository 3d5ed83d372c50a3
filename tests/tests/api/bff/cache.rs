//! The catalogue cache: a warm page needs no upstream call (and arrives with catalog and
//! inventory stopped); a price changed by `UpdateBook`, availability changed by a sale and a
//! deleted book show on the next page within a second, through the events alone; with
//! `bff.cache.enabled=false` every page is read upstream and is as correct.

use std::future::Future;
use std::time::{Duration, Instant};

use bookstore_tests::{TestMesh, with_token};
use platform::ServiceName;
use platform::auth::Role;
use proto::catalog::v1 as pb;
use proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use serde_json::{Value, json};

use super::{Auth, Reply, books, graphql, mesh, mesh_with};

const PAGE: &str = "query($sort: BookSort!) {
  books(filter: { topic: \"testing\" }, sort: $sort, first: 20) {
    totalCount
    edges { node { id isbn title price { amount } availability { inStock available } } }
  }
}";

const BOOK: &str =
    "query($id: ID!) { book(id: $id) { id title price { amount } availability { available } } }";

/// How long a change may take to show.
const WITHIN: Duration = Duration::from_secs(1);

fn no_upstream_call(reply: &Reply) -> bool {
    reply.body["extensions"]["upstreamCalls"]
        .as_object()
        .is_none_or(|calls| calls.is_empty())
}

async fn page(mesh: &TestMesh, sort: &str) -> Reply {
    let reply = graphql(mesh, &Auth::default(), PAGE, json!({ "sort": sort })).await;
    assert!(reply.body["errors"].is_null(), "{:?}", reply.body);
    reply
}

/// Asks until an answer needs no upstream call (the feeds joined, the entry filled).
async fn warm(mesh: &TestMesh, query: &str, variables: Value) -> Reply {
    let started = Instant::now();
    loop {
        let reply = graphql(mesh, &Auth::default(), query, variables.clone()).await;
        assert!(reply.body["errors"].is_null(), "{:?}", reply.body);
        if no_upstream_call(&reply) {
            return reply;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never served from the cache: {:?}",
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asks `attempt` until it holds; fails when that took longer than [`WITHIN`].
async fn shows_within_a_second<F, Fut>(what: &str, mut attempt: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while !attempt().await {
        assert!(started.elapsed() < Duration::from_secs(5), "{what}: never shown");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    assert!(took <= WITHIN, "{what}: shown after {took:?}");
}

fn node<'a>(reply: &'a Reply, id: &str) -> Option<&'a Value> {
    reply.data()["books"]["edges"]
        .as_array()?
        .iter()
        .map(|edge| &edge["node"])
        .find(|node| node["id"] == id)
}

fn catalog(mesh: &TestMesh) -> CatalogServiceClient<tonic::transport::Channel> {
    CatalogServiceClient::new(mesh.channel(ServiceName::Catalog))
}

/// Changes a book's price straight at the catalog (as an admin on another BFF replica would),
/// so this BFF learns of it only from the book event.
async fn reprice(mesh: &TestMesh, shown: &Value, amount: i64) {
    let input = pb::BookInput {
        isbn: shown["isbn"].as_str().unwrap().to_owned(),
        title: shown["title"].as_str().unwrap().to_owned(),
        authors: vec!["Ada Writer".to_owned()],
        topics: vec!["testing".to_owned()],
        price: Some(proto::common::v1::Money {
            amount_minor: amount,
            currency: "USD".to_owned(),
        }),
        ..pb::BookInput::default()
    };
    let admin = mesh.keys().user_token(Role::Admin).1;
    let request = pb::UpdateBookRequest {
        book_id: shown["id"].as_str().unwrap().to_owned(),
        book: Some(input),
    };
    catalog(mesh)
        .update_book(with_token(request, &admin))
        .await
        .unwrap();
}

async fn buy(mesh: &TestMesh, book: &str, quantity: i32) {
    let (_, token) = mesh.keys().user_token(Role::Customer);
    let shopper = Auth::bearer(&token);
    let added = graphql(
        mesh,
        &shopper,
        "mutation($id: ID!, $q: Int!) { addToCart(bookId: $id, quantity: $q) { totalQuantity } }",
        json!({ "id": book, "q": quantity }),
    )
    .await;
    assert!(added.body["errors"].is_null(), "{:?}", added.body);
    let placed = graphql(
        mesh,
        &shopper,
        "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { status } }",
        json!({ "input": {
            "idempotencyKey": uuid::Uuid::new_v4().to_string(),
            "shippingAddress": { "line1": "1 Rue de la Paix", "city": "Paris", "postalCode": "75002", "country": "FR" },
            "payment": { "card": { "number": "4242424242424242", "expMonth": 12, "expYear": 2035, "cvc": "123" } },
        }}),
    )
    .await;
    assert_eq!(
        placed.data()["placeOrder"]["status"],
        "CONFIRMED",
        "{:?}",
        placed.body
    );
}

#[tokio::test]
async fn a_warm_page_makes_no_upstream_call_even_with_catalog_and_inventory_stopped() {
    let mut mesh = mesh().await;
    let ids = books(&mesh, 3, 2).await;
    let warmed = warm(&mesh, PAGE, json!({ "sort": "TITLE" })).await;
    let one = warm(&mesh, BOOK, json!({ "id": ids[0] })).await;
    // A signed-in caller's page is not kept whole, but its books and availability are.
    let (_, token) = mesh.keys().user_token(Role::Customer);
    for _ in 0..2 {
        let signed_in = graphql(&mesh, &Auth::bearer(&token), PAGE, json!({ "sort": "TITLE" })).await;
        assert_eq!(signed_in.data(), warmed.data());
    }
    assert_eq!(warmed.data()["books"]["totalCount"], 3);
    assert_eq!(
        node(&warmed, &ids[0]).unwrap()["availability"],
        json!({ "inStock": true, "available": 2 })
    );
    let metrics = reqwest::get(format!("{}/metrics", mesh.bff_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for hit in [
        "bff_cache_requests_total{cache=\"response\",result=\"hit\"}",
        "bff_cache_requests_total{cache=\"page\",result=\"hit\"}",
        "# HELP bff_cache_requests_total",
    ] {
        assert!(metrics.contains(hit), "{hit}: {metrics}");
    }

    mesh.stop(ServiceName::Catalog).await.unwrap();
    mesh.stop(ServiceName::Inventory).await.unwrap();
    let served = page(&mesh, "TITLE").await;
    assert_eq!(served.data(), warmed.data(), "the same page, from memory");
    assert!(no_upstream_call(&served), "{:?}", served.body);
    let signed_in = graphql(&mesh, &Auth::bearer(&token), PAGE, json!({ "sort": "TITLE" })).await;
    assert_eq!(
        signed_in.data(),
        warmed.data(),
        "from the page and availability caches"
    );
    assert!(no_upstream_call(&signed_in), "{:?}", signed_in.body);
    let again = graphql(&mesh, &Auth::default(), BOOK, json!({ "id": ids[0] })).await;
    assert_eq!(again.data(), one.data());
    assert!(again.body["errors"].is_null(), "{:?}", again.body);
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_price_changed_by_update_book_shows_on_the_next_page_within_a_second() {
    let mesh = mesh().await;
    let ids = books(&mesh, 3, 2).await;
    let warmed = warm(&mesh, PAGE, json!({ "sort": "PRICE_ASC" })).await;
    warm(&mesh, BOOK, json!({ "id": ids[1] })).await;
    let shown = node(&warmed, &ids[1]).unwrap().clone();

    reprice(&mesh, &shown, 999).await;
    shows_within_a_second("the new price on the page", || async {
        let reply = page(&mesh, "PRICE_ASC").await;
        // Cheapest first now: the order changed with the price.
        reply.data()["books"]["edges"][0]["node"]["id"] == ids[1].as_str()
            && reply.data()["books"]["edges"][0]["node"]["price"]["amount"] == 999
    })
    .await;
    shows_within_a_second("the new price of book(id)", || async {
        let reply = graphql(&mesh, &Auth::default(), BOOK, json!({ "id": ids[1] })).await;
        reply.data()["book"]["price"]["amount"] == 999
    })
    .await;
    // Warm again, the new price is what the cache keeps.
    let rewarmed = warm(&mesh, PAGE, json!({ "sort": "PRICE_ASC" })).await;
    assert_eq!(node(&rewarmed, &ids[1]).unwrap()["price"]["amount"], 999);
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn availability_changed_by_a_sale_shows_on_the_next_page_within_a_second() {
    let mesh = mesh().await;
    let ids = books(&mesh, 2, 3).await;
    let warmed = warm(&mesh, PAGE, json!({ "sort": "TITLE" })).await;
    assert_eq!(node(&warmed, &ids[0]).unwrap()["availability"]["available"], 3);
    warm(&mesh, BOOK, json!({ "id": ids[0] })).await;

    buy(&mesh, &ids[0], 2).await;
    shows_within_a_second("availability after the sale", || async {
        let reply = page(&mesh, "TITLE").await;
        node(&reply, &ids[0]).unwrap()["availability"] == json!({ "inStock": true, "available": 1 })
    })
    .await;
    shows_within_a_second("availability of book(id) after the sale", || async {
        let reply = graphql(&mesh, &Auth::default(), BOOK, json!({ "id": ids[0] })).await;
        reply.data()["book"]["availability"]["available"] == 1
    })
    .await;
    let sold_out = {
        buy(&mesh, &ids[0], 1).await;
        Instant::now()
    };
    shows_within_a_second("sold out", || async {
        let reply = page(&mesh, "TITLE").await;
        node(&reply, &ids[0]).unwrap()["availability"] == json!({ "inStock": false, "available": 0 })
    })
    .await;
    assert!(sold_out.elapsed() < Duration::from_secs(5));
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_deleted_book_leaves_every_cached_page_and_book_within_a_second() {
    let mesh = mesh().await;
    let ids = books(&mesh, 3, 1).await;
    for sort in ["TITLE", "PRICE_ASC", "NEWEST"] {
        warm(&mesh, PAGE, json!({ "sort": sort })).await;
    }
    warm(&mesh, BOOK, json!({ "id": ids[2] })).await;

    let admin = mesh.keys().user_token(Role::Admin).1;
    let request = pb::DeleteBookRequest {
        book_id: ids[2].clone(),
    };
    catalog(&mesh)
        .delete_book(with_token(request, &admin))
        .await
        .unwrap();
    shows_within_a_second("the book gone from every page and from book(id)", || async {
        for sort in ["TITLE", "PRICE_ASC", "NEWEST"] {
            let reply = page(&mesh, sort).await;
            if node(&reply, &ids[2]).is_some() || reply.data()["books"]["totalCount"] != 2 {
                return false;
            }
        }
        let reply = graphql(&mesh, &Auth::default(), BOOK, json!({ "id": ids[2] })).await;
        reply.data()["book"].is_null()
    })
    .await;
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn with_the_cache_off_every_page_is_read_upstream_and_correct() {
    let mesh = mesh_with(|config| config.bff.cache.enabled = false).await;
    let ids = books(&mesh, 2, 3).await;
    let mut shown = Value::Null;
    for _ in 0..2 {
        let reply = page(&mesh, "TITLE").await;
        assert_eq!(super::upstream_calls(&reply, "SearchBooksRequest"), 1);
        assert_eq!(super::upstream_calls(&reply, "BatchGetStockRequest"), 1);
        assert_eq!(reply.data()["books"]["totalCount"], 2);
        shown = node(&reply, &ids[0]).unwrap().clone();
    }
    reprice(&mesh, &shown, 777).await;
    buy(&mesh, &ids[0], 1).await;
    let reply = page(&mesh, "TITLE").await;
    let node = node(&reply, &ids[0]).unwrap();
    assert_eq!(node["price"]["amount"], 777, "at once: nothing is cached");
    assert_eq!(node["availability"]["available"], 2);
    let one = graphql(&mesh, &Auth::default(), BOOK, json!({ "id": ids[0] })).await;
    assert_eq!(super::upstream_calls(&one, "BatchGetBooksRequest"), 1);
    assert_eq!(one.data()["book"]["price"]["amount"], 777);
    mesh.shutdown().await.unwrap();
}
