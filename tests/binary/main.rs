//! The real `bookstore` binary, started the way users start it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::time::Duration;

use bookstore_tests::{TestMesh, eventually, free_port, with_token};
use platform::ServiceName;
use platform::testing::TEST_ISSUER;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

mod cluster;
mod in_process;
mod loadgen;
mod metrics;
mod migrations;
mod redis_tls;
mod traces;

// mimalloc, as every binary of the mesh (why: the README's benchmark section).
#[global_allocator]
static ALLOCATOR: platform::Allocator = platform::Allocator;

/// Returns the `bookstore` binary of this build as users start it: a clean `BOOKSTORE_`
/// environment (the support crate's `bookstore_command`) and piped output.
fn bookstore() -> tokio::process::Command {
    let mut command =
        bookstore_tests::bookstore_command(std::path::Path::new(env!("CARGO_BIN_EXE_bookstore")));
    command
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Sends SIGTERM, as Kubernetes does before it kills a pod.
fn terminate(child: &tokio::process::Child) {
    if let Some(pid) = child.id() {
        // A child that already exited only makes `kill` fail, which is what we want.
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    std::env::temp_dir()
        .join("bookstore-tests")
        .join(format!("{name}-{}", uuid::Uuid::new_v4().simple()))
}

async fn wait_for_serving(port: u16, service: ServiceName) -> Result<(), String> {
    let answered = eventually(Duration::from_secs(30), Duration::from_millis(100), || async {
        let endpoint = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}")).unwrap();
        let channel = endpoint.connect().await.map_err(|error| error.to_string())?;
        let request = HealthCheckRequest {
            service: service.grpc_name().to_owned(),
        };
        match HealthClient::new(channel).check(request).await {
            Ok(response) if response.get_ref().status == ServingStatus::Serving as i32 => Ok(()),
            Ok(response) => Err(format!("{:?}", response.get_ref().status)),
            Err(status) => Err(format!("{status:?}")),
        }
    })
    .await;
    answered.map_err(|last| format!("{service} on port {port} never served; last answer: {last}"))
}

/// Starts `bookstore up` in `data_dir` on free ports; returns the child and each service's port.
fn spawn_up(data_dir: &std::path::Path) -> (tokio::process::Child, Vec<(ServiceName, u16)>) {
    let mut command = bookstore();
    command.arg("up").arg("--data-dir").arg(data_dir);
    command.env("BOOKSTORE_REDIS_KEY_PREFIX", platform::testing::redis_prefix());
    command.env("BOOKSTORE_REDIS_URL", platform::testing::redis_url());
    let mut ports = Vec::new();
    for service in ServiceName::all() {
        let port = free_port();
        let variable = format!("BOOKSTORE_{}__LISTEN", service.as_str().to_uppercase());
        command.env(variable, format!("127.0.0.1:{port}"));
        ports.push((service, port));
    }
    (command.spawn().unwrap(), ports)
}

#[tokio::test]
async fn up_serves_all_six_listeners_and_stops_cleanly_on_sigterm() {
    let data_dir = temp_dir("up");
    let (child, ports) = spawn_up(&data_dir);

    for (service, port) in &ports {
        if *service == ServiceName::Bff {
            continue;
        }
        if let Err(message) = wait_for_serving(*port, *service).await {
            terminate(&child);
            let output = child.wait_with_output().await.unwrap();
            panic!("{message}\nstderr:\n{}", String::from_utf8_lossy(&output.stderr));
        }
    }
    let bff_port = ports
        .iter()
        .find(|(service, _)| *service == ServiceName::Bff)
        .unwrap()
        .1;
    let readyz = reqwest::get(format!("http://127.0.0.1:{bff_port}/readyz"))
        .await
        .unwrap();
    assert_eq!(readyz.status().as_u16(), 200);
    assert!(data_dir.join("inventory.db").exists());

    terminate(&child);
    let output = tokio::time::timeout(Duration::from_secs(15), child.wait_with_output())
        .await
        .expect("bookstore up drains within 15 s of SIGTERM")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "exit {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&format!("grpc://127.0.0.1:{}", ports[0].1)),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(data_dir);
}

#[tokio::test]
async fn a_bad_config_value_stops_start_up_naming_the_key() {
    let cases = [
        (
            "BOOKSTORE_INVENTORY__LISTEN",
            "not-an-address",
            "inventory.listen",
        ),
        ("BOOKSTORE_REDIS_URL", "http://nope", "redis_url"),
        (
            "BOOKSTORE_DATABASE_SQLITE_READ_CONNECTIONS",
            "0",
            "database_sqlite_read_connections",
        ),
        (
            "BOOKSTORE_GRPC__REQUEST_TIMEOUT_MS",
            "soon",
            "grpc.request_timeout_ms",
        ),
    ];
    for (variable, value, key) in cases {
        let output = bookstore()
            .args(["serve", "inventory"])
            .env(variable, value)
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{variable}={value}: {stderr}");
        assert!(
            stderr.contains(&format!("`{key}`")),
            "{variable}={value} should name {key}: {stderr}"
        );
    }
}

#[tokio::test]
async fn a_config_file_named_by_bookstore_config_is_read() {
    let data_dir = temp_dir("config-file");
    std::fs::create_dir_all(&data_dir).unwrap();
    let file = data_dir.join("bookstore.toml");
    std::fs::write(&file, "[inventory]\nlisten = \"nonsense\"\n").unwrap();
    let output = bookstore()
        .args(["serve", "inventory"])
        .env("BOOKSTORE_CONFIG", &file)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`inventory.listen`"), "{stderr}");
    assert!(
        stderr.contains("bookstore.toml"),
        "the file is named as the origin: {stderr}"
    );
    let _ = std::fs::remove_dir_all(data_dir);
}

#[tokio::test]
async fn svc_user_refuses_to_start_without_its_signing_key() {
    let output = bookstore()
        .args(["serve", "user"])
        .env("BOOKSTORE_USER__LISTEN", format!("127.0.0.1:{}", free_port()))
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("auth.signing_key_file"), "{stderr}");
}

