//! Login throttling through the BFF, and card numbers: searched for in every database, every
//! Redis key and every log line of the stack after two real checkouts.

use bookstore_tests::stack::Stack;
use platform::ServiceName;
use serde_json::json;
use tonic::Code;

use super::{Counts, Victims, send};
use crate::support::channel;

/// A Mastercard test number.
pub(crate) const MASTERCARD: &str = "5555555555554444";
/// A Visa debit test number, typed with spaces.
pub(crate) const VISA_WITH_SPACES: &str = "4000 0566 5566 5556";

const LOGIN: &str = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }";
const PASSWORD: &str = "correct horse battery";

/// The stack's default `auth.login_max_failures_per_account_address`.
const MAX_FAILURES: usize = 5;

/// Five wrong passwords for one account from one address, then the right one: refused
/// through the BFF (the contract has no throttling code: UNAVAILABLE with
/// `retryAfterSeconds`) and straight at svc-user for that address (RESOURCE_EXHAUSTED). The
/// account is not locked for everyone: from another address it signs in, as do other accounts.
pub(crate) async fn wrong_passwords_refuse_that_address_on_that_account(
    stack: &Stack,
    victims: &Victims,
    counts: &mut Counts,
) {
    let email = format!("throttled-{}@shoppers.test", uuid::Uuid::new_v4().simple());
    stack.graphql().register(&email, PASSWORD).await.unwrap();
    for attempt in 1..=MAX_FAILURES {
        let reply = send(
            stack,
            None,
            LOGIN,
            json!({ "e": email, "p": format!("guess {attempt}") }),
        )
        .await;
        counts.login_attempts += 1;
        assert_eq!(
            reply.code(),
            "UNAUTHENTICATED",
            "wrong password {attempt}: {}",
            reply.body
        );
    }
    let reply = send(stack, None, LOGIN, json!({ "e": email, "p": PASSWORD })).await;
    counts.login_attempts += 1;
    assert!(
        reply.data()["login"].is_null(),
        "signed in after {MAX_FAILURES} failures: {}",
        reply.body
    );
    assert_eq!(reply.code(), "UNAVAILABLE", "{}", reply.body);
    let retry_after = reply.body["errors"][0]["extensions"]["retryAfterSeconds"].as_u64();
    assert!(matches!(retry_after, Some(1..=900)), "{}", reply.body);
    // Upper case and spaces are the same account, not a fresh counter.
    let variant = format!("  {}  ", email.to_uppercase());
    let reply = send(stack, None, LOGIN, json!({ "e": variant, "p": PASSWORD })).await;
    counts.login_attempts += 1;
    assert_eq!(reply.code(), "UNAVAILABLE", "{}", reply.body);

    let mut user = proto::user::v1::user_service_client::UserServiceClient::new(channel(stack, "user-1"));
    let request = |address: &str| proto::user::v1::LoginRequest {
        email: email.clone(),
        password: PASSWORD.to_owned(),
        client_address: Some(address.to_owned()),
    };
    let token = stack.keys().service_token("bff", "user");
    // The BFF passed the loopback peer (no trusted proxies in this stack).
    let status = user
        .login(bookstore_tests::with_token(request("127.0.0.1"), &token))
        .await
        .unwrap_err();
    counts.login_attempts += 1;
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let elsewhere = user
        .login(bookstore_tests::with_token(request("198.51.100.23"), &token))
        .await;
    counts.login_attempts += 1;
    assert!(
        elsewhere.is_ok(),
        "the account is locked for everyone: {elsewhere:?}"
    );

    let other = stack
        .graphql()
        .login(&victims.alice.email, "correct horse battery")
        .await;
    counts.login_attempts += 1;
    assert!(other.is_ok(), "another account is not locked: {other:?}");
}

/// What was searched.
#[derive(Debug)]
pub(crate) struct Dumped {
    pub database_bytes: usize,
    pub redis_keys: usize,
    pub log_lines: usize,
}

/// `digits` as typed: plain, in groups of four with spaces, and with dashes.
fn spellings(number: &str) -> Vec<String> {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let groups: Vec<String> = digits
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect();
    vec![digits, groups.join(" "), groups.join("-")]
}

