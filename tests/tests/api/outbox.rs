//! An outbox relay's pass costs its batch, however many rows were published before it: on
//! both outboxes (inventory's stock events, catalog's book events) and both databases.
//! PostgreSQL keeps the index entries of published rows until a vacuum; an unbounded read
//! planned as a bitmap scan (PostgreSQL's choice on a table without statistics) visited
//! every one of them on every pass. The read now starts at the lowest pending id
//! (`platform::store::outbox::unpublished_sql` says why that helps).

use platform::store::outbox::pending_index;
use platform::store::{execute, query};
use platform::testing::TestDatabase;
use sea_orm::{DatabaseConnection, DbBackend, Value};
use sea_orm_migration::MigratorTrait;

/// Rows published before the read: a minute of checkouts leaves far more.
const PUBLISHED: u64 = 20_000;
/// Rows still pending.
const PENDING: u64 = 10;
/// Passes the relay has made before the measured one.
const EARLIER_PASSES: usize = 3;
/// PostgreSQL pages the measured pass may touch beyond the pages of the index of pending
/// rows (whose entries of published rows it skips, once marked dead, without visiting their
/// rows): the batch's rows. A pass that visits every published row touches hundreds more.
const PAGES_OF_THE_BATCH: u64 = 10;

/// Whether `plan` (PostgreSQL's, as JSON) computes a bound in an init plan by an ordered
/// scan of `index`: the only scan that marks the entries it passes dead.
fn bounded_by_an_ordered_scan(plan: &serde_json::Value, index: &str) -> bool {
    fn ordered_scan(node: &serde_json::Value, index: &str) -> bool {
        let scan = matches!(node["Node Type"].as_str(), Some("Index Scan" | "Index Only Scan"));
        (scan && node["Index Name"] == index) || children(node).iter().any(|child| ordered_scan(child, index))
    }
    fn children(node: &serde_json::Value) -> Vec<serde_json::Value> {
        node["Plans"].as_array().cloned().unwrap_or_default()
    }
    (plan["Parent Relationship"] == "InitPlan" && ordered_scan(plan, index))
        || children(plan)
            .iter()
            .any(|child| bounded_by_an_ordered_scan(child, index))
}

/// `INSERT … SELECT` over the series `n(i)` of 1 to `count`, the same text on both backends.
fn series(count: u64, insert: &str) -> String {
    format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) {insert}")
}

/// Waits until every transaction in the cluster that began before now has ended.
/// PostgreSQL marks a published row's index entry dead only once no snapshot can still see
/// the row as pending, and tests on other databases run transactions beside this one.
async fn until_no_transaction_began_before_now(db: &DatabaseConnection, table: &'static str) {
    let xid = |sql: &'static str| async move {
        let rows = query(db, table, sql, []).await.unwrap();
        rows[0].try_get::<String>("", "xid").unwrap()
    };
    let next = xid("SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xid").await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let oldest = xid("SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xid").await;
        if oldest.parse::<u64>().unwrap() >= next.parse::<u64>().unwrap() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "transaction {oldest} has run for a minute; it keeps the published rows' index entries alive"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Fills `table` as a relay under load leaves it (`PUBLISHED` rows marked, `PENDING` not, no
/// statistics yet), makes the relay's earlier reads, each of which must return the pending
/// rows, and checks the next one: on PostgreSQL the pages it touches, on SQLite its plan.
async fn check_the_next_read(
    db: &DatabaseConnection,
    table: &'static str,
    insert: &str,
    values: &[Value],
    read: &str,
) {
    execute(db, table, &series(PUBLISHED, insert), values.to_vec())
        .await
        .unwrap();
    execute(
        db,
        table,
        &format!("UPDATE {table} SET published_at = ? WHERE published_at IS NULL"),
        [chrono::Utc::now().into()],
    )
    .await
    .unwrap();
    execute(db, table, &series(PENDING, insert), values.to_vec())
        .await
        .unwrap();
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    if postgres {
        until_no_transaction_began_before_now(db, table).await;
    }
    for _ in 0..EARLIER_PASSES {
        let pending = query(db, table, read, []).await.unwrap();
        assert_eq!(pending.len() as u64, PENDING, "the read returns the pending rows");
    }
    if postgres {
        let rows = query(
            db,
            table,
            &format!("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {read}"),
            [],
        )
        .await
        .unwrap();
        let explained: serde_json::Value = rows[0].try_get_by_index(0).unwrap();
        let plan = &explained[0]["Plan"];
        let pages =
            plan["Shared Hit Blocks"].as_u64().unwrap() + plan["Shared Read Blocks"].as_u64().unwrap();
        let index = pending_index(table);
        assert!(
            bounded_by_an_ordered_scan(plan, &index),
            "{table}'s relay read does not start at the lowest pending id, found in order on {index}: {explained}"
        );
        let sized = query(
            db,
            table,
            &format!(
                "SELECT (pg_relation_size('{index}') / current_setting('block_size')::int)::bigint AS pages"
            ),
            [],
        )
        .await
        .unwrap();
        let index_pages = u64::try_from(sized[0].try_get::<i64>("", "pages").unwrap()).unwrap();
        assert!(
            pages <= index_pages + PAGES_OF_THE_BATCH,
            "{table}'s relay read touched {pages} pages ({index} has {index_pages}) after {PUBLISHED} rows were published: {explained}"
        );
        return;
    }
    // SQLite drops a row's index entry when it is marked: what matters is the order.
    let rows = query(db, table, &format!("EXPLAIN QUERY PLAN {read}"), [])
        .await
        .unwrap();
    let plan: Vec<String> = rows
        .iter()
        .map(|row| row.try_get::<String>("", "detail").unwrap())
        .collect();
    let plan = plan.join("\n");
    let index = pending_index(table);
    assert!(
        plan.contains(&index),
        "{table}'s relay read does not use {index}: {plan}"
    );
    assert!(
        !plan.contains("TEMP B-TREE"),
        "{table}'s relay read sorts all it matches: {plan}"
    );
}

#[tokio::test]
async fn inventorys_relay_pass_costs_its_batch_not_the_published_events() {
    let database = TestDatabase::create("inventory").await.unwrap();
    let db = platform::store::open_database::<svc_inventory::migration::Migrator>(&database.url, true)
        .await
        .unwrap();
    let read = svc_inventory::store::outbox::unpublished_sql(platform::store::outbox::RELAY_BATCH);
    check_the_next_read(
        &db,
        "outbox",
        "INSERT INTO outbox (book_id, available, version, created_at) SELECT ?, i, i, ? FROM n",
        &[uuid::Uuid::now_v7().into(), chrono::Utc::now().into()],
        &read,
    )
    .await;
}

#[tokio::test]
async fn catalogs_relay_pass_costs_its_batch_not_the_published_events() {
    let database = TestDatabase::create("catalog").await.unwrap();
    let db = platform::store::open_database::<svc_catalog::migration::Migrator>(&database.url, true)
        .await
        .unwrap();
    let read = svc_catalog::store::events::unpublished_sql(platform::store::outbox::RELAY_BATCH);
    check_the_next_read(
        &db,
        "book_events",
        "INSERT INTO book_events (book_id, kind, created_at) SELECT ?, 'updated', ? FROM n",
        &[uuid::Uuid::now_v7().into(), chrono::Utc::now().into()],
        &read,
    )
    .await;
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
