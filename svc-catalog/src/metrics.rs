//! svc-catalog's metrics, all named here and described in [`describe`]: how far behind
//! inventory's stock events the `in_stock` flags are.

/// Age of each stock event when catalog applied it: from the moment Redis added it to the
/// stream (the milliseconds of its entry id) to the moment its flag was written.
pub const STOCK_EVENT_LAG_SECONDS: &str = "catalog_stock_event_lag_seconds";

/// HELP text of svc-catalog's metrics; the recorder must be installed first.
pub fn describe() {
    metrics::describe_histogram!(
        STOCK_EVENT_LAG_SECONDS,
        metrics::Unit::Seconds,
        "Age of a stock event from inventory when catalog applied it (from its Redis stream entry id to the write)"
    );
}

/// Records the lag of the stream entry `id` (`<milliseconds>-<sequence>`) applied now; an
/// id that is not Redis's own is not recorded.
pub fn stock_event_applied(id: &str) {
    if let Some(lag) = lag_seconds(id, now_ms()) {
        metrics::histogram!(STOCK_EVENT_LAG_SECONDS).record(lag);
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Seconds from the entry's time to `now_ms`, 0 when the clocks disagree the other way.
fn lag_seconds(id: &str, now_ms: i64) -> Option<f64> {
    let added_ms: i64 = id.split_once('-')?.0.parse().ok()?;
    Some((now_ms - added_ms).max(0) as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_lag_is_read_from_the_entry_id() {
        assert_eq!(
            super::lag_seconds("1700000000000-0", 1_700_000_002_500),
            Some(2.5)
        );
        assert_eq!(
            super::lag_seconds("1700000000000-3", 1_699_999_999_000),
            Some(0.0)
        );
        assert_eq!(super::lag_seconds("not-an-id", 0), None);
    }
}
