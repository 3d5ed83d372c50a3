//! Replicas starting together on a fresh PostgreSQL database, each with `migrate_on_start`:
//! the advisory lock makes them take turns, so each migration is applied once and every
//! replica serves.

use platform::ServiceName;
use platform::testing::{Backend, TEST_ISSUER, TestDatabase, TestKeys};
use sea_orm::{ConnectionTrait as _, Database};

use super::{bookstore, terminate, wait_for_serving};
use bookstore_tests::free_port;

#[tokio::test]
async fn four_inventory_replicas_migrating_at_once_apply_each_migration_once_and_all_serve() {
    let database = TestDatabase::create_on(Backend::Postgres, "inventory")
        .await
        .unwrap();
    let keys = TestKeys::new().key_set().to_json();
    let prefix = platform::testing::redis_prefix();
    let ports = [free_port(), free_port(), free_port(), free_port()];
    let mut children = Vec::new();
    for port in ports {
        let child = bookstore()
            .args(["serve", "inventory"])
            .env("BOOKSTORE_AUTH__ISSUER", TEST_ISSUER)
            .env("BOOKSTORE_AUTH__JWKS", &keys)
            .env("BOOKSTORE_INVENTORY__LISTEN", format!("127.0.0.1:{port}"))
            .env("BOOKSTORE_INVENTORY__DATABASE_URL", &database.url)
            .env("BOOKSTORE_INVENTORY__MIGRATE_ON_START", "true")
            .env("BOOKSTORE_DATABASE_POOL_SIZE", "4")
            .env("BOOKSTORE_REDIS_URL", platform::testing::redis_url())
            .env("BOOKSTORE_REDIS_KEY_PREFIX", &prefix)
            .spawn()
            .unwrap();
        children.push(child);
    }
    for port in ports {
        if let Err(error) = wait_for_serving(port, ServiceName::Inventory).await {
            // Say why: what each replica wrote before it stopped or hung.
            let mut logs = String::new();
            for child in children {
                terminate(&child);
                if let Ok(output) = child.wait_with_output().await {
                    logs.push_str(&String::from_utf8_lossy(&output.stderr));
                }
            }
            panic!("{error}; the replicas said: {logs}");
        }
    }

    let db = Database::connect(&database.url).await.unwrap();
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT version, COUNT(*) AS copies FROM seaql_migrations GROUP BY version ORDER BY version",
        ))
        .await
        .unwrap();
    let applied: Vec<(String, i64)> = rows
        .iter()
        .map(|row| {
            (
                row.try_get("", "version").unwrap(),
                row.try_get("", "copies").unwrap(),
            )
        })
        .collect();
    let expected =
        <svc_inventory::migration::Migrator as sea_orm_migration::MigratorTrait>::migrations().len();
    assert_eq!(applied.len(), expected, "{applied:?}");
    assert!(applied.iter().all(|(_, copies)| *copies == 1), "{applied:?}");
    db.close().await.unwrap();
    for child in &children {
        terminate(child);
    }
    for mut child in children {
        let status = child.wait().await.unwrap();
        assert!(status.success(), "a replica stopped with {status:?}");
    }
}
