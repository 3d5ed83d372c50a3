//! Every service answers tonic-health (liveness under the empty name, readiness under its
//! own) and reflection; the BFF reports liveness, readiness and metrics.

use bookstore_tests::TestMesh;
use platform::ServiceName;
use tonic_health::pb::health_check_response::ServingStatus;

#[tokio::test]
async fn every_service_reports_serving_once_its_stores_answer() {
    let mesh = TestMesh::builder().with_all().start().await.unwrap();

    for service in ServiceName::grpc_services() {
        assert_eq!(
            mesh.health(service).await.unwrap(),
            ServingStatus::Serving,
            "{service}"
        );
        assert_eq!(
            liveness(mesh.channel(service)).await,
            ServingStatus::Serving,
            "{service}"
        );
    }

    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_bff_is_ready_when_every_upstream_serves_and_exposes_rpc_metrics() {
    let mesh = TestMesh::builder().with_all().start().await.unwrap();
    let (status, body) = get(&format!("{}/readyz?verbose", mesh.bff_url())).await;
    assert_eq!(status, 200, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["services"]["inventory"], "SERVING");

    let (status, metrics) = get(&format!("{}/metrics", mesh.bff_url())).await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains(
            "grpc_server_requests_total{grpc_service=\"grpc.health.v1.Health\",grpc_method=\"Check\",grpc_code=\"OK\"}"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "grpc_client_requests_total{grpc_service=\"grpc.health.v1.Health\",grpc_method=\"Check\",grpc_code=\"OK\"}"
        ),
        "the BFF's own calls are counted: {metrics}"
    );
    assert!(
        metrics.contains("# HELP grpc_server_requests_total ")
            && metrics.contains("# HELP process_resident_memory_bytes "),
        "{metrics}"
    );
    for path in ["/livez", "/healthz", "/readyz"] {
        let (status, body) = get(&format!("{}{path}", mesh.bff_url())).await;
        assert_eq!(status, 200, "{path}: {body}");
    }

    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_bff_stays_ready_while_an_upstream_is_missing_and_verbose_names_it() {
    let mesh = TestMesh::builder()
        .with(ServiceName::Bff)
        .with(ServiceName::Catalog)
        .start()
        .await
        .unwrap();
    // An upstream that is down costs its fields, not the BFF's place in its Service.
    let (status, body) = get(&format!("{}/readyz", mesh.bff_url())).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(&format!("{}/readyz?verbose", mesh.bff_url())).await;
    assert_eq!(status, 503, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["services"]["catalog"], "SERVING");
    assert_ne!(ready["services"]["inventory"], "SERVING");

    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn reflection_lists_the_service_for_grpcurl() {
    let mesh = TestMesh::builder()
        .with(ServiceName::Inventory)
        .start()
        .await
        .unwrap();

    let services = list_services(mesh.channel(ServiceName::Inventory)).await;
    assert!(
        services.contains(&"bookstore.inventory.v1.InventoryService".to_owned()),
        "{services:?}"
    );
    assert!(
        services.contains(&"grpc.health.v1.Health".to_owned()),
        "{services:?}"
    );

    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_drains_but_does_not_wait_forever_for_open_streams() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;

    let mesh = TestMesh::builder()
        .with(ServiceName::Inventory)
        .start()
        .await
        .unwrap();
    let mut client = HealthClient::new(mesh.channel(ServiceName::Inventory));
    let request = HealthCheckRequest {
        service: ServiceName::Inventory.grpc_name().to_owned(),
    };
    // A health watch never ends by itself, like WatchOrder: shutdown must still finish.
    let mut watch = client.watch(request).await.unwrap().into_inner();
    assert_eq!(
        watch.message().await.unwrap().unwrap().status,
        ServingStatus::Serving as i32
    );

    let started = std::time::Instant::now();
    tokio::time::timeout(std::time::Duration::from_secs(10), mesh.shutdown())
        .await
        .expect("shutdown finishes after the drain timeout")
        .unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// Asks the empty health name, as the kubelet's liveness probe does.
async fn liveness(channel: tonic::transport::Channel) -> ServingStatus {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;
    let request = HealthCheckRequest {
        service: platform::server::LIVENESS.to_owned(),
    };
    let answer = HealthClient::new(channel).check(request).await.unwrap();
    ServingStatus::try_from(answer.into_inner().status).unwrap()
}

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Asks a server's reflection service (v1) which services it exposes, as grpcurl does.
async fn list_services(channel: tonic::transport::Channel) -> Vec<String> {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer: {response:?}");
    };
    list.service.into_iter().map(|service| service.name).collect()
}
