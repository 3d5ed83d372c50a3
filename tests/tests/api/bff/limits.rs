//! Limits and the GraphQL-over-HTTP rules: depth, complexity, page size, aliases, GET
//! mutations, content types, body size, persisted queries, and the committed SDL.

use serde_json::json;

use super::{Auth, graphql, mesh, mesh_with};

#[tokio::test]
async fn abusive_queries_are_refused_before_they_run() {
    let mesh = mesh().await;
    let anonymous = Auth::default();
    // Deeper than any storefront needs.
    let deep = "{ me { addresses { id } } books { edges { node { availability { inStock } } } } \
                 a: books { edges { node { price { amount } } } } }";
    assert_eq!(graphql(&mesh, &anonymous, deep, json!({})).await.status, 200);
    let mut nested = String::from("name");
    for _ in 0..10 {
        nested = format!("ofType {{ {nested} }}");
    }
    let query = format!("{{ __schema {{ types {{ fields {{ type {{ {nested} }} }} }} }} }}");
    let too_deep = graphql(&mesh, &anonymous, &query, json!({})).await;
    assert!(
        too_deep.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too deep"),
        "{:?}",
        too_deep.body
    );
    assert_eq!(too_deep.code(), "BAD_USER_INPUT");
    // 100 books × 100 orders-worth of fields: past the complexity budget.
    let costly = (0..20)
        .map(|index| format!("b{index}: books(first: 100) {{ edges {{ node {{ id title isbn authors topics price {{ amount currency formatted }} }} }} }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let refused = graphql(&mesh, &anonymous, &format!("{{ {costly} }}"), json!({})).await;
    assert!(
        refused.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("complex"),
        "{:?}",
        refused.body
    );
    let big_page = graphql(
        &mesh,
        &anonymous,
        "{ books(first: 101) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(big_page.code(), "BAD_USER_INPUT");
    assert_eq!(big_page.body["errors"][0]["extensions"]["field"], "first");
    let aliases = (0..40)
        .map(|index| format!("t{index}: topics {{ name }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let many = graphql(&mesh, &anonymous, &format!("{{ {aliases} }}"), json!({})).await;
    assert!(many.data().is_null(), "{:?}", many.body);
    assert_eq!(many.code(), "BAD_USER_INPUT");
    assert!(
        many.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("aliases")
    );
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn http_rules_of_graphql_over_http_hold() {
    let mesh = mesh().await;
    let client = reqwest::Client::new();
    let url = format!("{}/graphql", mesh.bff_url());
    // GET queries work; GET mutations are 405.
    let with_query = |query: &str| reqwest::Url::parse_with_params(&url, &[("query", query)]).unwrap();
    let get = client
        .get(with_query("{ topics { name } }"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    let mutation = client
        .get(with_query("mutation { clearCart { totalQuantity } }"))
        .send()
        .await
        .unwrap();
    assert_eq!(mutation.status(), 405);
    // graphql-response+json: a request that cannot run is a 400 with that type.
    let invalid = client
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .body(r#"{"query": "{ nope }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 400);
    assert_eq!(
        invalid.headers()["content-type"],
        "application/graphql-response+json"
    );
    // One that ran is a 200 with `data` even when a field error nulled all of it (here the
    // non-null `orders` of an anonymous caller): a storefront asking this media type must
    // tell a declined payment from a malformed request.
    let nulled = client
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .body(r#"{"query": "{ orders { edges { cursor } } }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(nulled.status(), 200);
    let body: serde_json::Value = nulled.json().await.unwrap();
    assert!(
        matches!(body.get("data"), Some(serde_json::Value::Null)),
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{body}"
    );
    let not_json = client
        .post(&url)
        .header("content-type", "text/plain")
        .body("{ topics { name } }")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 415);
    let huge = client
        .post(&url)
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"query": "{{ topics {{ name }} }}", "x": "{}"}}"#,
            "a".repeat(200_000)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    // The unread body ends the connection, and the answer says so, so the client does not
    // reuse it: a refused body followed at once by a query must never meet a closed socket.
    assert_eq!(huge.headers()["connection"], "close");
    for _ in 0..20 {
        let refused = client
            .post(&url)
            .header("content-type", "application/json")
            .body("a".repeat(1_000_000))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 413);
        let next = client.get(with_query("{ topics { name } }")).send().await;
        assert_eq!(next.unwrap().status(), 200);
    }
    // A browser gets GraphiQL.
    let page = client
        .get(&url)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("graphiql"));
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn persisted_queries_run_by_hash_once_registered() {
    let mesh = mesh().await;
    let query = "{ topics { name } }";
    let hash = {
        use sha2::Digest as _;
        use std::fmt::Write as _;
        sha2::Sha256::digest(query.as_bytes())
            .iter()
            .fold(String::new(), |mut out, byte| {
                let _ = write!(out, "{byte:02x}");
                out
            })
    };
    let client = reqwest::Client::new();
    let url = format!("{}/graphql", mesh.bff_url());
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let unknown: serde_json::Value = client
        .post(&url)
        .json(&json!({ "extensions": extensions }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        unknown["errors"][0]["message"], "PersistedQueryNotFound",
        "{unknown:?}"
    );
    let registered: serde_json::Value = client
        .post(&url)
        .json(&json!({ "query": query, "extensions": extensions }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(registered["data"]["topics"].is_array(), "{registered:?}");
    let by_hash: serde_json::Value = client
        .post(&url)
        .json(&json!({ "extensions": extensions }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(by_hash["data"]["topics"].is_array(), "{by_hash:?}");
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn one_noisy_client_is_slowed_down_while_many_shoppers_are_not() {
    let mesh = mesh_with(|config| {
        config.bff.rate_per_address = 5;
        config.bff.rate_per_user = 5;
        config.bff.rate_burst = 5;
    })
    .await;
    let anonymous = Auth::default();
    let mut limited = None;
    for _ in 0..30 {
        let reply = graphql(&mesh, &anonymous, "{ topics { name } }", json!({})).await;
        if reply.status == 429 {
            limited = Some(reply);
            break;
        }
    }
    let limited = limited.expect("one address past its budget is refused");
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(limited.code(), "UNAVAILABLE");
    // A checkout rush: many distinct signed-in users from the same address, each within
    // their own budget, are never refused.
    for _ in 0..20 {
        let (_, token) = mesh.keys().user_token(platform::auth::Role::Customer);
        for _ in 0..3 {
            let reply = graphql(
                &mesh,
                &Auth::bearer(&token),
                "{ cart { totalQuantity } }",
                json!({}),
            )
            .await;
            assert_eq!(reply.status, 200, "{:?}", reply.body);
        }
    }
    mesh.shutdown().await.unwrap();
}
