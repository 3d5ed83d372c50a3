//! The `stock` table: `on_hand`, `reserved`, and `available = on_hand - reserved`, with the
//! CHECKs `on_hand >= 0`, `reserved >= 0`, `reserved <= on_hand` behind every update.

use chrono::Utc;
use proto::types::{BookId, OrderId};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::domain::StockLevel;
use crate::error::InventoryResult;
use platform::store::{Classify as _, SqliteReads, execute, placeholders, query};

/// Creates the book's row with zero stock if it has none (a write, so on SQLite it takes the
/// write lock at once).
pub async fn ensure(db: &impl ConnectionTrait, book: BookId) -> InventoryResult<()> {
    execute(
        db,
        "stock",
        "INSERT INTO stock (book_id, on_hand, reserved, version, updated_at) VALUES (?, 0, 0, 0, ?) ON CONFLICT (book_id) DO NOTHING",
        [book.as_uuid().into(), Utc::now().into()],
    )
    .await?;
    Ok(())
}

/// Gives held copies back (release, expiry).
pub async fn unreserve(db: &impl ConnectionTrait, book: BookId, quantity: i64) -> InventoryResult<()> {
    execute(
        db,
        "stock",
        "UPDATE stock SET reserved = reserved - ?, version = version + 1, updated_at = ? WHERE book_id = ?",
        [quantity.into(), Utc::now().into(), book.as_uuid().into()],
    )
    .await?;
    Ok(())
}

/// Sets `on_hand` unless that would be below what is reserved; false when refused.
pub async fn set_on_hand(db: &impl ConnectionTrait, book: BookId, on_hand: i64) -> InventoryResult<bool> {
    let changed = execute(
        db,
        "stock",
        "UPDATE stock SET on_hand = ?, version = version + 1, updated_at = ? WHERE book_id = ? AND reserved <= ?",
        [on_hand.into(), Utc::now().into(), book.as_uuid().into(), on_hand.into()],
    )
    .await?;
    Ok(changed == 1)
}

/// Adds delivered or returned copies.
pub async fn add_on_hand(db: &impl ConnectionTrait, book: BookId, quantity: i64) -> InventoryResult<()> {
    execute(
        db,
        "stock",
        "UPDATE stock SET on_hand = on_hand + ?, version = version + 1, updated_at = ? WHERE book_id = ?",
        [quantity.into(), Utc::now().into(), book.as_uuid().into()],
    )
    .await?;
    Ok(())
}

/// Reads the levels of `books` (books without a row are absent from the answer).
pub async fn get_many(db: &impl ConnectionTrait, books: &[BookId]) -> InventoryResult<Vec<StockLevel>> {
    if books.is_empty() {
        return Ok(Vec::new());
    }
    let marks = placeholders(books.len());
    let sql = format!("SELECT book_id, on_hand, reserved, version FROM stock WHERE book_id IN ({marks})");
    let rows = query(db, "stock", &sql, books.iter().map(|book| book.as_uuid().into())).await?;
    rows.iter().map(level).collect()
}

/// [`get_many`] on SQLite's read connections (rusqlite on the blocking pool).
pub async fn get_many_sqlite(reads: &SqliteReads, books: &[BookId]) -> InventoryResult<Vec<StockLevel>> {
    if books.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT book_id, on_hand, reserved, version FROM stock WHERE book_id IN ({})",
        placeholders(books.len())
    );
    let ids: Vec<Uuid> = books.iter().map(|book| book.as_uuid()).collect();
    let levels = reads
        .read("stock", "stock", move |connection| {
            connection
                .prepare_cached(&sql)?
                .query_map(rusqlite::params_from_iter(ids.iter()), |row| {
                    // By position, as the SELECT lists them: rusqlite finds a name by
                    // comparing it with every column's, on every row.
                    Ok(StockLevel {
                        book_id: row.get::<_, Uuid>(0)?.into(),
                        on_hand: row.get(1)?,
                        reserved: row.get(2)?,
                        version: row.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .await?;
    Ok(levels)
}

/// Reads a row of [`get_many`]'s SELECT by position, as it lists the columns: sqlx finds a
/// name by hashing and comparing it, on every row.
fn level(row: &sea_orm::QueryResult) -> InventoryResult<StockLevel> {
    Ok(StockLevel {
        book_id: row.try_get_by_index::<Uuid>(0).classify("column")?.into(),
        on_hand: row.try_get_by_index(1).classify("column")?,
        reserved: row.try_get_by_index(2).classify("column")?,
        version: row.try_get_by_index(3).classify("column")?,
    })
}

/// Records that `order`'s copies of `book` came back, once: false when they already did
/// (a retried cancellation).
pub async fn fence_restock(
    db: &impl ConnectionTrait,
    order: OrderId,
    book: BookId,
    quantity: i64,
) -> InventoryResult<bool> {
    let fenced = execute(
        db,
        "restock",
        "INSERT INTO restock_fences (order_id, book_id, quantity) VALUES (?, ?, ?) ON CONFLICT (order_id, book_id) DO NOTHING",
        [order.as_uuid().into(), book.as_uuid().into(), quantity.into()],
    )
    .await?;
    Ok(fenced == 1)
}

/// Reads one book's level (zero when unknown).
pub async fn get(db: &impl ConnectionTrait, book: BookId) -> InventoryResult<StockLevel> {
    let levels = get_many(db, &[book]).await?;
    Ok(levels.first().copied().unwrap_or_else(|| StockLevel::zero(book)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn levels_on_the_sqlite_read_connections_are_those_sea_orm_reads() {
        let directory = std::env::temp_dir().join(format!("inventory-reads-{}", Uuid::new_v4().simple()));
        let url = format!("sqlite://{}/inventory.db?mode=rwc", directory.display());
        let db = platform::store::open_database::<crate::migration::Migrator>(&url, true)
            .await
            .unwrap();
        let reads = SqliteReads::open(&url).unwrap().expect("a SQLite URL");
        let books: Vec<BookId> = (0..5).map(|_| Uuid::now_v7().into()).collect();
        for (copies, book) in (0i64..).zip(&books[..4]) {
            ensure(&db, *book).await.unwrap();
            add_on_hand(&db, *book, copies * 3).await.unwrap();
        }
        // Some held: `reserved` and `version` differ from book to book.
        execute(
            &db,
            "stock",
            "UPDATE stock SET reserved = 2 WHERE on_hand >= 6",
            [],
        )
        .await
        .unwrap();
        let mut through_sea_orm = get_many(&db, &books).await.unwrap();
        let mut through_reads = get_many_sqlite(&reads, &books).await.unwrap();
        through_sea_orm.sort_by_key(|level| level.book_id.as_uuid());
        through_reads.sort_by_key(|level| level.book_id.as_uuid());
        assert_eq!(through_reads.len(), 4, "the book without a row is absent");
        assert_eq!(through_reads, through_sea_orm);
        assert!(
            through_reads
                .iter()
                .any(|level| level.reserved == 2 && level.on_hand == 9)
        );
        db.close().await.unwrap();
        let _ = std::fs::remove_dir_all(directory);
    }
}
