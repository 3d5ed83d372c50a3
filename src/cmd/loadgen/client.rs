//! GraphQL over HTTP for the load generator: one [`Endpoint`] (one connection pool) shared by
//! every virtual user, and a [`Client`] per user that carries its token, paces its requests
//! and records what each one cost and how it ended.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::pacer::Pacer;
use super::stats::{Operation, Outcome, Recorder};

/// How long one request may take before it counts as a transport error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A token is renewed this long before it expires, so no request carries an expired one.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// How many times a request shed by the BFF (503 with Retry-After) is sent again.
const SHED_RETRIES: usize = 5;

/// The wait a shed answer asks for (its `Retry-After`, at most 5 s, plus up to 100 ms of
/// jitter so refused users do not return all at once); `None` for any other answer.
fn shed_retry_after(response: &reqwest::Response) -> Option<Duration> {
    if response.status() != reqwest::StatusCode::SERVICE_UNAVAILABLE {
        return None;
    }
    let seconds: u64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    let jitter = Duration::from_millis(rand::random::<u64>() % 100);
    Some(Duration::from_secs(seconds.min(5)) + jitter)
}

/// One entry of a response's `errors`.
#[derive(Debug, Clone)]
pub(crate) struct GraphqlError {
    /// `extensions.code`, or `NO_CODE` when the server sent none.
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) extensions: Value,
}

enum Reply {
    Data(Value),
    Errors(Vec<GraphqlError>),
}

enum Failure {
    RateLimited,
    Other(String),
}

/// The BFF's `/graphql` URL and the HTTP connection pool every user shares.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    http: reqwest::Client,
    url: String,
}

