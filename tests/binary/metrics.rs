//! What `/metrics` says after a known sequence of GraphQL requests to the real binary: the
//! BFF's operation, HTTP and upstream-call counts, and a service's RPC counts under the
//! `grpc_service` / `grpc_method` / `grpc_code` labels (`bookstore up` serves every service's
//! metrics on the BFF's port). Counted as the change from a scrape taken just before, so the
//! background work of `up` (seeding, probes) cannot move them. Then the shop's metrics
//! (checkouts by outcome, oversell refusals, stock-event lag) against a `bookstore loadgen`
//! hot-book rush's own report.

use std::collections::BTreeMap;
use std::time::Duration;

use platform::ServiceName;

use bookstore_tests::eventually;

use super::{bookstore, spawn_up, temp_dir, terminate};

/// One sample of the Prometheus text format: name, labels and value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the samples of an exposition (no escaped quotes in our label values).
fn samples(text: &str) -> Vec<Sample> {
    let mut parsed = Vec::new();
    for line in text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
    {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let mut map = BTreeMap::new();
        for pair in labels.split("\",").filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once("=\"").unwrap();
            map.insert(key.to_owned(), value.trim_end_matches('"').to_owned());
        }
        parsed.push(Sample {
            name: name.to_owned(),
            labels: map,
            value: value.parse().unwrap(),
        });
    }
    parsed
}

/// The value of the series `name{labels}` (exactly those labels), 0 when absent.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let wanted: BTreeMap<String, String> = labels
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    match samples
        .iter()
        .find(|sample| sample.name == name && sample.labels == wanted)
    {
        Some(sample) => sample.value,
        None => 0.0,
    }
}

/// The sum of every series `name` whose label `key` is `wanted`.
fn sum(samples: &[Sample], name: &str, (key, wanted): (&str, &str)) -> f64 {
    samples
        .iter()
        .filter(|sample| sample.name == name && sample.labels.get(key).map(String::as_str) == Some(wanted))
        .map(|sample| sample.value)
        .sum()
}

async fn scrape(url: &str) -> Vec<Sample> {
    let text = reqwest::get(url).await.unwrap().text().await.unwrap();
    samples(&text)
}

