//! The tonic adapter: convert the wire to domain types, call [`Inventory`], convert back.
//! The only place that reads or builds protobuf messages.

use std::time::Duration;

use platform::auth::Principal;
use proto::inventory::v1 as pb;
use proto::inventory::v1::inventory_service_server::InventoryService;
use proto::types::{BookId, InvalidField, OrderId, ReservationId};
use tonic::{Request, Response, Status};

use crate::domain::{Reservation, ReservationState, ReserveLine, StockLevel, checked_lines};
use crate::error::InventoryError;
use crate::ops::Inventory;
use crate::ops::reserve::Reserve;
use crate::ops::settle::ReleaseTarget;

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

fn state_to_wire(state: ReservationState) -> pb::ReservationState {
    match state {
        ReservationState::Held => pb::ReservationState::Held,
        ReservationState::Committed => pb::ReservationState::Committed,
        ReservationState::Released => pb::ReservationState::Released,
        ReservationState::Expired => pb::ReservationState::Expired,
    }
}

fn reservation_to_wire(row: Reservation) -> pb::Reservation {
    pb::Reservation {
        reservation_id: row.id.to_string(),
        order_id: row.order_id.to_string(),
        state: state_to_wire(row.state).into(),
        lines: row
            .lines
            .iter()
            .map(|line| pb::ReserveLine {
                book_id: line.book_id.to_string(),
                // Checked lines hold at most 1000 copies.
                quantity: i32::try_from(line.quantity).unwrap_or(i32::MAX),
            })
            .collect(),
        expires_at: Some(proto::types::timestamp_millis(row.expires_at_ms)),
    }
}

/// Parses the wire lines, naming each bad field, and checks them (see [`checked_lines`]).
///
/// # Errors
/// Returns [`InvalidField`] for the first bad line or a rule the lines break.
pub fn lines_from_wire(wire: &[pb::ReserveLine]) -> Result<Vec<ReserveLine>, InvalidField> {
    checked_lines(wire.iter().enumerate().map(|(index, line)| {
        Ok(ReserveLine {
            book_id: BookId::parse(&format!("lines[{index}].book_id"), &line.book_id)?,
            quantity: i64::from(line.quantity),
        })
    }))
}

fn book(field: &str, raw: &str) -> Result<BookId, InventoryError> {
    Ok(BookId::parse(field, raw)?)
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
                return Err(InventoryError::from(InvalidField::new(
                    "ttl_seconds",
                    "must be between 1 and 86400",
                ))
                .into());
            }
        };
        let command = Reserve {
            order_id: OrderId::parse("order_id", &message.order_id).map_err(InventoryError::from)?,
            lines: lines_from_wire(&message.lines).map_err(InventoryError::from)?,
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
        let reservation = self.inventory.commit(id, &actor).await?;
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
                ReservationId::parse("reservation_id", raw).map_err(InventoryError::from)?,
            ),
            Some(pb::release_request::Target::OrderId(raw)) => {
                ReleaseTarget::Order(OrderId::parse("order_id", raw).map_err(InventoryError::from)?)
            }
            None => {
                return Err(InventoryError::from(InvalidField::new(
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
            Some(raw) => Some(OrderId::parse("order_id", raw).map_err(InventoryError::from)?),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn line(book: &str, quantity: i32) -> pb::ReserveLine {
        pb::ReserveLine {
            book_id: book.to_owned(),
            quantity,
        }
    }

    #[test]
    fn lines_are_merged_and_sorted_so_locks_are_taken_in_one_order() {
        let low = "00000000-0000-7000-8000-000000000001";
        let high = "ffffffff-0000-7000-8000-000000000001";
        let lines = lines_from_wire(&[line(high, 1), line(low, 2), line(high, 3)]).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].book_id.to_string(), low);
        assert_eq!(lines[1].quantity, 4);
    }

    #[test]
    fn bad_lines_name_the_field() {
        let book = "00000000-0000-7000-8000-000000000001";
        let cases = [
            (vec![], "lines"),
            (vec![line("x", 1)], "lines[0].book_id"),
            (vec![line(book, 0)], "lines[0].quantity"),
            (vec![line(book, 1001)], "lines[0].quantity"),
            (vec![line(book, 600), line(book, 600)], "lines"),
        ];
        for (wire, field) in cases {
            assert_eq!(lines_from_wire(&wire).unwrap_err().field, field);
        }
    }

    mod properties {
        use proptest::prelude::*;
        use proto::prost::Message as _;

        use super::super::lines_from_wire;
        use super::{line, pb};
        use crate::domain::MAX_QUANTITY;

        /// A few book ids, so lines of one book meet and merge.
        const BOOKS: [&str; 3] = [
            "00000000-0000-7000-8000-000000000001",
            "7fffffff-0000-7000-8000-000000000001",
            "ffffffff-0000-7000-8000-000000000001",
        ];

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2_000))]

            #[test]
            fn any_bytes_decode_and_check_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
                if let Ok(request) = pb::ReserveRequest::decode(bytes.as_slice()) {
                    let _ = lines_from_wire(&request.lines);
                }
            }

            #[test]
            fn checked_lines_are_sorted_distinct_and_bounded(
                wire in proptest::collection::vec((0_usize..3, any::<i32>()), 0..8),
            ) {
                let wire: Vec<pb::ReserveLine> = wire.into_iter().map(|(book, quantity)| line(BOOKS[book], quantity)).collect();
                if let Ok(lines) = lines_from_wire(&wire) {
                    prop_assert!(lines.windows(2).all(|pair| pair[0].book_id < pair[1].book_id));
                    prop_assert!(lines.iter().all(|line| (1..=MAX_QUANTITY).contains(&line.quantity)));
                    let total: i64 = wire.iter().map(|line| i64::from(line.quantity)).sum();
                    prop_assert_eq!(lines.iter().map(|line| line.quantity).sum::<i64>(), total);
                }
            }
        }
    }
}
