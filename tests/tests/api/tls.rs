//! gRPC over TLS (rustls): a service configured with a certificate serves only TLS, and the
//! platform's `MeshChannel` reaches it with the CA from its upstream config.

use bookstore_tests::{TestMesh, TestTls};
use platform::ServiceName;
use platform::client::{MeshChannel, UpstreamConfig};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

fn write_test_pki() -> TestTls {
    TestTls::generate()
}

#[tokio::test]
async fn a_service_with_a_certificate_serves_grpc_over_tls_only() {
    let tls = write_test_pki();
    let mesh = TestMesh::builder()
        .with(ServiceName::Inventory)
        .with_grpc_tls(tls.clone())
        .start()
        .await
        .unwrap();
    let port = mesh.address(ServiceName::Inventory).port();
    let request = || HealthCheckRequest {
        service: ServiceName::Inventory.grpc_name().to_owned(),
    };

    let upstream = UpstreamConfig {
        endpoints: vec![format!("https://localhost:{port}")],
        tls_ca_file: Some(tls.ca_file.clone()),
        ..UpstreamConfig::default()
    };
    let channel = MeshChannel::new(ServiceName::Inventory, &upstream, None).unwrap();
    let answer = HealthClient::new(channel).check(request()).await.unwrap();
    assert_eq!(answer.into_inner().status, ServingStatus::Serving as i32);

    let plaintext = MeshChannel::new(
        ServiceName::Inventory,
        &UpstreamConfig::local(mesh.address(ServiceName::Inventory)),
        None,
    )
    .unwrap();
    assert!(HealthClient::new(plaintext).check(request()).await.is_err());

    mesh.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(tls.ca_file.parent().unwrap());
}
