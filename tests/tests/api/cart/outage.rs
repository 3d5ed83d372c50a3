//! Redis going away: calls fail fast with UNAVAILABLE, health says NOT_SERVING, and both come
//! back by themselves when Redis does; a cart service started before Redis does not crash.

use std::time::{Duration, Instant};

use bookstore_tests::{TestMesh, eventually, free_port};
use platform::ServiceName;
use platform::auth::Role;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

use super::{get, user_owner};

struct PrivateRedis {
    port: u16,
    child: std::process::Child,
}

impl PrivateRedis {
    fn start(port: u16) -> PrivateRedis {
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server on PATH");
        PrivateRedis { port, child }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn redis_going_away_is_unavailable_quickly_and_recovers_by_itself() {
    let port = free_port();
    // Cart starts before its Redis exists: NOT_SERVING, not a crash.
    let url = format!("redis://127.0.0.1:{port}");
    let configured = url.clone();
    let starting = tokio::spawn(
        TestMesh::builder()
            .with(ServiceName::Cart)
            .configure(move |config| config.redis_url = configured)
            .start(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let redis = PrivateRedis::start(port);
    assert_eq!(redis.url(), url);
    let mesh = starting.await.unwrap().unwrap();
    let (user, token) = mesh.keys().user_token(Role::Customer);
    get(&mesh, &token, user_owner(&user.to_string())).await.unwrap();

    redis.stop();
    let started = Instant::now();
    let status = get(&mesh, &token, user_owner(&user.to_string()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered in {:?}",
        started.elapsed()
    );
    mesh.wait_for_status(
        ServiceName::Cart,
        ServingStatus::NotServing,
        Duration::from_secs(10),
    )
    .await
    .unwrap();

    let redis = PrivateRedis::start(port);
    mesh.wait_for_status(ServiceName::Cart, ServingStatus::Serving, Duration::from_secs(20))
        .await
        .unwrap();
    let recovered = eventually(Duration::from_secs(10), Duration::from_millis(200), || async {
        get(&mesh, &token, user_owner(&user.to_string()))
            .await
            .map(|_| ())
    })
    .await;
    assert!(recovered.is_ok(), "cart calls work again once Redis is back");
    mesh.shutdown().await.unwrap();
    redis.stop();
}
