//! svc-user through real gRPC, on the backend `BOOKSTORE_TEST_DATABASE` selects.

mod addresses;
mod keys;
mod login;
mod profile;
mod register;
mod service_clients;
mod sessions;
mod storage;

use bookstore_tests::{TestMesh, with_token};
use platform::ServiceName;
use proto::user::v1 as pb;

/// A password that passes the rules.
pub(crate) const PASSWORD: &str = "correct horse battery staple";

pub(crate) async fn user_mesh() -> TestMesh {
    TestMesh::builder().with(ServiceName::User).start().await.unwrap()
}

pub(crate) fn unique_email(label: &str) -> String {
    format!("{label}-{}@example.org", uuid::Uuid::new_v4().simple())
}

/// Registers through the BFF's service token, as the storefront does.
pub(crate) async fn register(mesh: &TestMesh, email: &str) -> (pb::AuthTokens, pb::User) {
    let request = pb::RegisterRequest {
        email: email.to_owned(),
        password: PASSWORD.to_owned(),
        name: "Ada Reader".to_owned(),
    };
    let response = mesh
        .user_client()
        .register(with_token(request, &mesh.bff_token(ServiceName::User)))
        .await
        .unwrap()
        .into_inner();
    (response.tokens.unwrap(), response.user.unwrap())
}

pub(crate) async fn login(
    mesh: &TestMesh,
    email: &str,
    password: &str,
) -> Result<pb::LoginResponse, tonic::Status> {
    login_from(mesh, email, password, None).await
}

pub(crate) async fn login_from(
    mesh: &TestMesh,
    email: &str,
    password: &str,
    client_address: Option<&str>,
) -> Result<pb::LoginResponse, tonic::Status> {
    let request = pb::LoginRequest {
        email: email.to_owned(),
        password: password.to_owned(),
        client_address: client_address.map(str::to_owned),
    };
    mesh.user_client()
        .login(with_token(request, &mesh.bff_token(ServiceName::User)))
        .await
        .map(tonic::Response::into_inner)
}

/// Returns the field a BAD_USER_INPUT status names.
pub(crate) fn violated_field(status: &tonic::Status) -> String {
    use tonic_types::StatusExt as _;
    let details = status.get_error_details();
    details.bad_request().unwrap().field_violations[0].field.clone()
}
