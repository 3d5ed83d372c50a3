//! The stock ledger: one row per change of `on_hand` or `reserved`, in the same transaction
//! as the change, so the stock can always be recomputed from it.

use chrono::Utc;
use proto::types::{BookId, ReservationId};
use sea_orm::ConnectionTrait;

use crate::error::InventoryResult;
use platform::store::execute;

/// One change to append.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub book_id: BookId,
    pub delta_on_hand: i64,
    pub delta_reserved: i64,
    /// `reserve`, `commit`, `release`, `expire`, `set_stock`, `restock`, or the caller's reason.
    pub reason: &'a str,
    pub reservation_id: Option<ReservationId>,
    /// Who caused it: `order`, an admin's user id, `sweeper`.
    pub actor: &'a str,
}

/// Appends an entry.
pub async fn append(db: &impl ConnectionTrait, entry: Entry<'_>) -> InventoryResult<()> {
    execute(
        db,
        "ledger",
        "INSERT INTO ledger (book_id, delta_on_hand, delta_reserved, reason, reservation_id, actor, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            entry.book_id.as_uuid().into(),
            entry.delta_on_hand.into(),
            entry.delta_reserved.into(),
            entry.reason.to_owned().into(),
            entry.reservation_id.map(|id| id.as_uuid()).into(),
            entry.actor.to_owned().into(),
            Utc::now().into(),
        ],
    )
    .await?;
    Ok(())
}
