//! The configuration as users write it: defaults, variables reaching every section (the
//! shared wiring and each service's own knobs), and every bad value named by its key.

use super::*;

fn load(pairs: &[(&str, &str)]) -> Result<BookstoreConfig, ConfigError> {
    platform::config::load(None, &platform::config::env_map(pairs))
}

#[test]
fn defaults_give_the_documented_ports_and_embedded_sqlite() {
    let config = load(&[]).unwrap();
    assert_eq!(config.listen_address(ServiceName::Inventory).port(), 50055);
    assert_eq!(config.listen_address(ServiceName::Bff).port(), 8080);
    assert_eq!(
        config.database_url(ServiceName::User),
        "sqlite://data/user.db?mode=rwc"
    );
    assert_eq!(
        config.upstream(ServiceName::Cart).endpoints,
        vec!["http://127.0.0.1:50053"]
    );
}

#[test]
fn the_pools_follow_the_cpus_within_their_floor_and_ceiling_and_can_be_set() {
    let cpus = u32::try_from(platform::server::available_cpus()).unwrap();
    let config = load(&[]).unwrap();
    assert_eq!(config.database_sqlite_read_connections, cpus.clamp(4, 64));
    assert_eq!(config.database_pool_size, (cpus * 8).clamp(16, 24));
    let config = load(&[
        ("BOOKSTORE_DATABASE_SQLITE_READ_CONNECTIONS", "12"),
        ("BOOKSTORE_DATABASE_POOL_SIZE", "40"),
    ])
    .unwrap();
    assert_eq!(config.database_sqlite_read_connections, 12);
    assert_eq!(config.database_pool_size, 40);
}

#[test]
fn environment_variables_reach_nested_sections() {
    let config = load(&[
        ("BOOKSTORE_REDIS_URL", "redis://cache:6379"),
        ("BOOKSTORE_ORDER__LISTEN", "0.0.0.0:6000"),
        (
            "BOOKSTORE_INVENTORY__DATABASE_URL",
            "postgres://postgres@db/inventory",
        ),
        (
            "BOOKSTORE_INVENTORY__ENDPOINTS",
            "[\"http://inv-0:50055\", \"http://inv-1:50055\"]",
        ),
    ])
    .unwrap();
    assert_eq!(config.redis_url, "redis://cache:6379");
    assert_eq!(config.listen_address(ServiceName::Order).port(), 6000);
    assert_eq!(
        config.database_url(ServiceName::Inventory),
        "postgres://postgres@db/inventory"
    );
    assert_eq!(config.upstream(ServiceName::Inventory).endpoints.len(), 2);
}

#[test]
fn cart_alone_can_use_a_redis_cluster() {
    let config = load(&[(
        "BOOKSTORE_CART__REDIS_URL",
        "redis-cluster://10.0.0.1:7001,10.0.0.2:7001",
    )])
    .unwrap();
    assert_eq!(
        config.redis_url(ServiceName::Cart),
        "redis-cluster://10.0.0.1:7001,10.0.0.2:7001"
    );
    assert_eq!(config.redis_url(ServiceName::Catalog), "redis://127.0.0.1:6379");
}

