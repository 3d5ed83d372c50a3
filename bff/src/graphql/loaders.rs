//! DataLoaders, one set per request: every book, availability and user a response needs is
//! fetched in one batched call per upstream (catalog `BatchGetBooks`, inventory
//! `BatchGetStock`, user `BatchGetUsers`), however many fields ask for them. Books and
//! availability are first looked up in the catalogue cache (`crate::cache`, kept fresh by
//! events) when it is on; only what it lacks is fetched, and kept there.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use proto::catalog::v1 as catalog;
use proto::inventory::v1 as inventory;
use proto::user::v1 as user;

use super::caller::Caller;
use super::errors;
use super::types::Availability;
use crate::Upstreams;
use crate::cache::CatalogCache;

/// The most ids one batched call takes (the services' limit).
const MAX_BATCH: usize = 500;

/// A loader's failure, shared by every field that waited on the batch.
#[derive(Debug, Clone)]
pub struct LoadError(pub async_graphql::Error);

/// Books by id: the cache's, then the catalog's.
#[derive(Debug)]
pub struct BookLoader {
    upstreams: Upstreams,
    caller: Caller,
    cache: Option<CatalogCache>,
}

impl Loader<String> for BookLoader {
    type Value = Arc<catalog::Book>;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let (mut found, missing) = match &self.cache {
            Some(cache) => cache.books(keys),
            None => (HashMap::new(), keys.to_vec()),
        };
        if missing.is_empty() {
            return Ok(found);
        }
        let ticket = self.cache.as_ref().and_then(CatalogCache::book_ticket);
        let request = self
            .caller
            .service_request(catalog::BatchGetBooksRequest { book_ids: missing });
        let response = self
            .upstreams
            .catalog()
            .batch_get_books(request)
            .await
            .map_err(|status| LoadError(errors::from_status(&status)))?;
        let fetched: Vec<Arc<catalog::Book>> =
            response.into_inner().books.into_iter().map(Arc::new).collect();
        if let (Some(cache), Some(ticket)) = (&self.cache, ticket) {
            cache.put_books(ticket, &fetched);
        }
        found.extend(fetched.into_iter().map(|book| (book.id.clone(), book)));
        Ok(found)
    }
}

/// Availability by book id: the cache's, then inventory's.
#[derive(Debug)]
pub struct AvailabilityLoader {
    upstreams: Upstreams,
    caller: Caller,
    cache: Option<CatalogCache>,
}

impl Loader<String> for AvailabilityLoader {
    type Value = Availability;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let (cached, missing) = match &self.cache {
            Some(cache) => cache.availability(keys),
            None => (HashMap::new(), keys.to_vec()),
        };
        let mut found: HashMap<String, Availability> = cached
            .into_iter()
            .map(|(id, available)| (id, Availability::new(available)))
            .collect();
        if missing.is_empty() {
            return Ok(found);
        }
        let ticket = self.cache.as_ref().and_then(CatalogCache::stock_ticket);
        let request = self
            .caller
            .service_request(inventory::BatchGetStockRequest { book_ids: missing });
        let response = self
            .upstreams
            .inventory()
            .batch_get_stock(request)
            .await
            .map_err(|status| LoadError(errors::from_status(&status)))?;
        let levels: Vec<(String, i64)> = response
            .into_inner()
            .stocks
            .into_iter()
            .map(|stock| (stock.book_id, stock.available))
            .collect();
        if let (Some(cache), Some(ticket)) = (&self.cache, ticket) {
            cache.put_availability(ticket, &levels);
        }
        found.extend(
            levels
                .into_iter()
                .map(|(id, available)| (id, Availability::new(available))),
        );
        Ok(found)
    }
}

/// Users by id from svc-user (in the BFF's name: `BatchGetUsers` admits the BFF).
#[derive(Debug)]
pub struct UserLoader {
    upstreams: Upstreams,
    caller: Caller,
}

impl Loader<String> for UserLoader {
    type Value = user::User;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let request = self.caller.service_request(user::BatchGetUsersRequest {
            user_ids: keys.to_vec(),
        });
        let response = self
            .upstreams
            .user()
            .batch_get_users(request)
            .await
            .map_err(|status| LoadError(errors::from_status(&status)))?;
        Ok(response
            .into_inner()
            .users
            .into_iter()
            .map(|user| (user.id.clone(), user))
            .collect())
    }
}

/// The loaders of one request. Their caches live as long as the request, so a value read
/// once (or fed ahead by a list resolver) is not fetched again.
pub struct Loaders {
    pub books: DataLoader<BookLoader, HashMapCache>,
    pub availability: DataLoader<AvailabilityLoader, HashMapCache>,
    pub users: DataLoader<UserLoader, HashMapCache>,
}

impl std::fmt::Debug for Loaders {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Loaders").finish_non_exhaustive()
    }
}

impl Loaders {
    /// Fresh loaders for one request, reading through `cache` when it is on.
    pub fn new(upstreams: &Upstreams, caller: &Caller, cache: Option<&CatalogCache>) -> Self {
        let books = BookLoader {
            upstreams: upstreams.clone(),
            caller: caller.clone(),
            cache: cache.cloned(),
        };
        let availability = AvailabilityLoader {
            upstreams: upstreams.clone(),
            caller: caller.clone(),
            cache: cache.cloned(),
        };
        let users = UserLoader {
            upstreams: upstreams.clone(),
            caller: caller.clone(),
        };
        Loaders {
            users: DataLoader::with_cache(users, tokio::spawn, HashMapCache::default())
                .max_batch_size(MAX_BATCH),
            books: DataLoader::with_cache(books, tokio::spawn, HashMapCache::default())
                .max_batch_size(MAX_BATCH),
            availability: DataLoader::with_cache(availability, tokio::spawn, HashMapCache::default())
                .max_batch_size(MAX_BATCH),
        }
    }
}

impl Loaders {
    /// Fetches the availability of a whole page in one call ahead of its fields, which then
    /// read the cache. A failure is left to the fields, which report it each.
    pub async fn prefetch_availability(&self, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        if let Ok(found) = self.availability.loader().load(&ids).await {
            self.availability.feed_many(found).await;
        }
    }
}
