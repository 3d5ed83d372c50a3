//! Reads a replica's `/metrics` (Prometheus text) to learn which replica served what.

/// Sums `grpc_server_requests_total` of `method` on the replica whose metrics listen on
/// `port`; 0 when it does not answer (a killed replica has no counters).
pub async fn grpc_requests(port: u16, method: &str) -> u64 {
    let Ok(response) = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await else {
        return 0;
    };
    let text = response.text().await.unwrap_or_default();
    let label = format!("{}=\"{method}\"", platform::telemetry::metrics::GRPC_METHOD);
    text.lines()
        .filter(|line| {
            line.starts_with(platform::telemetry::metrics::REQUESTS_TOTAL) && line.contains(&label)
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|value| value as u64)
        .sum()
}
