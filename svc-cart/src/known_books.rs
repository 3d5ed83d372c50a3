//! Books the catalog recently confirmed to exist. Adding to a cart is the hottest write of a
//! shop, and asking the catalog every time put a SQL read and a gRPC hop in front of the
//! Redis write it guards. A book confirmed within the last minute is taken as existing; a
//! book deleted meanwhile can still reach a cart for that minute, and checkout, which prices
//! every line from the catalog, refuses it there.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;

/// A bounded, per-replica memory of existing books (a hint, never an invariant).
pub(crate) struct KnownBooks {
    seen: Mutex<LruCache<uuid::Uuid, Instant>>,
    ttl: Duration,
}

impl std::fmt::Debug for KnownBooks {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("KnownBooks")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl KnownBooks {
    pub(crate) fn new(capacity: NonZeroUsize, ttl: Duration) -> Self {
        Self {
            seen: Mutex::new(LruCache::new(capacity)),
            ttl,
        }
    }

    /// Whether the catalog confirmed `book` within the TTL.
    pub(crate) fn contains(&self, book: uuid::Uuid) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        match seen.get(&book) {
            Some(confirmed) => confirmed.elapsed() < self.ttl,
            None => false,
        }
    }

    /// Remembers that the catalog just confirmed `book`.
    pub(crate) fn insert(&self, book: uuid::Uuid) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.put(book, Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_book_is_known_until_its_confirmation_is_older_than_the_ttl() {
        let known = KnownBooks::new(NonZeroUsize::MIN.saturating_add(1), Duration::from_millis(50));
        let (first, second, third) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        assert!(!known.contains(first));
        known.insert(first);
        assert!(known.contains(first));
        known.insert(second);
        known.insert(third);
        assert!(!known.contains(first), "evicted beyond the capacity of 2");
        std::thread::sleep(Duration::from_millis(60));
        assert!(!known.contains(third), "expired");
    }
}
