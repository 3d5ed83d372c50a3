//! svc-inventory's metrics, all named here and described in [`describe`]: oversell
//! refusals and the reservations held, overdue and expired.

/// Reserve calls refused with OUT_OF_STOCK (the oversell guard at work).
pub const OUT_OF_STOCK_TOTAL: &str = "inventory_out_of_stock_total";
/// Reservations HELD now (read from the database every [`GAUGE_INTERVAL`]; every replica
/// reports the same count, so panels take the `max`).
pub const RESERVATIONS_HELD: &str = "inventory_reservations_held";
/// HELD reservations more than [`OVERDUE_AFTER`] past their expiry: the sweeper, which runs
/// every `inventory.sweep_interval_ms`, should have released them (stuck reservations).
pub const RESERVATIONS_OVERDUE: &str = "inventory_reservations_overdue";
/// Reservations the sweeper released because they expired before being committed.
pub const RESERVATIONS_EXPIRED_TOTAL: &str = "inventory_reservations_expired_total";

/// How often the sweeper reads the reservation gauges.
pub const GAUGE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);
/// How long past its expiry a HELD reservation counts as stuck.
pub const OVERDUE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// HELP text of svc-inventory's metrics; the recorder must be installed first.
pub fn describe() {
    metrics::describe_counter!(
        OUT_OF_STOCK_TOTAL,
        "Reserve calls refused with OUT_OF_STOCK because a line asked for more copies than were available"
    );
    metrics::describe_gauge!(
        RESERVATIONS_HELD,
        "Stock reservations HELD now (same on every replica)"
    );
    metrics::describe_gauge!(
        RESERVATIONS_OVERDUE,
        "HELD reservations more than 60 s past their expiry, which the sweeper has not released (same on every replica)"
    );
    metrics::describe_counter!(
        RESERVATIONS_EXPIRED_TOTAL,
        "Reservations the sweeper released because they expired before being committed"
    );
    metrics::counter!(OUT_OF_STOCK_TOTAL).absolute(0);
    metrics::counter!(RESERVATIONS_EXPIRED_TOTAL).absolute(0);
}

/// A Reserve call refused for lack of stock.
pub fn out_of_stock() {
    metrics::counter!(OUT_OF_STOCK_TOTAL).increment(1);
}

/// The sweeper expired `count` reservations.
pub fn expired(count: usize) {
    metrics::counter!(RESERVATIONS_EXPIRED_TOTAL).increment(u64::try_from(count).unwrap_or(u64::MAX));
}

/// The reservation gauges, as last read.
pub fn reservations(held: i64, overdue: i64) {
    metrics::gauge!(RESERVATIONS_HELD).set(held as f64);
    metrics::gauge!(RESERVATIONS_OVERDUE).set(overdue as f64);
}
