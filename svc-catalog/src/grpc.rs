//! The tonic adapter: convert the wire to domain types, call [`Catalog`], convert back. The
//! only place that reads or builds protobuf messages ([`book`], [`search`] hold the
//! conversions).

mod book;
mod search;

use futures::StreamExt as _;
use proto::catalog::v1 as pb;
use proto::catalog::v1::catalog_service_server::CatalogService;
use proto::types::BookId;
use tonic::{Request, Response, Status, Streaming};

pub use self::book::{book_draft, book_to_wire};
pub use self::search::{results_to_wire, search_query};
use crate::error::CatalogError;
use crate::ops::Catalog;
use crate::ops::import::{ImportReport, ImportRow};

fn import_to_wire(report: ImportReport) -> pb::ImportBooksResponse {
    pb::ImportBooksResponse {
        imported: report.imported,
        errors: report
            .errors
            .into_iter()
            .map(|error| pb::RowError {
                row: error.row,
                field: error.field,
                reason: error.reason,
            })
            .collect(),
    }
}

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
        Ok(Response::new(pb::GetBookResponse {
            book: Some(book_to_wire(book)),
        }))
    }

    async fn batch_get_books(
        &self,
        request: Request<pb::BatchGetBooksRequest>,
    ) -> Result<Response<pb::BatchGetBooksResponse>, Status> {
        let mut ids = Vec::new();
        for (index, raw) in request.get_ref().book_ids.iter().enumerate() {
            ids.push(BookId::parse(&format!("book_ids[{index}]"), raw).map_err(CatalogError::from)?);
        }
        let (books, missing) = self.catalog.batch_get(&ids).await?;
        Ok(Response::new(pb::BatchGetBooksResponse {
            books: books.into_iter().map(book_to_wire).collect(),
            missing_ids: missing.iter().map(BookId::to_string).collect(),
        }))
    }

    async fn get_book_by_isbn(
        &self,
        request: Request<pb::GetBookByIsbnRequest>,
    ) -> Result<Response<pb::GetBookByIsbnResponse>, Status> {
        let book = self.catalog.get_by_isbn(&request.get_ref().isbn).await?;
        Ok(Response::new(pb::GetBookByIsbnResponse {
            book: Some(book_to_wire(book)),
        }))
    }

    async fn search_books(
        &self,
        request: Request<pb::SearchBooksRequest>,
    ) -> Result<Response<pb::SearchBooksResponse>, Status> {
        let query = search_query(request.get_ref()).map_err(CatalogError::from)?;
        Ok(Response::new(results_to_wire(self.catalog.search(&query).await?)))
    }

    async fn list_topics(
        &self,
        _request: Request<pb::ListTopicsRequest>,
    ) -> Result<Response<pb::ListTopicsResponse>, Status> {
        let topics = self.catalog.list_topics().await?;
        Ok(Response::new(pb::ListTopicsResponse {
            topics: topics
                .into_iter()
                .map(|topic| pb::TopicCount {
                    name: topic.name,
                    book_count: topic.book_count,
                })
                .collect(),
        }))
    }

    async fn create_book(
        &self,
        request: Request<pb::CreateBookRequest>,
    ) -> Result<Response<pb::CreateBookResponse>, Status> {
        let draft = book_draft(request.get_ref().book.as_ref()).map_err(CatalogError::from)?;
        let book = self.catalog.create_book(draft).await?;
        Ok(Response::new(pb::CreateBookResponse {
            book: Some(book_to_wire(book)),
        }))
    }

    async fn update_book(
        &self,
        request: Request<pb::UpdateBookRequest>,
    ) -> Result<Response<pb::UpdateBookResponse>, Status> {
        let id = book_id(&request.get_ref().book_id)?;
        let draft = book_draft(request.get_ref().book.as_ref()).map_err(CatalogError::from)?;
        let book = self.catalog.update_book(id, draft).await?;
        Ok(Response::new(pb::UpdateBookResponse {
            book: Some(book_to_wire(book)),
        }))
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
                draft: book_draft(message.book.as_ref()),
            }),
            Err(status) => Err(CatalogError::Internal(anyhow::anyhow!(
                "import stream failed: {status}"
            ))),
        });
        Ok(Response::new(import_to_wire(
            self.catalog.import(Box::pin(rows)).await?,
        )))
    }
}
