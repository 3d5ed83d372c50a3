//! The GraphQL half of the hostile table: each case is one HTTP request to the BFF and the
//! one answer the contract gives it.

use bookstore_tests::stack::Stack;
use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Value, json};

use super::{Tally, leak};

mod cases;

/// What the table's requests act on.
#[derive(Debug)]
pub(crate) struct Fixtures {
    pub admin: String,
    pub shopper: String,
    pub book: String,
}

/// The codes a hostile request may be answered with. INTERNAL and UNAVAILABLE are not
/// among them: bad input is the client's fault and never takes a service down.
const CLIENT_CODES: [&str; 7] = [
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "OUT_OF_STOCK",
    "PAYMENT_DECLINED",
    "CONFLICT",
];

/// The one answer a case must get.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Expect {
    /// This HTTP status (a refusal before GraphQL runs).
    Status(u16),
    /// A GraphQL response with errors, each carrying one of these codes.
    Codes(&'static [&'static str]),
    /// A GraphQL response without errors whose `data.<field>` is null (absent things).
    Null(&'static str),
    /// A GraphQL response without errors.
    Data,
    /// Either no errors, or errors carrying these codes: for input that is harmless text to
    /// one service and refused by another's rules (a NUL in a search is a match of nothing
    /// or a bad query; both are right, a 500 is not).
    DataOr(&'static [&'static str]),
}

/// One request of the table.
#[derive(Debug)]
pub(crate) struct Case {
    pub name: String,
    pub method: Method,
    /// `?…` for GET.
    pub url_query: Option<String>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Content type and bytes.
    pub body: Option<(&'static str, Vec<u8>)>,
    pub expect: Expect,
}

impl Case {
    /// A JSON POST of `query` and `variables`, as `token`'s user when given.
    pub(crate) fn post(
        name: impl Into<String>,
        token: Option<&str>,
        query: &str,
        variables: Value,
        expect: Expect,
    ) -> Case {
        let body = serde_json::to_vec(&json!({ "query": query, "variables": variables })).unwrap();
        let mut case = Case::raw(name, "application/json", body, expect);
        if let Some(token) = token {
            case = case.header("authorization", format!("Bearer {token}").as_bytes());
        }
        case
    }

    /// A POST of any bytes with any content type.
    pub(crate) fn raw(
        name: impl Into<String>,
        content_type: &'static str,
        body: Vec<u8>,
        expect: Expect,
    ) -> Case {
        Case {
            name: name.into(),
            method: Method::POST,
            url_query: None,
            headers: Vec::new(),
            body: Some((content_type, body)),
            expect,
        }
    }

    /// A request with another method and no body.
    pub(crate) fn bodiless(name: impl Into<String>, method: Method, url_query: &str, expect: Expect) -> Case {
        Case {
            name: name.into(),
            method,
            url_query: Some(url_query.to_owned()),
            headers: Vec::new(),
            body: None,
            expect,
        }
    }

    /// Adds a header given as raw bytes (so non-ASCII and malformed values can be sent).
    pub(crate) fn header(mut self, name: &'static str, value: &[u8]) -> Case {
        let value = HeaderValue::from_bytes(value).unwrap();
        self.headers.push((HeaderName::from_static(name), value));
        self
    }
}

/// Runs every case and checks each answer.
pub(crate) async fn run(stack: &Stack, fixtures: &Fixtures) -> Tally {
    let mut tally = Tally::default();
    for case in cases::all(fixtures) {
        let (status, bytes) = send(stack, &case).await;
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let (result, failure) = judge(&case.expect, status, &body);
        let failure = failure.map(|why| {
            let text = String::from_utf8_lossy(&bytes);
            let shown: String = text.chars().take(600).collect();
            format!("{why}; got {status} {shown}")
        });
        tally.record(&case.name, result, failure);
    }
    tally
}

async fn send(stack: &Stack, case: &Case) -> (u16, Vec<u8>) {
    let mut url = stack.graphql().url().to_owned();
    if let Some(query) = &case.url_query {
        url.push_str(query);
    }
    let mut request = stack.graphql().http().request(case.method.clone(), url);
    for (name, value) in &case.headers {
        request = request.header(name, value);
    }
    if let Some((content_type, body)) = &case.body {
        request = request.header("content-type", *content_type).body(body.clone());
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let bytes = response
                .bytes()
                .await
                .map(|bytes| bytes.to_vec())
                .unwrap_or_default();
            (status, bytes)
        }
        // The BFF must answer; a reset connection is as bad as a 5xx.
        Err(error) => (599, format!("transport error: {error}").into_bytes()),
    }
}

/// Names the result and says what is wrong with it, if anything.
fn judge(expect: &Expect, status: u16, body: &Value) -> (String, Option<String>) {
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    let codes: Vec<&str> = errors
        .iter()
        .map(|error| error["extensions"]["code"].as_str().unwrap_or("<none>"))
        .collect();
    let result = match (status, codes.first()) {
        (200, Some(code)) => (*code).to_owned(),
        (200, None) if body["data"].is_null() => "no data".to_owned(),
        (200, None) => "data".to_owned(),
        (status, _) => format!("HTTP {status}"),
    };
    if status >= 500 {
        return (result, Some("a 5xx".to_owned()));
    }
    for error in &errors {
        let code = error["extensions"]["code"].as_str().unwrap_or("<none>");
        if !CLIENT_CODES.contains(&code) {
            return (result, Some(format!("code {code} is not a client error")));
        }
        if let Some(marker) = leak(error["message"].as_str().unwrap_or_default()) {
            return (result, Some(format!("the message leaks {marker:?}")));
        }
    }
    let graphql_answer = status == 200 && body.is_object();
    let failure = match expect {
        Expect::Status(expected) if status != *expected => Some(format!("expected HTTP {expected}")),
        Expect::Status(_) => None,
        Expect::Codes(expected) => {
            if !graphql_answer || codes.is_empty() {
                Some(format!("expected a GraphQL error {expected:?}"))
            } else {
                codes
                    .iter()
                    .find(|code| !expected.contains(code))
                    .map(|code| format!("expected {expected:?}, not {code}"))
            }
        }
        Expect::Null(field) => {
            if !graphql_answer || !codes.is_empty() {
                Some(format!("expected data.{field} = null without errors"))
            } else if !body["data"][field].is_null() {
                Some(format!("expected data.{field} = null"))
            } else {
                None
            }
        }
        Expect::Data if !graphql_answer || !codes.is_empty() || body["data"].is_null() => {
            Some("expected data without errors".to_owned())
        }
        Expect::Data => None,
        Expect::DataOr(expected) => {
            if !graphql_answer {
                Some(format!("expected data or {expected:?}"))
            } else {
                codes
                    .iter()
                    .find(|code| !expected.contains(code))
                    .map(|code| format!("expected data or {expected:?}, not {code}"))
            }
        }
    };
    (result, failure)
}
