//! The sweeper: releases HELD reservations past their TTL. Safe on every replica at once:
//! each expiry is a conditional state change only one of them wins.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Inventory, commit, release_lines};
use crate::domain::ReservationState;
use crate::error::InventoryResult;
use crate::store::reservation;

/// What one sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepOutcome {
    Expired(usize),
    Idle,
}

impl Inventory {
    /// Expires what is due now (at most 100 reservations).
    ///
    /// # Errors
    /// Internal on a database failure; what was expired before it stays expired.
    pub async fn sweep_once(&self) -> InventoryResult<SweepOutcome> {
        let due = reservation::expired_held(&self.db, self.clock.now_ms(), 100).await?;
        let mut expired = 0;
        for id in due {
            let transaction = self.begin().await?;
            let Some(row) = reservation::transition(
                &transaction,
                id,
                ReservationState::Held,
                ReservationState::Expired,
                None,
            )
            .await?
            else {
                // Committed, released, or another replica expired it first.
                continue;
            };
            release_lines(&transaction, id, &row.lines, "expire", "sweeper").await?;
            commit(transaction).await?;
            expired += 1;
        }
        if expired == 0 {
            Ok(SweepOutcome::Idle)
        } else {
            self.wake_relay();
            Ok(SweepOutcome::Expired(expired))
        }
    }

    /// Reads how many reservations are held and overdue into the metrics.
    ///
    /// # Errors
    /// Internal on a database failure.
    pub async fn read_gauges(&self) -> InventoryResult<()> {
        let overdue_ms = i64::try_from(crate::metrics::OVERDUE_AFTER.as_millis()).unwrap_or(60_000);
        let (held, overdue) = reservation::held_counts(&self.db, self.clock.now_ms() - overdue_ms).await?;
        crate::metrics::reservations(held, overdue);
        Ok(())
    }

    /// Sweeps every `interval` until `shutdown`.
    ///
    /// # Errors
    /// Never: a failed sweep is logged and retried.
    pub async fn run_sweeper(self, interval: Duration, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut gauges_read: Option<std::time::Instant> = None;
        loop {
            match self.sweep_once().await {
                Ok(SweepOutcome::Expired(count)) => {
                    crate::metrics::expired(count);
                    tracing::info!(count, "expired reservations released");
                }
                Ok(SweepOutcome::Idle) => {}
                Err(error) => tracing::warn!(%error, "sweep failed, retrying"),
            }
            if gauges_read.is_none_or(|read| read.elapsed() >= crate::metrics::GAUGE_INTERVAL) {
                gauges_read = Some(std::time::Instant::now());
                if let Err(error) = self.read_gauges().await {
                    tracing::warn!(%error, "reservation gauges not read");
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                () = tokio::time::sleep(interval) => {}
            }
        }
    }
}
