//! Checkout, cancellation and the live order feed.

use async_graphql::{Context, ID, InputObject, Object, Result, Subscription};
use futures::{Stream, StreamExt as _};
use proto::order::v1 as pb;

use super::account::AddressInput;
use super::caller::Caller;
use super::catalog::page;
use super::errors::{bad_input, from_status};
use super::types::{Order, OrderConnection, OrderEdge, PageInfo};
use super::upstreams;

#[derive(Debug, Clone, InputObject)]
pub struct CardInput {
    pub number: String,
    pub exp_month: i32,
    pub exp_year: i32,
    pub cvc: String,
    pub holder: Option<String>,
}

#[derive(Debug, Clone, InputObject)]
pub struct PaypalInput {
    pub email: String,
}

/// Exactly one of `card` or `paypal`.
#[derive(Debug, Clone, InputObject)]
pub struct PaymentInput {
    pub card: Option<CardInput>,
    pub paypal: Option<PaypalInput>,
}

#[derive(Debug, Clone, InputObject)]
pub struct PlaceOrderInput {
    /// The same key from the same user returns the same order.
    pub idempotency_key: String,
    /// Or `addressId`.
    pub shipping_address: Option<AddressInput>,
    pub address_id: Option<ID>,
    pub payment: PaymentInput,
}

fn payment(input: PaymentInput) -> Result<pb::PaymentMethod> {
    let method = match (input.card, input.paypal) {
        (Some(card), None) => pb::payment_method::Method::Card(pb::Card {
            number: card.number,
            exp_month: card.exp_month,
            exp_year: card.exp_year,
            cvc: card.cvc,
            holder: card.holder.unwrap_or_default(),
        }),
        (None, Some(paypal)) => pb::payment_method::Method::Paypal(pb::Paypal { email: paypal.email }),
        _ => return Err(bad_input("payment", "give exactly one of card or paypal")),
    };
    Ok(pb::PaymentMethod { method: Some(method) })
}

fn shipping(input: &PlaceOrderInput) -> Result<pb::place_order_request::Shipping> {
    match (&input.shipping_address, &input.address_id) {
        (Some(address), None) => Ok(pb::place_order_request::Shipping::ShippingAddress(
            address.to_wire(),
        )),
        (None, Some(id)) => Ok(pb::place_order_request::Shipping::AddressId(id.to_string())),
        _ => Err(bad_input(
            "shippingAddress",
            "give exactly one of shippingAddress or addressId",
        )),
    }
}

#[derive(Debug, Default)]
pub struct OrderMutation;

#[Object]
impl OrderMutation {
    /// Checks out the caller's cart.
    async fn place_order(&self, context: &Context<'_>, input: PlaceOrderInput) -> Result<Order> {
        let caller = Caller::of(context)?;
        caller.user()?;
        let shipping = shipping(&input)?;
        let request = caller.request(pb::PlaceOrderRequest {
            idempotency_key: input.idempotency_key,
            shipping: Some(shipping),
            payment: Some(payment(input.payment)?),
        });
        let response = upstreams(context)?
            .order()
            .place_order(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner();
        Order::from_wire(response.order.as_ref())
    }

    async fn cancel_order(&self, context: &Context<'_>, id: ID) -> Result<Order> {
        let caller = Caller::of(context)?;
        caller.user()?;
        let request = caller.request(pb::CancelOrderRequest {
            order_id: id.to_string(),
            reason: String::new(),
        });
        let response = upstreams(context)?
            .order()
            .cancel_order(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner();
        Order::from_wire(response.order.as_ref())
    }
}

#[derive(Debug)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// The order now, then after every change, until it reaches a terminal status.
    async fn order_updated(
        &self,
        context: &Context<'_>,
        id: ID,
    ) -> Result<impl Stream<Item = Result<Order>>> {
        let caller = Caller::of(context)?;
        caller.user()?;
        // A watch outlives the request deadline: only the connect is bounded.
        let mut request = caller.request(pb::WatchOrderRequest {
            order_id: id.to_string(),
        });
        request.set_timeout(std::time::Duration::from_secs(24 * 3600));
        let stream = upstreams(context)?
            .order()
            .watch_order(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner();
        Ok(stream.map(|message| match message {
            Ok(message) => Order::from_wire(message.order.as_ref()),
            Err(status) => Err(from_status(&status)),
        }))
    }
}

/// The orders' part of the `Query` root.
#[derive(Debug, Default)]
pub struct OrderQuery;

#[Object]
impl OrderQuery {
    /// Only the owner (or an admin) sees it.
    async fn order(&self, context: &Context<'_>, id: ID) -> Result<Option<Order>> {
        let caller = Caller::of(context)?;
        caller.user()?;
        let request = caller.request(pb::GetOrderRequest {
            order_id: id.to_string(),
        });
        match upstreams(context)?.order().get_order(request).await {
            Ok(response) => Order::from_wire(response.into_inner().order.as_ref()).map(Some),
            Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
            Err(status) if status.code() == tonic::Code::InvalidArgument => Ok(None),
            Err(status) => Err(from_status(&status)),
        }
    }

    /// The caller's orders, newest first.
    #[graphql(complexity = "(first.unwrap_or(20).clamp(0, 100) as usize) * child_complexity + 1")]
    async fn orders(
        &self,
        context: &Context<'_>,
        #[graphql(default_with = "Some(20)")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<OrderConnection> {
        let caller = Caller::of(context)?;
        let first = first.unwrap_or(20);
        caller.user()?;
        let request = caller.request(pb::ListOrdersRequest {
            page: Some(page(first, after)?),
            user_id: None,
        });
        let response = upstreams(context)?
            .order()
            .list_orders(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner();
        let page_info = response.page_info.unwrap_or_default();
        let end_cursor = response.cursors.last().cloned();
        let mut edges = Vec::with_capacity(response.orders.len());
        for (node, cursor) in response.orders.iter().zip(response.cursors) {
            edges.push(OrderEdge {
                cursor,
                node: Order::from_wire(Some(node))?,
            });
        }
        Ok(OrderConnection {
            edges,
            page_info: PageInfo {
                has_next_page: page_info.has_next_page,
                end_cursor,
            },
        })
    }
}
