//! Demo stock for seeded books, so a newcomer's shop has books that can be bought: every
//! book of the catalogue that has no copies gets [`demo_copies`] of them through inventory's
//! `SetStock` (recorded in the ledger as `demo_stock`, published as stock events like any
//! other change).

use futures::StreamExt as _;
use proto::catalog::v1 as catalog;
use proto::inventory::v1 as inventory;
use tonic::transport::Channel;

use super::authorized;

/// `SetStock` calls in flight: inventory writes through one SQLite writer, so more only queue.
const IN_FLIGHT: usize = 4;

/// The copies a demo book gets, from its ISBN so repeated seeds agree: 1 to 30, and none for
/// about one book in thirteen, so the shop shows sold-out books too.
pub fn demo_copies(isbn: &str) -> i64 {
    // FNV-1a: stable across Rust releases, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in isbn.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    if hash.is_multiple_of(13) {
        0
    } else {
        i64::try_from(1 + hash % 30).unwrap_or(1)
    }
}

/// What [`stock_catalogue`] did.
#[derive(Debug, Default, Clone, Copy)]
pub struct StockReport {
    /// Books that got copies.
    pub stocked: u64,
    /// Books seen (every book of the catalogue).
    pub seen: u64,
}

/// Gives every book of the catalogue that has no copies on hand its [`demo_copies`], page by
/// page in the catalogue's own order, acting as `token`'s holder (an admin).
///
/// # Errors
/// Fails when the catalogue or inventory refuses a call.
pub async fn stock_catalogue(
    catalog: Channel,
    inventory: Channel,
    token: &str,
) -> anyhow::Result<StockReport> {
    let mut books = catalog::catalog_service_client::CatalogServiceClient::new(catalog);
    let stock = inventory::inventory_service_client::InventoryServiceClient::new(inventory);
    let mut report = StockReport::default();
    let mut page_token = String::new();
    loop {
        let request = catalog::SearchBooksRequest {
            sort: catalog::BookSort::Title as i32,
            page: Some(proto::common::v1::PageRequest {
                page_size: 100,
                page_token: page_token.clone(),
            }),
            ..Default::default()
        };
        let page = books
            .search_books(authorized(request, token)?)
            .await?
            .into_inner();
        report.seen += page.books.len() as u64;
        report.stocked += stock_page(&stock, &page.books, token).await?;
        let next = page
            .page_info
            .map(|info| info.next_page_token)
            .unwrap_or_default();
        if next.is_empty() {
            return Ok(report);
        }
        page_token = next;
    }
}

/// Stocks the books of one page that have none; returns how many got copies.
async fn stock_page(
    stock: &inventory::inventory_service_client::InventoryServiceClient<Channel>,
    books: &[catalog::Book],
    token: &str,
) -> anyhow::Result<u64> {
    let ids = books.iter().map(|book| book.id.clone()).collect();
    let levels = stock
        .clone()
        .batch_get_stock(authorized(
            inventory::BatchGetStockRequest { book_ids: ids },
            token,
        )?)
        .await?
        .into_inner()
        .stocks;
    let mut writes = Vec::new();
    for book in books {
        let copies = demo_copies(&book.isbn13);
        let has_none = levels
            .iter()
            .any(|level| level.book_id == book.id && level.on_hand == 0);
        if copies > 0 && has_none {
            let request = inventory::SetStockRequest {
                book_id: book.id.clone(),
                on_hand: copies,
                reason: "demo_stock".to_owned(),
            };
            writes.push(authorized(request, token)?);
        }
    }
    let mut results = futures::stream::iter(writes)
        .map(|request| {
            let mut client = stock.clone();
            async move { client.set_stock(request).await }
        })
        .buffer_unordered(IN_FLIGHT);
    let mut stocked = 0;
    while let Some(result) = results.next().await {
        result?;
        stocked += 1;
    }
    Ok(stocked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_copies_are_stable_and_some_books_are_sold_out() {
        assert_eq!(demo_copies("0439023483"), demo_copies("0439023483"));
        let copies: Vec<i64> = (0..1_000)
            .map(|index| demo_copies(&format!("97800000{index:05}")))
            .collect();
        let sold_out = copies.iter().filter(|count| **count == 0).count();
        assert!((40..120).contains(&sold_out), "{sold_out} of 1000 sold out");
        assert!(copies.iter().all(|count| (0..=30).contains(count)));
    }
}
