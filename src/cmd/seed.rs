//! `bookstore seed`: load books into a running catalog through `ImportBooks`, from a
//! goodbooks-10k style CSV (`--csv`) or as N synthetic books (`--generate`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use platform::ServiceName;

use crate::config::BookstoreConfig;
use crate::launch;
use crate::seed;

/// Arguments of `seed`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A goodbooks-10k style `books.csv`.
    #[arg(long, conflicts_with = "generate", required_unless_present = "generate")]
    pub csv: Option<PathBuf>,
    /// This many deterministic synthetic books.
    #[arg(long)]
    pub generate: Option<u64>,
    /// Where `bookstore up` keeps its signing key (overrides `data_dir`).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

impl Args {
    pub(crate) fn override_config(&self, config: &mut BookstoreConfig) {
        if let Some(data_dir) = &self.data_dir {
            config.data_dir = data_dir.clone();
        }
    }

    /// Imports the rows and prints what was imported and every rejected row with its reason.
    ///
    /// # Errors
    /// Fails when there is no signing key to act as admin, the CSV cannot be read, or the
    /// catalog cannot be reached.
    pub async fn execute(self, config: BookstoreConfig) -> anyhow::Result<()> {
        let token = launch::operator_token(&config)?;
        let channel = launch::long_call_channel(&config, ServiceName::Catalog)?;
        let started = std::time::Instant::now();
        let report = match (&self.csv, self.generate) {
            (Some(path), _) => {
                let rows = seed::goodbooks::read(path)?;
                seed::import(channel, &token, rows.into_iter()).await?
            }
            (None, Some(count)) => seed::import(channel, &token, seed::generate::books(count)).await?,
            (None, None) => anyhow::bail!("say --csv FILE or --generate N"),
        };
        for error in &report.rejected {
            println!("rejected row {}: {}: {}", error.row, error.field, error.reason);
        }
        println!(
            "imported {} books, rejected {} rows, in {:.1} s",
            report.imported,
            report.rejected.len(),
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }
}

/// Seeds a small synthetic catalog when the catalog is empty (for `bookstore up`).
///
/// # Errors
/// Fails when the catalog cannot be reached.
pub async fn seed_demo_if_empty(config: &BookstoreConfig, count: u64) -> anyhow::Result<()> {
    let token = launch::operator_token(config)?;
    let channel = launch::long_call_channel(config, ServiceName::Catalog)?;
    let mut client = proto::catalog::v1::catalog_service_client::CatalogServiceClient::new(channel.clone());
    let mut request = tonic::Request::new(proto::catalog::v1::SearchBooksRequest::default());
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}")
            .parse()
            .context("token is not a header value")?,
    );
    let mut total = None;
    for _ in 0..50 {
        match client.search_books(clone_request(&request)).await {
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
    let report = seed::import(channel, &token, seed::generate::books(count)).await?;
    tracing::info!(imported = report.imported, "seeded the demo catalog");
    Ok(())
}

fn clone_request(
    request: &tonic::Request<proto::catalog::v1::SearchBooksRequest>,
) -> tonic::Request<proto::catalog::v1::SearchBooksRequest> {
    let mut copy = tonic::Request::new(request.get_ref().clone());
    *copy.metadata_mut() = request.metadata().clone();
    copy
}
