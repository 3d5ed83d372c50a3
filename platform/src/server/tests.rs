//! Health, readiness and the life of a served service.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// A check that fails its first `failures` calls, counting every call.
fn flaky_check(failures: usize, calls: Arc<AtomicUsize>) -> ReadinessCheck {
    Arc::new(move || {
        let call = calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            if call < failures {
                Err("not connected yet".to_owned())
            } else {
                Ok(())
            }
        })
    })
}

fn context() -> ServeContext {
    ServeContext {
        grpc: GrpcServerConfig {
            drain_timeout_ms: 100,
            ..GrpcServerConfig::default()
        },
        verifier: crate::auth::Verifier::new("test", "cart", crate::auth::KeySet::default()),
        tokens: None,
        stores: Stores {
            database_url: String::new(),
            migrate_on_start: false,
            redis_url: String::new(),
            redis_ca_pem: None,
            redis_key_prefix: "test".to_owned(),
        },
        upstreams: std::collections::BTreeMap::new(),
        replica: "test".to_owned(),
        in_process: crate::client::InProcess::default(),
    }
}

#[tokio::test]
async fn a_background_task_that_panics_stops_the_service_with_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stopped_cleanly = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&stopped_cleanly);
    let service = GrpcService::new(ServiceName::Cart, RoutesBuilder::default(), PolicyTable::new())
        .background(Background::new("steady", move |stop| async move {
            stop.cancelled().await;
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }))
        .background(Background::new("doomed", |_stop| async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            panic!("a bug in a loop");
        }));
    let outcome = tokio::time::timeout(
        Duration::from_secs(10),
        service.serve(&context(), listener, CancellationToken::new()),
    )
    .await
    .expect("the service stopped by itself");
    let error = outcome.expect_err("a panicking task is an error");
    assert!(error.to_string().contains("`doomed` panicked"), "{error:#}");
    assert_eq!(
        stopped_cleanly.load(Ordering::SeqCst),
        1,
        "the other task was stopped and awaited"
    );
}

#[tokio::test]
async fn background_tasks_stop_with_the_service() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shutdown = CancellationToken::new();
    let service = GrpcService::new(ServiceName::Cart, RoutesBuilder::default(), PolicyTable::new())
        .background(Background::new("loop", |stop| async move {
            stop.cancelled().await;
            Ok(())
        }));
    let running = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { service.serve(&context(), listener, shutdown).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    shutdown.cancel();
    running.await.unwrap().unwrap();
}

async fn health(address: std::net::SocketAddr, name: &str) -> i32 {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .unwrap()
        .connect_lazy();
    let request = HealthCheckRequest {
        service: name.to_owned(),
    };
    HealthClient::new(channel)
        .check(request)
        .await
        .unwrap()
        .into_inner()
        .status
}

#[tokio::test]
async fn liveness_serves_while_readiness_follows_the_store_and_the_shutdown() {
    use std::sync::atomic::AtomicBool;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let store_up = Arc::new(AtomicBool::new(false));
    let check: ReadinessCheck = {
        let store_up = Arc::clone(&store_up);
        Arc::new(move || {
            let up = store_up.load(Ordering::SeqCst);
            Box::pin(async move { if up { Ok(()) } else { Err("store away".to_owned()) } })
        })
    };
    let mut context = context();
    context.grpc.health_interval_ms = 50;
    let shutdown = CancellationToken::new();
    let service =
        GrpcService::new(ServiceName::Cart, RoutesBuilder::default(), PolicyTable::new()).readiness(check);
    let running = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { service.serve(&context, listener, shutdown).await }
    });
    let readiness = ServiceName::Cart.grpc_name();
    let (serving, not_serving) = (ServingStatus::Serving as i32, ServingStatus::NotServing as i32);
    for _ in 0..5 {
        assert_eq!(
            health(address, LIVENESS).await,
            serving,
            "alive while the store is away"
        );
        assert_eq!(health(address, readiness).await, not_serving);
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    store_up.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(health(address, readiness).await, serving, "back by itself");
    store_up.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        health(address, readiness).await,
        not_serving,
        "follows the store down"
    );
    assert_eq!(health(address, LIVENESS).await, serving);
    shutdown.cancel();
    running.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_store_that_answers_late_is_found_long_before_the_next_interval() {
    let (reporter, _) = tonic_health::server::health_reporter();
    let calls = Arc::new(AtomicUsize::new(0));
    let stop = CancellationToken::new();
    let tracker = tokio::spawn(track_readiness(
        reporter,
        ServiceName::Cart,
        vec![flaky_check(3, Arc::clone(&calls))],
        Duration::from_secs(60),
        stop.clone(),
    ));
    // Three failures and the success: 25 + 50 + 100 ms of pauses, not three minutes.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 4, "checked again until it answered");
    // Serving: the next check waits the whole interval.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    stop.cancel();
    tracker.await.unwrap();
}

/// Asks `channel` for liveness.
async fn liveness_over(channel: crate::client::MeshChannel) -> Result<i32, tonic::Status> {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;
    let request = HealthCheckRequest {
        service: LIVENESS.to_owned(),
    };
    Ok(HealthClient::new(channel)
        .check(request)
        .await?
        .into_inner()
        .status)
}

#[tokio::test]
async fn a_service_of_this_process_is_called_in_memory_and_any_other_over_the_network() {
    // Cart runs here and is configured at an address where nothing listens: only the
    // in-process path can reach it. Inventory runs elsewhere, on a real listener.
    let in_process = crate::client::InProcess::new([ServiceName::Cart]);
    let nowhere = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let shutdown = CancellationToken::new();
    let cart = GrpcService::new(ServiceName::Cart, RoutesBuilder::default(), PolicyTable::new());
    let cart_context = ServeContext {
        in_process: in_process.clone(),
        ..context()
    };
    let cart_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cart_address = cart_listener.local_addr().unwrap();
    let cart_server = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { cart.serve(&cart_context, cart_listener, shutdown).await }
    });
    let inventory = GrpcService::new(
        ServiceName::Inventory,
        RoutesBuilder::default(),
        PolicyTable::new(),
    );
    let inventory_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let inventory_address = inventory_listener.local_addr().unwrap();
    let inventory_server = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { inventory.serve(&context(), inventory_listener, shutdown).await }
    });

    let caller = ServeContext {
        in_process,
        upstreams: [
            (ServiceName::Cart, crate::client::UpstreamConfig::local(nowhere)),
            (
                ServiceName::Inventory,
                crate::client::UpstreamConfig::local(inventory_address),
            ),
        ]
        .into_iter()
        .collect(),
        ..context()
    };
    let serving = ServingStatus::Serving as i32;
    assert_eq!(
        liveness_over(caller.channel(ServiceName::Cart).unwrap())
            .await
            .unwrap(),
        serving
    );
    assert_eq!(
        liveness_over(caller.channel(ServiceName::Inventory).unwrap())
            .await
            .unwrap(),
        serving
    );
    // Cart's own listener still serves callers from outside the process.
    assert_eq!(health(cart_address, LIVENESS).await, serving);
    // The same call without the in-process set goes to the configured address, and fails.
    let over_tcp = ServeContext {
        in_process: crate::client::InProcess::default(),
        ..caller.clone()
    };
    let refused = liveness_over(over_tcp.channel(ServiceName::Cart).unwrap())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");

    shutdown.cancel();
    cart_server.await.unwrap().unwrap();
    inventory_server.await.unwrap().unwrap();
}
