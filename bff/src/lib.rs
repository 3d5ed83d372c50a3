//! The GraphQL backend-for-frontend: the mesh's public face for single-page storefronts.
//!
//! Serves the schema of `docs/api.md` (`bff/schema.graphql`) over HTTP and WebSocket, forwarding the user's
//! token to the services, batching reads through DataLoaders, mapping gRPC statuses to the
//! contract's error codes, and the endpoints operators rely on: `/livez` (`/healthz`),
//! `/readyz` (serving and not draining; `?verbose` adds every upstream's answer) and `/metrics`.
//!
//! # Layout
//! - [`graphql`]: the schema: `query.rs`, `account.rs`, `cart.rs`, `orders.rs` (with the
//!   subscription), `admin.rs`, `types.rs`, `loaders.rs`, `errors.rs`, `caller.rs`,
//!   `session.rs` (cookies).
//! - [`http`]: GraphQL over HTTP, GraphiQL, WebSocket subscriptions.
//! - [`upstreams`]: channels and clients of the five services. [`probes`]: health.
//! - [`cache`]: the catalogue cache (books, pages, availability) and its event feed.
//! - [`settings`]: `Settings`, the `bff.*` knobs. [`metrics`]: what `/metrics` says.

pub mod cache;
pub mod graphql;
pub mod http;
pub mod metrics;
pub mod probes;
pub mod settings;
pub mod upstreams;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use settings::Settings;
pub use upstreams::Upstreams;

fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderName, HeaderValue, Method, header};
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    tower_http::cors::CorsLayer::new()
        .allow_origin(allowed)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static(graphql::session::CSRF_HEADER),
            HeaderName::from_static(graphql::session::CART_SESSION_HEADER),
        ])
        .expose_headers([HeaderName::from_static(graphql::session::CART_SESSION_HEADER)])
        .allow_credentials(true)
}

/// Serves the BFF on `listener` until `shutdown` is cancelled.
///
/// # Errors
/// Fails when the HTTP server stops with an I/O error.
pub async fn serve(
    settings: &Settings,
    context: &platform::server::ServeContext,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let upstreams = Upstreams::new(context)?;
    let verifier = context.verifier.clone();
    let metrics = platform::telemetry::metrics::recorder();
    crate::metrics::describe();
    let storefront = match &settings.storefront_dir {
        Some(directory) => http::storefront::Storefront::from_directory(directory)
            .context("invalid configuration `bff.storefront_dir`")?,
        None => http::storefront::Storefront::Embedded,
    };
    let probes = probes::ProbeState {
        upstreams: upstreams.clone(),
        timeout: settings.readiness_timeout(),
        shutdown: shutdown.clone(),
    };
    let limiter = http::rate_limit::Limiter::new(settings.rate_limits(), verifier.clone());
    let sweeper = {
        let (limiter, shutdown) = (limiter.clone(), shutdown.clone());
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_secs(60));
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    _ = interval.tick() => limiter.forget_idle(),
                }
            }
        })
    };
    // The catalogue cache and the tasks that keep it: Redis connected in the background and
    // the event feed; both end with `shutdown` and are awaited below.
    let cache = settings
        .cache
        .enabled
        .then(|| cache::CatalogCache::new(&settings.cache));
    let mut cache_tasks = Vec::new();
    if let Some(cache) = &cache {
        let redis = context.redis();
        let connector = redis.clone();
        let stop = shutdown.clone();
        cache_tasks.push(tokio::spawn(async move {
            if let Err(error) = connector.connect(stop).await {
                tracing::error!(error.cause_chain = %platform::telemetry::cause_chain(&error), "catalogue cache: redis refused, cache stays off");
            }
        }));
        let (cache, stop) = (cache.clone(), shutdown.clone());
        cache_tasks.push(tokio::spawn(async move {
            if let Err(error) = cache::feed::follow(cache, redis, stop).await {
                tracing::error!(error.cause_chain = %platform::telemetry::cause_chain(&error), "catalogue cache feed stopped");
            }
        }));
    }
    let state = http::GraphqlState {
        schema: graphql::guarded(settings.limits()),
        upstreams,
        verifier,
        limits: settings.limits(),
        cookies: graphql::session::CookiePolicy {
            secure: settings.secure_cookies,
        },
        graphiql: settings.graphiql,
        request_timeout: settings.request_timeout(),
        report_upstream_calls: settings.report_upstream_calls,
        cache,
    };
    let graphql = axum::Router::new()
        .route("/graphql", get(http::get).post(http::post))
        .route("/graphql/ws", get(http::subscriptions))
        // Shared, not cloned per request: the state holds every upstream channel.
        .with_state(std::sync::Arc::new(state))
        .layer(axum::middleware::from_fn_with_state(
            limiter,
            http::rate_limit::limit,
        ))
        // Outside the limiter: it keys anonymous callers on the resolved address.
        .layer(axum::middleware::from_fn_with_state(
            settings.trusted_proxies(),
            http::client_address::resolve,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(axum::middleware::map_response(http::close_after_refused_body))
        // Outside the rate limit and the body limit: a shed request is refused before its
        // token is verified or its body read.
        .layer(http::shed::layer(settings.max_concurrent_requests))
        .layer(cors(&settings.cors_origins));
    // Compressed: the shop's files are fetched once per visitor and shrink threefold; GraphQL
    // answers are small and hot, and stay as they are.
    let shop = axum::Router::new()
        .fallback(http::storefront::serve)
        .with_state(storefront)
        .layer(tower_http::compression::CompressionLayer::new());
    let router = axum::Router::new()
        .route("/livez", get(probes::livez))
        // The name before `/livez`; kept so probes written against it keep working.
        .route("/healthz", get(probes::livez))
        .route("/readyz", get(probes::readyz))
        .with_state(probes)
        .route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move { platform::telemetry::metrics::render(&metrics) }
            }),
        )
        .merge(graphql)
        .merge(shop)
        // Every request is counted, the refused ones too.
        .layer(axum::middleware::from_fn(crate::metrics::http))
        // Outermost: the span covers the counting, the shedding, the limits and the storefront too.
        .layer(axum::middleware::from_fn(http::trace::server_span));
    let address = listener.local_addr()?;
    tracing::info!(%address, "bff listening");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.cancelled_owned())
    .await
    .context("bff http server failed")?;
    sweeper.abort();
    for task in cache_tasks {
        // They return once `shutdown` is cancelled, which ended the server too.
        let _ = task.await;
    }
    tracing::info!("bff stopped");
    Ok(())
}
