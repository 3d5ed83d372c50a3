//! The gRPC half of the hostile table: bytes that are not the request message, messages
//! past the 4 MiB limit and empty messages, sent straight to each service with a token its
//! policy admits (so the bytes, not the caller, are what is refused).

use bookstore_tests::stack::Stack;
use platform::auth::Role;
use proto::prost::bytes::{Buf as _, BufMut as _};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::{Code, Status};
use tonic_types::StatusExt as _;

use super::{Tally, leak};
use crate::support::channel;

/// Sends and receives bytes as they are: a request body no generated client would write.
#[derive(Debug, Clone, Copy, Default)]
struct RawBytes;

impl Codec for RawBytes {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawBytes;
    type Decoder = RawBytes;

    fn encoder(&mut self) -> RawBytes {
        RawBytes
    }

    fn decoder(&mut self) -> RawBytes {
        RawBytes
    }
}

impl Encoder for RawBytes {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, destination: &mut EncodeBuf<'_>) -> Result<(), Status> {
        destination.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawBytes {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, source: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        Ok(Some(source.copy_to_bytes(source.remaining()).to_vec()))
    }
}

/// Whose token an RPC is called with: one its policy admits.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Bff,
    Order,
    Admin,
    Customer,
}

/// One RPC: replica, gRPC path, caller, and the field an empty request is refused for
/// (`None` when an empty request is a valid one, e.g. a search with every default).
struct Rpc {
    replica: &'static str,
    path: &'static str,
    caller: Caller,
    required: Option<&'static str>,
}

const fn rpc(
    replica: &'static str,
    path: &'static str,
    caller: Caller,
    required: Option<&'static str>,
) -> Rpc {
    Rpc {
        replica,
        path,
        caller,
        required,
    }
}

#[rustfmt::skip]
const RPCS: [Rpc; 30] = [
    rpc("catalog-1", "/bookstore.catalog.v1.CatalogService/GetBook", Caller::Bff, Some("book_id")),
    rpc("catalog-1", "/bookstore.catalog.v1.CatalogService/GetBookByIsbn", Caller::Bff, Some("isbn")),
    rpc("catalog-1", "/bookstore.catalog.v1.CatalogService/SearchBooks", Caller::Bff, None),
    rpc("catalog-1", "/bookstore.catalog.v1.CatalogService/BatchGetBooks", Caller::Bff, None),
    rpc("catalog-1", "/bookstore.catalog.v1.CatalogService/CreateBook", Caller::Admin, Some("book")),
    rpc("catalog-1", "/bookstore.catalog.v1.CatalogService/UpdateBook", Caller::Admin, Some("book_id")),
    rpc("catalog-1", "/bookstore.catalog.v1.CatalogService/DeleteBook", Caller::Admin, Some("book_id")),
    rpc("inventory-1", "/bookstore.inventory.v1.InventoryService/GetStock", Caller::Bff, Some("book_id")),
    rpc("inventory-1", "/bookstore.inventory.v1.InventoryService/Reserve", Caller::Order, Some("order_id")),
    rpc("inventory-1", "/bookstore.inventory.v1.InventoryService/Commit", Caller::Order, Some("reservation_id")),
    rpc("inventory-1", "/bookstore.inventory.v1.InventoryService/Release", Caller::Order, Some("target")),
    rpc("inventory-1", "/bookstore.inventory.v1.InventoryService/SetStock", Caller::Admin, Some("book_id")),
    rpc("inventory-1", "/bookstore.inventory.v1.InventoryService/Restock", Caller::Admin, Some("book_id")),
    rpc("cart-1", "/bookstore.cart.v1.CartService/GetCart", Caller::Bff, Some("owner")),
    rpc("cart-1", "/bookstore.cart.v1.CartService/AddItem", Caller::Bff, Some("owner")),
    rpc("cart-1", "/bookstore.cart.v1.CartService/SetQuantity", Caller::Bff, Some("owner")),
    rpc("cart-1", "/bookstore.cart.v1.CartService/RemoveItem", Caller::Bff, Some("owner")),
    rpc("cart-1", "/bookstore.cart.v1.CartService/ClearCart", Caller::Bff, Some("owner")),
    rpc("cart-1", "/bookstore.cart.v1.CartService/MergeCarts", Caller::Bff, Some("guest_session_id")),
    rpc("order-1", "/bookstore.order.v1.OrderService/PlaceOrder", Caller::Customer, Some("idempotency_key")),
    rpc("order-1", "/bookstore.order.v1.OrderService/GetOrder", Caller::Customer, Some("order_id")),
    rpc("order-1", "/bookstore.order.v1.OrderService/CancelOrder", Caller::Customer, Some("order_id")),
    rpc("order-1", "/bookstore.order.v1.OrderService/UpdateOrderStatus", Caller::Admin, Some("order_id")),
    rpc("order-1", "/bookstore.order.v1.OrderService/ListOrders", Caller::Customer, None),
    rpc("user-1", "/bookstore.user.v1.UserService/Register", Caller::Bff, Some("email")),
    rpc("user-1", "/bookstore.user.v1.UserService/GetProfile", Caller::Bff, Some("user_id")),
    rpc("user-1", "/bookstore.user.v1.UserService/AddAddress", Caller::Customer, Some("address")),
    rpc("user-1", "/bookstore.user.v1.UserService/RemoveAddress", Caller::Customer, Some("address_id")),
    rpc("user-1", "/bookstore.user.v1.UserService/SetRole", Caller::Admin, Some("user_id")),
    rpc("user-1", "/bookstore.user.v1.UserService/CreateServiceClient", Caller::Admin, Some("client_id")),
];

