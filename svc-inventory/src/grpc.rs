//! The tonic adapter: convert, call [`Inventory`], convert back.

use std::time::Duration;

use platform::auth::Principal;
use proto::inventory::v1 as pb;
use proto::inventory::v1::inventory_service_server::InventoryService;
use proto::types::{BookId, OrderId, ReservationId};
use tonic::{Request, Response, Status};

use crate::domain::parse_lines;
use crate::error::InventoryError;
use crate::ops::Inventory;
use crate::ops::reserve::Reserve;
use crate::ops::settle::ReleaseTarget;
use crate::store::reservation::ReservationRow;
use crate::store::stock::StockLevel;

/// `InventoryService` over [`Inventory`].
#[derive(Debug, Clone)]
pub struct InventoryGrpc {
    inventory: Inventory,
}

impl InventoryGrpc {
    /// Wraps the logic handle.
    pub fn new(inventory: Inventory) -> Self {
        Self { inventory }
    }
}

/// Names the caller in the ledger: the service, or the admin's user id.
fn actor<T>(request: &Request<T>) -> String {
    match request.extensions().get::<Principal>() {
        Some(Principal::Service { name }) => name.clone(),
        Some(Principal::User { id, .. }) => id.to_string(),
        _ => "anonymous".to_owned(),
    }
}

fn stock_to_wire(level: StockLevel) -> pb::Stock {
    pb::Stock {
        book_id: level.book_id.to_string(),
        on_hand: level.on_hand,
        reserved: level.reserved,
        available: level.available(),
    }
}

fn reservation_to_wire(row: ReservationRow) -> pb::Reservation {
    pb::Reservation {
        reservation_id: row.id.to_string(),
        order_id: row.order_id.to_string(),
        state: row.state.to_wire() as i32,
        lines: row
            .lines
            .iter()
            .map(|line| pb::ReserveLine {
                book_id: line.book_id.to_string(),
                quantity: i32::try_from(line.quantity).unwrap_or(i32::MAX),
            })
            .collect(),
        expires_at: Some(prost_types::Timestamp {
            seconds: row.expires_at_ms.div_euclid(1000),
            nanos: i32::try_from(row.expires_at_ms.rem_euclid(1000) * 1_000_000).unwrap_or_default(),
        }),
    }
}

fn book(field: &str, raw: &str) -> Result<uuid::Uuid, InventoryError> {
    Ok(BookId::parse(field, raw)?.as_uuid())
}

#[tonic::async_trait]
impl InventoryService for InventoryGrpc {
    async fn get_stock(
        &self,
        request: Request<pb::GetStockRequest>,
    ) -> Result<Response<pb::GetStockResponse>, Status> {
        let level = self
            .inventory
            .get_stock(book("book_id", &request.get_ref().book_id)?)
            .await?;
        Ok(Response::new(pb::GetStockResponse {
            stock: Some(stock_to_wire(level)),
        }))
    }

    async fn batch_get_stock(
        &self,
        request: Request<pb::BatchGetStockRequest>,
    ) -> Result<Response<pb::BatchGetStockResponse>, Status> {
        let mut books = Vec::new();
        for (index, raw) in request.get_ref().book_ids.iter().enumerate() {
            books.push(book(&format!("book_ids[{index}]"), raw)?);
        }
        let levels = self.inventory.batch_get_stock(&books).await?;
        let stocks = levels.into_iter().map(stock_to_wire).collect();
        Ok(Response::new(pb::BatchGetStockResponse { stocks }))
    }

    async fn reserve(
        &self,
        request: Request<pb::ReserveRequest>,
    ) -> Result<Response<pb::ReserveResponse>, Status> {
        let actor = actor(&request);
        let message = request.into_inner();
        let ttl = match message.ttl_seconds {
            0 => None,
            seconds if (1..=86_400).contains(&seconds) => {
                Some(Duration::from_secs(u64::try_from(seconds).unwrap_or(1)))
            }
            _ => {
                return Err(InventoryError::from(proto::types::InvalidField::new(
                    "ttl_seconds",
                    "must be between 1 and 86400",
                ))
                .into());
            }
        };
        let command = Reserve {
            order_id: OrderId::parse("order_id", &message.order_id)
                .map_err(InventoryError::from)?
                .as_uuid(),
            lines: parse_lines(&message.lines).map_err(InventoryError::from)?,
            ttl,
            actor,
        };
        let reservation = self.inventory.reserve(command).await?;
        Ok(Response::new(pb::ReserveResponse {
            reservation: Some(reservation_to_wire(reservation)),
        }))
    }

    async fn commit(
        &self,
        request: Request<pb::CommitRequest>,
    ) -> Result<Response<pb::CommitResponse>, Status> {
        let actor = actor(&request);
        let id = ReservationId::parse("reservation_id", &request.get_ref().reservation_id)
            .map_err(InventoryError::from)?;
        let reservation = self.inventory.commit(id.as_uuid(), &actor).await?;
        Ok(Response::new(pb::CommitResponse {
            reservation: Some(reservation_to_wire(reservation)),
        }))
    }

    async fn release(
        &self,
        request: Request<pb::ReleaseRequest>,
    ) -> Result<Response<pb::ReleaseResponse>, Status> {
        let actor = actor(&request);
        let message = request.into_inner();
        let target = match &message.target {
            Some(pb::release_request::Target::ReservationId(raw)) => ReleaseTarget::Reservation(
                ReservationId::parse("reservation_id", raw)
                    .map_err(InventoryError::from)?
                    .as_uuid(),
            ),
            Some(pb::release_request::Target::OrderId(raw)) => ReleaseTarget::Order(
                OrderId::parse("order_id", raw)
                    .map_err(InventoryError::from)?
                    .as_uuid(),
            ),
            None => {
                return Err(InventoryError::from(proto::types::InvalidField::new(
                    "target",
                    "name a reservation_id or an order_id",
                ))
                .into());
            }
        };
        let reservation = self.inventory.release(target, &message.reason, &actor).await?;
        Ok(Response::new(pb::ReleaseResponse {
            reservation: Some(reservation_to_wire(reservation)),
        }))
    }

    async fn set_stock(
        &self,
        request: Request<pb::SetStockRequest>,
    ) -> Result<Response<pb::SetStockResponse>, Status> {
        let actor = actor(&request);
        let message = request.into_inner();
        let level = self
            .inventory
            .set_stock(
                book("book_id", &message.book_id)?,
                message.on_hand,
                &message.reason,
                &actor,
            )
            .await?;
        Ok(Response::new(pb::SetStockResponse {
            stock: Some(stock_to_wire(level)),
        }))
    }

    async fn restock(
        &self,
        request: Request<pb::RestockRequest>,
    ) -> Result<Response<pb::RestockResponse>, Status> {
        let actor = actor(&request);
        let message = request.into_inner();
        let order = match &message.order_id {
            Some(raw) => Some(
                OrderId::parse("order_id", raw)
                    .map_err(InventoryError::from)?
                    .as_uuid(),
            ),
            None => None,
        };
        let level = self
            .inventory
            .restock(
                book("book_id", &message.book_id)?,
                message.quantity,
                &message.reason,
                order,
                &actor,
            )
            .await?;
        Ok(Response::new(pb::RestockResponse {
            stock: Some(stock_to_wire(level)),
        }))
    }
}
