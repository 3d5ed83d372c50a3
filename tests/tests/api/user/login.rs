//! `Login`: wrong email and wrong password look alike; failures are refused per (account,
//! client address) and per client address, and only slow an account down.

use std::time::{Duration, Instant};

use tonic::Code;

use super::{PASSWORD, login, login_from, register, unique_email, user_mesh};

#[tokio::test]
async fn the_right_password_signs_in_and_the_wrong_one_looks_like_an_unknown_email() {
    let mesh = user_mesh().await;
    let email = unique_email("login");
    register(&mesh, &email).await;

    let response = login(&mesh, &format!(" {} ", email.to_uppercase()), PASSWORD)
        .await
        .unwrap();
    assert_eq!(response.user.unwrap().email, email);

    let started = Instant::now();
    let wrong_password = login(&mesh, &email, "not the password at all").await.unwrap_err();
    let wrong_password_time = started.elapsed();
    let started = Instant::now();
    let unknown_email = login(&mesh, &unique_email("nobody"), PASSWORD).await.unwrap_err();
    let unknown_email_time = started.elapsed();

    assert_eq!(wrong_password.code(), Code::Unauthenticated);
    assert_eq!(unknown_email.code(), wrong_password.code());
    assert_eq!(unknown_email.message(), wrong_password.message());
    // Both run argon2 (a dummy hash for the unknown email): neither answers much faster.
    let (fast, slow) = if wrong_password_time < unknown_email_time {
        (wrong_password_time, unknown_email_time)
    } else {
        (unknown_email_time, wrong_password_time)
    };
    assert!(
        fast * 4 > slow,
        "wrong password {wrong_password_time:?} vs unknown email {unknown_email_time:?}"
    );
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn repeated_failures_from_one_address_refuse_that_pair_with_a_retry_after_and_nobody_else() {
    let mesh = user_mesh().await;
    let email = unique_email("throttled");
    register(&mesh, &email).await;
    let guesser = Some("203.0.113.50");

    for attempt in 0..5 {
        let status = login_from(&mesh, &email, "wrong password here", guesser)
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "attempt {attempt}");
    }
    // Refused now from that address, even with the right password.
    let status = login_from(&mesh, &email, PASSWORD, guesser).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let retry_after: u64 = status
        .metadata()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
    use tonic_types::StatusExt as _;
    let retry_delay = status
        .get_error_details()
        .retry_info()
        .unwrap()
        .retry_delay
        .unwrap();
    assert!(retry_delay > Duration::ZERO);

    // The account owner elsewhere, and another account from the guesser's address, sign in.
    assert!(
        login_from(&mesh, &email, PASSWORD, Some("198.51.100.60"))
            .await
            .is_ok()
    );
    let other = unique_email("other");
    register(&mesh, &other).await;
    assert!(login_from(&mesh, &other, PASSWORD, guesser).await.is_ok());
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn failures_of_one_account_from_many_addresses_slow_it_but_never_lock_it() {
    let mesh = bookstore_tests::TestMesh::builder()
        .with(platform::ServiceName::User)
        .configure(|config| {
            config.auth.own.login_account_slow_after = 3;
            config.auth.own.login_account_delay_ms = 1_500;
        })
        .start()
        .await
        .unwrap();
    let email = unique_email("slowed");
    register(&mesh, &email).await;
    for index in 0..6 {
        let address = format!("192.0.2.{index}");
        let status = login_from(&mesh, &email, "wrong password here", Some(&address))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "attempt {index}");
    }
    let started = Instant::now();
    assert!(
        login_from(&mesh, &email, PASSWORD, Some("198.51.100.9"))
            .await
            .is_ok()
    );
    let slowed = started.elapsed();
    assert!(slowed >= Duration::from_millis(1_500), "{slowed:?}");
    // The success reset the account's count: the next login is not slowed.
    let started = Instant::now();
    assert!(
        login_from(&mesh, &email, PASSWORD, Some("198.51.100.9"))
            .await
            .is_ok()
    );
    assert!(
        started.elapsed() < Duration::from_millis(1_500),
        "{:?}",
        started.elapsed()
    );
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn one_client_address_guessing_across_accounts_is_throttled() {
    let mesh = bookstore_tests::TestMesh::builder()
        .with(platform::ServiceName::User)
        .configure(|config| config.auth.own.login_max_failures_per_address = 3)
        .start()
        .await
        .unwrap();
    let address = "203.0.113.7";
    for _ in 0..3 {
        let status = login_from(&mesh, &unique_email("guess"), PASSWORD, Some(address))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
    }
    let email = unique_email("real");
    register(&mesh, &email).await;
    let status = login_from(&mesh, &email, PASSWORD, Some(address))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(
        login_from(&mesh, &email, PASSWORD, Some("198.51.100.1"))
            .await
            .is_ok()
    );
    mesh.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_successful_login_resets_the_account_counter() {
    let mesh = user_mesh().await;
    let email = unique_email("reset");
    register(&mesh, &email).await;
    for _ in 0..4 {
        login(&mesh, &email, "wrong password here").await.unwrap_err();
    }
    login(&mesh, &email, PASSWORD).await.unwrap();
    for _ in 0..4 {
        login(&mesh, &email, "wrong password here").await.unwrap_err();
    }
    assert!(login(&mesh, &email, PASSWORD).await.is_ok());
    mesh.shutdown().await.unwrap();
}