impl Endpoint {
    /// Builds the client; `users` sizes the idle connection pool so no user waits for one.
    ///
    /// # Errors
    /// Fails when the HTTP client cannot be built.
    pub(crate) fn new(url: &str, users: usize) -> anyhow::Result<Endpoint> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .pool_max_idle_per_host(users.max(1))
            .user_agent(concat!("bookstore-loadgen/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("failed to build the http client")?;
        Ok(Endpoint {
            http,
            url: url.to_owned(),
        })
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    async fn post(&self, query: &str, variables: &Value, token: Option<&str>) -> Result<Reply, Failure> {
        let send = || {
            let mut request = self
                .http
                .post(&self.url)
                .header(reqwest::header::ACCEPT, "application/json")
                .json(&json!({ "query": query, "variables": variables }));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request.send()
        };
        let transport = |error: reqwest::Error| Failure::Other(format!("transport error: {}", chain(&error)));
        let mut response = send().await.map_err(transport)?;
        // A BFF at its concurrency limit refuses at once with 503 and Retry-After, before
        // anything of the request ran: like a storefront, come back when it says.
        for _ in 0..SHED_RETRIES {
            let Some(wait) = shed_retry_after(&response) else {
                break;
            };
            tokio::time::sleep(wait).await;
            response = send().await.map_err(transport)?;
        }
        let status = response.status();
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(Failure::RateLimited);
        }
        let body = response
            .bytes()
            .await
            .map_err(|error| Failure::Other(format!("transport error: {}", chain(&error))))?;
        let text = || String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        if status.is_server_error() {
            return Err(Failure::Other(format!("http {status}: {}", text())));
        }
        let Ok(value) = serde_json::from_slice::<Value>(&body) else {
            return Err(Failure::Other(format!("http {status}, not JSON: {}", text())));
        };
        let errors = parse_errors(&value);
        if !errors.is_empty() {
            return Ok(Reply::Errors(errors));
        }
        match value.get("data") {
            Some(data) if status.is_success() && !data.is_null() => Ok(Reply::Data(data.clone())),
            _ => Err(Failure::Other(format!("http {status} without data: {}", text()))),
        }
    }

    /// Sends a request that must succeed (the scenarios' setup) and returns its `data`.
    ///
    /// # Errors
    /// Fails on any transport, HTTP or GraphQL error, naming it.
    pub(crate) async fn expect_data(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> anyhow::Result<Value> {
        match self.post(query, &variables, token).await {
            Ok(Reply::Data(data)) => Ok(data),
            Ok(Reply::Errors(errors)) => {
                let described: Vec<String> = errors.iter().map(describe).collect();
                anyhow::bail!("{}", described.join("; "))
            }
            Err(Failure::RateLimited) => anyhow::bail!("rate limited by the bff (429)"),
            Err(Failure::Other(message)) => anyhow::bail!("{message}"),
        }
    }
}

fn parse_errors(value: &Value) -> Vec<GraphqlError> {
    let Some(list) = value.get("errors").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut errors = Vec::with_capacity(list.len());
    for error in list {
        let extensions = error.get("extensions").cloned().unwrap_or(Value::Null);
        let code = extensions
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or("NO_CODE")
            .to_owned();
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        errors.push(GraphqlError {
            code,
            message,
            extensions,
        });
    }
    errors
}

fn describe(error: &GraphqlError) -> String {
    format!("{}: {}", error.code, error.message)
}

fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// How a recorded request ended, for the journey to act on.
#[derive(Debug)]
pub(crate) enum Answer {
    Data(Value),
    /// A GraphQL error whose code the caller listed as expected.
    Refused(GraphqlError),
    /// Already recorded as an error; the journey stops.
    Failed,
}

/// Anonymous requests in flight at once, over all users. They are registrations, and each
/// hashes a password (argon2, tens of ms of a core): more at once than the server has cores
/// only queues them until calls pass their deadline and come back UNAVAILABLE.
const ANONYMOUS_IN_FLIGHT: usize = 4;

/// The limits a user's requests go through.
#[derive(Debug, Clone)]
pub(crate) struct Pacing {
    /// This user's own cap while signed in (each signed-in user has its own BFF budget).
    per_user_rate: f64,
    /// Shared by every user for anonymous requests: they all come from one address.
    anonymous: Option<Arc<Pacer>>,
    anonymous_slots: Arc<Semaphore>,
}

impl Pacing {
    /// Caps each signed-in user at `per_user_rate` and all anonymous requests together at
    /// `anonymous_rate` requests a second (0 for no cap).
    pub(crate) fn new(per_user_rate: f64, anonymous_rate: f64) -> Pacing {
        Pacing {
            per_user_rate,
            anonymous: Pacer::per_second(anonymous_rate).map(Arc::new),
            anonymous_slots: Arc::new(Semaphore::new(ANONYMOUS_IN_FLIGHT)),
        }
    }
}

/// One virtual user's connection to the BFF.
#[derive(Debug)]
pub(crate) struct Client {
    endpoint: Endpoint,
    pub(crate) recorder: Recorder,
    access_token: Option<String>,
    renew_at: Option<Instant>,
    user_pacer: Option<Pacer>,
    anonymous_pacer: Option<Arc<Pacer>>,
    anonymous_slots: Arc<Semaphore>,
}

impl Client {
    pub(crate) fn new(endpoint: Endpoint, recorder: Recorder, pacing: &Pacing) -> Client {
        Client {
            endpoint,
            recorder,
            access_token: None,
            renew_at: None,
            user_pacer: Pacer::per_second(pacing.per_user_rate),
            anonymous_pacer: pacing.anonymous.clone(),
            anonymous_slots: pacing.anonymous_slots.clone(),
        }
    }

    /// Sends one request and records it. A GraphQL error whose code is in `expected` comes
    /// back as [`Answer::Refused`]; any other failure is recorded as an error.
    pub(crate) async fn call(
        &mut self,
        operation: Operation,
        query: &str,
        variables: Value,
        expected: &[&str],
    ) -> Answer {
        let pacer = match &self.access_token {
            Some(_) => self.user_pacer.as_ref(),
            None => self.anonymous_pacer.as_deref(),
        };
        if let Some(pacer) = pacer {
            pacer.wait().await;
        }
        // Held until the answer; the semaphore is never closed, so acquiring only waits.
        let _slot = match &self.access_token {
            Some(_) => None,
            None => self.anonymous_slots.clone().acquire_owned().await.ok(),
        };
        let started = Instant::now();
        let reply = self
            .endpoint
            .post(query, &variables, self.access_token.as_deref())
            .await;
        let elapsed = started.elapsed();
        let name = operation.as_str();
        match reply {
            Ok(Reply::Data(data)) => {
                self.recorder.record(operation, elapsed, Outcome::Ok);
                Answer::Data(data)
            }
            Ok(Reply::Errors(errors)) => {
                let all_expected = errors.iter().all(|error| expected.contains(&error.code.as_str()));
                if all_expected && let Some(first) = errors.first().cloned() {
                    self.recorder.record(operation, elapsed, Outcome::Expected);
                    return Answer::Refused(first);
                }
                self.recorder.record(operation, elapsed, Outcome::Error);
                let described: Vec<String> = errors.iter().map(describe).collect();
                self.recorder.sample(format!("{name}: {}", described.join("; ")));
                Answer::Failed
            }
            Err(Failure::RateLimited) => {
                self.recorder.record(operation, elapsed, Outcome::RateLimited);
                self.recorder
                    .sample(format!("{name}: http 429, rate limited by the bff"));
                Answer::Failed
            }
            Err(Failure::Other(message)) => {
                self.recorder.record(operation, elapsed, Outcome::Error);
                self.recorder.sample(format!("{name}: {message}"));
                Answer::Failed
            }
        }
    }

    /// Records an error in an answer that arrived (a missing field, retries used up).
    pub(crate) fn fail(&mut self, operation: Operation, message: &str) {
        self.recorder
            .record_late_error(operation, format!("{}: {message}", operation.as_str()));
    }

    /// Takes the token of an `AuthPayload` (`accessToken`, `expiresIn`); false when absent.
    pub(crate) fn sign_in(&mut self, payload: &Value) -> bool {
        let Some(token) = payload.get("accessToken").and_then(Value::as_str) else {
            return false;
        };
        let lifetime = payload.get("expiresIn").and_then(Value::as_u64).unwrap_or(0);
        let usable = Duration::from_secs(lifetime).saturating_sub(TOKEN_MARGIN);
        self.access_token = Some(token.to_owned());
        self.renew_at = Some(Instant::now() + usable);
        true
    }

    /// True when there is no token or it is about to expire.
    pub(crate) fn needs_sign_in(&self) -> bool {
        match self.renew_at {
            Some(renew_at) => Instant::now() >= renew_at,
            None => true,
        }
    }

    /// True once a register or login succeeded.
    pub(crate) fn is_signed_in(&self) -> bool {
        self.access_token.is_some()
    }
}