#[test]
fn each_bad_value_is_refused_naming_its_key() {
    let cases = [
        ("BOOKSTORE_USER__LISTEN", "localhost", "user.listen"),
        ("BOOKSTORE_REDIS_URL", "http://redis", "redis_url"),
        ("BOOKSTORE_CART__REDIS_URL", "cluster://a:1", "cart.redis_url"),
        (
            "BOOKSTORE_INVENTORY__REDIS_URL",
            "redis://elsewhere:6379",
            "inventory.redis_url",
        ),
        (
            "BOOKSTORE_CATALOG__DATABASE_URL",
            "mysql://x",
            "catalog.database_url",
        ),
        (
            "BOOKSTORE_GRPC__REQUEST_TIMEOUT_MS",
            "-5",
            "grpc.request_timeout_ms",
        ),
        ("BOOKSTORE_CART__LISTEN", "127.0.0.1:50051", "cart.listen"),
        (
            "BOOKSTORE_AUTH__SERVICE_TOKEN_TTL_SECS",
            "1",
            "auth.service_token_ttl_secs",
        ),
        (
            "BOOKSTORE_BFF__STOREFRONT_DIR",
            "/nonexistent/shop",
            "bff.storefront_dir",
        ),
        (
            "BOOKSTORE_DATABASE_SQLITE_READ_CONNECTIONS",
            "0",
            "database_sqlite_read_connections",
        ),
        (
            "BOOKSTORE_DATABASE_SQLITE_READ_CONNECTIONS",
            "257",
            "database_sqlite_read_connections",
        ),
        (
            "BOOKSTORE_DATABASE_SQLITE_READ_CONNECTIONS",
            "many",
            "database_sqlite_read_connections",
        ),
        ("BOOKSTORE_BFF__CACHE__MAX_PAGES", "0", "bff.cache.max_pages"),
        ("BOOKSTORE_BFF__CACHE__ENABLED", "maybe", "bff.cache.enabled"),
        (
            "BOOKSTORE_BFF__CACHE__SEARCH_TTL_MS",
            "900000",
            "bff.cache.search_ttl_ms",
        ),
    ];
    for (variable, value, key) in cases {
        let error = load(&[(variable, value)]).unwrap_err();
        assert_eq!(error.key, key, "{variable}={value}: {error}");
    }
}

#[test]
fn each_service_reads_its_own_knobs_from_its_section() {
    let config = load(&[
        ("BOOKSTORE_INVENTORY__RESERVATION_TTL_SECS", "60"),
        ("BOOKSTORE_INVENTORY__SWEEP_INTERVAL_MS", "500"),
        ("BOOKSTORE_INVENTORY__LISTEN", "0.0.0.0:6055"),
        ("BOOKSTORE_CART__TTL_SECS", "3600"),
        ("BOOKSTORE_ORDER__LEASE_MS", "3000"),
        ("BOOKSTORE_ORDER__HALT_AT", "reserved"),
        ("BOOKSTORE_AUTH__ARGON2_MEMORY_KIB", "1024"),
        ("BOOKSTORE_AUTH__ISSUER", "shop"),
        ("BOOKSTORE_BFF__RATE_PER_USER", "7"),
        ("BOOKSTORE_BFF__CACHE__ENABLED", "false"),
        ("BOOKSTORE_BFF__CACHE__MAX_BOOKS", "1000"),
    ])
    .unwrap();
    assert!(!config.bff.cache.enabled);
    assert_eq!(config.bff.cache.max_books, 1000);
    assert_eq!(config.inventory.own.reservation_ttl_secs, 60);
    assert_eq!(config.inventory.own.sweep_interval_ms, 500);
    assert_eq!(config.listen_address(ServiceName::Inventory).port(), 6055);
    assert_eq!(config.cart.own.ttl_secs, 3600);
    assert_eq!(config.order.own.lease_ms, 3000);
    assert_eq!(
        config.order.own.halt_at,
        Some(svc_order::domain::HaltPoint::Step(
            svc_order::domain::SagaStep::Reserved
        ))
    );
    assert_eq!(config.auth.own.argon2_memory_kib, 1024);
    assert_eq!(config.auth.common.issuer, "shop");
    assert_eq!(config.bff.rate_per_user, 7);
}

#[test]
fn the_moved_knobs_and_bad_service_knobs_are_refused_by_name() {
    let cases = [
        ("BOOKSTORE_CART_TTL_SECS", "60", "cart_ttl_secs"),
        ("BOOKSTORE_CHECKOUT__LEASE_MS", "60", "checkout"),
        ("BOOKSTORE_ORDER__HALT_AT", "nowhere", "order.halt_at"),
        (
            "BOOKSTORE_INVENTORY__SWEEP_INTERVAL_MS",
            "0",
            "inventory.sweep_interval_ms",
        ),
        (
            "BOOKSTORE_AUTH__SERVICE_CLIENTS__PAYMENTS",
            "secret",
            "auth.service_clients.payments",
        ),
    ];
    for (variable, value, key) in cases {
        let error = load(&[(variable, value)]).unwrap_err();
        assert!(
            error.key == key || error.to_string().contains(key),
            "{variable}={value}: {error}"
        );
    }
}
