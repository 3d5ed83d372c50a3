//! DataLoaders, one set per request: every book, availability and user a response needs is
//! fetched in one batched call per upstream (catalog `BatchGetBooks`, inventory
//! `BatchGetStock`, user `BatchGetUsers`), however many fields ask for them. No cross-request cache: stock and
//! prices must be fresh.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use proto::catalog::v1 as catalog;
use proto::inventory::v1 as inventory;
use proto::user::v1 as user;

use super::caller::Caller;
use super::errors;
use crate::Upstreams;

/// The most ids one batched call takes (the services' limit).
const MAX_BATCH: usize = 500;

/// A loader's failure, shared by every field that waited on the batch.
#[derive(Debug, Clone)]
pub struct LoadError(pub async_graphql::Error);

/// Books by id from the catalog.
#[derive(Debug)]
pub struct BookLoader {
    upstreams: Upstreams,
    caller: Caller,
}

impl Loader<String> for BookLoader {
    type Value = catalog::Book;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let request = self.caller.service_request(catalog::BatchGetBooksRequest {
            book_ids: keys.to_vec(),
        });
        let response = self
            .upstreams
            .catalog()
            .batch_get_books(request)
            .await
            .map_err(|status| LoadError(errors::from_status(&status)))?;
        Ok(response
            .into_inner()
            .books
            .into_iter()
            .map(|book| (book.id.clone(), book))
            .collect())
    }
}

/// Stock by book id from inventory.
#[derive(Debug)]
pub struct AvailabilityLoader {
    upstreams: Upstreams,
    caller: Caller,
}

impl Loader<String> for AvailabilityLoader {
    type Value = inventory::Stock;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let request = self.caller.service_request(inventory::BatchGetStockRequest {
            book_ids: keys.to_vec(),
        });
        let response = self
            .upstreams
            .inventory()
            .batch_get_stock(request)
            .await
            .map_err(|status| LoadError(errors::from_status(&status)))?;
        Ok(response
            .into_inner()
            .stocks
            .into_iter()
            .map(|stock| (stock.book_id.clone(), stock))
            .collect())
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
    /// Fresh loaders for one request.
    pub fn new(upstreams: &Upstreams, caller: &Caller) -> Self {
        let books = BookLoader {
            upstreams: upstreams.clone(),
            caller: caller.clone(),
        };
        let availability = AvailabilityLoader {
            upstreams: upstreams.clone(),
            caller: caller.clone(),
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
