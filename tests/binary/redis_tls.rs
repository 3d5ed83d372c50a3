//! Redis over TLS: Debian's redis-server with only a `tls-port`, certificates made here with
//! rcgen, and the services trusting that CA through `redis_tls_ca_file`. Carts, the login
//! throttle and the stock events work over `rediss://`; a CA that did not sign the server's
//! certificate stops the service at start-up with a message naming the setting.

use std::process::Stdio;
use std::time::Duration;

use bookstore_tests::{TestMesh, TestTls, eventually, free_port, with_token};
use platform::ServiceName;
use platform::auth::Role;
use platform::testing::TEST_ISSUER;

use super::bookstore;

/// redis-server serving TLS only on a free port, killed when dropped.
struct TlsRedis {
    port: u16,
    _child: tokio::process::Child,
}

async fn start_tls_redis(tls: &TestTls) -> TlsRedis {
    let port = free_port();
    let child = tokio::process::Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--tls-port",
            &port.to_string(),
        ])
        .arg("--tls-cert-file")
        .arg(&tls.cert_file)
        .arg("--tls-key-file")
        .arg(&tls.key_file)
        .arg("--tls-ca-cert-file")
        .arg(&tls.ca_file)
        .args(["--tls-auth-clients", "no", "--save", "", "--appendonly", "no"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-server on PATH");
    let listening = eventually(
        Duration::from_secs(10),
        Duration::from_millis(50),
        || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .map(|_| ())
        },
    )
    .await;
    assert!(listening.is_ok(), "redis-server did not listen on its tls port");
    TlsRedis { port, _child: child }
}

#[tokio::test]
async fn carts_the_throttle_and_stock_events_work_over_rediss() {
    use proto::cart::v1 as cart;
    use proto::catalog::v1 as catalog;
    use proto::inventory::v1 as inventory;

    let tls = TestTls::generate();
    let redis = start_tls_redis(&tls).await;
    let url = format!("rediss://localhost:{}", redis.port);
    let ca_file = tls.ca_file.clone();
    let mesh = TestMesh::builder()
        .with(ServiceName::User)
        .with(ServiceName::Catalog)
        .with(ServiceName::Cart)
        .with(ServiceName::Inventory)
        .configure(move |config| {
            config.redis_url = url;
            config.redis_tls_ca_file = Some(ca_file);
            config.auth.own.argon2_memory_kib = 1024;
        })
        .start()
        .await
        .unwrap();
    let admin = mesh.keys().user_token(Role::Admin).1;

    // Stock events: inventory's relay publishes over TLS, catalog's consumer follows.
    let created =
        catalog::catalog_service_client::CatalogServiceClient::new(mesh.channel(ServiceName::Catalog))
            .create_book(with_token(
                catalog::CreateBookRequest {
                    book: Some(bookstore::seed::generate::book(913_337)),
                },
                &admin,
            ))
            .await
            .unwrap()
            .into_inner()
            .book
            .unwrap();
    inventory::inventory_service_client::InventoryServiceClient::new(mesh.channel(ServiceName::Inventory))
        .set_stock(with_token(
            inventory::SetStockRequest {
                book_id: created.id.clone(),
                on_hand: 3,
                reason: String::new(),
            },
            &admin,
        ))
        .await
        .unwrap();
    let followed = eventually(Duration::from_secs(10), Duration::from_millis(100), || {
        let (channel, admin, id) = (
            mesh.channel(ServiceName::Catalog),
            admin.clone(),
            created.id.clone(),
        );
        async move {
            let book = catalog::catalog_service_client::CatalogServiceClient::new(channel)
                .get_book(with_token(catalog::GetBookRequest { book_id: id }, &admin))
                .await
                .map_err(|status| status.to_string())?
                .into_inner()
                .book
                .unwrap_or_default();
            if book.in_stock {
                Ok(())
            } else {
                Err("not in stock yet".to_owned())
            }
        }
    })
    .await;
    assert!(
        followed.is_ok(),
        "catalog never saw the stock event: {followed:?}"
    );

    // A cart in Redis over TLS.
    let (user, token) = mesh.keys().user_token(Role::Customer);
    let owner = Some(cart::CartOwner {
        owner: Some(cart::cart_owner::Owner::UserId(user.to_string())),
    });
    let added = cart::cart_service_client::CartServiceClient::new(mesh.channel(ServiceName::Cart))
        .add_item(with_token(
            cart::AddItemRequest {
                owner,
                book_id: created.id.clone(),
                quantity: 2,
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .cart
        .unwrap();
    assert_eq!(added.lines.len(), 1);

    // The login throttle's script over TLS.
    let mut users = mesh.user_client();
    let email = format!("tls-{}@shoppers.test", uuid::Uuid::new_v4().simple());
    let bff = mesh.keys().service_token("bff", "user");
    users
        .register(with_token(
            proto::user::v1::RegisterRequest {
                email: email.clone(),
                password: "correct horse battery".to_owned(),
                name: "Shopper".to_owned(),
            },
            &bff,
        ))
        .await
        .unwrap();
    let login = |password: &str| proto::user::v1::LoginRequest {
        email: email.clone(),
        password: password.to_owned(),
        client_address: Some("203.0.113.80".to_owned()),
    };
    for _ in 0..5 {
        let status = users
            .login(with_token(login("wrong password"), &bff))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
    }
    let status = users
        .login(with_token(login("correct horse battery"), &bff))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
    mesh.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(tls.ca_file.parent().unwrap());
}

#[tokio::test]
async fn a_wrong_ca_stops_the_service_at_start_naming_the_setting() {
    let (server, other) = (TestTls::generate(), TestTls::generate());
    let redis = start_tls_redis(&server).await;
    let keys = platform::testing::TestKeys::new();
    let port = free_port();
    let child = bookstore()
        .args(["serve", "cart"])
        .env("BOOKSTORE_AUTH__ISSUER", TEST_ISSUER)
        .env("BOOKSTORE_AUTH__JWKS", keys.key_set().to_json())
        .env("BOOKSTORE_CART__LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "BOOKSTORE_REDIS_URL",
            format!("rediss://localhost:{}", redis.port),
        )
        .env("BOOKSTORE_REDIS_TLS_CA_FILE", &other.ca_file)
        .spawn()
        .unwrap();
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the service stopped by itself")
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("redis_tls_ca_file"), "{stderr}");
    for tls in [server, other] {
        let _ = std::fs::remove_dir_all(tls.ca_file.parent().unwrap());
    }
}