/// Every row of every database of the stack, as `pg_dump --data-only` writes it.
async fn dump_databases(stack: &Stack) -> String {
    let mut dump = String::new();
    for service in [
        ServiceName::User,
        ServiceName::Catalog,
        ServiceName::Order,
        ServiceName::Inventory,
    ] {
        let output = tokio::process::Command::new("pg_dump")
            .args(["--data-only", "--no-owner", stack.database_url(service)])
            .output()
            .await
            .expect("pg_dump (installed with PostgreSQL) must be on PATH");
        assert!(
            output.status.success(),
            "pg_dump of {service}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        dump.push_str(&String::from_utf8_lossy(&output.stdout));
    }
    dump
}

/// Text of a Redis reply, whatever its shape.
fn redis_text(value: &redis::Value, out: &mut String) {
    match value {
        redis::Value::BulkString(bytes) => out.push_str(&String::from_utf8_lossy(bytes)),
        redis::Value::SimpleString(text) => out.push_str(text),
        redis::Value::Array(items) | redis::Value::Set(items) => {
            for item in items {
                redis_text(item, out);
                out.push('\n');
            }
        }
        redis::Value::Map(pairs) => {
            for (key, value) in pairs {
                redis_text(key, out);
                out.push('=');
                redis_text(value, out);
                out.push('\n');
            }
        }
        other => out.push_str(&format!("{other:?}")),
    }
}

/// Every key under the stack's prefix with its contents, read by type.
async fn dump_redis(stack: &Stack) -> (usize, String) {
    let client = redis::Client::open(platform::testing::redis_url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<String> = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{}*", stack.redis_prefix()))
            .arg("COUNT")
            .arg(1_000)
            .query_async(&mut connection)
            .await
            .unwrap();
        keys.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    let mut dump = String::new();
    for key in &keys {
        let kind: String = redis::cmd("TYPE")
            .arg(key)
            .query_async(&mut connection)
            .await
            .unwrap();
        let mut read = match kind.as_str() {
            "string" => redis::cmd("GET"),
            "hash" => redis::cmd("HGETALL"),
            "list" => redis::cmd("LRANGE"),
            "set" => redis::cmd("SMEMBERS"),
            "zset" => redis::cmd("ZRANGE"),
            "stream" => redis::cmd("XRANGE"),
            _ => continue,
        };
        read.arg(key);
        match kind.as_str() {
            "list" | "zset" => read.arg(0).arg(-1),
            "stream" => read.arg("-").arg("+"),
            _ => &mut read,
        };
        let value: redis::Value = read.query_async(&mut connection).await.unwrap();
        dump.push_str(key);
        dump.push('\n');
        redis_text(&value, &mut dump);
    }
    (keys.len(), dump)
}

/// The two checkouts' card numbers appear in no database row, Redis key or log line, in
/// any spelling; their last four digits do (so the search is not vacuous), and the logs
/// were on (they name the orders).
pub(crate) async fn card_numbers_are_kept_nowhere(stack: &Stack, victims: &Victims) -> Dumped {
    for (token, order, brand, last4) in [
        (&victims.alice.token, &victims.alice_order, "mastercard", "4444"),
        (&victims.mallory.token, &victims.mallory_order, "visa", "5556"),
    ] {
        let reply = send(
            stack,
            Some(token),
            "query($id: ID!) { order(id: $id) { payment { brand last4 } } }",
            json!({ "id": order }),
        )
        .await;
        let payment = &reply.data()["order"]["payment"];
        assert_eq!(
            (payment["brand"].as_str(), payment["last4"].as_str()),
            (Some(brand), Some(last4)),
            "{}",
            reply.body
        );
    }
    let databases = dump_databases(stack).await;
    let (redis_keys, redis) = dump_redis(stack).await;
    let logs = stack.logs();
    assert!(
        redis_keys > 0,
        "nothing under the Redis prefix: the search would be vacuous"
    );
    assert!(logs.lines().count() > 0, "no logs at all");
    for order in [&victims.alice_order, &victims.mallory_order] {
        assert!(
            databases.contains(order.as_str()),
            "order {order} not in the dump"
        );
        assert!(
            logs.contains(order.as_str()),
            "order {order} never logged: was logging on?"
        );
    }
    // The order rows keep the last four digits (a tab-separated column of pg_dump's COPY).
    for (order, last4) in [(&victims.alice_order, "4444"), (&victims.mallory_order, "5556")] {
        let kept = databases
            .lines()
            .any(|line| line.contains(order.as_str()) && line.split('\t').any(|column| column == last4));
        assert!(kept, "no row of order {order} keeps the last 4 digits {last4}");
    }
    let mut found = Vec::new();
    for number in [MASTERCARD, VISA_WITH_SPACES] {
        for spelling in spellings(number) {
            for (place, text) in [("a database", &databases), ("Redis", &redis), ("the logs", &logs)] {
                if text.contains(&spelling) {
                    found.push(format!("{spelling:?} in {place}"));
                }
            }
        }
    }
    assert!(found.is_empty(), "card numbers kept: {}", found.join(", "));
    Dumped {
        database_bytes: databases.len(),
        redis_keys,
        log_lines: logs.lines().count(),
    }
}
