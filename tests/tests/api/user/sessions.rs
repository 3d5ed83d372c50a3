//! Refresh tokens rotate on every use; a reused one revokes its family; logout ends one
//! session or all of them.

use bookstore_tests::with_token;
use platform::ServiceName;
use proto::user::v1 as pb;
use tonic::Code;

use super::{PASSWORD, login, register, unique_email, user_mesh};

async fn refresh(
    mesh: &bookstore_tests::TestMesh,
    refresh_token: &str,
) -> Result<pb::RefreshResponse, tonic::Status> {
    let request = pb::RefreshRequest {
        refresh_token: refresh_token.to_owned(),
    };
    mesh.user_client()
        .refresh(with_token(request, &mesh.bff_token(ServiceName::User)))
        .await
        .map(tonic::Response::into_inner)
}

async fn logout(mesh: &bookstore_tests::TestMesh, token: &str, refresh_token: &str, all_sessions: bool) {
    let request = pb::LogoutRequest {
        refresh_token: refresh_token.to_owned(),
        all_sessions,
    };
    mesh.user_client()
        .logout(with_token(request, token))
        .await
        .unwrap();
}

#[tokio::test]
async fn each_refresh_rotates_and_a_reused_token_revokes_the_family() {
    let mesh = user_mesh().await;
    let (first, _) = register(&mesh, &unique_email("rotate")).await;

    let second = refresh(&mesh, &first.refresh_token)
        .await
        .unwrap()
        .tokens
        .unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    let third = refresh(&mesh, &second.refresh_token)
        .await
        .unwrap()
        .tokens
        .unwrap();

    // The first token was spent: presenting it again means it was stolen.
    let status = refresh(&mesh, &first.refresh_token).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    // ... and the whole family is gone, including the newest token.
    let status = refresh(&mesh, &third.refresh_token).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn two_racing_refreshes_of_one_token_cannot_both_win() {
    let mesh = user_mesh().await;
    let (tokens, _) = register(&mesh, &unique_email("race")).await;
    let (first, second) = tokio::join!(
        refresh(&mesh, &tokens.refresh_token),
        refresh(&mesh, &tokens.refresh_token)
    );
    // The conditional spend lets exactly one through; the loser counts as reuse.
    assert!(first.is_ok() != second.is_ok(), "{first:?} {second:?}");
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn unknown_tokens_are_unauthenticated() {
    let mesh = user_mesh().await;
    for token in ["", "garbage", &"a".repeat(10_000)] {
        assert_eq!(
            refresh(&mesh, token).await.unwrap_err().code(),
            Code::Unauthenticated
        );
    }
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn logout_ends_this_session_and_log_out_everywhere_ends_all() {
    let mesh = user_mesh().await;
    let email = unique_email("logout");
    let (phone, _) = register(&mesh, &email).await;
    let laptop = login(&mesh, &email, PASSWORD).await.unwrap().tokens.unwrap();
    let tablet = login(&mesh, &email, PASSWORD).await.unwrap().tokens.unwrap();

    // The user's own token names its session: logout ends the phone only.
    logout(&mesh, &phone.access_token, "", false).await;
    assert_eq!(
        refresh(&mesh, &phone.refresh_token).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    let laptop = refresh(&mesh, &laptop.refresh_token)
        .await
        .unwrap()
        .tokens
        .unwrap();

    // The BFF ends a session by its refresh token.
    logout(
        &mesh,
        &mesh.bff_token(ServiceName::User),
        &laptop.refresh_token,
        false,
    )
    .await;
    assert_eq!(
        refresh(&mesh, &laptop.refresh_token).await.unwrap_err().code(),
        Code::Unauthenticated
    );

    // Everywhere: the tablet goes too, and so does a fresh login made before.
    let desktop = login(&mesh, &email, PASSWORD).await.unwrap().tokens.unwrap();
    logout(&mesh, &tablet.access_token, "", true).await;
    assert_eq!(
        refresh(&mesh, &tablet.refresh_token).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    assert_eq!(
        refresh(&mesh, &desktop.refresh_token).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let mesh = user_mesh().await;
    let request = pb::GetProfileRequest {
        user_id: String::new(),
    };
    let status = mesh
        .user_client()
        .get_profile(with_token(request, &mesh.keys().expired_token()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("expired"), "{status:?}");
    mesh.shutdown().await.unwrap();
}
