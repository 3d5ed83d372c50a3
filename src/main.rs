//! `bookstore`: one binary for the whole mesh. See `bookstore --help`.

use std::process::ExitCode;

use bookstore::cli::Cli;
use bookstore::config::BookstoreConfig;
use clap::Parser as _;

// mimalloc, as every binary of the mesh (why: the README's benchmark section).
#[global_allocator]
static ALLOCATOR: platform::Allocator = platform::Allocator;

/// Loads and validates the configuration, with every `_file` form read (then validated
/// again: a URL from a file follows the same rules).
fn load_config(
    cli: &Cli,
    env: &std::collections::HashMap<String, String>,
) -> Result<BookstoreConfig, platform::config::ConfigError> {
    use platform::config::Validate as _;
    let mut config: BookstoreConfig = platform::config::load(cli.config.as_deref(), env)?;
    bookstore::config::read_secret_files(&mut config)?;
    config.validate()?;
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = platform::config::process_env();
    let config: BookstoreConfig = match load_config(&cli, &env) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    platform::store::configure(
        config.database_pool_size,
        config.database_sqlite_read_connections,
        config.database_acquire_timeout_ms,
        config.redis_timeout_ms,
    );

    let telemetry = platform::telemetry::init(
        &cli.command.telemetry_name(),
        cli.command.default_log_level(),
        &config.telemetry,
    );
    let _telemetry_guard = match telemetry {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("error: failed to start telemetry: {error:#}");
            return ExitCode::from(2);
        }
    };

    match cli.execute(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error.cause_chain = %platform::telemetry::cause_chain(&error), "bookstore stopped with an error");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
