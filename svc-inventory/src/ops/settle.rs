//! `Commit` and `Release`: the second phase. Both are idempotent; each is a conditional state
//! change first, so two racing calls cannot both move stock.

use proto::types::{OrderId, ReservationId};

use super::{Inventory, commit, release_lines};
use crate::domain::{Reservation, ReservationState};
use crate::error::{InventoryError, InventoryRefusal, InventoryResult};
use crate::store::phases;
use crate::store::reservation;

/// Which reservation to release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseTarget {
    Reservation(ReservationId),
    /// By order, when the caller lost the reservation id (or never got one).
    Order(OrderId),
}

impl Inventory {
    /// Sells a HELD reservation's copies (`on_hand -= q`, `reserved -= q`).
    ///
    /// # Errors
    /// `NotFound` for an unknown reservation; `FailedPrecondition` for one that expired or was
    /// released (nothing changes).
    #[tracing::instrument(name = "inventory.commit", skip_all, fields(reservation_id = %id))]
    pub async fn commit(&self, id: ReservationId, actor: &str) -> InventoryResult<Reservation> {
        let now = self.clock.now_ms();
        // One round trip on PostgreSQL; one batch in a transaction on SQLite.
        let transaction = self.begin_if_batched().await?;
        let moved = match &transaction {
            Some(transaction) => phases::commit(transaction, id, now, actor).await?,
            None => phases::commit(&self.db, id, now, actor).await?,
        };
        let Some(row) = moved else {
            drop(transaction);
            let row = self.find(id).await?;
            return match row.state {
                ReservationState::Committed => Ok(row),
                ReservationState::Held => Err(InventoryError::from(InventoryRefusal::FailedPrecondition(
                    "reservation expired".to_owned(),
                ))),
                other => Err(InventoryError::from(InventoryRefusal::FailedPrecondition(
                    format!("reservation is {}", other.as_str().to_lowercase()),
                ))),
            };
        };
        if let Some(transaction) = transaction {
            commit(transaction).await?;
        }
        self.wake_relay();
        Ok(row)
    }

    /// Gives a HELD reservation's copies back. Releasing by order an order that was never
    /// reserved records a tombstone, so a late Reserve for it is refused.
    ///
    /// # Errors
    /// `NotFound` for an unknown reservation id; `FailedPrecondition` for a committed one.
    #[tracing::instrument(name = "inventory.release", skip_all)]
    pub async fn release(
        &self,
        target: ReleaseTarget,
        reason: &str,
        actor: &str,
    ) -> InventoryResult<Reservation> {
        let transaction = self.begin().await?;
        let id = match target {
            ReleaseTarget::Reservation(id) => id,
            ReleaseTarget::Order(order) => {
                if reservation::insert_tombstone(&transaction, order).await? {
                    let tombstone = reservation::find_by_order(&transaction, order).await?.ok_or(
                        InventoryError::NotFound {
                            entity: "reservation",
                        },
                    )?;
                    commit(transaction).await?;
                    tracing::info!(order_id = %order, "released before reserved, tombstone recorded");
                    return Ok(tombstone);
                }
                reservation::find_by_order(&transaction, order)
                    .await?
                    .ok_or(InventoryError::NotFound {
                        entity: "reservation",
                    })?
                    .id
            }
        };
        let Some(row) = reservation::transition(
            &transaction,
            id,
            ReservationState::Held,
            ReservationState::Released,
            None,
        )
        .await?
        else {
            drop(transaction);
            let row = self.find(id).await?;
            return match row.state {
                ReservationState::Released | ReservationState::Expired => Ok(row),
                ReservationState::Committed => {
                    Err(InventoryError::from(InventoryRefusal::FailedPrecondition(
                        "reservation is committed; return stock with Restock".to_owned(),
                    )))
                }
                ReservationState::Held => Err(InventoryError::from(InventoryRefusal::Conflict(
                    "reservation changed meanwhile, retry",
                ))),
            };
        };
        let reason = if reason.is_empty() { "release" } else { reason };
        release_lines(&transaction, id, &row.lines, reason, actor).await?;
        commit(transaction).await?;
        self.wake_relay();
        Ok(row)
    }

    async fn find(&self, id: ReservationId) -> InventoryResult<Reservation> {
        reservation::find(&self.db, id)
            .await?
            .ok_or(InventoryError::NotFound {
                entity: "reservation",
            })
    }
}