/// Bodies that do not decode as any message.
const MALFORMED: [(&str, &[u8]); 6] = [
    (
        "endless varint",
        &[
            0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ],
    ),
    ("truncated field", &[0x0a, 0x10, b'a', b'b']),
    ("wire type 7", &[0x0f, 0x01]),
    ("field number 0", &[0x00, 0x01]),
    ("invalid utf-8 in field 1", &[0x0a, 0x02, 0xc3, 0x28]),
    ("unmatched group end", &[0x0c]),
];

/// 5 MiB of field 1, past tonic's 4 MiB default.
fn oversized() -> Vec<u8> {
    let length = 5 * 1024 * 1024;
    let mut body = vec![0x0a];
    proto::prost::encoding::encode_varint(length as u64, &mut body);
    body.resize(body.len() + length, b'a');
    body
}

fn unknown_book_set_stock() -> Vec<u8> {
    let request = proto::inventory::v1::SetStockRequest {
        book_id: uuid::Uuid::new_v4().to_string(),
        on_hand: 1,
        reason: String::new(),
    };
    proto::prost::Message::encode_to_vec(&request)
}

fn unknown_book_restock() -> Vec<u8> {
    let request = proto::inventory::v1::RestockRequest {
        book_id: uuid::Uuid::new_v4().to_string(),
        quantity: 1,
        ..Default::default()
    };
    proto::prost::Message::encode_to_vec(&request)
}

fn token(stack: &Stack, admin: &str, rpc: &Rpc) -> String {
    let callee = rpc.replica.trim_end_matches("-1");
    match rpc.caller {
        Caller::Bff => stack.keys().service_token("bff", callee),
        Caller::Order => stack.keys().service_token("order", callee),
        Caller::Admin => admin.to_owned(),
        Caller::Customer => stack.keys().user_token(Role::Customer).1,
    }
}

async fn call(stack: &Stack, rpc: &Rpc, token: &str, body: Vec<u8>) -> Result<Vec<u8>, Status> {
    let mut grpc = tonic::client::Grpc::new(channel(stack, rpc.replica));
    grpc.ready()
        .await
        .map_err(|error| Status::unavailable(format!("not ready: {error}")))?;
    let request = bookstore_tests::with_token(body, token);
    let path: PathAndQuery = rpc.path.parse().unwrap();
    grpc.unary(request, path, RawBytes)
        .await
        .map(tonic::Response::into_inner)
}

