//! `SearchBooks`: full text, filters, sorts, keyset pages and the total.

use proto::catalog::v1 as pb;

use super::{Catalog, to_wire};
use crate::domain::SearchQuery;
use crate::error::CatalogResult;
use crate::store;

impl Catalog {
    /// Returns one page of matches, a cursor per book, and the page info.
    ///
    /// # Errors
    /// Internal on a database failure.
    #[tracing::instrument(name = "catalog.search_books", skip_all, fields(sort = ?query.sort, text = query.text.is_some()))]
    pub async fn search(&self, query: &SearchQuery) -> CatalogResult<pb::SearchBooksResponse> {
        let page = store::search::search(&self.db, query).await?;
        let page_size = usize::try_from(query.page_size).unwrap_or(usize::MAX);
        let has_next_page = page.rows.len() > page_size;
        let mut books = Vec::new();
        let mut cursors = Vec::new();
        for (book, score) in page.rows.iter().take(page_size) {
            books.push(to_wire(book));
            cursors.push(store::search::cursor_after(query.sort, book, *score).encode());
        }
        let next_page_token = if has_next_page {
            cursors.last().cloned().unwrap_or_default()
        } else {
            String::new()
        };
        Ok(pb::SearchBooksResponse {
            books,
            page_info: Some(proto::common::v1::PageInfo {
                next_page_token,
                has_next_page,
                total_count: page.total,
            }),
            cursors,
        })
    }
}
