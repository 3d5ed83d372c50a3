//! The catalogue cache: books, book pages (searches too) and availability, answered from
//! memory and kept fresh by events rather than by time alone.
//!
//! # Consistency
//! - [`feed`] follows catalog's `{book-events}` and inventory's `{stock-events}` Redis
//!   Streams. A book event drops that book and every page (a change of one book can move it
//!   on any page and changes the counts); a stock event sets the book's availability when
//!   its version is newer. Both outboxes publish within a fraction of a second of the commit,
//!   so a change shows on the next page within a second.
//! - The cache serves only while both feeds are in sync. A feed that starts, restarts or
//!   fails (Redis gone, a read error, a moved slot) drops everything; until it is in sync
//!   again every read goes upstream. So a gap in the events cannot leave a stale entry.
//! - A fill read upstream while an event arrived may hold what the event replaced: each fill
//!   carries the generation it started at ([`Ticket`]) and is kept only when no event came
//!   meanwhile.
//! - `bff.cache.ttl_secs` is a backstop on every entry; searches live
//!   `bff.cache.search_ttl_ms`. Pages filtered by `inStock` are not cached: that flag is
//!   catalog's copy of the stock events and may trail them.
//! - Availability shown is display data: checkout reserves in inventory, which decides.
//!
//! Memory is bounded: `bff.cache.max_books` books and as many availabilities,
//! `bff.cache.max_pages` pages and as many searches (asked with at most 1 KiB of text), and
//! whole answers within `max_pages` x 8 KiB (of requests up to 4 KiB).

pub mod feed;
pub mod responses;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use moka::sync::Cache;
use proto::catalog::v1 as catalog;

use crate::settings::CacheSettings;
use responses::{ResponseKey, Stamp, Stored};

/// The counter of cache lookups, by `cache` (`response`, `page`, `search`, `book`,
/// `availability`) and
/// `result` (`hit`, `miss`, `bypass`: the feed is not in sync).
pub const REQUESTS_METRIC: &str = "bff_cache_requests_total";
/// The counter of whole-cache drops because a feed started, failed or restarted.
pub const RESETS_METRIC: &str = "bff_cache_resets_total";

/// Which event stream a feed follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    Books = 0,
    Stock = 1,
}

/// What identifies a page: the normalised filter, sort, size and cursor.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub query: String,
    pub author: String,
    pub topic: String,
    pub min_price: Option<i32>,
    pub max_price: Option<i32>,
    pub sort: i32,
    pub first: i32,
    pub after: String,
}

/// The longest text (query, author, topic and cursor together) a kept page is asked with,
/// so entries stay small whatever a client sends.
const MAX_KEY_TEXT: usize = 1_024;

impl PageKey {
    /// Whether it is a full-text search (kept for `bff.cache.search_ttl_ms` only).
    fn is_search(&self) -> bool {
        !self.query.is_empty()
    }

    /// Whether a page asked with it may be kept (see [`MAX_KEY_TEXT`]).
    fn is_small(&self) -> bool {
        self.query.len() + self.author.len() + self.topic.len() + self.after.len() <= MAX_KEY_TEXT
    }
}

/// The bytes a kept answer may weigh on average: `bff.cache.max_pages` of them is the
/// whole-answer cache's budget (a 20-book page is about 6 KiB of JSON).
const RESPONSE_BYTES: u64 = 8 * 1_024;
/// The largest request whose answer is kept (a storefront's page query is under 1 KiB).
pub const MAX_KEPT_REQUEST: usize = 4 * 1_024;

/// Normalises a full-text query as the catalog reads it: case and runs of spaces do not
/// change the matches.
pub fn normalise_query(query: &str) -> String {
    query
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// One page of books as the catalog answered it.
#[derive(Debug)]
pub struct Page {
    pub books: Vec<Arc<catalog::Book>>,
    pub cursors: Vec<String>,
    pub has_next_page: bool,
    pub total_count: i32,
}

/// Availability as the cache keeps it: copies available, and inventory's change version
/// (0: read from `BatchGetStock`, which has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stock {
    available: i64,
    version: i64,
}

/// The generation a fill started at; the fill is kept only if no event came since.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

/// The cache; clones share it.
#[derive(Clone)]
pub struct CatalogCache {
    inner: Arc<Inner>,
}

