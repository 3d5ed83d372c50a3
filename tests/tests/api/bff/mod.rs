//! The BFF over real HTTP against the real services: every operation of the contract, both
//! auth modes, guest carts, error codes, limits and partial failure.

mod account;
mod cache;
mod catalog;
mod checkout;
mod limits;
mod proxy;
mod storefront;
mod subscription;

use bookstore_tests::TestMesh;
use serde_json::{Value, json};

/// Every service and the BFF.
pub(crate) async fn mesh() -> TestMesh {
    mesh_with(|_| {}).await
}

/// Every service and the BFF, with `change` applied to the configuration.
pub(crate) async fn mesh_with(
    change: impl FnOnce(&mut bookstore::config::BookstoreConfig) + Send + 'static,
) -> TestMesh {
    TestMesh::builder()
        .with_all()
        .configure(|config| {
            config.auth.own.argon2_memory_kib = 1024;
            config.bff.report_upstream_calls = true;
        })
        .configure(change)
        .start()
        .await
        .unwrap()
}

/// How a request authenticates.
#[derive(Debug, Clone, Default)]
pub(crate) struct Auth {
    pub bearer: Option<String>,
    /// A `Cookie` header value.
    pub cookies: Option<String>,
    pub cart_session: Option<String>,
}

impl Auth {
    pub(crate) fn bearer(token: &str) -> Self {
        Auth {
            bearer: Some(token.to_owned()),
            ..Auth::default()
        }
    }
}

/// A response: HTTP status, headers and JSON body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The `data` member.
    pub(crate) fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The first error's `extensions.code`.
    pub(crate) fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
    }

    /// Every `Set-Cookie` value.
    pub(crate) fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .collect()
    }

    /// The cookies set, as a `Cookie` header value (deleted ones left out).
    pub(crate) fn cookie_header(&self) -> String {
        self.set_cookies()
            .iter()
            .filter(|cookie| !cookie.contains("Max-Age=0"))
            .map(|cookie| cookie.split(';').next().unwrap().to_owned())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// POSTs a GraphQL request.
pub(crate) async fn graphql(mesh: &TestMesh, auth: &Auth, query: &str, variables: Value) -> Reply {
    let mut request = reqwest::Client::new()
        .post(format!("{}/graphql", mesh.bff_url()))
        .header("content-type", "application/json")
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = &auth.bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if let Some(cookies) = &auth.cookies {
        request = request.header("cookie", cookies);
    }
    if let Some(session) = &auth.cart_session {
        request = request.header("x-cart-session", session);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
    }
}

/// The upstream calls the BFF reported for a request, by request message name.
pub(crate) fn upstream_calls(reply: &Reply, request: &str) -> u64 {
    reply.body["extensions"]["upstreamCalls"][request]
        .as_u64()
        .unwrap_or(0)
}

/// Creates `count` books with `on_hand` copies each as an admin through GraphQL.
pub(crate) async fn books(mesh: &TestMesh, count: usize, on_hand: i32) -> Vec<String> {
    let admin = mesh.keys().user_token(platform::auth::Role::Admin).1;
    let mut ids = Vec::new();
    for index in 0..count {
        let isbn = isbn13(u64::from(uuid::Uuid::new_v4().as_fields().0) * 10 + index as u64);
        let created = graphql(
            mesh,
            &Auth::bearer(&admin),
            "mutation($input: BookInput!) { createBook(input: $input) { id } }",
            json!({ "input": {
                "isbn": isbn, "title": format!("Test Book {index}"), "authors": ["Ada Writer"],
                "topics": ["testing"], "price": 1250 + index as i64, "currency": "USD"
            }}),
        )
        .await;
        let id = created.data()["createBook"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{:?}", created.body))
            .to_owned();
        let stocked = graphql(
            mesh,
            &Auth::bearer(&admin),
            "mutation($id: ID!, $n: Int!) { setStock(bookId: $id, onHand: $n) { available } }",
            json!({ "id": id, "n": on_hand }),
        )
        .await;
        assert_eq!(
            stocked.data()["setStock"]["available"],
            on_hand,
            "{:?}",
            stocked.body
        );
        ids.push(id);
    }
    ids
}

/// A valid ISBN-13 from a number.
pub(crate) use bookstore_tests::stack::shop::isbn13;
