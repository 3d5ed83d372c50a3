//! What the adapter calls beyond checkout: reading and watching orders ([`tracking`]) and
//! moving them along fulfilment or cancelling them ([`fulfilment`]). Someone else's order
//! reads as NOT_FOUND, as anywhere in the mesh.

pub mod fulfilment;
pub mod tracking;

use std::time::Duration;

use platform::auth::Principal;
use uuid::Uuid;

use crate::error::{OrderError, OrderResult};
use crate::saga::Saga;
use crate::store::orders::{self, OrderRow};

/// The handle of svc-order's RPCs.
#[derive(Debug, Clone)]
pub struct Orders {
    pub saga: Saga,
    /// How often a watcher re-reads its order.
    pub watch_poll: Duration,
}

impl Orders {
    /// Reads an order the caller may see.
    ///
    /// # Errors
    /// `NotFound` when it does not exist or is someone else's (for a non-admin).
    pub async fn visible(&self, principal: &Principal, id: Uuid) -> OrderResult<OrderRow> {
        let order = orders::find(&self.saga.db, id)
            .await?
            .ok_or(OrderError::NotFound { entity: "order" })?;
        let owner = principal.user_id().map(|user| user.as_uuid());
        if owner == Some(order.user_id) || principal.is_admin() {
            Ok(order)
        } else {
            Err(OrderError::NotFound { entity: "order" })
        }
    }
}