#[tokio::test]
async fn metrics_count_exactly_the_graphql_requests_sent_and_the_rpcs_they_made() {
    let data_dir = temp_dir("metrics");
    let (up, ports) = spawn_up(&data_dir);
    let bff = ports
        .iter()
        .find(|(service, _)| *service == ServiceName::Bff)
        .unwrap()
        .1;
    let http = reqwest::Client::new();
    let ready = eventually(Duration::from_secs(60), Duration::from_millis(200), || async {
        let answer = http
            .get(format!("http://127.0.0.1:{bff}/readyz?verbose"))
            .send()
            .await
            .map_err(|error| error.to_string())?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(answer.text().await.unwrap_or_default())
        }
    })
    .await;
    if let Err(last) = ready {
        terminate(&up);
        panic!("bookstore up never became ready: {last}");
    }
    let metrics_url = format!("http://127.0.0.1:{bff}/metrics");
    let graphql = format!("http://127.0.0.1:{bff}/graphql");
    let before = scrape(&metrics_url).await;

    let post = |query: &'static str| {
        let (http, graphql) = (http.clone(), graphql.clone());
        async move {
            let answer = http
                .post(graphql)
                .json(&serde_json::json!({ "query": query }))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200);
            answer.json::<serde_json::Value>().await.unwrap()
        }
    };
    for _ in 0..3 {
        let answer = post("{ books(first: 1) { totalCount } }").await;
        assert!(answer["errors"].is_null(), "{answer}");
    }
    let login = post(
        "mutation { login(email: \"nobody@example.org\", password: \"not the password\") { accessToken } }",
    )
    .await;
    assert_eq!(
        login["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{login}"
    );
    let invalid = post("{ books(first: 1) { noSuchField } }").await;
    assert_eq!(
        invalid["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{invalid}"
    );

    let after = scrape(&metrics_url).await;
    let delta =
        |name: &str, labels: &[(&str, &str)]| value(&after, name, labels) - value(&before, name, labels);
    let operations = "bff_graphql_operations_total";
    let expected = [
        (
            &[
                ("operation", "books"),
                ("type", "query"),
                ("outcome", "ok"),
                ("code", ""),
            ],
            3.0,
        ),
        (
            &[
                ("operation", "login"),
                ("type", "mutation"),
                ("outcome", "error"),
                ("code", "UNAUTHENTICATED"),
            ],
            1.0,
        ),
        (
            &[
                ("operation", "books"),
                ("type", "query"),
                ("outcome", "error"),
                ("code", "BAD_USER_INPUT"),
            ],
            1.0,
        ),
        (
            &[
                ("operation", "login"),
                ("type", "mutation"),
                ("outcome", "ok"),
                ("code", ""),
            ],
            0.0,
        ),
    ];
    for (labels, count) in expected {
        assert_eq!(delta(operations, labels), count, "{operations}{labels:?}");
    }
    assert_eq!(
        delta(
            "bff_graphql_operation_duration_seconds_count",
            &[("operation", "books"), ("type", "query")]
        ),
        4.0
    );
    assert_eq!(
        delta(
            "bff_http_requests_total",
            &[("method", "POST"), ("route", "/graphql"), ("status", "200")]
        ),
        5.0
    );
    // The one Login RPC, as svc-user answered it and as the BFF saw it.
    let login_rpc = [
        ("grpc_service", "bookstore.user.v1.UserService"),
        ("grpc_method", "Login"),
        ("grpc_code", "UNAUTHENTICATED"),
    ];
    assert_eq!(delta("grpc_server_requests_total", &login_rpc), 1.0);
    assert_eq!(delta("grpc_server_errors_total", &login_rpc), 1.0);
    assert_eq!(delta("grpc_client_requests_total", &login_rpc), 1.0);
    assert_eq!(
        delta("grpc_server_request_duration_seconds_count", &login_rpc[..2]),
        1.0
    );
    // No series carries a label Prometheus gives its targets.
    for sample in &after {
        for reserved in ["service", "method", "code", "job", "instance", "pod", "namespace"] {
            assert!(
                !(sample.name.starts_with("grpc_") && sample.labels.contains_key(reserved)),
                "{sample:?}"
            );
        }
    }
    let text = reqwest::get(&metrics_url).await.unwrap().text().await.unwrap();
    for help in [
        "# HELP bff_graphql_operations_total ",
        "# HELP grpc_client_requests_total ",
        "# HELP process_cpu_seconds_total ",
        "# HELP order_checkouts_total ",
    ] {
        assert!(text.contains(help), "{help}");
    }

    // The shop's metrics against what `bookstore loadgen` saw: a rush of 6 shoppers on 3
    // copies (confirmed and refused orders, stock events).
    let report = data_dir.join("hot-book.json");
    let rush = bookstore()
        .arg("loadgen")
        .args([
            "--url",
            &graphql,
            "--scenario",
            "hot-book",
            "--users",
            "6",
            "--stock",
            "3",
        ])
        .arg("--data-dir")
        .arg(&data_dir)
        .arg("--json")
        .arg(&report)
        .arg("--quiet")
        .output()
        .await
        .unwrap();
    assert!(rush.status.success(), "{}", String::from_utf8_lossy(&rush.stderr));
    let hot: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let confirmed = hot["hot_book"]["confirmed"].as_f64().unwrap();
    let refused = hot["hot_book"]["out_of_stock"].as_f64().unwrap();
    assert_eq!(confirmed + refused, 6.0, "{hot:#}");
    let before = after;
    // Stock events reach the catalog shortly after the rush.
    let settled = eventually(Duration::from_secs(10), Duration::from_millis(200), || async {
        let now = scrape(&metrics_url).await;
        let lag = value(&now, "catalog_stock_event_lag_seconds_count", &[])
            - value(&before, "catalog_stock_event_lag_seconds_count", &[]);
        if lag >= 1.0 {
            Ok(now)
        } else {
            Err(format!("{lag} stock events applied"))
        }
    })
    .await;
    let after = settled.unwrap();
    let delta =
        |name: &str, labels: &[(&str, &str)]| value(&after, name, labels) - value(&before, name, labels);
    assert_eq!(
        delta("order_checkouts_total", &[("outcome", "confirmed")]),
        confirmed
    );
    assert_eq!(
        delta("order_checkouts_total", &[("outcome", "out_of_stock")]),
        refused
    );
    assert_eq!(delta("order_checkouts_total", &[("outcome", "unavailable")]), 0.0);
    assert_eq!(
        delta(
            "order_checkout_duration_seconds_count",
            &[("outcome", "confirmed")]
        ),
        confirmed
    );
    assert_eq!(
        delta("inventory_out_of_stock_total", &[]),
        refused,
        "one refused Reserve per refused order"
    );
    // Every placeOrder loadgen sent (retries included) is one operation at the BFF.
    let sent = hot["operations"]["placeOrder"]["count"].as_f64().unwrap();
    let place_orders = |samples: &[Sample]| {
        sum(
            samples,
            "bff_graphql_operations_total",
            ("operation", "PlaceOrder"),
        )
    };
    assert_eq!(place_orders(&after) - place_orders(&before), sent, "{hot:#}");
    assert!(
        delta(
            "grpc_client_requests_total",
            &[
                ("grpc_service", "bookstore.inventory.v1.InventoryService"),
                ("grpc_method", "Reserve"),
                ("grpc_code", "OK")
            ]
        ) >= confirmed,
        "svc-order's calls to inventory are counted on its side too"
    );

    terminate(&up);
    let _ = tokio::time::timeout(Duration::from_secs(15), up.wait_with_output()).await;
    let _ = std::fs::remove_dir_all(data_dir);
}
