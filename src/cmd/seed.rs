//! `bookstore seed`: load books into a running catalog through `ImportBooks`, from a
//! goodbooks-10k style CSV (`--csv`) or as N synthetic books (`--generate`).

use std::path::PathBuf;
use std::time::Duration;

use platform::ServiceName;
use platform::client::InProcess;

use crate::config::BookstoreConfig;
use crate::launch;
use crate::seed;

/// Arguments of `seed`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A goodbooks-10k style `books.csv`, plain or gzipped (the repository's copy:
    /// `datasets/goodbooks-10k/books.csv.gz`).
    #[arg(long, conflicts_with = "generate", required_unless_present_any = ["generate", "stock"])]
    pub csv: Option<PathBuf>,
    /// This many deterministic synthetic books.
    #[arg(long)]
    pub generate: Option<u64>,
    /// Then give every book of the catalogue that has no copies its demo stock (0 to 30,
    /// derived from the ISBN).
    #[arg(long)]
    pub stock: bool,
}

impl Args {
    /// Imports the rows and prints what was imported and every rejected row with its reason;
    /// with `--stock`, then stocks the catalogue.
    ///
    /// # Errors
    /// Fails when there is no signing key to act as admin, the CSV cannot be read, or the
    /// catalog or inventory cannot be reached.
    pub async fn execute(self, config: BookstoreConfig) -> anyhow::Result<()> {
        let token = launch::operator_token(&config)?;
        let channel = launch::long_call_channel(&config, ServiceName::Catalog, &InProcess::default())?;
        let started = std::time::Instant::now();
        let report = match (&self.csv, self.generate) {
            (Some(path), _) => {
                let rows = seed::goodbooks::read(path)?;
                Some(seed::import(channel.clone(), &token, rows.into_iter()).await?)
            }
            (None, Some(count)) => {
                Some(seed::import(channel.clone(), &token, seed::generate::books(count)).await?)
            }
            (None, None) => None,
        };
        if let Some(report) = report {
            for error in &report.rejected {
                println!("rejected row {}: {}: {}", error.row, error.field, error.reason);
            }
            println!(
                "imported {} books, rejected {} rows, in {:.1} s",
                report.imported,
                report.rejected.len(),
                started.elapsed().as_secs_f64()
            );
        }
        if self.stock {
            let inventory =
                launch::long_call_channel(&config, ServiceName::Inventory, &InProcess::default())?;
            let stocked = seed::stock::stock_catalogue(channel, inventory, &token).await?;
            println!(
                "stocked {} of {} books, in {:.1} s",
                stocked.stocked,
                stocked.seen,
                started.elapsed().as_secs_f64()
            );
        }
        Ok(())
    }
}

/// Seeds the real goodbooks-10k books built into the binary, with demo stock, when the
/// catalog is empty (for `bookstore up`).
///
/// # Errors
/// Fails when the catalog or inventory cannot be reached.
pub async fn seed_demo_if_empty(config: &BookstoreConfig, in_process: &InProcess) -> anyhow::Result<()> {
    let token = launch::operator_token(config)?;
    let channel = launch::long_call_channel(config, ServiceName::Catalog, in_process)?;
    let mut client = proto::catalog::v1::catalog_service_client::CatalogServiceClient::new(channel.clone());
    let mut total = None;
    for _ in 0..50 {
        let request = seed::authorized(proto::catalog::v1::SearchBooksRequest::default(), &token)?;
        match client.search_books(request).await {
            Ok(response) => {
                total = response.into_inner().page_info.map(|info| info.total_count);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    if total != Some(0) {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let rows = seed::goodbooks::read_embedded()?;
    let report = seed::import(channel.clone(), &token, rows.into_iter()).await?;
    tracing::info!(
        imported = report.imported,
        "seeded the demo catalog with goodbooks-10k"
    );
    let inventory = launch::long_call_channel(config, ServiceName::Inventory, in_process)?;
    let stocked = seed::stock::stock_catalogue(channel, inventory, &token).await?;
    tracing::info!(
        stocked = stocked.stocked,
        books = stocked.seen,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "stocked the demo catalog"
    );
    Ok(())
}
