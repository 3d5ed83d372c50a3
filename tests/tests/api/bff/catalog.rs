//! Catalog reads through GraphQL: one catalog call and one inventory call for a page of 50
//! books with availability, lookups, topics, and a page that survives inventory going away.

use platform::ServiceName;
use serde_json::json;

use super::{Auth, books, graphql, mesh, upstream_calls};

const PAGE: &str = "query($first: Int!, $after: String) {
  books(filter: { topic: \"testing\" }, sort: TITLE, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id isbn title authors price { amount currency formatted } availability { inStock available } } }
  }
}";

#[tokio::test]
async fn a_page_of_fifty_books_with_availability_costs_one_call_per_upstream() {
    let mesh = mesh().await;
    let ids = books(&mesh, 55, 3).await;
    let anonymous = Auth::default();
    let reply = graphql(&mesh, &anonymous, PAGE, json!({ "first": 50 })).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert!(reply.body["errors"].is_null(), "{:?}", reply.body);
    let page = &reply.data()["books"];
    assert_eq!(page["totalCount"], 55);
    assert_eq!(page["edges"].as_array().unwrap().len(), 50);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        page["edges"][0]["node"]["availability"],
        json!({ "inStock": true, "available": 3 })
    );
    assert_eq!(page["edges"][0]["node"]["price"]["currency"], "USD");
    assert!(
        page["edges"][0]["node"]["price"]["formatted"]
            .as_str()
            .unwrap()
            .starts_with('$')
    );
    assert_eq!(upstream_calls(&reply, "SearchBooksRequest"), 1);
    // One batch at most: none when the stock events of `books` already filled the BFF's
    // catalogue cache.
    assert!(
        upstream_calls(&reply, "BatchGetStockRequest") <= 1,
        "availability batched: {:?}",
        reply.body["extensions"]
    );
    assert_eq!(upstream_calls(&reply, "BatchGetBooksRequest"), 0);

    let after = page["pageInfo"]["endCursor"].as_str().unwrap();
    let next = graphql(&mesh, &anonymous, PAGE, json!({ "first": 50, "after": after })).await;
    assert_eq!(next.data()["books"]["edges"].as_array().unwrap().len(), 5);
    assert_eq!(next.data()["books"]["pageInfo"]["hasNextPage"], false);

    let one = graphql(
        &mesh,
        &anonymous,
        "query($id: ID!) { book(id: $id) { id title topics description publishedYear } missing: book(id: \"00000000-0000-7000-8000-000000000000\") { id } }",
        json!({ "id": ids[0] }),
    )
    .await;
    assert_eq!(one.data()["book"]["id"], ids[0].as_str());
    assert!(one.data()["missing"].is_null(), "absent reads as null");
    let isbn = page["edges"][0]["node"]["isbn"].as_str().unwrap();
    let by_isbn = graphql(
        &mesh,
        &anonymous,
        "query($isbn: String!) { bookByIsbn(isbn: $isbn) { isbn } }",
        json!({ "isbn": isbn }),
    )
    .await;
    assert_eq!(by_isbn.data()["bookByIsbn"]["isbn"], isbn);
    let topics = graphql(&mesh, &anonymous, "{ topics { name bookCount } }", json!({})).await;
    assert!(
        topics.data()["topics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|topic| topic["name"] == "testing" && topic["bookCount"] == 55),
        "{:?}",
        topics.body
    );
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn with_inventory_down_the_page_arrives_without_availability() {
    // Read upstream: with the cache on, availability the stock events brought would still show.
    let mut mesh = super::mesh_with(|config| config.bff.cache.enabled = false).await;
    books(&mesh, 3, 1).await;
    mesh.stop(ServiceName::Inventory).await.unwrap();
    let reply = graphql(&mesh, &Auth::default(), PAGE, json!({ "first": 10 })).await;
    assert_eq!(reply.status, 200);
    let edges = reply.data()["books"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 3, "the catalog's part still arrives");
    assert!(edges[0]["node"]["title"].is_string());
    assert!(edges[0]["node"]["availability"].is_null());
    assert_eq!(reply.code(), "UNAVAILABLE", "{:?}", reply.body);
    assert!(
        !reply.body.to_string().contains("transport"),
        "no internal detail leaks: {:?}",
        reply.body
    );
    mesh.shutdown().await.unwrap();
}
