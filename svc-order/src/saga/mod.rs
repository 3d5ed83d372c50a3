//! The checkout saga. [`Saga::place`] checks the input, prices the cart, writes the order
//! PENDING and drives it; [`Saga::drive`] takes an order from whatever step is stored to
//! CONFIRMED or FAILED, persisting each step before the next starts, so the request and the
//! [`recovery`] loop run the very same code. Failures and cancellations go through
//! [`Saga::compensate`], which voids or refunds the payment and releases or restocks the
//! stock; every call it makes is idempotent, so running it twice is harmless.

mod compensate;
mod drive;
mod place;
pub mod recovery;

use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use crate::domain::HaltPoint;
use crate::error::{OrderError, OrderRefusal, OrderResult};
use crate::payments::Payments;
use crate::upstream::Upstreams;

pub use place::{Checkout, Shipping};

/// Timings of the saga.
#[derive(Debug, Clone, Copy)]
pub struct SagaSettings {
    /// How long inventory holds the stock without a Commit.
    pub reservation_ttl: Duration,
    /// How long the request that placed an order drives it alone; after that the recovery
    /// loop may take it over.
    pub lease: Duration,
    /// How often the recovery loop looks for stalled orders.
    pub recovery_interval: Duration,
}

/// A fault-injection point: the saga stops there, as if the process died, until the
/// service shuts down. Off unless configured (tests only).
#[derive(Debug, Clone)]
pub struct Halt {
    pub at: Option<HaltPoint>,
    pub shutdown: CancellationToken,
}

impl Halt {
    async fn check(&self, point: HaltPoint) -> OrderResult<()> {
        if self.at == Some(point) {
            tracing::warn!(?point, "saga halted by fault injection, waiting for shutdown");
            self.shutdown.cancelled().await;
            return Err(OrderError::from(OrderRefusal::Unavailable(
                "order service stopped during checkout".to_owned(),
            )));
        }
        Ok(())
    }
}

/// The handle the adapter and the recovery loop use.
#[derive(Debug, Clone)]
pub struct Saga {
    pub(crate) db: DatabaseConnection,
    pub(crate) upstreams: Upstreams,
    pub(crate) payments: Payments,
    pub(crate) settings: SagaSettings,
    pub(crate) halt: Halt,
}

impl Saga {
    /// Creates the handle.
    pub fn new(
        db: DatabaseConnection,
        upstreams: Upstreams,
        payments: Payments,
        settings: SagaSettings,
        halt: Halt,
    ) -> Self {
        Self {
            db,
            upstreams,
            payments,
            settings,
            halt,
        }
    }

    fn lease_ms(&self) -> i64 {
        i64::try_from(self.settings.lease.as_millis()).unwrap_or(i64::MAX)
    }
}
