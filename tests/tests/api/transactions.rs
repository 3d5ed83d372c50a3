//! A transaction whose caller stops waiting while it begins (a cancelled RPC) leaves nothing
//! open on the pool's connections: sqlx 0.9 forgets a BEGIN cancelled after it was sent, so
//! `platform::store::begin` finishes it in a task of its own and rolls back what nobody took.
//! A connection left in a transaction poisons the pool: once one statement fails on it, every
//! later statement there fails with "current transaction is aborted".

use std::time::Duration;

use futures::FutureExt as _;
use platform::testing::TestDatabase;
use sea_orm::ConnectionTrait as _;

#[tokio::test]
async fn a_begin_cancelled_at_any_point_leaves_no_transaction_open() {
    let database = TestDatabase::create("inventory").await.unwrap();
    let db = platform::store::connect_database(&database.url).await.unwrap();
    // Stopped after one poll and up to a dozen: some before the BEGIN is sent, some while
    // its answer is on the way, some after it began.
    for attempt in 0..240_usize {
        let mut begin = Box::pin(platform::store::begin(&db, "cancelled"));
        for _ in 0..=attempt % 12 {
            if begin.as_mut().now_or_never().is_some() {
                break;
            }
            tokio::task::yield_now().await;
        }
        drop(begin);
        // Whatever the BEGIN left behind is rolled back by the time its connection is lent
        // again: a failing statement, then one that must not fail after it.
        tokio::time::sleep(Duration::from_millis(2)).await;
        let _ = db.execute_unprepared("SELECT 1 / 0").await;
        let after = db.execute_unprepared("SELECT 1").await;
        assert!(after.is_ok(), "attempt {attempt}: {after:?}");
    }
}
