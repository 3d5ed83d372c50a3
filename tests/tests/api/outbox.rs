//! An outbox relay's read stops at its batch's last pending row: on both outboxes
//! (inventory's stock events, catalog's book events) and both databases it is an ordered scan
//! of the index of unpublished rows alone. Through the former `(published_at, id)` index,
//! whose order PostgreSQL does not use under `IS NULL`, every pass sorted all it matched, and
//! under load PostgreSQL planned it as a bitmap scan that visited every row published since
//! the last vacuum.

use platform::store::outbox::pending_index;
use platform::store::{execute, query};
use platform::testing::TestDatabase;
use sea_orm::{DatabaseConnection, DbBackend, Value};
use sea_orm_migration::MigratorTrait;

/// Rows published before the read: a minute of checkouts leaves far more.
const PUBLISHED: u64 = 5_000;
/// Rows still pending.
const PENDING: u64 = 10;

/// `INSERT … SELECT` over the series `n(i)` of 1 to `count`, the same text on both backends.
fn series(count: u64, insert: &str) -> String {
    format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) {insert}")
}

/// Marks published the pending rows of `table` up to `last_id`.
async fn publish_up_to(db: &DatabaseConnection, table: &'static str, last_id: u64) {
    execute(
        db,
        table,
        &format!("UPDATE {table} SET published_at = ? WHERE published_at IS NULL AND id <= {last_id}"),
        [chrono::Utc::now().into()],
    )
    .await
    .unwrap();
}

/// Fills `table` as a relay under load leaves it (`PUBLISHED` rows marked, `PENDING` not;
/// PostgreSQL's statistics taken while 1 % was pending, as an autoanalyze does), checks that
/// `read` returns the pending rows, and returns its plan.
async fn plan_of_the_next_read(
    db: &DatabaseConnection,
    table: &'static str,
    insert: &str,
    values: &[Value],
    read: &str,
) -> String {
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    execute(db, table, &series(PUBLISHED, insert), values.to_vec())
        .await
        .unwrap();
    publish_up_to(db, table, PUBLISHED * 99 / 100).await;
    if postgres {
        execute(db, table, &format!("ANALYZE {table}"), []).await.unwrap();
    }
    publish_up_to(db, table, PUBLISHED).await;
    execute(db, table, &series(PENDING, insert), values.to_vec())
        .await
        .unwrap();
    let pending = query(db, table, read, []).await.unwrap();
    assert_eq!(pending.len() as u64, PENDING, "the read returns the pending rows");
    if postgres {
        let rows = query(db, table, &format!("EXPLAIN (FORMAT JSON) {read}"), [])
            .await
            .unwrap();
        let plan: serde_json::Value = rows[0].try_get_by_index(0).unwrap();
        return plan.to_string();
    }
    let rows = query(db, table, &format!("EXPLAIN QUERY PLAN {read}"), [])
        .await
        .unwrap();
    let details: Vec<String> = rows
        .iter()
        .map(|row| row.try_get::<String>("", "detail").unwrap())
        .collect();
    details.join("\n")
}

fn assert_reads_pending_rows_in_order(table: &str, plan: &str) {
    let index = pending_index(table);
    assert!(
        plan.contains(&index),
        "{table}'s relay read does not use {index}: {plan}"
    );
    for node in ["Bitmap", "Sort", "TEMP B-TREE"] {
        assert!(
            !plan.contains(node),
            "{table}'s relay read does not stop at its batch's end ({node}): {plan}"
        );
    }
}

#[tokio::test]
async fn inventorys_relay_reads_only_the_pending_stock_events() {
    let database = TestDatabase::create("inventory").await.unwrap();
    let db = platform::store::open_database::<svc_inventory::migration::Migrator>(&database.url, true)
        .await
        .unwrap();
    let read = svc_inventory::store::outbox::unpublished_sql(platform::store::outbox::RELAY_BATCH);
    let plan = plan_of_the_next_read(
        &db,
        "outbox",
        "INSERT INTO outbox (book_id, available, version, created_at) SELECT ?, i, i, ? FROM n",
        &[uuid::Uuid::now_v7().into(), chrono::Utc::now().into()],
        &read,
    )
    .await;
    assert_reads_pending_rows_in_order("outbox", &plan);
}

#[tokio::test]
async fn catalogs_relay_reads_only_the_pending_book_events() {
    let database = TestDatabase::create("catalog").await.unwrap();
    let db = platform::store::open_database::<svc_catalog::migration::Migrator>(&database.url, true)
        .await
        .unwrap();
    let read = svc_catalog::store::events::unpublished_sql(platform::store::outbox::RELAY_BATCH);
    let plan = plan_of_the_next_read(
        &db,
        "book_events",
        "INSERT INTO book_events (book_id, kind, created_at) SELECT ?, 'updated', ? FROM n",
        &[uuid::Uuid::now_v7().into(), chrono::Utc::now().into()],
        &read,
    )
    .await;
    assert_reads_pending_rows_in_order("book_events", &plan);
}

/// The names of `table`'s indexes.
async fn indexes_of(db: &DatabaseConnection, table: &'static str) -> Vec<String> {
    let (sql, column) = match db.get_database_backend() {
        DbBackend::Postgres => (
            "SELECT indexname FROM pg_indexes WHERE tablename = ?",
            "indexname",
        ),
        _ => (
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
            "name",
        ),
    };
    let rows = query(db, table, sql, [table.into()]).await.unwrap();
    rows.iter()
        .map(|row| row.try_get::<String>("", column).unwrap())
        .collect()
}

/// The last migration of `M` (the pending index on `table`) undone puts back `old_index`;
/// redone after the pending index was built by hand, it keeps that one and drops `old_index`.
async fn pending_index_migration_is_reversible<M: MigratorTrait>(
    db: &DatabaseConnection,
    table: &'static str,
    old_index: &str,
) {
    let pending = pending_index(table);
    let has = |indexes: &[String], name: &str| indexes.iter().any(|index| index == name);
    let migrated = indexes_of(db, table).await;
    assert!(
        has(&migrated, &pending) && !has(&migrated, old_index),
        "{migrated:?}"
    );
    M::down(db, Some(1)).await.unwrap();
    let undone = indexes_of(db, table).await;
    assert!(!has(&undone, &pending) && has(&undone, old_index), "{undone:?}");
    // As an operator would build it ahead of the upgrade (`CONCURRENTLY` on PostgreSQL).
    let ahead = format!("CREATE INDEX {pending} ON {table} (id) WHERE published_at IS NULL");
    execute(db, table, &ahead, []).await.unwrap();
    M::up(db, None).await.unwrap();
    let redone = indexes_of(db, table).await;
    assert!(has(&redone, &pending) && !has(&redone, old_index), "{redone:?}");
}

#[tokio::test]
async fn the_pending_index_migrations_are_reversible() {
    let database = TestDatabase::create("inventory").await.unwrap();
    let db = platform::store::open_database::<svc_inventory::migration::Migrator>(&database.url, true)
        .await
        .unwrap();
    pending_index_migration_is_reversible::<svc_inventory::migration::Migrator>(
        &db,
        "outbox",
        "outbox_unpublished",
    )
    .await;
    let database = TestDatabase::create("catalog").await.unwrap();
    let db = platform::store::open_database::<svc_catalog::migration::Migrator>(&database.url, true)
        .await
        .unwrap();
    pending_index_migration_is_reversible::<svc_catalog::migration::Migrator>(
        &db,
        "book_events",
        "book_events_unpublished",
    )
    .await;
}
