//! `bookstore up` runs every service in one process: they call each other's server stacks
//! directly, never over loopback TCP, while each still listens for callers from outside.

use std::time::Duration;

use platform::ServiceName;
use serde_json::Value;

use bookstore_tests::eventually;

use super::{spawn_up, temp_dir, terminate};

/// The storefront's first page: 20 books by title, each with its availability (a call to
/// svc-catalog, then one to svc-inventory).
const PAGE: &str = "{ books(first: 20, sort: TITLE) { totalCount edges { node { id title \
    availability { inStock available } } } } }";

/// The ports of every TCP connection of this machine that is ESTABLISHED, both ends, from
/// `/proc/net/tcp` and `/proc/net/tcp6` (the kernel's table for the network namespace).
fn established_ports() -> Vec<(u16, u16)> {
    let mut ports = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st ...; "01" is ESTABLISHED.
            if fields.len() < 4 || fields[3] != "01" {
                continue;
            }
            let port = |address: &str| {
                address
                    .rsplit_once(':')
                    .and_then(|(_, port)| u16::from_str_radix(port, 16).ok())
            };
            if let (Some(local), Some(remote)) = (port(fields[1]), port(fields[2])) {
                ports.push((local, remote));
            }
        }
    }
    ports
}

/// The value of `name{callee="<callee>"}` in a Prometheus text page, 0 when absent.
fn in_process_calls(metrics: &str, callee: &str) -> f64 {
    let series = format!(
        "{}{{callee=\"{callee}\"}}",
        platform::client::in_process::IN_PROCESS_CALLS_TOTAL
    );
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&series))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn up_services_call_each_other_in_process_and_open_no_tcp_connection_to_one_another() {
    let data_dir = temp_dir("up-in-process");
    let (child, ports) = spawn_up(&data_dir);
    let port_of = |wanted: ServiceName| ports.iter().find(|(service, _)| *service == wanted).unwrap().1;
    let bff = format!("http://127.0.0.1:{}", port_of(ServiceName::Bff));
    let http = reqwest::Client::new();

    // Pages of the seeded demo catalogue, each with availability: BFF -> catalog and
    // BFF -> inventory (and the services' tokens from svc-user) on every page.
    let served = eventually(Duration::from_secs(120), Duration::from_millis(200), || async {
        let reply = http
            .post(format!("{bff}/graphql"))
            .json(&serde_json::json!({ "query": PAGE }))
            .send()
            .await
            .map_err(|error| error.to_string())?;
        let body: Value = reply.json().await.map_err(|error| error.to_string())?;
        let edges = match body["data"]["books"]["edges"].as_array() {
            Some(edges) => edges.len(),
            None => 0,
        };
        let available = body["data"]["books"]["edges"][0]["node"]["availability"]["available"].as_i64();
        if edges == 20 && available.is_some() {
            Ok(body)
        } else {
            Err(body.to_string())
        }
    })
    .await;
    if let Err(last) = served {
        terminate(&child);
        let output = child.wait_with_output().await.unwrap();
        panic!(
            "the page never came: {last}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    for _ in 0..20 {
        let reply = http
            .post(format!("{bff}/graphql"))
            .json(&serde_json::json!({ "query": PAGE }))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status().as_u16(), 200);
    }

    // Over TCP, the clients' HTTP/2 connections would stay ESTABLISHED to the services'
    // ports between calls.
    let grpc_ports: Vec<u16> = ServiceName::grpc_services().into_iter().map(port_of).collect();
    let to_services: Vec<(u16, u16)> = established_ports()
        .into_iter()
        .filter(|(local, remote)| grpc_ports.contains(local) || grpc_ports.contains(remote))
        .collect();
    assert!(
        to_services.is_empty(),
        "TCP connections to the services' ports {grpc_ports:?}: {to_services:?}"
    );
    let metrics = http
        .get(format!("{bff}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for callee in ["catalog", "inventory", "user"] {
        assert!(
            in_process_calls(&metrics, callee) >= 1.0,
            "no in-process call to {callee}:\n{metrics}"
        );
    }
    // The calls went through the services' servers and their layers, as over the network.
    assert!(
        metrics
            .lines()
            .any(|line| line.starts_with("grpc_server_requests_total")
                && line.contains("grpc_service=\"bookstore.inventory.v1.InventoryService\"")
                && line.contains("BatchGetStock")),
        "{metrics}"
    );

    // Each service still serves callers from outside the process on its own port.
    super::wait_for_serving(port_of(ServiceName::Catalog), ServiceName::Catalog)
        .await
        .unwrap();

    terminate(&child);
    let output = tokio::time::timeout(Duration::from_secs(15), child.wait_with_output())
        .await
        .expect("bookstore up drains within 15 s of SIGTERM")
        .unwrap();
    assert!(
        output.status.success(),
        "exit {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(data_dir);
}
