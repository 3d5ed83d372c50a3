//! What svc-cart adds to AddItem: the service through real gRPC (token check, policy, the
//! catalog's book check, the platform's layers) next to a bare tonic server, in the same
//! process, running the same Lua script through the same store code on the same Redis and
//! answering the same message, with the same clients and concurrency, in the same run: the
//! two take turns a second at a time, and each reports the CPU this process spent a call.
//!
//! `cargo run --release -p bookstore-tests --example cart_overhead_bench`
//! (`BENCH_SECONDS`, default 5; `BENCH_CONCURRENCY`, default 16). `scripts/bench.sh` runs it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use bookstore_tests::bench::{Row, env_number, interleaved_rates, record};
use bookstore_tests::{TestMesh, with_token};
use futures::future::BoxFuture;
use platform::ServiceName;
use platform::auth::Role;
use platform::store::LazyRedis;
use proto::cart::v1 as pb;
use proto::cart::v1::cart_service_client::CartServiceClient;
use proto::cart::v1::cart_service_server::{CartService, CartServiceServer};
use svc_cart::domain::{parse_book, parse_quantity};
use svc_cart::store::CartStore;
use tonic::{Request, Response, Status};

// mimalloc, as every binary of the mesh (why: the README's benchmark section).
#[global_allocator]
static ALLOCATOR: platform::Allocator = platform::Allocator;

/// AddItem and nothing else: parse, the store's script, the wire answer.
struct Bare {
    store: CartStore,
}

fn invalid(error: impl std::fmt::Display) -> Status {
    Status::invalid_argument(error.to_string())
}

#[tonic::async_trait]
impl CartService for Bare {
    async fn add_item(
        &self,
        request: Request<pb::AddItemRequest>,
    ) -> Result<Response<pb::AddItemResponse>, Status> {
        let request = request.into_inner();
        let owner = svc_cart::grpc::owner_from_wire(request.owner.as_ref()).map_err(invalid)?;
        let book = parse_book(&request.book_id).map_err(invalid)?;
        let quantity = parse_quantity(request.quantity, false).map_err(invalid)?;
        let cart = self
            .store
            .add(&owner, book, quantity)
            .await
            .map_err(|error| Status::unavailable(error.to_string()))?;
        Ok(Response::new(pb::AddItemResponse {
            cart: svc_cart::grpc::cart_to_wire(&owner, cart),
        }))
    }

    async fn get_cart(
        &self,
        _: Request<pb::GetCartRequest>,
    ) -> Result<Response<pb::GetCartResponse>, Status> {
        Err(Status::unimplemented("bare baseline"))
    }

    async fn set_quantity(
        &self,
        _: Request<pb::SetQuantityRequest>,
    ) -> Result<Response<pb::SetQuantityResponse>, Status> {
        Err(Status::unimplemented("bare baseline"))
    }

    async fn remove_item(
        &self,
        _: Request<pb::RemoveItemRequest>,
    ) -> Result<Response<pb::RemoveItemResponse>, Status> {
        Err(Status::unimplemented("bare baseline"))
    }

    async fn clear_cart(
        &self,
        _: Request<pb::ClearCartRequest>,
    ) -> Result<Response<pb::ClearCartResponse>, Status> {
        Err(Status::unimplemented("bare baseline"))
    }

    async fn merge_carts(
        &self,
        _: Request<pb::MergeCartsRequest>,
    ) -> Result<Response<pb::MergeCartsResponse>, Status> {
        Err(Status::unimplemented("bare baseline"))
    }
}

fn guest(index: u64) -> Option<pb::CartOwner> {
    Some(pb::CartOwner {
        owner: Some(pb::cart_owner::Owner::GuestSessionId(format!(
            "bench-guest-session-{index:012}"
        ))),
    })
}

/// One AddItem call on `channel` a round, for [`interleaved_rates`].
fn add_item(
    channel: tonic::transport::Channel,
    token: String,
    book: String,
) -> impl Fn(u64) -> BoxFuture<'static, ()> + Send + Sync + 'static {
    move |round| {
        let mut client = CartServiceClient::new(channel.clone());
        let request = pb::AddItemRequest {
            owner: guest(round % 5_000),
            book_id: book.clone(),
            quantity: 1,
        };
        let token = token.clone();
        Box::pin(async move {
            // Past 99 copies a cart refuses more; that is still a full round trip.
            let _ = client.add_item(with_token(request, &token)).await;
        })
    }
}

#[tokio::main]
async fn main() {
    let seconds = env_number("BENCH_SECONDS", 5);
    let concurrency = env_number("BENCH_CONCURRENCY", 16);
    let mesh = TestMesh::builder()
        .with(ServiceName::Cart)
        .with(ServiceName::Catalog)
        .start()
        .await
        .unwrap();
    let (_, admin) = mesh.keys().user_token(Role::Admin);
    let request = proto::catalog::v1::CreateBookRequest {
        book: Some(bookstore::seed::generate::book(777_778)),
    };
    let book = proto::catalog::v1::catalog_service_client::CatalogServiceClient::new(
        mesh.channel(ServiceName::Catalog),
    )
    .create_book(with_token(request, &admin))
    .await
    .unwrap()
    .into_inner()
    .book
    .unwrap()
    .id;

    // The bare server: the same store on the same Redis, under a prefix of its own.
    let stop = tokio_util::sync::CancellationToken::new();
    let redis = LazyRedis::new(
        platform::testing::redis_url(),
        format!("{}-bare", mesh.redis_prefix()),
    );
    tokio::spawn(redis.clone().connect(stop.clone()));
    redis.connected(&stop).await.unwrap();
    let store = CartStore::new(redis, Duration::from_secs(3600));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let server_stop = stop.clone();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(CartServiceServer::new(Bare { store }))
            .serve_with_incoming_shutdown(incoming, server_stop.cancelled_owned())
            .await
            .unwrap();
    });
    let bare_channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();

    let token = mesh.bff_token(ServiceName::Cart);
    // The two take turns a second at a time, so neither gets the quieter machine.
    let (service, bare) = interleaved_rates(
        concurrency,
        seconds,
        add_item(mesh.channel(ServiceName::Cart), token.clone(), book.clone()),
        add_item(bare_channel, token, book),
    )
    .await;
    println!("concurrency {concurrency}, {seconds} s per measure");
    println!(
        "AddItem: svc-cart {:.0}/s, bare tonic + the same Lua script {:.0}/s, ratio {:.3}",
        service.rate,
        bare.rate,
        service.rate / bare.rate
    );
    println!(
        "  CPU of this process an AddItem: svc-cart {:.0} µs, bare {:.0} µs",
        service.cpu_us_per_call, bare.cpu_us_per_call
    );
    record(&Row::ratio(
        &format!("cart AddItem via gRPC, {concurrency} clients (vs bare tonic server, same Lua script)"),
        service.rate,
        "/s",
        bare.rate,
        0.7,
    ));
    stop.cancel();
    mesh.shutdown().await.unwrap();
}
