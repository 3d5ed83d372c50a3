//! GetOrder, ListOrders (newest first, cursor pages) and WatchOrder. Watchers poll the
//! order's `version` in the database: every replica sees every change (whoever made it)
//! with no broker to run or subscribe to, and a watcher that reconnects misses nothing;
//! the cost is one primary-key read per watcher per interval.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use platform::auth::Principal;
use proto::types::{InvalidField, OrderId, UserId};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{Orders, details};
use crate::domain::order::{Order, OrderDetails, OrderPage};
use crate::error::{OrderError, OrderResult};
use crate::store::orders::{self, ListCursor};

/// Page size when the request gives none, and the most one page returns.
const DEFAULT_PAGE: u64 = 20;
const MAX_PAGE: u64 = 100;

fn encode(cursor: ListCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", cursor.0, cursor.1))
}

fn decode(token: &str) -> Result<ListCursor, InvalidField> {
    let invalid = || InvalidField::new("page.page_token", "is not a token this service issued");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (created, id) = text.split_once(':').ok_or_else(invalid)?;
    Ok((
        created.parse().map_err(|_| invalid())?,
        Uuid::parse_str(id).map_err(|_| invalid())?.into(),
    ))
}

impl Orders {
    /// One order with lines and history.
    ///
    /// # Errors
    /// `NotFound` when the caller may not see it.
    pub async fn get(&self, principal: &Principal, id: OrderId) -> OrderResult<OrderDetails> {
        let order = self.visible(principal, id).await?;
        let mut loaded = details(&self.saga.db, vec![order]).await?;
        loaded.pop().ok_or(OrderError::NotFound { entity: "order" })
    }

    /// Adds lines and history to an order the caller already holds and may see (the one
    /// PlaceOrder just placed for them), without reading it again.
    ///
    /// # Errors
    /// Fails when the database cannot be read or holds a broken row.
    pub async fn with_details(&self, order: Order) -> OrderResult<OrderDetails> {
        let mut loaded = details(&self.saga.db, vec![order]).await?;
        loaded.pop().ok_or(OrderError::NotFound { entity: "order" })
    }

    /// A page of `user`'s orders, newest first.
    ///
    /// # Errors
    /// `InvalidArgument` for a token this service did not issue.
    pub async fn list(&self, user: UserId, page_size: i32, page_token: &str) -> OrderResult<OrderPage> {
        let size = match u64::try_from(page_size) {
            Ok(0) => DEFAULT_PAGE,
            Ok(size) => size.min(MAX_PAGE),
            Err(_) => return Err(InvalidField::new("page.page_size", "must not be negative").into()),
        };
        let after = if page_token.is_empty() {
            None
        } else {
            Some(decode(page_token)?)
        };
        let (mut rows, total) = orders::list(&self.saga.db, user, after, size + 1).await?;
        let has_next = rows.len() as u64 > size;
        rows.truncate(usize::try_from(size).unwrap_or(usize::MAX));
        let cursors: Vec<String> = rows
            .iter()
            .map(|order| encode((order.created_at_ms, order.id)))
            .collect();
        Ok(OrderPage {
            orders: details(&self.saga.db, rows).await?,
            cursors,
            has_next_page: has_next,
            total,
        })
    }

    /// Streams the order now and after every change, until a terminal status was sent or
    /// the client goes away.
    ///
    /// # Errors
    /// `NotFound` when the caller may not see it.
    pub async fn watch(
        &self,
        principal: &Principal,
        id: OrderId,
    ) -> OrderResult<mpsc::Receiver<OrderResult<OrderDetails>>> {
        let first = self.visible(principal, id).await?;
        let (sender, receiver) = mpsc::channel(4);
        let orders = self.clone();
        tokio::spawn(async move {
            let mut seen = None;
            let mut current = Some(first);
            loop {
                if let Some(order) = current.take()
                    && seen != Some(order.version)
                {
                    seen = Some(order.version);
                    let terminal = order.status.is_terminal();
                    let message = details(&orders.saga.db, vec![order])
                        .await
                        .and_then(|mut loaded| loaded.pop().ok_or(OrderError::NotFound { entity: "order" }));
                    let failed = message.is_err();
                    if sender.send(message).await.is_err() || terminal || failed {
                        return;
                    }
                }
                tokio::select! {
                    () = sender.closed() => return,
                    () = tokio::time::sleep(orders.watch_poll) => {}
                }
                current = match orders::find(&orders.saga.db, id).await {
                    Ok(order) => order,
                    Err(error) => {
                        tracing::warn!(order_id = %id, %error, "watch read failed, retrying");
                        None
                    }
                };
            }
        });
        Ok(receiver)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_strangers_are_refused() {
        let cursor = (1_764_000_000_123, OrderId::generate());
        assert_eq!(decode(&encode(cursor)).unwrap(), cursor);
        assert_eq!(decode("nonsense!").unwrap_err().field, "page.page_token");
    }
}
