//! The catalogue's queries: one book, a book by ISBN, searches with filters, sorts and
//! pages, and the topics. For everyone, signed in or not.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use proto::catalog::v1 as catalog;

use crate::cache::{CatalogCache, Page, PageKey, normalise_query};

use super::caller::Caller;
use super::errors::{bad_input, from_status};
use super::types::{Book, BookConnection, BookEdge, PageInfo, Topic};
use super::upstreams;

/// The most items one page returns.
pub const MAX_PAGE: i32 = 100;

pub(crate) fn page(first: i32, after: Option<String>) -> Result<proto::common::v1::PageRequest> {
    if !(0..=MAX_PAGE).contains(&first) {
        return Err(bad_input("first", &format!("must be between 0 and {MAX_PAGE}")));
    }
    Ok(proto::common::v1::PageRequest {
        page_size: first,
        page_token: after.unwrap_or_default(),
    })
}

#[derive(Debug, Clone, Default, InputObject)]
pub struct BookFilter {
    /// Full text over title, authors, description, ISBN.
    pub query: Option<String>,
    pub author: Option<String>,
    pub topic: Option<String>,
    /// Minor units (cents).
    pub min_price: Option<i32>,
    pub max_price: Option<i32>,
    pub in_stock: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
pub enum BookSort {
    #[default]
    Relevance,
    Title,
    PriceAsc,
    PriceDesc,
    Newest,
}

impl BookSort {
    fn to_wire(self) -> catalog::BookSort {
        match self {
            BookSort::Relevance => catalog::BookSort::Relevance,
            BookSort::Title => catalog::BookSort::Title,
            BookSort::PriceAsc => catalog::BookSort::PriceAsc,
            BookSort::PriceDesc => catalog::BookSort::PriceDesc,
            BookSort::Newest => catalog::BookSort::Newest,
        }
    }
}

/// Reads one page from the catalog.
async fn search(
    context: &Context<'_>,
    caller: &Caller,
    filter: BookFilter,
    sort: BookSort,
    page: proto::common::v1::PageRequest,
) -> Result<Page> {
    let request = caller.service_request(catalog::SearchBooksRequest {
        query: filter.query.unwrap_or_default(),
        filter: Some(catalog::BookFilter {
            author: filter.author.unwrap_or_default(),
            topic: filter.topic.unwrap_or_default(),
            min_price_minor: filter.min_price.map(i64::from),
            max_price_minor: filter.max_price.map(i64::from),
            in_stock: filter.in_stock,
            ..catalog::BookFilter::default()
        }),
        sort: sort.to_wire().into(),
        page: Some(page),
    });
    let response = upstreams(context)?
        .catalog()
        .search_books(request)
        .await
        .map_err(|status| from_status(&status))?
        .into_inner();
    let page_info = response.page_info.unwrap_or_default();
    Ok(Page {
        books: response.books.into_iter().map(Arc::new).collect(),
        cursors: response.cursors,
        has_next_page: page_info.has_next_page,
        total_count: i32::try_from(page_info.total_count).unwrap_or(i32::MAX),
    })
}

/// The catalogue's part of the `Query` root.
#[derive(Debug, Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// Null when absent or deleted.
    async fn book(&self, context: &Context<'_>, id: ID) -> Result<Option<Book>> {
        super::types::load_book(context, &id).await
    }

    /// ISBN-10 or ISBN-13, hyphens allowed.
    async fn book_by_isbn(&self, context: &Context<'_>, isbn: String) -> Result<Option<Book>> {
        let caller = Caller::of(context)?;
        let request = caller.service_request(catalog::GetBookByIsbnRequest { isbn });
        match upstreams(context)?.catalog().get_book_by_isbn(request).await {
            Ok(response) => Ok(response.into_inner().book.map(|book| Book(Arc::new(book)))),
            Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
            Err(status) => Err(from_status(&status)),
        }
    }

    #[graphql(complexity = "(first.unwrap_or(20).clamp(0, 100) as usize) * child_complexity + 1")]
    async fn books(
        &self,
        context: &Context<'_>,
        filter: Option<BookFilter>,
        #[graphql(default_with = "Some(BookSort::Relevance)")] sort: Option<BookSort>,
        #[graphql(default_with = "Some(20)")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<BookConnection> {
        let caller = Caller::of(context)?;
        let (sort, first) = (sort.unwrap_or_default(), first.unwrap_or(20));
        let filter = filter.unwrap_or_default();
        let page_request = page(first, after)?;
        // Pages filtered by stock are not cached: catalog's flag trails inventory's events.
        let cache = context
            .data_opt::<CatalogCache>()
            .filter(|_| filter.in_stock.is_none());
        let key = cache.map(|_| PageKey {
            query: filter.query.as_deref().map(normalise_query).unwrap_or_default(),
            author: filter.author.clone().unwrap_or_default(),
            topic: filter.topic.clone().unwrap_or_default(),
            min_price: filter.min_price,
            max_price: filter.max_price,
            sort: sort.to_wire().into(),
            first,
            after: page_request.page_token.clone(),
        });
        let cached = match (cache, &key) {
            (Some(cache), Some(key)) => cache.page(key),
            _ => None,
        };
        let page = match cached {
            Some(page) => page,
            None => {
                let ticket = cache.and_then(CatalogCache::book_ticket);
                let page = Arc::new(search(context, caller, filter, sort, page_request).await?);
                if let (Some(cache), Some(key), Some(ticket)) = (cache, key, ticket) {
                    cache.put_page(ticket, key, page.clone());
                }
                page
            }
        };
        // One availability lookup for the page, rather than one batch per scheduling slice.
        if context
            .look_ahead()
            .field("edges")
            .field("node")
            .field("availability")
            .exists()
        {
            let ids = page.books.iter().map(|book| book.id.clone()).collect();
            context
                .data::<super::loaders::Loaders>()?
                .prefetch_availability(ids)
                .await;
        }
        Ok(BookConnection {
            edges: page
                .books
                .iter()
                .zip(&page.cursors)
                .map(|(book, cursor)| BookEdge {
                    cursor: cursor.clone(),
                    node: Book(book.clone()),
                })
                .collect(),
            page_info: PageInfo {
                has_next_page: page.has_next_page,
                end_cursor: page.cursors.last().cloned(),
            },
            total_count: page.total_count,
        })
    }

    /// Every topic with its number of books.
    async fn topics(&self, context: &Context<'_>) -> Result<Vec<Topic>> {
        let caller = Caller::of(context)?;
        let request = caller.service_request(catalog::ListTopicsRequest {});
        let response = upstreams(context)?
            .catalog()
            .list_topics(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner();
        Ok(response
            .topics
            .into_iter()
            .map(|topic| Topic {
                name: topic.name,
                book_count: i32::try_from(topic.book_count).unwrap_or(i32::MAX),
            })
            .collect())
    }
}