/// Checks one answer: an error with one of `accepted` codes, naming `field` when given,
/// and no internals in its message.
fn judge(
    answer: &Result<Vec<u8>, Status>,
    accepted: &[Code],
    field: Option<&str>,
) -> (String, Option<String>) {
    let status = match answer {
        Ok(_) => return ("OK".to_owned(), Some(format!("expected {accepted:?}, got OK"))),
        Err(status) => status,
    };
    let result = format!("{:?}", status.code());
    if !accepted.contains(&status.code()) {
        return (result, Some(format!("expected {accepted:?}, got {status:?}")));
    }
    if let Some(marker) = leak(status.message()) {
        return (
            result,
            Some(format!("message leaks {marker:?}: {}", status.message())),
        );
    }
    if let Some(field) = field {
        let details = status.get_error_details();
        let named: Vec<&str> = details
            .bad_request()
            .map(|request| {
                request
                    .field_violations
                    .iter()
                    .map(|violation| violation.field.as_str())
                    .collect()
            })
            .unwrap_or_default();
        if !named.contains(&field) {
            return (
                result,
                Some(format!(
                    "expected the field {field} named, got {named:?}: {status:?}"
                )),
            );
        }
    }
    (result, None)
}

/// Runs every case and checks each answer.
pub(crate) async fn run(stack: &Stack, admin: &str) -> Tally {
    let mut tally = Tally::default();
    for rpc in &RPCS {
        let token = token(stack, admin, rpc);
        // Per the gRPC spec ("Error parsing request proto" is INTERNAL) tonic answers
        // INTERNAL for bytes that do not decode; INVALID_ARGUMENT would do too.
        for (label, bytes) in MALFORMED {
            let answer = call(stack, rpc, &token, bytes.to_vec()).await;
            let (result, failure) = judge(&answer, &[Code::Internal, Code::InvalidArgument], None);
            tally.record(&format!("{} {label}", rpc.path), result, failure);
        }
        if let Some(field) = rpc.required {
            let answer = call(stack, rpc, &token, Vec::new()).await;
            let (result, failure) = judge(&answer, &[Code::InvalidArgument], Some(field));
            tally.record(&format!("{} empty", rpc.path), result, failure);
        }
    }
    // One RPC per service gets 5 MiB; tonic refuses it by its length prefix (OUT_OF_RANGE
    // in 0.14) before anything is decoded.
    // GetBook, GetStock, GetCart, GetOrder and Register: one per service.
    for index in [0, 7, 13, 20, 24] {
        let rpc = &RPCS[index];
        let answer = call(stack, rpc, &token(stack, admin, rpc), oversized()).await;
        let (result, failure) = judge(&answer, &[Code::OutOfRange, Code::ResourceExhausted], None);
        tally.record(&format!("{} 5 MiB", rpc.path), result, failure);
    }
    // Stock for a book the catalog does not know: inventory asks the catalog first.
    for (index, body) in [(11, unknown_book_set_stock()), (12, unknown_book_restock())] {
        let rpc = &RPCS[index];
        let answer = call(stack, rpc, admin, body).await;
        let (result, failure) = judge(&answer, &[Code::NotFound], None);
        tally.record(&format!("{} unknown book", rpc.path), result, failure);
    }
    // A method no contract has: refused before any handler, by the policy table.
    let unknown = rpc(
        "catalog-1",
        "/bookstore.catalog.v1.CatalogService/DropTables",
        Caller::Admin,
        None,
    );
    let answer = call(stack, &unknown, admin, Vec::new()).await;
    let (result, failure) = judge(&answer, &[Code::PermissionDenied, Code::Unimplemented], None);
    tally.record(unknown.path, result, failure);
    tally
}
