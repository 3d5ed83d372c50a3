//! The `stock` table: `on_hand`, `reserved`, and `available = on_hand - reserved`, with the
//! CHECKs `on_hand >= 0`, `reserved >= 0`, `reserved <= on_hand` behind every update.

use chrono::Utc;
use proto::types::{BookId, OrderId};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::domain::StockLevel;
use crate::error::InventoryResult;
use platform::store::{column, execute, placeholders, query};

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

fn level(row: &sea_orm::QueryResult) -> InventoryResult<StockLevel> {
    Ok(StockLevel {
        book_id: column::<Uuid>(row, "book_id")?.into(),
        on_hand: column(row, "on_hand")?,
        reserved: column(row, "reserved")?,
        version: column(row, "version")?,
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
