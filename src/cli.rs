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

    /// Where SQLite files, `up`'s signing key and its demo admin's password live (overrides
    /// `data_dir`): `up`, `migrate` and `serve` keep data there, `seed` and `loadgen` read
    /// `up`'s key and password from it.
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,

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

impl Cli {
    /// Applies the global flags to the loaded configuration, then runs the command.
    ///
    /// # Errors
    /// Returns what stopped the command.
    pub async fn execute(self, mut config: BookstoreConfig) -> anyhow::Result<()> {
        if let Some(data_dir) = &self.data_dir {
            config.data_dir = data_dir.clone();
        }
        let command = match self.command {
            // A data dir given on the command line must hold the admin's password.
            Command::Loadgen(mut args) => {
                args.data_dir_given = self.data_dir.is_some();
                Command::Loadgen(args)
            }
            other => other,
        };
        command.execute(config).await
    }
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
}
