//! The GraphQL cases, by kind: the HTTP envelope, query shape and tokens here; huge, odd
//! and injected text, numbers, cursors and ids in [`input`]. Each states the answer the
//! contract gives it.

mod input;

use reqwest::Method;
use serde_json::{Value, json};

use super::Expect::{self, Codes, Data, DataOr, Null, Status};
use super::{Case, Fixtures};

pub(super) const BAD_INPUT: &[&str] = &["BAD_USER_INPUT"];
pub(super) const NOT_FOUND: &[&str] = &["NOT_FOUND"];
pub(super) const UNAUTHENTICATED: &[&str] = &["UNAUTHENTICATED"];

pub(super) const ME: &str = "{ me { id email name } }";
pub(super) const SEARCH: &str =
    "query($q: String) { books(filter: {query: $q}) { totalCount edges { node { id } } } }";
const ORDERS: &str = "{ orders { edges { cursor } } }";
const CART: &str = "{ cart { totalQuantity } }";

/// Who sends a case.
#[derive(Debug, Clone, Copy)]
pub(super) enum By {
    Anonymous,
    Shopper,
    Admin,
}

/// One JSON POST: name, sender, query, variables, expected answer.
pub(super) type Row = (&'static str, By, &'static str, Value, Expect);

impl Fixtures {
    fn token(&self, by: By) -> Option<&str> {
        match by {
            By::Anonymous => None,
            By::Shopper => Some(&self.shopper),
            By::Admin => Some(&self.admin),
        }
    }

    /// The cases of a table of rows.
    pub(super) fn posts(&self, rows: Vec<Row>) -> Vec<Case> {
        rows.into_iter()
            .map(|(name, by, query, variables, expect)| {
                Case::post(name, self.token(by), query, variables, expect)
            })
            .collect()
    }
}

/// Every case, in the order they are sent.
pub(crate) fn all(fixtures: &Fixtures) -> Vec<Case> {
    let mut cases = envelope();
    cases.extend(input::text(fixtures));
    cases.extend(input::numbers(fixtures));
    cases.extend(shapes(fixtures));
    cases.extend(input::cursors(fixtures));
    cases.extend(input::ids(fixtures));
    cases.extend(tokens());
    cases
}

