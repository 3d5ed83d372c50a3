//! Service clients: outside systems (and the mesh's own services) get service tokens with
//! their client credentials; only admins register or revoke them.

use bookstore_tests::{TestMesh, with_token};
use platform::ServiceName;
use platform::auth::{Principal, Role};
use proto::user::v1 as pb;
use tonic::Code;

use super::user_mesh;

async fn issue(
    mesh: &TestMesh,
    client_id: &str,
    secret: &str,
    audiences: &[&str],
) -> Result<pb::IssueServiceTokenResponse, tonic::Status> {
    let request = pb::IssueServiceTokenRequest {
        client_id: client_id.to_owned(),
        client_secret: secret.to_owned(),
        audiences: audiences.iter().map(|audience| (*audience).to_owned()).collect(),
    };
    mesh.user_client()
        .issue_service_token(request)
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn an_admin_registers_a_client_whose_secret_buys_tokens_until_revoked() {
    let mesh = user_mesh().await;
    let (_, admin) = mesh.keys().user_token(Role::Admin);
    let mut client = mesh.user_client();

    let create = pb::CreateServiceClientRequest {
        client_id: "erp-sync".to_owned(),
        audiences: vec!["inventory".to_owned(), "catalog".to_owned()],
    };
    let created = client
        .create_service_client(with_token(create.clone(), &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.client_secret.len(), 43);
    let status = client
        .create_service_client(with_token(create, &admin))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);

    let issued = issue(&mesh, "erp-sync", &created.client_secret, &["inventory"])
        .await
        .unwrap();
    assert_eq!(issued.audiences, ["inventory"]);
    let principal = mesh
        .keys()
        .verifier("inventory")
        .verify(&issued.access_token)
        .unwrap();
    assert_eq!(
        principal,
        Principal::Service {
            name: "erp-sync".to_owned()
        }
    );
    assert!(
        mesh.keys()
            .verifier("order")
            .verify(&issued.access_token)
            .is_err(),
        "not for order"
    );

    let status = issue(&mesh, "erp-sync", &created.client_secret, &["order"])
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "order is not a registered audience"
    );
    let status = issue(&mesh, "erp-sync", "wrong-secret", &[]).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let status = issue(&mesh, "nobody", &created.client_secret, &[])
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    let listed = client
        .list_service_clients(with_token(pb::ListServiceClientsRequest {}, &admin))
        .await
        .unwrap()
        .into_inner();
    assert!(
        listed
            .clients
            .iter()
            .any(|client| client.client_id == "erp-sync" && client.revoked_at.is_none())
    );

    for _ in 0..2 {
        let revoke = pb::RevokeServiceClientRequest {
            client_id: "erp-sync".to_owned(),
        };
        client
            .revoke_service_client(with_token(revoke, &admin))
            .await
            .unwrap();
    }
    let status = issue(&mesh, "erp-sync", &created.client_secret, &[])
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn only_admins_manage_clients_and_mesh_names_are_reserved() {
    let mesh = user_mesh().await;
    let (_, customer) = mesh.keys().user_token(Role::Customer);
    let (_, admin) = mesh.keys().user_token(Role::Admin);
    let request = |client_id: &str| pb::CreateServiceClientRequest {
        client_id: client_id.to_owned(),
        audiences: vec!["inventory".to_owned()],
    };
    let status = mesh
        .user_client()
        .create_service_client(with_token(request("sneaky"), &customer))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    // Registering a client named `order` would hand an outsider svc-order's powers.
    let status = mesh
        .user_client()
        .create_service_client(with_token(request("order"), &admin))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_mesh_services_configured_as_clients_get_tokens_for_their_callees() {
    let mesh = bookstore_tests::TestMesh::builder()
        .with(ServiceName::User)
        .configure(|config| {
            config
                .auth
                .own
                .service_clients
                .insert("order".to_owned(), "order-secret-for-tests".to_owned().into());
        })
        .start()
        .await
        .unwrap();
    let issued = issue(&mesh, "order", "order-secret-for-tests", &["inventory"])
        .await
        .unwrap();
    let principal = mesh
        .keys()
        .verifier("inventory")
        .verify(&issued.access_token)
        .unwrap();
    assert!(principal.is_service(ServiceName::Order));
    let all = issue(&mesh, "order", "order-secret-for-tests", &[])
        .await
        .unwrap();
    assert_eq!(all.audiences, ["user", "catalog", "cart", "inventory"]);
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_services_token_source_obtains_tokens_from_svc_user_for_its_calls() {
    use platform::auth::{ClientCredentials, TokenSource};
    use platform::client::{MeshChannel, UpstreamConfig};
    use proto::inventory::v1::inventory_service_client::InventoryServiceClient;

    let mesh = bookstore_tests::TestMesh::builder()
        .with(ServiceName::User)
        .with(ServiceName::Inventory)
        .configure(|config| {
            config
                .auth
                .own
                .service_clients
                .insert("order".to_owned(), "order-secret-for-tests".to_owned().into());
        })
        .start()
        .await
        .unwrap();
    let user_service = MeshChannel::new(
        ServiceName::User,
        &UpstreamConfig::local(mesh.address(ServiceName::User)),
        None,
    )
    .unwrap();
    let tokens = TokenSource::new(ClientCredentials::new(
        user_service,
        "order",
        "order-secret-for-tests".to_owned().into(),
    ));
    let inventory_channel = MeshChannel::new(
        ServiceName::Inventory,
        &UpstreamConfig::local(mesh.address(ServiceName::Inventory)),
        Some(tokens),
    )
    .unwrap();

    // Reserve admits only svc-order: reaching the handler (which refuses the empty order)
    // proves the token came from svc-user's client credentials grant.
    let request = proto::inventory::v1::ReserveRequest {
        order_id: uuid::Uuid::new_v4().to_string(),
        lines: Vec::new(),
        ttl_seconds: 60,
    };
    let status = InventoryServiceClient::new(inventory_channel)
        .reserve(request)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    mesh.shutdown().await.unwrap();
}
