//! A small GraphQL-over-HTTP client for the multi-process tests: POST JSON, bearer token,
//! the whole reply kept (status, body) so tests can assert on either.

use std::time::Duration;

use serde_json::{Value, json};

/// Talks to one BFF's `/graphql`.
#[derive(Debug, Clone)]
pub struct GraphQl {
    http: reqwest::Client,
    url: String,
}

/// One answer: the HTTP status and the JSON body (`Value::Null` when it was not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// The first error's `extensions.code`, or `""` without errors.
    pub fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
    }

    /// `data`, or `Value::Null`.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// Whether the reply has data and no errors.
    pub fn is_ok(&self) -> bool {
        self.status == 200 && self.body["errors"].is_null() && !self.body["data"].is_null()
    }
}

impl GraphQl {
    pub fn new(url: String) -> GraphQl {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .pool_max_idle_per_host(1024)
            .build()
            .unwrap_or_default();
        GraphQl { http, url }
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The underlying HTTP client, for requests this helper does not shape.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends `query` with `variables`, as `token`'s user when given.
    ///
    /// # Errors
    /// Only transport failures (refused, reset, timed out); GraphQL errors are in the reply.
    pub async fn send(&self, token: Option<&str>, query: &str, variables: Value) -> reqwest::Result<Reply> {
        let mut request = self
            .http
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Reply { status, body })
    }

    /// Registers a shopper and returns the access token.
    ///
    /// # Errors
    /// When the transport fails or registration is refused.
    pub async fn register(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let reply = self
            .send(
                None,
                "mutation($input: RegisterInput!) { register(input: $input) { accessToken } }",
                json!({ "input": { "email": email, "password": password, "name": "Shopper" } }),
            )
            .await?;
        token_of(&reply, "register")
    }

    /// Logs in and returns the access token.
    ///
    /// # Errors
    /// When the transport fails or the login is refused.
    pub async fn login(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let reply = self
            .send(
                None,
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
                json!({ "e": email, "p": password }),
            )
            .await?;
        token_of(&reply, "login")
    }
}

fn token_of(reply: &Reply, field: &str) -> anyhow::Result<String> {
    reply.data()[field]["accessToken"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("{field} failed: {} {}", reply.status, reply.body))
}