/// The HTTP envelope: bodies that are not GraphQL requests, and sizes past the limit.
fn envelope() -> Vec<Case> {
    let json = "application/json";
    let topics = r#"{"query": "{ topics { name } }"}"#;
    #[rustfmt::skip]
    let bodies: [(&str, &[u8], Expect); 13] = [
        ("empty body", b"", Status(400)),
        ("body not json", b"{{{", Status(400)),
        ("body null", b"null", Status(400)),
        ("no query", b"{}", Codes(BAD_INPUT)),
        ("empty query", br#"{"query": ""}"#, Codes(BAD_INPUT)),
        ("query a number", br#"{"query": 42}"#, Status(400)),
        ("variables a string", br#"{"query": "{ topics { name } }", "variables": "x"}"#, Status(400)),
        ("number past f64", br#"{"query": "{ topics { name } }", "variables": {"n": 1e400}}"#, Status(400)),
        ("only a comment", br##"{"query": "# nothing"}"##, Codes(BAD_INPUT)),
        ("syntax error", br#"{"query": "{ topics { name }"}"#, Codes(BAD_INPUT)),
        ("unknown field", br#"{"query": "{ nope }"}"#, Codes(BAD_INPUT)),
        ("unknown operation", br#"{"query": "query A { topics { name } }", "operationName": "B"}"#, Codes(BAD_INPUT)),
        ("two operations, no name", br#"{"query": "query A { topics { name } } query B { topics { name } }"}"#, Codes(BAD_INPUT)),
    ];
    let mut cases: Vec<Case> = bodies
        .into_iter()
        .map(|(name, body, expect)| Case::raw(name, json, body.to_vec(), expect))
        .collect();
    let big_query = json!({ "query": format!("{{ topics {{ name }} }} #{}", "a".repeat(70_000)) });
    let big_variable = json!({ "query": SEARCH, "variables": { "q": "a".repeat(1_000_000) } });
    #[rustfmt::skip]
    let others = [
        Case::raw("batch", json, format!("[{topics}]").into_bytes(), Status(400)),
        Case::raw("text/plain", "text/plain", topics.as_bytes().to_vec(), Status(415)),
        Case::raw("form encoded", "application/x-www-form-urlencoded", b"query=x".to_vec(), Status(415)),
        Case::raw("query over 64 KiB", json, big_query.to_string().into_bytes(), Status(413)),
        Case::raw("1 MB variable", json, big_variable.to_string().into_bytes(), Status(413)),
        Case::bodiless("mutation over GET", Method::GET, "?query=mutation%7BclearCart%7BtotalQuantity%7D%7D", Status(405)),
        Case::bodiless("GET, broken variables", Method::GET, "?query=%7Btopics%7Bname%7D%7D&variables=%7B", Status(400)),
        Case::bodiless("PUT", Method::PUT, "", Status(405)),
        Case::bodiless("DELETE", Method::DELETE, "", Status(405)),
    ];
    cases.extend(others);
    cases
}

/// Deep, wide, costly, repeated and cyclic queries.
fn shapes(fixtures: &Fixtures) -> Vec<Case> {
    let mut deep = String::from("name");
    for _ in 0..14 {
        deep = format!("ofType {{ {deep} }}");
    }
    let deep = format!("{{ __type(name: \"Book\") {{ fields {{ type {{ {deep} }} }} }} }}");
    let aliases = |count: usize| {
        let fields: Vec<String> = (0..count)
            .map(|index| format!("t{index}: topics {{ name }}"))
            .collect();
        format!("{{ {} }}", fields.join(" "))
    };
    let costly: Vec<String> = (0..20)
        .map(|index| {
            format!("b{index}: books(first: 100) {{ edges {{ node {{ id title isbn authors }} }} }}")
        })
        .collect();
    // The executor resolves every occurrence of a repeated root field (one upstream call
    // each), so repeats count as aliases; a repeated leaf inside one field costs nothing.
    let repeated = format!("{{ {} }}", "topics { name } ".repeat(1_000));
    let spread = format!(
        "{{ {} }} fragment F on Query {{ topics {{ name }} }}",
        "...F ".repeat(100)
    );
    let inline = format!("{{ {} }}", "... { topics { name } } ".repeat(100));
    let mutations = format!("mutation {{ {} }}", "clearCart { totalQuantity } ".repeat(40));
    let leaves = format!("{{ topics {{ {} }} }}", "name ".repeat(1_000));
    let directives = format!("{{ topics {} {{ name }} }}", "@include(if: true) ".repeat(500));
    let cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }".to_owned();
    #[rustfmt::skip]
    let built: [(&str, String, Expect); 12] = [
        ("depth 17", deep, Codes(BAD_INPUT)),
        ("30 aliases", aliases(30), Data),
        ("31 aliases", aliases(31), Codes(BAD_INPUT)),
        ("2000 aliases", aliases(2_000), Codes(BAD_INPUT)),
        ("complexity", format!("{{ {} }}", costly.join(" ")), Codes(BAD_INPUT)),
        ("one root field 1000 times", repeated, Codes(BAD_INPUT)),
        ("one fragment spread 100 times", spread, Codes(BAD_INPUT)),
        ("100 inline fragments", inline, Codes(BAD_INPUT)),
        ("one mutation 40 times", mutations, Codes(BAD_INPUT)),
        ("one leaf 1000 times", leaves, Data),
        ("500 directives", directives, DataOr(BAD_INPUT)),
        ("fragment cycle", cycle, Codes(BAD_INPUT)),
    ];
    let mut cases: Vec<Case> = built
        .into_iter()
        .map(|(name, query, expect)| Case::post(name, None, &query, json!({}), expect))
        .collect();
    #[rustfmt::skip]
    let rows: Vec<Row> = vec![
        ("unknown variable type", By::Anonymous, "query($x: Nope) { topics { name } }", json!({}), Codes(BAD_INPUT)),
        ("subscription over POST", By::Anonymous, "subscription { orderUpdated(id: \"x\") { id } }", json!({}), Codes(BAD_INPUT)),
    ];
    cases.extend(fixtures.posts(rows));
    cases
}

/// Authorization headers that carry no usable token: the caller meant to sign in, so
/// operations answer UNAUTHENTICATED rather than serving a guest.
fn tokens() -> Vec<Case> {
    let long = format!("Bearer {}", "a".repeat(10_000));
    let headers: [(&str, Vec<u8>); 8] = [
        ("Bearer alone", b"Bearer".to_vec()),
        ("Bearer and spaces", b"Bearer    ".to_vec()),
        ("Bearer x.y.z", b"Bearer x.y.z".to_vec()),
        ("lower-case bearer x.y.z", b"bearer x.y.z".to_vec()),
        ("10 KB token", long.into_bytes()),
        ("non-ASCII token", "Bearer ünïcødé.tøkèn.✓".as_bytes().to_vec()),
        ("three dots", b"Bearer ...".to_vec()),
        ("json token", br#"Bearer {"alg":"none"}"#.to_vec()),
    ];
    let mut cases = Vec::new();
    for (label, header) in headers {
        for (operation, query) in [("me", ME), ("orders", ORDERS), ("cart", CART)] {
            let name = format!("{label} on {operation}");
            let case = Case::post(name, None, query, json!({}), Codes(UNAUTHENTICATED));
            cases.push(case.header("authorization", &header));
        }
    }
    // A session cookie that does not verify is one the page cannot delete (HttpOnly): the BFF
    // ignores it, so the caller is a guest (docs/api.md, "Signing in").
    let cookie = Case::post("garbage session cookie", None, ME, json!({}), Null("me"));
    cases.push(cookie.header("cookie", b"access_token=garbage"));
    // Another scheme (a proxy's Basic credentials) is not a token of ours: a guest.
    let basic = b"Basic dXNlcjpwYXNz";
    let me = Case::post("Basic credentials on me", None, ME, json!({}), Null("me"));
    cases.push(me.header("authorization", basic));
    let orders = Case::post(
        "Basic credentials on orders",
        None,
        ORDERS,
        json!({}),
        Codes(UNAUTHENTICATED),
    );
    cases.push(orders.header("authorization", basic));
    cases
}