#[tokio::test]
async fn an_unknown_service_name_lists_the_valid_ones() {
    let output = bookstore().args(["serve", "payments"]).output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("user, catalog, cart, order, inventory, bff"),
        "{stderr}"
    );
}

#[tokio::test]
async fn migrate_creates_every_sql_database() {
    let data_dir = temp_dir("migrate");
    let output = bookstore()
        .arg("migrate")
        .arg("--data-dir")
        .arg(&data_dir)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for service in ["user", "catalog", "order", "inventory"] {
        assert!(data_dir.join(format!("{service}.db")).exists(), "{service}.db");
    }
    let _ = std::fs::remove_dir_all(data_dir);
}

#[tokio::test]
async fn a_served_service_without_configured_keys_fetches_them_from_svc_user() {
    let mesh = TestMesh::builder().with(ServiceName::User).start().await.unwrap();
    let tokens = register_through_svc_user(&mesh).await;
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    // The real binary, with no key material at all: only where svc-user is.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_bookstore"))
        .args(["serve", "inventory"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("BOOKSTORE_AUTH__ISSUER", TEST_ISSUER)
        .env("BOOKSTORE_INVENTORY__LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "BOOKSTORE_INVENTORY__DATABASE_URL",
            format!(
                "sqlite://{}/inv-{port}.db?mode=rwc",
                std::env::temp_dir().display()
            ),
        )
        .env(
            "BOOKSTORE_USER__ENDPOINTS",
            format!("[\"http://{}\"]", mesh.address(ServiceName::User)),
        )
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect_lazy();
    let mut inventory = proto::inventory::v1::inventory_service_client::InventoryServiceClient::new(channel);
    let request = || proto::inventory::v1::GetStockRequest {
        book_id: uuid::Uuid::new_v4().to_string(),
    };
    let accepted = eventually(Duration::from_secs(10), Duration::from_millis(100), || {
        let mut inventory = inventory.clone();
        let token = tokens.access_token.clone();
        async move {
            // The user's token passed the auth layer and the handler answered.
            match inventory.get_stock(with_token(request(), &token)).await {
                Ok(_) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        }
    })
    .await;
    assert_eq!(accepted.err(), None, "the user's token was not accepted");
    let status = inventory
        .get_stock(with_token(request(), &mesh.keys().token_from_unknown_key()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);

    child.kill().await.unwrap();
    let _ = std::fs::remove_file(std::env::temp_dir().join(format!("inv-{port}.db")));
    mesh.shutdown().await.unwrap();
}

async fn register_through_svc_user(mesh: &TestMesh) -> proto::user::v1::AuthTokens {
    let request = proto::user::v1::RegisterRequest {
        email: format!("served-{}@example.org", uuid::Uuid::new_v4().simple()),
        password: "correct horse battery staple".to_owned(),
        name: "Served".to_owned(),
    };
    let token = mesh.bff_token(ServiceName::User);
    let response = mesh
        .user_client()
        .register(with_token(request, &token))
        .await
        .unwrap();
    response.into_inner().tokens.unwrap()
}

/// Starts `bookstore serve inventory` on `port` against an already migrated database.
fn spawn_inventory(port: u16, database_url: &str, jwks: &str, redis_prefix: &str) -> tokio::process::Child {
    bookstore()
        .args(["serve", "inventory"])
        .env("BOOKSTORE_AUTH__ISSUER", TEST_ISSUER)
        .env("BOOKSTORE_AUTH__JWKS", jwks)
        .env("BOOKSTORE_INVENTORY__LISTEN", format!("127.0.0.1:{port}"))
        .env("BOOKSTORE_INVENTORY__DATABASE_URL", database_url)
        .env("BOOKSTORE_INVENTORY__MIGRATE_ON_START", "false")
        // No catalog here: the stock is for made-up book ids.
        .env("BOOKSTORE_INVENTORY__VERIFY_BOOKS", "false")
        .env("BOOKSTORE_REDIS_URL", platform::testing::redis_url())
        .env("BOOKSTORE_REDIS_KEY_PREFIX", redis_prefix)
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn two_inventory_processes_sharing_one_database_never_oversell() {
    use proto::inventory::v1 as pb;
    use proto::inventory::v1::inventory_service_client::InventoryServiceClient;

    let database = platform::testing::TestDatabase::create("inventory")
        .await
        .unwrap();
    svc_inventory::migrate(&database.url).await.unwrap();
    let keys = platform::testing::TestKeys::new();
    let prefix = platform::testing::redis_prefix();
    let ports = [free_port(), free_port()];
    let children: Vec<_> = ports
        .iter()
        .map(|port| spawn_inventory(*port, &database.url, &keys.key_set().to_json(), &prefix))
        .collect();
    for port in ports {
        wait_for_serving(port, ServiceName::Inventory).await.unwrap();
    }
    let replicas: Vec<_> = ports
        .iter()
        .map(|port| {
            let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
                .unwrap()
                .connect_lazy();
            InventoryServiceClient::new(channel)
        })
        .collect();
    let admin = keys.user_token(platform::auth::Role::Admin).1;
    let order = keys.service_token("order", "inventory");
    let book = uuid::Uuid::now_v7().to_string();
    let request = pb::SetStockRequest {
        book_id: book.clone(),
        on_hand: 25,
        reason: String::new(),
    };
    replicas[0]
        .clone()
        .set_stock(with_token(request, &admin))
        .await
        .unwrap();

    // 200 buyers, alternating between the two processes.
    let attempts = (0..200).map(|index| {
        let mut replica = replicas[index % 2].clone();
        let request = pb::ReserveRequest {
            order_id: uuid::Uuid::now_v7().to_string(),
            lines: vec![pb::ReserveLine {
                book_id: book.clone(),
                quantity: 1,
            }],
            ttl_seconds: 60,
        };
        let token = order.clone();
        async move { replica.reserve(with_token(request, &token)).await }
    });
    let results = futures::future::join_all(attempts).await;
    let reserved = results.iter().filter(|result| result.is_ok()).count();
    let short = results
        .iter()
        .filter(|result| matches!(result, Err(status) if status.code() == tonic::Code::FailedPrecondition))
        .count();
    assert_eq!(
        (reserved, short),
        (25, 175),
        "{:?}",
        results.iter().find(|result| result.is_err())
    );

    for child in &children {
        terminate(child);
    }
    for child in children {
        let output = child.wait_with_output().await.unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    bookstore_tests::invariants::assert_invariants(&database.url).await;
}

/// Operators set `RUST_BACKTRACE` for panics. A service retrying an error at start-up must
/// still log it as one line: resolving anyhow's captured backtrace for the log kept memory
/// in the process for good (figures: the README's benchmark section, "Measured choices").
#[tokio::test]
async fn a_service_waiting_for_svc_user_logs_one_line_and_stays_small() {
    use tokio::io::AsyncBufReadExt as _;

    let data_dir = temp_dir("waiting-for-user");
    std::fs::create_dir_all(&data_dir).unwrap();
    let mut child = bookstore()
        .args(["serve", "catalog"])
        .env("RUST_BACKTRACE", "1")
        .env("BOOKSTORE_CATALOG__LISTEN", format!("127.0.0.1:{}", free_port()))
        // Nothing listens there: catalog keeps retrying svc-user for its key set.
        .env("BOOKSTORE_USER__LISTEN", format!("127.0.0.1:{}", free_port()))
        .env(
            "BOOKSTORE_CATALOG__DATABASE_URL",
            format!("sqlite://{}/catalog.db?mode=rwc", data_dir.display()),
        )
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut logged = String::new();
    let retries = async {
        let mut seen = 0;
        while let Some(line) = lines.next_line().await.unwrap() {
            logged.push_str(&line);
            logged.push('\n');
            if line.contains("key set not available yet") {
                seen += 1;
                if seen == 2 {
                    return;
                }
            }
        }
    };
    let waited = tokio::time::timeout(Duration::from_secs(30), retries).await;
    let pid = child.id().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    terminate(&child);
    let _ = child.wait().await;
    let _ = std::fs::remove_dir_all(data_dir);
    assert!(waited.is_ok(), "catalog never logged the retry:\n{logged}");
    assert!(
        !logged.to_lowercase().contains("backtrace"),
        "a backtrace in the log:\n{logged}"
    );
    // stderr is a pipe here, as under a log shipper: no terminal colours in the lines.
    assert!(
        !logged.contains('\u{1b}'),
        "terminal escape codes in a piped log:\n{logged:?}"
    );
    let heap_kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("RssAnon:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    assert!(
        heap_kib < 20 * 1024,
        "catalog holds {heap_kib} KiB of heap while it waits"
    );
}
