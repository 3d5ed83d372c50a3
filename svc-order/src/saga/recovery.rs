//! The recovery loop: finds orders whose saga stalled (the process driving them died, or a
//! dependency was down) past their lease, claims each with a conditional update, so one
//! replica drives it, and drives it forward (authorized: commit, capture, confirm) or back
//! (not yet authorized: fail, void, release). Safe on any number of replicas.

use tokio_util::sync::CancellationToken;

use super::Saga;
use crate::error::OrderResult;
use crate::store::{now_ms, orders};

/// How many stalled orders one pass takes.
const BATCH: u64 = 50;

impl Saga {
    /// Runs passes every `recovery_interval` until `shutdown`.
    ///
    /// # Errors
    /// Never: a failed pass is logged and retried.
    pub async fn run_recovery(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut interval = tokio::time::interval(self.settings.recovery_interval);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                _ = interval.tick() => {}
            }
            if let Err(error) = self.recover_once().await {
                tracing::warn!(%error, "recovery pass failed");
            }
        }
    }

    /// One pass; returns how many orders it drove.
    ///
    /// # Errors
    /// Fails when the database cannot be read.
    pub async fn recover_once(&self) -> OrderResult<usize> {
        let now = now_ms();
        let mut driven = 0;
        for id in orders::stalled(&self.db, now, BATCH).await? {
            if !orders::claim(&self.db, id, now, now + self.lease_ms()).await? {
                continue;
            }
            driven += 1;
            match self.drive(id, None).await {
                Ok(order) => {
                    tracing::info!(order_id = %id, status = ?order.status, "stalled order recovered")
                }
                Err(error) => tracing::info!(order_id = %id, %error, "stalled order driven, not finished"),
            }
        }
        Ok(driven)
    }
}
