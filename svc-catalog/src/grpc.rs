//! The tonic adapter: convert, call [`Catalog`], convert back. Errors become statuses in
//! `error.rs`.

use futures::StreamExt as _;
use proto::catalog::v1 as pb;
use proto::catalog::v1::catalog_service_server::CatalogService;
use proto::types::BookId;
use tonic::{Request, Response, Status, Streaming};

use crate::domain::{BookDraft, SearchQuery};
use crate::error::CatalogError;
use crate::ops::Catalog;
use crate::ops::import::ImportRow;

/// `CatalogService` over [`Catalog`].
#[derive(Debug, Clone)]
pub struct CatalogGrpc {
    catalog: Catalog,
}

impl CatalogGrpc {
    /// Wraps the logic handle.
    pub fn new(catalog: Catalog) -> Self {
        Self { catalog }
    }
}

fn book_id(raw: &str) -> Result<BookId, CatalogError> {
    Ok(BookId::parse("book_id", raw)?)
}

#[tonic::async_trait]
impl CatalogService for CatalogGrpc {
    async fn get_book(
        &self,
        request: Request<pb::GetBookRequest>,
    ) -> Result<Response<pb::GetBookResponse>, Status> {
        let book = self
            .catalog
            .get_book(book_id(&request.get_ref().book_id)?)
            .await?;
        Ok(Response::new(pb::GetBookResponse { book: Some(book) }))
    }

    async fn batch_get_books(
        &self,
        request: Request<pb::BatchGetBooksRequest>,
    ) -> Result<Response<pb::BatchGetBooksResponse>, Status> {
        let mut ids = Vec::new();
        for (index, raw) in request.get_ref().book_ids.iter().enumerate() {
            ids.push(BookId::parse(&format!("book_ids[{index}]"), raw).map_err(CatalogError::from)?);
        }
        let (books, missing_ids) = self.catalog.batch_get(&ids).await?;
        Ok(Response::new(pb::BatchGetBooksResponse { books, missing_ids }))
    }

    async fn get_book_by_isbn(
        &self,
        request: Request<pb::GetBookByIsbnRequest>,
    ) -> Result<Response<pb::GetBookByIsbnResponse>, Status> {
        let book = self.catalog.get_by_isbn(&request.get_ref().isbn).await?;
        Ok(Response::new(pb::GetBookByIsbnResponse { book: Some(book) }))
    }

    async fn search_books(
        &self,
        request: Request<pb::SearchBooksRequest>,
    ) -> Result<Response<pb::SearchBooksResponse>, Status> {
        let query = SearchQuery::parse(request.get_ref()).map_err(CatalogError::from)?;
        Ok(Response::new(self.catalog.search(&query).await?))
    }

    async fn list_topics(
        &self,
        _request: Request<pb::ListTopicsRequest>,
    ) -> Result<Response<pb::ListTopicsResponse>, Status> {
        let topics = self.catalog.list_topics().await?;
        Ok(Response::new(pb::ListTopicsResponse { topics }))
    }

    async fn create_book(
        &self,
        request: Request<pb::CreateBookRequest>,
    ) -> Result<Response<pb::CreateBookResponse>, Status> {
        let draft = BookDraft::parse(request.get_ref().book.as_ref()).map_err(CatalogError::from)?;
        let book = self.catalog.create_book(draft).await?;
        Ok(Response::new(pb::CreateBookResponse { book: Some(book) }))
    }

    async fn update_book(
        &self,
        request: Request<pb::UpdateBookRequest>,
    ) -> Result<Response<pb::UpdateBookResponse>, Status> {
        let id = book_id(&request.get_ref().book_id)?;
        let draft = BookDraft::parse(request.get_ref().book.as_ref()).map_err(CatalogError::from)?;
        let book = self.catalog.update_book(id, draft).await?;
        Ok(Response::new(pb::UpdateBookResponse { book: Some(book) }))
    }

    async fn delete_book(
        &self,
        request: Request<pb::DeleteBookRequest>,
    ) -> Result<Response<pb::DeleteBookResponse>, Status> {
        self.catalog
            .delete_book(book_id(&request.get_ref().book_id)?)
            .await?;
        Ok(Response::new(pb::DeleteBookResponse {}))
    }

    async fn import_books(
        &self,
        request: Request<Streaming<pb::ImportBooksRequest>>,
    ) -> Result<Response<pb::ImportBooksResponse>, Status> {
        let rows = request.into_inner().map(|message| match message {
            Ok(message) => Ok(ImportRow {
                row: message.row,
                draft: BookDraft::parse(message.book.as_ref()),
            }),
            Err(status) => Err(CatalogError::Internal(anyhow::anyhow!(
                "import stream failed: {status}"
            ))),
        });
        Ok(Response::new(self.catalog.import(Box::pin(rows)).await?))
    }
}
