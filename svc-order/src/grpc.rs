//! The tonic adapter: parse the request, find the caller, call the saga or [`Orders`],
//! convert back. The only place that reads or builds this service's messages ([`wire`] holds
//! the conversions).

mod wire;

use std::pin::Pin;

use platform::auth::Principal;
use proto::order::v1 as pb;
use proto::order::v1::order_service_server::OrderService;
use proto::types::{OrderId, UserId};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt as _};
use tonic::{Request, Response, Status};

use self::wire::{checkout, order_to_wire, page_to_wire, status_from_wire};
use crate::error::OrderError;
use crate::ops::Orders;

/// `OrderService` over [`Orders`].
#[derive(Debug, Clone)]
pub struct OrderGrpc {
    orders: Orders,
}

impl OrderGrpc {
    /// Wraps the logic handle.
    pub fn new(orders: Orders) -> Self {
        Self { orders }
    }
}

/// The calling end user; services have no orders of their own.
fn caller<T>(request: &Request<T>) -> Result<UserId, OrderError> {
    Principal::of(request)
        .user_id()
        .ok_or(OrderError::NotFound { entity: "order" })
}

fn order_id(raw: &str) -> Result<OrderId, OrderError> {
    Ok(OrderId::parse("order_id", raw)?)
}

#[tonic::async_trait]
impl OrderService for OrderGrpc {
    async fn place_order(
        &self,
        request: Request<pb::PlaceOrderRequest>,
    ) -> Result<Response<pb::PlaceOrderResponse>, Status> {
        let user = caller(&request)?;
        let checkout = checkout(request.get_ref()).map_err(OrderError::from)?;
        let placed = self.orders.saga.place(user, checkout).await?;
        let order = self.orders.with_details(placed).await?;
        Ok(Response::new(pb::PlaceOrderResponse {
            order: Some(order_to_wire(order)),
        }))
    }

    async fn get_order(
        &self,
        request: Request<pb::GetOrderRequest>,
    ) -> Result<Response<pb::GetOrderResponse>, Status> {
        let id = order_id(&request.get_ref().order_id)?;
        let order = self.orders.get(&Principal::of(&request), id).await?;
        Ok(Response::new(pb::GetOrderResponse {
            order: Some(order_to_wire(order)),
        }))
    }

    async fn list_orders(
        &self,
        request: Request<pb::ListOrdersRequest>,
    ) -> Result<Response<pb::ListOrdersResponse>, Status> {
        let principal = Principal::of(&request);
        let own = caller(&request)?;
        let user = match &request.get_ref().user_id {
            None => own,
            Some(raw) => {
                let user = UserId::parse("user_id", raw).map_err(OrderError::from)?;
                if user != own && !principal.is_admin() {
                    return Err(Status::permission_denied(
                        "only an admin may list another user's orders",
                    ));
                }
                user
            }
        };
        let page = request.get_ref().page.clone().unwrap_or_default();
        let listed = self.orders.list(user, page.page_size, &page.page_token).await?;
        Ok(Response::new(page_to_wire(listed)))
    }

    type WatchOrderStream = Pin<Box<dyn Stream<Item = Result<pb::WatchOrderResponse, Status>> + Send>>;

    async fn watch_order(
        &self,
        request: Request<pb::WatchOrderRequest>,
    ) -> Result<Response<Self::WatchOrderStream>, Status> {
        let id = order_id(&request.get_ref().order_id)?;
        let receiver = self.orders.watch(&Principal::of(&request), id).await?;
        let updates = ReceiverStream::new(receiver).map(|update| {
            update
                .map(|order| pb::WatchOrderResponse {
                    order: Some(order_to_wire(order)),
                })
                .map_err(Status::from)
        });
        Ok(Response::new(Box::pin(updates)))
    }

    async fn cancel_order(
        &self,
        request: Request<pb::CancelOrderRequest>,
    ) -> Result<Response<pb::CancelOrderResponse>, Status> {
        let id = order_id(&request.get_ref().order_id)?;
        let order = self
            .orders
            .cancel(&Principal::of(&request), id, &request.get_ref().reason)
            .await?;
        Ok(Response::new(pb::CancelOrderResponse {
            order: Some(order_to_wire(order)),
        }))
    }

    async fn update_order_status(
        &self,
        request: Request<pb::UpdateOrderStatusRequest>,
    ) -> Result<Response<pb::UpdateOrderStatusResponse>, Status> {
        let id = order_id(&request.get_ref().order_id)?;
        let status = status_from_wire(request.get_ref().status).map_err(OrderError::from)?;
        let order = self
            .orders
            .update_status(&Principal::of(&request), id, status, &request.get_ref().note)
            .await?;
        Ok(Response::new(pb::UpdateOrderStatusResponse {
            order: Some(order_to_wire(order)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proto::prost::Message as _;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn any_bytes_decode_and_check_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(request) = pb::PlaceOrderRequest::decode(bytes.as_slice()) {
                let _ = checkout(&request);
            }
            if let Ok(request) = pb::GetOrderRequest::decode(bytes.as_slice()) {
                let _ = order_id(&request.order_id);
            }
        }
    }
}
