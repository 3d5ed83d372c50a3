//! `SearchBooks`: full text, filters, sorts, keyset pages and the total.

use platform::store::Reads;

use super::Catalog;
use crate::domain::SearchQuery;
use crate::domain::search::SearchResults;
use crate::error::CatalogResult;
use crate::store;

impl Catalog {
    /// Returns one page of matches, a cursor per book, and the page info.
    ///
    /// # Errors
    /// Internal on a database failure.
    #[tracing::instrument(name = "catalog.search_books", skip_all, fields(sort = ?query.sort, text = query.text.is_some()))]
    pub async fn search(&self, query: &SearchQuery) -> CatalogResult<SearchResults> {
        let page = match &self.reads {
            Some(Reads::Sqlite(reads)) => store::search::search_sqlite(reads, query).await?,
            Some(Reads::Postgres(reads)) => store::search::search(reads, query).await?,
            None => store::search::search(&self.db, query).await?,
        };
        let page_size = usize::try_from(query.page_size).unwrap_or(usize::MAX);
        let has_next_page = page.rows.len() > page_size;
        let (books, cursors) = page.rows.into_iter().take(page_size).unzip();
        Ok(SearchResults {
            books,
            cursors,
            has_next_page,
            total: page.total,
        })
    }
}