struct Inner {
    books: Cache<String, Arc<catalog::Book>>,
    stock: Cache<String, Stock>,
    pages: Cache<PageKey, Arc<Page>>,
    searches: Cache<PageKey, Arc<Page>>,
    /// Whole answers of catalogue-only queries ([`responses`]).
    responses: Cache<ResponseKey, Arc<Stored>>,
    /// Per [`Feed`]: in sync with its stream.
    live: [AtomicBool; 2],
    /// Bumped by every book event and reset: books and pages.
    book_generation: AtomicU64,
    /// Bumped by every stock event and reset: availability.
    stock_generation: AtomicU64,
}

impl std::fmt::Debug for CatalogCache {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CatalogCache")
            .field("live", &self.live())
            .finish_non_exhaustive()
    }
}

fn count(cache: &'static str, result: &'static str, times: u64) {
    if times > 0 {
        metrics::counter!(REQUESTS_METRIC, "cache" => cache, "result" => result).increment(times);
    }
}

/// A cache of at most `capacity` entries, each kept at most `ttl`.
fn bounded<K, V>(capacity: u64, ttl: Duration) -> Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder().max_capacity(capacity).time_to_live(ttl).build()
}

impl CatalogCache {
    /// An empty cache, serving nothing until both feeds are in sync.
    pub fn new(settings: &CacheSettings) -> Self {
        metrics::describe_counter!(
            REQUESTS_METRIC,
            "Catalogue cache lookups of the BFF, by cache (response, page, search, book, availability) and result (hit, miss, bypass while the event feed is not in sync)"
        );
        metrics::describe_counter!(
            RESETS_METRIC,
            "Times the BFF dropped its whole catalogue cache because an event feed started, failed or restarted"
        );
        let ttl = Duration::from_secs(settings.ttl_secs);
        Self {
            inner: Arc::new(Inner {
                books: bounded(settings.max_books, ttl),
                stock: bounded(settings.max_books, ttl),
                pages: bounded(settings.max_pages, ttl),
                searches: bounded(settings.max_pages, Duration::from_millis(settings.search_ttl_ms)),
                // Rebuilt from the entries above when they expire: as short-lived as searches.
                // Weighed in bytes: answers differ in size far more than pages do.
                responses: Cache::builder()
                    .max_capacity(settings.max_pages.saturating_mul(RESPONSE_BYTES))
                    .weigher(|key: &ResponseKey, stored: &Arc<Stored>| {
                        u32::try_from(key.request.len() + stored.data.len()).unwrap_or(u32::MAX)
                    })
                    .time_to_live(Duration::from_millis(settings.search_ttl_ms))
                    .build(),
                live: [AtomicBool::new(false), AtomicBool::new(false)],
                book_generation: AtomicU64::new(0),
                stock_generation: AtomicU64::new(0),
            }),
        }
    }

    /// Whether both feeds are in sync, so entries may be served and kept.
    pub fn live(&self) -> bool {
        self.inner.live.iter().all(|live| live.load(Ordering::SeqCst))
    }

    /// A page, when cached; `None` is a miss (or a bypass while the feeds are not in sync).
    pub fn page(&self, key: &PageKey) -> Option<Arc<Page>> {
        let name = if key.is_search() { "search" } else { "page" };
        if !self.live() {
            count(name, "bypass", 1);
            return None;
        }
        let cache = if key.is_search() {
            &self.inner.searches
        } else {
            &self.inner.pages
        };
        let found = cache.get(key);
        count(name, if found.is_some() { "hit" } else { "miss" }, 1);
        found
    }

    /// The ticket of a fill of books or pages read upstream from now on (`None`: not live).
    pub fn book_ticket(&self) -> Option<Ticket> {
        self.live()
            .then(|| Ticket(self.inner.book_generation.load(Ordering::SeqCst)))
    }

    /// The ticket of a fill of availability read upstream from now on (`None`: not live).
    pub fn stock_ticket(&self) -> Option<Ticket> {
        self.live()
            .then(|| Ticket(self.inner.stock_generation.load(Ordering::SeqCst)))
    }

