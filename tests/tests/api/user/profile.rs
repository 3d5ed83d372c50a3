//! Profiles: users see and change only their own; admins see anyone's; roles.

use bookstore_tests::with_token;
use platform::ServiceName;
use proto::user::v1 as pb;
use tonic::Code;

use super::{PASSWORD, login, register, unique_email, user_mesh, violated_field};

#[tokio::test]
async fn users_read_and_rename_themselves_but_another_users_profile_is_not_found() {
    let mesh = user_mesh().await;
    let (ada_tokens, ada) = register(&mesh, &unique_email("ada")).await;
    let (bob_tokens, bob) = register(&mesh, &unique_email("bob")).await;
    let mut client = mesh.user_client();

    let own = client
        .get_profile(with_token(
            pb::GetProfileRequest {
                user_id: String::new(),
            },
            &ada_tokens.access_token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.user.unwrap().id, ada.id);

    // Guessed or copied ids reveal nothing: another user's profile reads as absent.
    for id in [bob.id.clone(), uuid::Uuid::new_v4().to_string()] {
        let status = client
            .get_profile(with_token(
                pb::GetProfileRequest { user_id: id },
                &ada_tokens.access_token,
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::NotFound);
    }
    let status = client
        .update_profile(with_token(
            pb::UpdateProfileRequest {
                user_id: ada.id.clone(),
                name: Some("Mallory".to_owned()),
            },
            &bob_tokens.access_token,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    let renamed = client
        .update_profile(with_token(
            pb::UpdateProfileRequest {
                user_id: ada.id.clone(),
                name: Some("  Ada Lovelace ".to_owned()),
            },
            &ada_tokens.access_token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renamed.user.unwrap().name, "Ada Lovelace");
    let status = client
        .update_profile(with_token(
            pb::UpdateProfileRequest {
                user_id: ada.id.clone(),
                name: Some(String::new()),
            },
            &ada_tokens.access_token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_field(&status), "name");
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn admins_read_anyone_and_set_roles_that_show_in_the_next_token() {
    let mesh = user_mesh().await;
    let email = unique_email("promoted");
    let (tokens, user) = register(&mesh, &email).await;
    let (_, admin) = mesh.keys().user_token(platform::auth::Role::Admin);
    let mut client = mesh.user_client();

    let seen = client
        .get_profile(with_token(
            pb::GetProfileRequest {
                user_id: user.id.clone(),
            },
            &admin,
        ))
        .await
        .unwrap();
    assert_eq!(seen.into_inner().user.unwrap().email, email);

    let request = || pb::SetRoleRequest {
        user_id: user.id.clone(),
        role: pb::Role::Admin as i32,
    };
    let status = client
        .set_role(with_token(request(), &tokens.access_token))
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "a customer cannot promote themself"
    );
    let promoted = client
        .set_role(with_token(request(), &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(promoted.user.unwrap().role, pb::Role::Admin as i32);
    let bad = pb::SetRoleRequest {
        user_id: user.id.clone(),
        role: pb::Role::Service as i32,
    };
    assert_eq!(
        client.set_role(with_token(bad, &admin)).await.unwrap_err().code(),
        Code::InvalidArgument
    );

    let fresh = login(&mesh, &email, PASSWORD).await.unwrap().tokens.unwrap();
    let principal = mesh
        .keys()
        .verifier("inventory")
        .verify(&fresh.access_token)
        .unwrap();
    assert!(principal.is_admin());
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn batch_reads_keep_request_order_and_report_missing_ids() {
    let mesh = user_mesh().await;
    let (_, first) = register(&mesh, &unique_email("first")).await;
    let (_, second) = register(&mesh, &unique_email("second")).await;
    let missing = uuid::Uuid::new_v4().to_string();
    let request = pb::BatchGetUsersRequest {
        user_ids: vec![second.id.clone(), missing.clone(), first.id.clone()],
    };
    let response = mesh
        .user_client()
        .batch_get_users(with_token(request, &mesh.bff_token(ServiceName::User)))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = response.users.iter().map(|user| user.id.as_str()).collect();
    assert_eq!(ids, [second.id.as_str(), first.id.as_str()]);
    assert_eq!(response.missing_ids, [missing]);

    let (_, customer) = mesh.keys().user_token(platform::auth::Role::Customer);
    let request = pb::BatchGetUsersRequest {
        user_ids: vec![first.id],
    };
    let status = mesh
        .user_client()
        .batch_get_users(with_token(request, &customer))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_bootstrap_admin_exists_after_start_and_promotes_an_existing_customer() {
    let email = unique_email("boss");
    let configured = email.clone();
    let mesh = bookstore_tests::TestMesh::builder()
        .with(ServiceName::User)
        .configure(move |config| {
            config.bootstrap_admin_email = Some(configured);
            config.bootstrap_admin_password = Some(PASSWORD.to_owned().into());
        })
        .start()
        .await
        .unwrap();
    let admin = login(&mesh, &email, PASSWORD).await.unwrap();
    assert_eq!(admin.user.unwrap().role, pb::Role::Admin as i32);
    mesh.shutdown().await.unwrap();

    // An existing customer named as bootstrap admin is promoted, keeping their password; a
    // second replica starting with the same settings changes nothing.
    let mesh = user_mesh().await;
    let customer_email = unique_email("customer");
    register(&mesh, &customer_email).await;
    let mut config = bookstore::config::BookstoreConfig {
        redis_url: platform::testing::redis_url(),
        redis_key_prefix: mesh.redis_prefix().to_owned(),
        bootstrap_admin_email: Some(customer_email.clone()),
        bootstrap_admin_password: Some("another password 123".to_owned().into()),
        ..bookstore::config::BookstoreConfig::default()
    };
    config.user.database_url = mesh.database_url(ServiceName::User).map(str::to_owned);
    let keys = bookstore::launch::Keys {
        signing: Some(mesh.keys().signing_key.clone()),
        ..bookstore::launch::Keys::default()
    };
    let verifier = bookstore::launch::verifier(&config, ServiceName::User, &keys);
    let context = bookstore::launch::serve_context(
        &config,
        ServiceName::User,
        &keys,
        verifier,
        &platform::client::InProcess::default(),
    )
    .unwrap();
    let issuing = bookstore::launch::issuing(&config, &keys).unwrap();
    svc_user::build(&config.auth.own, &issuing, &context)
        .await
        .unwrap();
    svc_user::build(&config.auth.own, &issuing, &context)
        .await
        .unwrap();
    let again = login(&mesh, &customer_email, PASSWORD).await.unwrap();
    assert_eq!(again.user.unwrap().role, pb::Role::Admin as i32);
    mesh.shutdown().await.unwrap();
}
