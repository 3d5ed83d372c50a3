//! The command line: `bookstore up | serve <service> | migrate | seed | loadgen`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::cmd;
use crate::config::BookstoreConfig;

/// The Bookstore mesh: a gRPC service mesh behind a GraphQL backend-for-frontend.
#[derive(Debug, Parser)]
#[command(name = "bookstore", version, about)]
pub struct Cli {
    /// TOML file layered between the defaults and `BOOKSTORE_…` variables.
    #[arg(long, global = true, env = "BOOKSTORE_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// What to run.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run all five services and the BFF in one process, on embedded SQLite.
    Up(cmd::up::Args),
    /// Run one service (the container entrypoint).
    Serve(cmd::serve::Args),
    /// Apply pending database migrations and exit.
    Migrate(cmd::migrate::Args),
    /// Load books into a running catalog (`--csv FILE` or `--generate N`).
    Seed(cmd::seed::Args),
    /// Drive a running stack through GraphQL like shoppers and report latencies
    /// (`--scenario shop|hot-book`).
    Loadgen(cmd::loadgen::Args),
}

impl Command {
    /// Returns the log filter used when neither `RUST_LOG` nor `telemetry.filter` is set.
    pub fn default_log_level(&self) -> &'static str {
        match self {
            Command::Up(_) | Command::Serve(_) => "info,sqlx=warn,h2=warn,tower=warn",
            Command::Migrate(_) => "warn,sea_orm_migration=info",
            Command::Seed(_) | Command::Loadgen(_) => "warn",
        }
    }

    /// Returns the service name telemetry reports.
    pub fn telemetry_name(&self) -> String {
        match self {
            Command::Up(_) => "bookstore".to_owned(),
            Command::Serve(args) => format!("bookstore-{}", args.service),
            Command::Migrate(_) => "bookstore-migrate".to_owned(),
            Command::Seed(_) => "bookstore-seed".to_owned(),
            Command::Loadgen(_) => "bookstore-loadgen".to_owned(),
        }
    }

    /// Runs the command to completion.
    ///
    /// # Errors
    /// Returns what stopped it; `main` prints the chain and exits non-zero.
    pub async fn execute(self, config: BookstoreConfig) -> anyhow::Result<()> {
        match self {
            Command::Up(args) => args.execute(config).await,
            Command::Serve(args) => args.execute(config).await,
            Command::Migrate(args) => args.execute(config).await,
            Command::Seed(args) => args.execute(config).await,
            Command::Loadgen(args) => args.execute(config).await,
        }
    }

    /// Applies command-line overrides to the loaded configuration.
    pub fn override_config(&self, config: &mut BookstoreConfig) {
        match self {
            Command::Up(args) => args.override_config(config),
            Command::Migrate(args) => args.override_config(config),
            Command::Seed(args) => args.override_config(config),
            Command::Loadgen(args) => args.override_config(config),
            Command::Serve(_) => {}
        }
    }
}