    /// Keeps a page read upstream under `ticket`, and its books.
    pub fn put_page(&self, ticket: Ticket, key: PageKey, page: Arc<Page>) {
        let generation = &self.inner.book_generation;
        if !key.is_small() || generation.load(Ordering::SeqCst) != ticket.0 {
            return;
        }
        for book in &page.books {
            self.inner.books.insert(book.id.clone(), book.clone());
        }
        let cache = if key.is_search() {
            &self.inner.searches
        } else {
            &self.inner.pages
        };
        cache.insert(key.clone(), page.clone());
        // An event between the check and the inserts bumped the generation: what was just
        // kept may predate it.
        if generation.load(Ordering::SeqCst) != ticket.0 {
            cache.invalidate(&key);
            for book in &page.books {
                self.inner.books.invalidate(&book.id);
            }
        }
    }

    /// The books of `ids` that are cached; the rest are for the caller to read upstream.
    pub fn books(&self, ids: &[String]) -> (HashMap<String, Arc<catalog::Book>>, Vec<String>) {
        if !self.live() {
            count("book", "bypass", ids.len() as u64);
            return (HashMap::new(), ids.to_vec());
        }
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match self.inner.books.get(id) {
                Some(book) => {
                    found.insert(id.clone(), book);
                }
                None => missing.push(id.clone()),
            }
        }
        count("book", "hit", found.len() as u64);
        count("book", "miss", missing.len() as u64);
        (found, missing)
    }

    /// Keeps books read upstream under `ticket`.
    pub fn put_books(&self, ticket: Ticket, books: &[Arc<catalog::Book>]) {
        let generation = &self.inner.book_generation;
        if generation.load(Ordering::SeqCst) != ticket.0 {
            return;
        }
        for book in books {
            self.inner.books.insert(book.id.clone(), book.clone());
        }
        if generation.load(Ordering::SeqCst) != ticket.0 {
            for book in books {
                self.inner.books.invalidate(&book.id);
            }
        }
    }

    /// The copies available of each book of `ids` that is cached; the rest are for the
    /// caller to read upstream.
    pub fn availability(&self, ids: &[String]) -> (HashMap<String, i64>, Vec<String>) {
        if !self.live() {
            count("availability", "bypass", ids.len() as u64);
            return (HashMap::new(), ids.to_vec());
        }
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match self.inner.stock.get(id) {
                Some(stock) => {
                    found.insert(id.clone(), stock.available);
                }
                None => missing.push(id.clone()),
            }
        }
        count("availability", "hit", found.len() as u64);
        count("availability", "miss", missing.len() as u64);
        (found, missing)
    }

    /// Keeps availabilities read upstream (book id, available) under `ticket`.
    pub fn put_availability(&self, ticket: Ticket, levels: &[(String, i64)]) {
        let generation = &self.inner.stock_generation;
        if generation.load(Ordering::SeqCst) != ticket.0 {
            return;
        }
        for (id, available) in levels {
            self.inner.stock.insert(
                id.clone(),
                Stock {
                    available: *available,
                    version: 0,
                },
            );
        }
        if generation.load(Ordering::SeqCst) != ticket.0 {
            for (id, _) in levels {
                self.inner.stock.invalidate(id);
            }
        }
    }

    /// The generations answers built from now on are stamped with (`None`: not live).
    pub fn stamp(&self) -> Option<Stamp> {
        self.live().then(|| {
            Stamp(
                self.inner.book_generation.load(Ordering::SeqCst),
                self.inner.stock_generation.load(Ordering::SeqCst),
            )
        })
    }

    /// The serialised `data` of a kept answer, when no event came since it was built.
    pub fn response(&self, key: &ResponseKey) -> Option<(axum::body::Bytes, Arc<crate::metrics::Operation>)> {
        let Some(now) = self.stamp() else {
            count("response", "bypass", 1);
            return None;
        };
        let found = self
            .inner
            .responses
            .get(key)
            .filter(|stored| stored.stamp == now)
            .map(|stored| (stored.data.clone(), Arc::clone(&stored.operation)));
        count("response", if found.is_some() { "hit" } else { "miss" }, 1);
        found
    }

    /// Keeps an answer's serialised `data` built under `stamp`. One that an event overtook
    /// is never served: lookups compare stamps.
    pub fn put_response(
        &self,
        stamp: Stamp,
        key: ResponseKey,
        data: axum::body::Bytes,
        operation: crate::metrics::Operation,
    ) {
        if key.request.len() <= MAX_KEPT_REQUEST && self.stamp() == Some(stamp) {
            let operation = Arc::new(operation);
            self.inner.responses.insert(
                key,
                Arc::new(Stored {
                    stamp,
                    data,
                    operation,
                }),
            );
        }
    }

    /// A book changed (`None`: an import added many): it and every page leave the cache.
    pub fn book_changed(&self, id: Option<&str>) {
        self.inner.book_generation.fetch_add(1, Ordering::SeqCst);
        if let Some(id) = id {
            self.inner.books.invalidate(id);
        }
        self.inner.pages.invalidate_all();
        self.inner.searches.invalidate_all();
        self.inner.responses.invalidate_all();
    }

    /// A book's availability changed to `available` at inventory's `version`.
    pub fn stock_changed(&self, id: &str, available: i64, version: i64) {
        self.inner.stock_generation.fetch_add(1, Ordering::SeqCst);
        let newer = match self.inner.stock.get(id) {
            Some(cached) => cached.version < version,
            None => true,
        };
        if newer {
            self.inner
                .stock
                .insert(id.to_owned(), Stock { available, version });
        }
    }

    /// Drops a book's availability (this replica changed it; its event follows).
    pub fn forget_stock(&self, id: &str) {
        self.inner.stock_generation.fetch_add(1, Ordering::SeqCst);
        self.inner.stock.invalidate(id);
    }

    /// Drops every availability (a stock event that could not be read).
    pub fn stock_unknown(&self) {
        self.inner.stock_generation.fetch_add(1, Ordering::SeqCst);
        self.inner.stock.invalidate_all();
    }

    /// Drops everything.
    fn reset(&self) {
        self.inner.book_generation.fetch_add(1, Ordering::SeqCst);
        self.inner.stock_generation.fetch_add(1, Ordering::SeqCst);
        self.inner.books.invalidate_all();
        self.inner.stock.invalidate_all();
        self.inner.pages.invalidate_all();
        self.inner.searches.invalidate_all();
        self.inner.responses.invalidate_all();
    }

    /// `feed` is in sync from here on: everything cached before is dropped, what is read
    /// from now on is followed.
    pub(crate) fn feed_synced(&self, feed: Feed) {
        self.reset();
        self.inner.live[feed as usize].store(true, Ordering::SeqCst);
    }

    /// `feed` lost its stream: nothing is served, and everything is dropped, until it is in
    /// sync again.
    pub(crate) fn feed_lost(&self, feed: Feed) {
        self.inner.live[feed as usize].store(false, Ordering::SeqCst);
        self.reset();
        metrics::counter!(RESETS_METRIC).increment(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(id: &str) -> Arc<catalog::Book> {
        Arc::new(catalog::Book {
            id: id.to_owned(),
            ..catalog::Book::default()
        })
    }

    fn key() -> PageKey {
        PageKey {
            query: String::new(),
            author: String::new(),
            topic: "testing".to_owned(),
            min_price: None,
            max_price: None,
            sort: 1,
            first: 20,
            after: String::new(),
        }
    }

    fn page(ids: &[&str]) -> Arc<Page> {
        Arc::new(Page {
            books: ids.iter().map(|id| book(id)).collect(),
            cursors: ids.iter().map(|id| format!("c{id}")).collect(),
            has_next_page: false,
            total_count: i32::try_from(ids.len()).unwrap(),
        })
    }

    fn live_cache() -> CatalogCache {
        let cache = CatalogCache::new(&CacheSettings::default());
        cache.feed_synced(Feed::Books);
        cache.feed_synced(Feed::Stock);
        cache
    }

    #[test]
    fn nothing_is_served_or_kept_until_both_feeds_are_in_sync() {
        let cache = CatalogCache::new(&CacheSettings::default());
        assert!(cache.book_ticket().is_none());
        cache.feed_synced(Feed::Books);
        assert!(cache.page(&key()).is_none());
        assert!(cache.book_ticket().is_none(), "the stock feed is not in sync yet");
        cache.feed_synced(Feed::Stock);
        let ticket = cache.book_ticket().unwrap();
        cache.put_page(ticket, key(), page(&["a", "b"]));
        assert_eq!(cache.page(&key()).unwrap().books.len(), 2);
    }

    #[test]
    fn a_lost_feed_drops_everything_and_stops_serving_until_joined_again() {
        let cache = live_cache();
        cache.put_page(cache.book_ticket().unwrap(), key(), page(&["a"]));
        cache.put_availability(cache.stock_ticket().unwrap(), &[("a".to_owned(), 3)]);
        cache.feed_lost(Feed::Stock);
        assert!(cache.page(&key()).is_none());
        assert_eq!(cache.availability(&["a".to_owned()]).1, vec!["a".to_owned()]);
        cache.feed_synced(Feed::Stock);
        assert!(cache.page(&key()).is_none(), "dropped, not just hidden");
        assert!(cache.availability(&["a".to_owned()]).0.is_empty());
    }

    #[test]
    fn a_fill_read_before_an_event_is_not_kept() {
        let cache = live_cache();
        let ticket = cache.book_ticket().unwrap();
        cache.book_changed(Some("a"));
        cache.put_page(ticket, key(), page(&["a"]));
        assert!(cache.page(&key()).is_none());
        assert!(cache.books(&["a".to_owned()]).0.is_empty());

        let stock = cache.stock_ticket().unwrap();
        cache.stock_changed("a", 1, 7);
        cache.put_availability(stock, &[("a".to_owned(), 5)]);
        assert_eq!(cache.availability(&["a".to_owned()]).0["a"], 1);
    }

    #[test]
    fn a_book_event_drops_the_book_and_every_page_and_stock_events_apply_by_version() {
        let cache = live_cache();
        cache.put_page(cache.book_ticket().unwrap(), key(), page(&["a", "b"]));
        cache.book_changed(Some("b"));
        assert!(cache.page(&key()).is_none());
        let (found, missing) = cache.books(&["a".to_owned(), "b".to_owned()]);
        assert!(found.contains_key("a"));
        assert_eq!(missing, vec!["b".to_owned()]);

        cache.stock_changed("a", 4, 2);
        cache.stock_changed("a", 9, 1);
        assert_eq!(
            cache.availability(&["a".to_owned()]).0["a"],
            4,
            "older event ignored"
        );
        cache.stock_changed("a", 0, 3);
        assert_eq!(cache.availability(&["a".to_owned()]).0["a"], 0);
    }

    #[test]
    fn answers_are_served_only_at_the_generations_they_were_built_at_and_when_small() {
        let cache = live_cache();
        let answer = |request: &str| ResponseKey {
            media: "application/json",
            get: false,
            request: axum::body::Bytes::from(request.to_owned()),
        };
        let stamp = cache.stamp().unwrap();
        cache.put_response(
            stamp,
            answer("{ topics { name } }"),
            axum::body::Bytes::from_static(b"{}"),
            crate::metrics::Operation::unknown(),
        );
        assert!(cache.response(&answer("{ topics { name } }")).is_some());
        cache.stock_changed("a", 1, 1);
        assert!(
            cache.response(&answer("{ topics { name } }")).is_none(),
            "an event came since"
        );
        let stamp = cache.stamp().unwrap();
        cache.put_response(
            stamp,
            answer("{ topics { name } }"),
            axum::body::Bytes::from_static(b"{}"),
            crate::metrics::Operation::unknown(),
        );
        assert!(cache.response(&answer("{ topics { name } }")).is_some());
        let huge = format!("{{ topics {{ name }} }}{}", " ".repeat(MAX_KEPT_REQUEST));
        cache.put_response(
            stamp,
            answer(&huge),
            axum::body::Bytes::from_static(b"{}"),
            crate::metrics::Operation::unknown(),
        );
        assert!(cache.response(&answer(&huge)).is_none(), "not kept");
        let long = PageKey {
            query: "x".repeat(MAX_KEY_TEXT + 1),
            ..key()
        };
        cache.put_page(cache.book_ticket().unwrap(), long.clone(), page(&["a"]));
        assert!(cache.page(&long).is_none());
    }

    #[test]
    fn queries_differing_only_in_case_and_spaces_share_an_entry() {
        assert_eq!(normalise_query("  Harry   POTTER "), "harry potter");
        assert_eq!(normalise_query(""), "");
    }
}
