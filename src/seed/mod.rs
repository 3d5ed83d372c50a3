//! Sources of books for `bookstore seed` and `bookstore up`'s demo catalog: a goodbooks-10k
//! style CSV (the repository's copy is built into the binary), or N deterministic synthetic
//! books. Both produce `ImportBooks` rows; the import itself (checking, batching, reporting)
//! is svc-catalog's. [`stock`] gives seeded books demo copies.

pub mod generate;
pub mod goodbooks;
pub mod stock;

use proto::catalog::v1 as pb;

/// One row to stream to `ImportBooks`: its number in the source (for error reports) and the
/// book, or why the source row could not even become a book.
#[derive(Debug, Clone)]
pub struct SourceRow {
    pub row: i64,
    pub book: Result<pb::BookInput, RowProblem>,
}

/// A source row that cannot be sent at all (reported like svc-catalog's row errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub field: String,
    pub reason: String,
}

/// Returns a price in cents from a stable number, so repeated seeds agree.
pub fn deterministic_price(seed: u64) -> pb::BookInput {
    pb::BookInput {
        price: Some(proto::common::v1::Money {
            amount_minor: i64::try_from(299 + seed.wrapping_mul(7_919) % 4_700).unwrap_or(999),
            currency: "USD".to_owned(),
        }),
        ..pb::BookInput::default()
    }
}

/// What an import did: rows stored, and every row turned away with its reason.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub imported: i64,
    pub rejected: Vec<pb::RowError>,
}

/// Streams `rows` to svc-catalog's `ImportBooks` over `channel` as `token`'s holder (an
/// admin), producing rows on a blocking thread so a million generated books never sit in
/// memory at once.
///
/// # Errors
/// Fails when the call fails (rows of batches already written stay).
pub async fn import<I>(
    channel: tonic::transport::Channel,
    token: &str,
    rows: I,
) -> anyhow::Result<ImportReport>
where
    I: Iterator<Item = SourceRow> + Send + 'static,
{
    let (sender, receiver) = tokio::sync::mpsc::channel::<pb::ImportBooksRequest>(1_024);
    let (problem_sender, mut problem_receiver) = tokio::sync::mpsc::unbounded_channel::<pb::RowError>();
    let producer = tokio::task::spawn_blocking(move || {
        for source in rows {
            match source.book {
                Ok(book) => {
                    let message = pb::ImportBooksRequest {
                        book: Some(book),
                        row: source.row,
                    };
                    if sender.blocking_send(message).is_err() {
                        return;
                    }
                }
                Err(problem) => {
                    let _ = problem_sender.send(pb::RowError {
                        row: source.row,
                        field: problem.field,
                        reason: problem.reason,
                    });
                }
            }
        }
    });
    let request = authorized(tokio_stream::wrappers::ReceiverStream::new(receiver), token)?;
    let response = pb::catalog_service_client::CatalogServiceClient::new(channel)
        .max_encoding_message_size(4 * 1024 * 1024)
        .import_books(request)
        .await?
        .into_inner();
    producer.await?;
    let mut rejected = Vec::new();
    while let Ok(problem) = problem_receiver.try_recv() {
        rejected.push(problem);
    }
    rejected.extend(response.errors);
    rejected.sort_by_key(|error| error.row);
    Ok(ImportReport {
        imported: response.imported,
        rejected,
    })
}

/// Wraps `message` in a request carrying `token` as its bearer.
///
/// # Errors
/// Fails when the token is not a valid header value.
pub(crate) fn authorized<T>(message: T, token: &str) -> anyhow::Result<tonic::Request<T>> {
    let mut request = tonic::Request::new(message);
    let bearer = format!("Bearer {token}")
        .parse()
        .map_err(|_| anyhow::anyhow!("token is not a header value"))?;
    request.metadata_mut().insert("authorization", bearer);
    Ok(request)
}
