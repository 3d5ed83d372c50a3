//! The key set: another service verifies svc-user's tokens with nothing but `GetJwks`.

use platform::ServiceName;
use platform::auth::Verifier;
use platform::client::{MeshChannel, UpstreamConfig};
use platform::testing::TEST_ISSUER;

use super::{register, unique_email, user_mesh};

#[tokio::test]
async fn another_service_verifies_tokens_with_only_the_published_key_set() {
    let mesh = user_mesh().await;
    let (tokens, user) = register(&mesh, &unique_email("jwks")).await;

    let channel = MeshChannel::new(
        ServiceName::User,
        &UpstreamConfig::local(mesh.address(ServiceName::User)),
        None,
    )
    .unwrap();
    let published = platform::auth::jwks::fetch(channel).await.unwrap();
    let inventory = Verifier::new(TEST_ISSUER, "inventory", published);

    let principal = inventory.verify(&tokens.access_token).unwrap();
    assert_eq!(principal.user_id().unwrap().to_string(), user.id);
    mesh.shutdown().await.unwrap();
}
