//! `Register`: rules, normalisation, and a database-level unique email.

use bookstore_tests::with_token;
use platform::ServiceName;
use proto::user::v1 as pb;
use tonic::Code;

use super::{PASSWORD, register, unique_email, user_mesh, violated_field};

#[tokio::test]
async fn a_new_customer_gets_a_session_and_a_normalised_email() {
    let mesh = user_mesh().await;
    let email = unique_email("Ada");

    let (tokens, user) = register(&mesh, &format!("  {}  ", email.to_uppercase())).await;

    assert_eq!(user.email, email.to_lowercase());
    assert_eq!(user.role, pb::Role::Customer as i32);
    assert_eq!(tokens.expires_in_seconds, 15 * 60);
    assert!(!tokens.refresh_token.is_empty());
    let principal = mesh
        .keys()
        .verifier("catalog")
        .verify(&tokens.access_token)
        .unwrap();
    assert_eq!(principal.user_id().unwrap().to_string(), user.id);
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_registrations_name_the_offending_field() {
    let mesh = user_mesh().await;
    let cases = [
        ("not-an-email", PASSWORD, "Ada", "email"),
        ("ada@example.org", "short", "Ada", "password"),
        ("ada@example.org", "1234567890", "Ada", "password"),
        ("ada@example.org", &"p".repeat(129), "Ada", "password"),
        ("ada@example.org", PASSWORD, "   ", "name"),
    ];
    for (email, password, name, field) in cases {
        let request = pb::RegisterRequest {
            email: email.to_owned(),
            password: password.to_owned(),
            name: name.to_owned(),
        };
        let status = mesh
            .user_client()
            .register(with_token(request, &mesh.bff_token(ServiceName::User)))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert_eq!(violated_field(&status), field);
    }
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_email_registers_once_even_when_two_requests_race() {
    let mesh = user_mesh().await;
    let email = unique_email("twice");
    register(&mesh, &email).await;

    let request = pb::RegisterRequest {
        email: email.to_uppercase(),
        password: PASSWORD.to_owned(),
        name: "Copy".to_owned(),
    };
    let status = mesh
        .user_client()
        .register(with_token(request, &mesh.bff_token(ServiceName::User)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);

    let racing = unique_email("race");
    let attempts = (0..2).map(|_| {
        let mut client = mesh.user_client();
        let request = pb::RegisterRequest {
            email: racing.clone(),
            password: PASSWORD.to_owned(),
            name: "Racer".to_owned(),
        };
        let token = mesh.bff_token(ServiceName::User);
        async move { client.register(with_token(request, &token)).await }
    });
    let results = futures::future::join_all(attempts).await;
    let winners = results.iter().filter(|result| result.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|result| matches!(result, Err(status) if status.code() == Code::AlreadyExists))
        .count();
    assert_eq!((winners, conflicts), (1, 1), "{results:?}");
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn register_is_for_the_bff_not_for_end_users_or_strangers() {
    let mesh = user_mesh().await;
    let request = || pb::RegisterRequest {
        email: unique_email("direct"),
        password: PASSWORD.to_owned(),
        name: "Direct".to_owned(),
    };
    let status = mesh
        .user_client()
        .register(tonic::Request::new(request()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let (_, customer) = mesh.keys().user_token(platform::auth::Role::Customer);
    let status = mesh
        .user_client()
        .register(with_token(request(), &customer))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_burst_of_registrations_beyond_the_hashing_queue_is_refused_at_once_with_a_retry_hint() {
    // One hash at a time and two waiting: a burst of 24 fills it at once.
    let mesh = bookstore_tests::TestMesh::builder()
        .with(ServiceName::User)
        .configure(|config| {
            config.auth.own.password_hash_workers = 1;
            config.auth.own.password_hash_queue = 2;
        })
        .start()
        .await
        .unwrap();
    let token = mesh.bff_token(ServiceName::User);
    let attempts = (0..24).map(|index| {
        let mut client = mesh.user_client();
        let request = pb::RegisterRequest {
            email: unique_email(&format!("burst-{index}")),
            password: PASSWORD.to_owned(),
            name: "Ada Reader".to_owned(),
        };
        let token = token.clone();
        async move {
            let started = std::time::Instant::now();
            let answer = client.register(with_token(request, &token)).await;
            (answer, started.elapsed())
        }
    });
    let answers = futures::future::join_all(attempts).await;
    let mut registered = 0;
    let mut refused = Vec::new();
    for (answer, took) in answers {
        match answer {
            Ok(_) => registered += 1,
            Err(status) if status.code() == Code::ResourceExhausted => {
                assert!(status.metadata().get("retry-after").is_some(), "{status:?}");
                refused.push(took);
            }
            Err(status) => panic!("neither registered nor refused with a retry hint: {status:?}"),
        }
    }
    assert!(registered >= 3, "the queue's places were served: {registered}");
    assert!(!refused.is_empty(), "a full queue refuses");
    // Refused without waiting for a hash (each takes tens of milliseconds): far sooner than
    // the registrations that were served one after another.
    let slowest_refusal = refused.iter().max().copied().unwrap_or_default();
    assert!(
        slowest_refusal < std::time::Duration::from_secs(2),
        "refusals waited {slowest_refusal:?}"
    );
    mesh.shutdown().await.unwrap();
}
