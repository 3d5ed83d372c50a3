//! The tonic adapter: parse the request, find the caller, call [`Saga`] or [`Orders`].

use platform::auth::Principal;
use proto::address::NewAddress;
use proto::order::v1 as pb;
use proto::order::v1::order_service_server::OrderService;
use proto::types::{OrderId, UserId};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::parse_idempotency_key;
use crate::domain::payment::PaymentMethod;
use crate::error::OrderError;
use crate::ops::Orders;
use crate::saga::{Checkout, Shipping};

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
fn caller<T>(request: &Request<T>) -> Result<Uuid, OrderError> {
    Principal::of(request)
        .user_id()
        .map(|user| user.as_uuid())
        .ok_or(OrderError::NotFound { entity: "order" })
}

fn order_id(raw: &str) -> Result<Uuid, OrderError> {
    Ok(OrderId::parse("order_id", raw)?.as_uuid())
}

fn checkout(request: &pb::PlaceOrderRequest) -> Result<Checkout, OrderError> {
    let idempotency_key = parse_idempotency_key(&request.idempotency_key)?;
    let shipping = match &request.shipping {
        Some(pb::place_order_request::Shipping::ShippingAddress(address)) => {
            Shipping::Address(NewAddress::parse_at("shipping_address", Some(address))?)
        }
        Some(pb::place_order_request::Shipping::AddressId(id)) => {
            let id = Uuid::parse_str(id.trim())
                .map_err(|_| proto::types::InvalidField::new("address_id", "must be a UUID"))?;
            Shipping::Saved(id.to_string())
        }
        None => {
            return Err(proto::types::InvalidField::new(
                "shipping_address",
                "a shipping_address or an address_id is required",
            )
            .into());
        }
    };
    let payment = PaymentMethod::parse(request.payment.as_ref(), chrono::Utc::now().date_naive())?;
    Ok(Checkout {
        idempotency_key,
        shipping,
        payment,
    })
}

#[tonic::async_trait]
impl OrderService for OrderGrpc {
    async fn place_order(
        &self,
        request: Request<pb::PlaceOrderRequest>,
    ) -> Result<Response<pb::PlaceOrderResponse>, Status> {
        let user = caller(&request)?;
        let checkout = checkout(request.get_ref())?;
        let placed = self.orders.saga.place(user, checkout).await?;
        let order = self.orders.get(&Principal::of(&request), placed.id).await?;
        Ok(Response::new(pb::PlaceOrderResponse { order: Some(order) }))
    }

    async fn get_order(
        &self,
        request: Request<pb::GetOrderRequest>,
    ) -> Result<Response<pb::GetOrderResponse>, Status> {
        let id = order_id(&request.get_ref().order_id)?;
        let order = self.orders.get(&Principal::of(&request), id).await?;
        Ok(Response::new(pb::GetOrderResponse { order: Some(order) }))
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
                let user = UserId::parse("user_id", raw).map_err(OrderError::from)?.as_uuid();
                if user != own && !principal.is_admin() {
                    return Err(Status::permission_denied(
                        "only an admin may list another user's orders",
                    ));
                }
                user
            }
        };
        Ok(Response::new(
            self.orders.list(user, request.get_ref().page.as_ref()).await?,
        ))
    }

    type WatchOrderStream = ReceiverStream<Result<pb::WatchOrderResponse, Status>>;

    async fn watch_order(
        &self,
        request: Request<pb::WatchOrderRequest>,
    ) -> Result<Response<Self::WatchOrderStream>, Status> {
        let id = order_id(&request.get_ref().order_id)?;
        let receiver = self.orders.watch(&Principal::of(&request), id).await?;
        Ok(Response::new(ReceiverStream::new(receiver)))
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
        Ok(Response::new(pb::CancelOrderResponse { order: Some(order) }))
    }

    async fn update_order_status(
        &self,
        request: Request<pb::UpdateOrderStatusRequest>,
    ) -> Result<Response<pb::UpdateOrderStatusResponse>, Status> {
        let id = order_id(&request.get_ref().order_id)?;
        let order = self
            .orders
            .update_status(
                &Principal::of(&request),
                id,
                request.get_ref().status,
                &request.get_ref().note,
            )
            .await?;
        Ok(Response::new(pb::UpdateOrderStatusResponse {
            order: Some(order),
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
