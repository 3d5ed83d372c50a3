//! What the adapter calls beyond checkout: reading and watching orders ([`tracking`]) and
//! moving them along fulfilment or cancelling them ([`fulfilment`]), in domain types.
//! Someone else's order reads as NOT_FOUND, as anywhere in the mesh.

pub mod fulfilment;
pub mod tracking;

use std::collections::HashMap;
use std::time::Duration;

use platform::auth::Principal;
use proto::types::OrderId;
use sea_orm::ConnectionTrait;

use crate::domain::order::{Order, OrderDetails, OrderEvent, OrderLine};
use crate::error::{OrderError, OrderResult};
use crate::saga::Saga;
use crate::store::orders;

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
    pub async fn visible(&self, principal: &Principal, id: OrderId) -> OrderResult<Order> {
        let order = orders::find(&self.saga.db, id)
            .await?
            .ok_or(OrderError::NotFound { entity: "order" })?;
        if principal.user_id() == Some(order.user_id) || principal.is_admin() {
            Ok(order)
        } else {
            Err(OrderError::NotFound { entity: "order" })
        }
    }
}

/// Loads lines and history for `rows`, keeping their order: one query each for any number
/// of orders.
///
/// # Errors
/// Fails when the database cannot be read or holds a broken row.
pub async fn details(db: &impl ConnectionTrait, rows: Vec<Order>) -> OrderResult<Vec<OrderDetails>> {
    let mut lines: HashMap<OrderId, Vec<OrderLine>> = HashMap::new();
    for (id, line) in orders::lines(db, &rows).await? {
        lines.entry(id).or_default().push(line);
    }
    let ids: Vec<OrderId> = rows.iter().map(|order| order.id).collect();
    let mut history: HashMap<OrderId, Vec<OrderEvent>> = HashMap::new();
    for (id, event) in orders::events(db, &ids).await? {
        history.entry(id).or_default().push(event);
    }
    Ok(rows
        .into_iter()
        .map(|order| OrderDetails {
            lines: lines.remove(&order.id).unwrap_or_default(),
            history: history.remove(&order.id).unwrap_or_default(),
            order,
        })
        .collect())
}
