//! The shared service kit of the Bookstore mesh. Every service crate starts through
//! [`server::serve`] and keeps nothing of this here in its own code.
//!
//! # Layout
//! - [`config`]: defaults < file < `BOOKSTORE_` environment, validated, errors name the key;
//!   `Section` and `ServiceWiring`, the keys every service's table has.
//! - [`telemetry`]: `tracing` setup, W3C trace context over gRPC, Prometheus metrics.
//! - [`auth`]: JWT verification, per-RPC policies, service tokens for outgoing calls.
//! - [`deadline`]: the server-side request cap, with long-running RPCs exempt.
//! - [`server`]: the gRPC bootstrap (health, reflection, layers, TLS, background tasks,
//!   graceful shutdown) and `ServeContext`, what every service is started with.
//! - [`client`]: lazily connecting, balanced channels and retries for idempotent reads.
//! - [`error`]: `ServiceError<R>`, every service's error, turned into a status in one place.
//! - [`error_code`]: the one table from error code to gRPC, GraphQL and HTTP.
//! - [`store`]: SQLite/PostgreSQL from one URL with migrations, the SQL helpers and the one
//!   classification of database errors; Redis (connected lazily) with a key prefix.
//! - [`shutdown`]: SIGINT/SIGTERM into a cancellation token.
//! - `testing` (feature `testsuite`): fresh databases, Redis prefixes, test keys.
//!
//! It also names the allocator the binaries set ([`Allocator`], mimalloc).

pub mod auth;
pub mod client;
pub mod config;
pub mod deadline;
pub mod error;
pub mod error_code;
pub mod known_ids;
pub mod server;
pub mod service_name;
pub mod shutdown;
pub mod store;
pub mod telemetry;
#[cfg(any(test, feature = "testsuite"))]
pub mod testing;

pub use error_code::ErrorCode;
pub use service_name::ServiceName;

/// The allocator every binary of the mesh sets (`#[global_allocator] static ALLOCATOR:
/// platform::Allocator = platform::Allocator;`): a library does not choose it for its users.
/// Why mimalloc: see the README's benchmark section.
pub use mimalloc::MiMalloc as Allocator;

/// Hands memory freed on this thread back to the OS now, rather than after mimalloc's purge
/// delay (which only runs when the thread allocates again). For rare, large, short-lived
/// buffers: svc-user's argon2 blocks (19 MiB a hash). Does nothing useful in a binary that
/// did not set [`Allocator`].
pub fn release_freed_memory() {
    // SAFETY: mi_collect takes no pointers; it only walks mimalloc's own structures.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// Returns the file path of a `sqlite://` URL, or `None` for other backends.
pub fn store_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(path)
    }
}
