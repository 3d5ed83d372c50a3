//! `ImportBooks`: a client stream of rows, checked one by one, written in batches. Bad rows
//! are reported with their row number, field and reason; good rows are kept, batch by batch.

use platform::store::Classify as _;
use std::collections::HashSet;

use futures::{Stream, StreamExt as _};
use proto::types::InvalidField;

use super::Catalog;
use crate::domain::BookDraft;
use crate::error::{CatalogError, CatalogRefusal, CatalogResult};
use crate::store;

/// Rows written per transaction.
const BATCH_ROWS: usize = 500;
/// Row errors listed in the answer; the rest are counted in one last entry.
const MAX_LISTED_ERRORS: usize = 10_000;

/// One streamed row, parsed at the adapter.
#[derive(Debug)]
pub struct ImportRow {
    pub row: i64,
    pub draft: Result<BookDraft, InvalidField>,
}

/// What an import did: how many books it wrote, and every row it refused with why.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub imported: i64,
    pub errors: Vec<RowError>,
    unlisted: u64,
}

/// A row refused, with the field and the reason (`row` -1: a summary of rows not listed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: i64,
    pub field: String,
    pub reason: String,
}

impl ImportReport {
    fn reject(&mut self, row: i64, field: &str, reason: &str) {
        if self.errors.len() < MAX_LISTED_ERRORS {
            self.errors.push(RowError {
                row,
                field: field.to_owned(),
                reason: reason.to_owned(),
            });
        } else {
            self.unlisted += 1;
        }
    }
}

impl Catalog {
    /// Imports every row of `rows`.
    ///
    /// # Errors
    /// Stops with the stream's error (rows of batches already written stay) or a database
    /// failure.
    #[tracing::instrument(name = "catalog.import_books", skip_all)]
    pub async fn import<S>(&self, mut rows: S) -> CatalogResult<ImportReport>
    where
        S: Stream<Item = CatalogResult<ImportRow>> + Unpin,
    {
        let mut report = ImportReport::default();
        let mut batch: Vec<(i64, BookDraft)> = Vec::new();
        let mut seen_isbns: HashSet<String> = HashSet::new();
        while let Some(next) = rows.next().await {
            let ImportRow { row, draft } = next?;
            let draft = match draft {
                Ok(draft) => draft,
                Err(invalid) => {
                    report.reject(row, &invalid.field, &invalid.reason);
                    continue;
                }
            };
            if !seen_isbns.insert(draft.isbn.to_string()) {
                report.reject(row, "isbn", "appears earlier in this import");
                continue;
            }
            batch.push((row, draft));
            if batch.len() == BATCH_ROWS {
                self.write_batch(std::mem::take(&mut batch), &mut report).await?;
            }
        }
        self.write_batch(batch, &mut report).await?;
        if report.imported > 0 {
            store::book::refresh_statistics(&self.db).await?;
        }
        if report.unlisted > 0 {
            let reason = format!("{} more rows were rejected", report.unlisted);
            report.errors.push(RowError {
                row: -1,
                field: String::new(),
                reason,
            });
        }
        tracing::info!(
            imported = report.imported,
            rejected = report.errors.len(),
            "import finished"
        );
        Ok(report)
    }

    async fn write_batch(
        &self,
        batch: Vec<(i64, BookDraft)>,
        report: &mut ImportReport,
    ) -> CatalogResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let isbns: Vec<String> = batch.iter().map(|(_, draft)| draft.isbn.to_string()).collect();
        let taken: HashSet<String> = store::book::existing_isbns(&self.db, &isbns)
            .await?
            .into_iter()
            .collect();
        let mut fresh = Vec::new();
        let mut rows = Vec::new();
        for (row, draft) in batch {
            if taken.contains(draft.isbn.as_ref()) {
                report.reject(row, "isbn", "a book with this isbn already exists");
            } else {
                rows.push(row);
                fresh.push(draft);
            }
        }
        match self.insert_all(&fresh).await {
            Ok(()) => {
                report.imported += i64::try_from(fresh.len()).unwrap_or_default();
                Ok(())
            }
            // Someone added one of these ISBNs meanwhile: write row by row to say which.
            Err(CatalogError::Refused(CatalogRefusal::AlreadyExists(_))) => {
                for (row, draft) in rows.into_iter().zip(fresh) {
                    match self.insert_all(std::slice::from_ref(&draft)).await {
                        Ok(()) => report.imported += 1,
                        Err(CatalogError::Refused(CatalogRefusal::AlreadyExists(reason))) => {
                            report.reject(row, "isbn", reason)
                        }
                        Err(other) => return Err(other),
                    }
                }
                Ok(())
            }
            Err(other) => Err(other),
        }
    }

    async fn insert_all(&self, drafts: &[BookDraft]) -> CatalogResult<()> {
        let transaction = platform::store::begin(&self.db, "book").await?;
        store::book::insert_many(&transaction, drafts).await?;
        store::events::append(&transaction, crate::domain::book::BookChange::Imported).await?;
        transaction.commit().await.classify("book")?;
        self.changed.notify_one();
        Ok(())
    }
}
