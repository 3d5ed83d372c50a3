//! `bookstore loadgen` against `bookstore up`, both the real binary: `up` seeds the real books
//! it carries, with stock; the shop scenario and the hot-book rush end with exit 0 and a JSON
//! report that shows the work was done.

use std::time::Duration;

use platform::ServiceName;
use serde_json::Value;

use bookstore_tests::eventually;

use super::{bookstore, spawn_up, temp_dir, terminate};

/// Waits until the BFF answers and `up`'s demo catalogue is in: the real goodbooks-10k books
/// built into the binary, with stock (both seeded in the background).
async fn wait_for_real_books_in_stock(graphql: &str) {
    let http = reqwest::Client::new();
    let query = "{ all: books(first: 1) { totalCount } \
                   hungerGames: books(first: 1, filter: { query: \"The Hunger Games\", inStock: true }) \
                   { edges { node { title authors availability { available } } } } }";
    let seeded = eventually(Duration::from_secs(120), Duration::from_millis(200), || async {
        let reply = http
            .post(graphql)
            .json(&serde_json::json!({ "query": query }))
            .send()
            .await
            .map_err(|error| error.to_string())?;
        let body: Value = reply.json().await.unwrap_or_default();
        let total = body["data"]["all"]["totalCount"].as_i64().unwrap_or(0);
        let book = &body["data"]["hungerGames"]["edges"][0]["node"];
        if total >= 9_000 && book["availability"]["available"].as_i64() > Some(0) {
            Ok(body)
        } else {
            Err(body.to_string())
        }
    })
    .await;
    let body = seeded.unwrap_or_else(|last| panic!("the real catalogue with stock never appeared: {last}"));
    let book = &body["data"]["hungerGames"]["edges"][0]["node"];
    assert!(book["title"].as_str().unwrap().contains("Hunger Games"), "{body}");
    assert_eq!(book["authors"][0], "Suzanne Collins", "{body}");
}

/// Runs `bookstore loadgen` with `args` and returns its JSON report, asserting exit 0.
async fn loadgen(args: &[&str], report: &std::path::Path) -> Value {
    let output = bookstore()
        .arg("loadgen")
        .args(args)
        .arg("--json")
        .arg(report)
        .arg("--quiet")
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "loadgen {args:?} exited {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap()
}

#[tokio::test]
async fn loadgen_shops_and_rushes_a_hot_book_against_bookstore_up() {
    let data_dir = temp_dir("loadgen");
    let (up, ports) = spawn_up(&data_dir);
    let bff = ports
        .iter()
        .find(|(service, _)| *service == ServiceName::Bff)
        .unwrap()
        .1;
    let url = format!("http://127.0.0.1:{bff}/graphql");
    wait_for_real_books_in_stock(&url).await;
    let data_dir_arg = data_dir.to_str().unwrap();

    // More checkouts than the default mix, so a 3-second run surely has some.
    let shop = loadgen(
        &[
            "--url",
            &url,
            "--duration",
            "3s",
            "--users",
            "4",
            "--data-dir",
            data_dir_arg,
            "--mix",
            "checkout=15",
        ],
        &data_dir.join("shop.json"),
    )
    .await;
    assert_eq!(shop["errors"], 0, "{shop:#}");
    for operation in ["register", "browse", "search", "book", "addToCart", "placeOrder"] {
        let count = shop["operations"][operation]["count"].as_u64().unwrap_or(0);
        assert!(count > 0, "no {operation} in {shop:#}");
    }

    let hot = loadgen(
        &[
            "--url",
            &url,
            "--scenario",
            "hot-book",
            "--users",
            "6",
            "--stock",
            "3",
            "--data-dir",
            data_dir_arg,
        ],
        &data_dir.join("hot-book.json"),
    )
    .await;
    let hot_book = &hot["hot_book"];
    assert_eq!(
        (hot_book["confirmed"].as_u64(), hot_book["out_of_stock"].as_u64()),
        (Some(3), Some(3)),
        "{hot:#}"
    );
    assert_eq!(hot_book["available"], 0, "{hot:#}");
    for invariant in hot_book["invariants"].as_array().unwrap() {
        assert_eq!(invariant["holds"], true, "{invariant}");
    }
    for operation in ["register", "addToCart"] {
        assert_eq!(hot["operations"][operation]["count"], 6, "{hot:#}");
    }
    // At least one checkout each (more when UNAVAILABLE was retried).
    assert!(
        hot["operations"]["placeOrder"]["count"].as_u64() >= Some(6),
        "{hot:#}"
    );

    terminate(&up);
    let output = up.wait_with_output().await.unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(data_dir);
}
