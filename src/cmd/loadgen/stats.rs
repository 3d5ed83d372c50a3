//! What every request cost: a latency histogram and counts per operation, kept by each
//! virtual user on its own (no lock on the request path) and merged at the end, plus a few
//! shared counters the progress line reads while the run goes on.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;

/// How many distinct unexpected errors are kept to show why a run failed.
const MAX_ERROR_SAMPLES: usize = 10;

/// One kind of GraphQL request, as the report names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Operation {
    Register,
    Login,
    Browse,
    Search,
    Book,
    AddToCart,
    RemoveFromCart,
    Cart,
    PlaceOrder,
    Order,
    Orders,
}

impl Operation {
    /// Every operation, in the order the table lists them.
    pub(crate) const ALL: [Operation; 11] = [
        Operation::Register,
        Operation::Login,
        Operation::Browse,
        Operation::Search,
        Operation::Book,
        Operation::AddToCart,
        Operation::RemoveFromCart,
        Operation::Cart,
        Operation::PlaceOrder,
        Operation::Order,
        Operation::Orders,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Operation::Register => "register",
            Operation::Login => "login",
            Operation::Browse => "browse",
            Operation::Search => "search",
            Operation::Book => "book",
            Operation::AddToCart => "addToCart",
            Operation::RemoveFromCart => "removeFromCart",
            Operation::Cart => "cart",
            Operation::PlaceOrder => "placeOrder",
            Operation::Order => "order",
            Operation::Orders => "orders",
        }
    }
}

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    /// A GraphQL error the scenario allows (e.g. `OUT_OF_STOCK` at checkout).
    Expected,
    /// Anything else: a transport error, a 5xx, an unexpected GraphQL error.
    Error,
    /// A 429 from the BFF's rate limit (also an error).
    RateLimited,
}

/// Counters shared by all virtual users for the live progress line.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    pub(crate) requests: AtomicU64,
    pub(crate) errors: AtomicU64,
}

/// Counts and latencies of one operation.
#[derive(Debug, Clone)]
pub(crate) struct OperationStats {
    pub(crate) count: u64,
    pub(crate) errors: u64,
    pub(crate) expected: u64,
    pub(crate) rate_limited: u64,
    /// Microseconds, 1 µs to 10 min at 3 significant digits.
    pub(crate) latency: Histogram<u64>,
}

impl OperationStats {
    fn new() -> Self {
        // Fails only for bounds with low > high or more than 5 digits: these are constants.
        #[allow(clippy::expect_used)]
        let latency =
            Histogram::new_with_bounds(1, 600_000_000, 3).expect("constant histogram bounds are valid");
        OperationStats {
            count: 0,
            errors: 0,
            expected: 0,
            rate_limited: 0,
            latency,
        }
    }
}

/// One virtual user's record (or, after [`Recorder::merge`], the whole run's).
#[derive(Debug)]
pub(crate) struct Recorder {
    pub(crate) operations: BTreeMap<Operation, OperationStats>,
    /// The first few distinct unexpected errors, to print when the run fails.
    pub(crate) error_samples: Vec<String>,
    /// Virtual users whose task died (a panic): an error outside any operation.
    pub(crate) failed_users: u64,
    progress: Arc<Progress>,
}

impl Recorder {
    pub(crate) fn new(progress: Arc<Progress>) -> Self {
        Recorder {
            operations: BTreeMap::new(),
            error_samples: Vec::new(),
            failed_users: 0,
            progress,
        }
    }

    /// Records one request that got an answer (or a transport error) after `elapsed`.
    pub(crate) fn record(&mut self, operation: Operation, elapsed: Duration, outcome: Outcome) {
        let stats = self
            .operations
            .entry(operation)
            .or_insert_with(OperationStats::new);
        stats.count += 1;
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        stats.latency.saturating_record(micros.max(1));
        match outcome {
            Outcome::Ok => {}
            Outcome::Expected => stats.expected += 1,
            Outcome::Error => stats.errors += 1,
            Outcome::RateLimited => {
                stats.errors += 1;
                stats.rate_limited += 1;
            }
        }
        self.progress.requests.fetch_add(1, Ordering::Relaxed);
        if matches!(outcome, Outcome::Error | Outcome::RateLimited) {
            self.progress.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records an error found after the answer arrived (a missing field, retries used up):
    /// the request itself was already counted.
    pub(crate) fn record_late_error(&mut self, operation: Operation, message: String) {
        let stats = self
            .operations
            .entry(operation)
            .or_insert_with(OperationStats::new);
        stats.errors += 1;
        self.progress.errors.fetch_add(1, Ordering::Relaxed);
        self.sample(message);
    }

    /// Keeps `message` as an example of what went wrong, once.
    pub(crate) fn sample(&mut self, message: String) {
        if self.error_samples.len() < MAX_ERROR_SAMPLES && !self.error_samples.contains(&message) {
            self.error_samples.push(message);
        }
    }

    /// Records a virtual user whose task died, with why.
    pub(crate) fn user_failed(&mut self, message: String) {
        self.failed_users += 1;
        self.progress.errors.fetch_add(1, Ordering::Relaxed);
        self.sample(message);
    }

    /// Adds another user's record to this one.
    pub(crate) fn merge(&mut self, other: Recorder) {
        for (operation, theirs) in other.operations {
            let ours = self
                .operations
                .entry(operation)
                .or_insert_with(OperationStats::new);
            ours.count += theirs.count;
            ours.errors += theirs.errors;
            ours.expected += theirs.expected;
            ours.rate_limited += theirs.rate_limited;
            // Same bounds on both sides, so adding cannot fail; a failure would only lose
            // latencies, never counts.
            let _ = ours.latency.add(&theirs.latency);
        }
        self.failed_users += other.failed_users;
        for message in other.error_samples {
            self.sample(message);
        }
    }

    pub(crate) fn errors(&self) -> u64 {
        let errors: u64 = self.operations.values().map(|stats| stats.errors).sum();
        errors + self.failed_users
    }

    pub(crate) fn rate_limited(&self) -> u64 {
        self.operations.values().map(|stats| stats.rate_limited).sum()
    }

    pub(crate) fn requests(&self) -> u64 {
        self.operations.values().map(|stats| stats.count).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_adds_counts_and_latencies_and_keeps_distinct_samples() {
        let progress = Arc::new(Progress::default());
        let mut first = Recorder::new(progress.clone());
        first.record(Operation::Browse, Duration::from_millis(10), Outcome::Ok);
        first.record(
            Operation::PlaceOrder,
            Duration::from_millis(50),
            Outcome::Expected,
        );
        first.sample("boom".to_owned());
        let mut second = Recorder::new(progress.clone());
        second.record(Operation::Browse, Duration::from_millis(30), Outcome::RateLimited);
        second.sample("boom".to_owned());

        first.merge(second);

        let browse = &first.operations[&Operation::Browse];
        assert_eq!((browse.count, browse.errors, browse.rate_limited), (2, 1, 1));
        assert!(browse.latency.max() >= 29_000, "{}", browse.latency.max());
        assert_eq!(first.operations[&Operation::PlaceOrder].expected, 1);
        assert_eq!(first.error_samples, vec!["boom".to_owned()]);
        assert_eq!(
            (first.requests(), first.errors(), first.rate_limited()),
            (3, 1, 1)
        );
        assert_eq!(progress.requests.load(Ordering::Relaxed), 3);
    }
}
