//! Ids another service recently confirmed to exist: the catalog's books, for the hot writes
//! that must not put a gRPC hop in front of every call (svc-cart's AddItem remembers a book
//! for a minute, svc-inventory's Reserve for two seconds). A hint, never an invariant: an id
//! deleted meanwhile is taken as existing until its confirmation expires.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;

/// A bounded, per-replica memory of existing ids (a hint, never an invariant).
pub struct KnownIds {
    seen: Mutex<LruCache<uuid::Uuid, Instant>>,
    ttl: Duration,
}

impl std::fmt::Debug for KnownIds {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("KnownIds")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl KnownIds {
    /// Remembers up to `capacity` ids, each for `ttl`.
    pub fn new(capacity: NonZeroUsize, ttl: Duration) -> Self {
        Self {
            seen: Mutex::new(LruCache::new(capacity)),
            ttl,
        }
    }

    /// Whether `id` was confirmed within the TTL.
    pub fn contains(&self, id: uuid::Uuid) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        match seen.get(&id) {
            Some(confirmed) => confirmed.elapsed() < self.ttl,
            None => false,
        }
    }

    /// Remembers that `id` was just confirmed.
    pub fn insert(&self, id: uuid::Uuid) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.put(id, Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_book_is_known_until_its_confirmation_is_older_than_the_ttl() {
        let known = KnownIds::new(NonZeroUsize::MIN.saturating_add(1), Duration::from_millis(50));
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
