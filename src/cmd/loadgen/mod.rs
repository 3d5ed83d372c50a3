//! `bookstore loadgen`: drives a running stack through its public GraphQL API like real
//! shoppers, prints a latency table per operation, and exits non-zero on any unexpected
//! error, so CI can use it as a smoke test.
//!
//! # Layout
//! - `options`: duration and journey-mix parsers.
//! - `client`: GraphQL over HTTP, one pool for all users, a recording client per user.
//! - `pacer`: token-interval pacing (`--rate`, `--user-rate`, `--anonymous-rate`).
//! - `journeys`: what a shopper sends; `shop`: the weighted-journey scenario.
//! - `admin`: setup as an admin; `hot_book`: the checkout rush and its invariants.
//! - `stats`: per-operation counts and histograms; `report`: progress line, table, JSON.

mod admin;
mod client;
mod hot_book;
mod journeys;
mod options;
mod pacer;
mod report;
mod shop;
mod stats;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use secrecy::ExposeSecret as _;
use tokio::time::Instant;

use self::admin::{Admin, Credentials};
use self::client::{Endpoint, Pacing};
use self::hot_book::HotBookReport;
use self::options::{DEFAULT_MIX, Mix};
use self::report::{ProgressLine, Report};
use self::stats::{Progress, Recorder};
use crate::config::BookstoreConfig;

/// What the virtual users do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Weighted journeys: browse, search, view a book, add to cart, view cart, log in, check out.
    Shop,
    /// Every user buys the same new book with `--stock` copies at once; invariants checked after.
    HotBook,
}

/// A password from the command line, kept out of `Debug`.
#[derive(Clone)]
struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Password(..)")
    }
}

/// Arguments of `loadgen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The BFF's GraphQL endpoint.
    #[arg(long, default_value = "http://127.0.0.1:8080/graphql")]
    url: String,
    /// Virtual users; each registers its own account first.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    users: u32,
    /// How long `shop` runs: `500ms`, `30s`, `2m` or plain seconds (`hot-book` runs until
    /// every user is done).
    #[arg(long, default_value = "30s", value_parser = options::parse_duration)]
    duration: Duration,
    /// Target journeys a second across all users (open loop); unset, each user starts its
    /// next journey as soon as the last one ended (closed loop).
    #[arg(long)]
    rate: Option<f64>,
    #[arg(long, value_enum, default_value_t = Scenario::Shop)]
    scenario: Scenario,
    /// Weights of the shop journeys; journeys not named keep these defaults.
    #[arg(long, default_value = DEFAULT_MIX, value_parser = Mix::parse)]
    mix: Mix,
    /// Most requests a second of each signed-in user, below the BFF's per-user budget
    /// (`bff.rate_per_user`, 50 by default); 0 for no cap.
    #[arg(long, default_value_t = 40.0)]
    user_rate: f64,
    /// Most anonymous requests (each user's first register) a second of all users together: they share
    /// the BFF's per-address budget (`bff.rate_per_address`, 200 by default); 0 for no cap.
    #[arg(long, default_value_t = 100.0)]
    anonymous_rate: f64,
    /// Copies of the hot book.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(i64).range(0..=1_000_000))]
    stock: i64,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// The admin (hot-book's setup; shop tops up stock with it). Default: the configured
    /// bootstrap admin, or `bookstore up`'s demo admin.
    #[arg(long)]
    admin_email: Option<String>,
    /// The admin's password (visible to `ps`; prefer `--admin-password-file`).
    #[arg(long, conflicts_with = "admin_password_file", value_parser = |text: &str| Ok::<_, String>(Password(text.to_owned())))]
    admin_password: Option<Password>,
    /// A file holding the admin's password.
    #[arg(long)]
    admin_password_file: Option<PathBuf>,
    /// Whether `--data-dir` (`bookstore up`'s, holding the demo admin's `admin-password`) was
    /// given: then a missing password there is an error, not a run without admin.
    #[arg(skip)]
    pub(crate) data_dir_given: bool,
    /// No progress line (the table still prints).
    #[arg(long)]
    quiet: bool,
}

impl Args {
    /// Runs the scenario, prints the table (and writes the JSON), then judges the run.
    ///
    /// # Errors
    /// Fails when setup fails, any request failed unexpectedly (transport error, 5xx, 429,
    /// a GraphQL error the scenario does not expect) or a hot-book invariant is broken.
    pub async fn execute(self, config: BookstoreConfig) -> anyhow::Result<()> {
        let users = usize::try_from(self.users).context("too many users")?;
        let endpoint = Endpoint::new(&self.url, users)?;
        let credentials = self.admin_credentials(&config)?;
        let run = match self.scenario {
            Scenario::Shop => self.shop(&endpoint, users, credentials).await?,
            Scenario::HotBook => self.hot_book(&endpoint, users, credentials).await?,
        };
        let scenario = match self.scenario {
            Scenario::Shop => "shop",
            Scenario::HotBook => "hot-book",
        };
        let mut report = Report::new(scenario, endpoint.url(), users, run.elapsed, &run.recorder);
        report.hot_book = run.hot_book;
        println!("{}", report.table());
        if let Some(hot_book) = &report.hot_book {
            println!("{}", hot_book.summary());
        }
        if let Some(path) = &self.json {
            report.write_json(path)?;
        }
        judge(&report)
    }

    async fn shop(
        &self,
        endpoint: &Endpoint,
        users: usize,
        credentials: Option<Credentials>,
    ) -> anyhow::Result<Run> {
        match &credentials {
            Some(credentials) => {
                let admin = Admin::login(endpoint, credentials).await?;
                let topped_up = admin.stock_shelf().await?;
                self.note(&format!(
                    "setup: topped up {topped_up} books of the first page to 1000 copies"
                ));
            }
            None => self.note(
                "setup: no admin credentials, stock left as it is (checkouts of books without \
                 stock end OUT_OF_STOCK, which is expected)",
            ),
        }
        let plan = shop::ShopPlan {
            users,
            duration: self.duration,
            rate: self.rate,
            mix: self.mix.clone(),
            pacing: Pacing::new(self.user_rate, self.anonymous_rate),
            run_id: run_id(),
        };
        // Ctrl-C ends the run early and still reports (hot-book is short: no handler there).
        let stop = platform::shutdown::on_signal();
        let progress = Arc::new(Progress::default());
        let line = ProgressLine::start(progress.clone(), !self.quiet);
        let started = Instant::now();
        let recorder = shop::run(endpoint, &plan, progress, stop).await;
        let elapsed = started.elapsed();
        line.finish().await;
        Ok(Run {
            recorder,
            hot_book: None,
            elapsed,
        })
    }

    async fn hot_book(
        &self,
        endpoint: &Endpoint,
        users: usize,
        credentials: Option<Credentials>,
    ) -> anyhow::Result<Run> {
        let credentials = credentials.context(
            "hot-book creates its book as an admin: give --data-dir (bookstore up's), \
             --admin-password-file or --admin-password",
        )?;
        let admin = Admin::login(endpoint, &credentials).await?;
        let book = admin.create_hot_book(self.stock).await?;
        let plan = hot_book::HotBookPlan {
            users,
            stock: self.stock,
            pacing: Pacing::new(self.user_rate, self.anonymous_rate),
            run_id: run_id(),
        };
        let progress = Arc::new(Progress::default());
        let line = ProgressLine::start(progress.clone(), !self.quiet);
        let started = Instant::now();
        let outcome = hot_book::run(endpoint, &admin, book, &plan, progress).await;
        let elapsed = started.elapsed();
        line.finish().await;
        let (recorder, report) = outcome?;
        Ok(Run {
            recorder,
            hot_book: Some(report),
            elapsed,
        })
    }

    fn note(&self, message: &str) {
        if !self.quiet {
            eprintln!("{message}");
        }
    }

    /// The admin's credentials: `--admin-password`, `--admin-password-file`, the configured
    /// bootstrap admin's password, or `admin-password` in the data dir (`bookstore up`'s).
    fn admin_credentials(&self, config: &BookstoreConfig) -> anyhow::Result<Option<Credentials>> {
        let email = match (&self.admin_email, &config.bootstrap_admin_email) {
            (Some(email), _) | (None, Some(email)) => email.clone(),
            (None, None) => crate::cmd::up::DEMO_ADMIN_EMAIL.to_owned(),
        };
        let password = if let Some(password) = &self.admin_password {
            password.0.clone()
        } else if let Some(path) = &self.admin_password_file {
            read_password(path)?
        } else if let Some(password) = &config.bootstrap_admin_password {
            password.expose_secret().to_owned()
        } else {
            let path = config.data_dir.join("admin-password");
            if path.exists() {
                read_password(&path)?
            } else if self.data_dir_given {
                anyhow::bail!("no admin password in {}", path.display());
            } else {
                return Ok(None);
            }
        };
        Ok(Some(Credentials { email, password }))
    }
}

fn read_password(path: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))?;
    Ok(text.trim().to_owned())
}

/// Makes this run's account emails unique, so runs never collide on a stack.
fn run_id() -> String {
    let mut id = uuid::Uuid::new_v4().simple().to_string();
    id.truncate(12);
    id
}

/// What a scenario leaves for the report.
struct Run {
    recorder: Recorder,
    hot_book: Option<HotBookReport>,
    elapsed: Duration,
}

/// Exits non-zero (an error) on any unexpected error or broken invariant, saying why.
fn judge(report: &Report) -> anyhow::Result<()> {
    if report.rate_limited > 0 {
        eprintln!(
            "{} requests were refused by the bff's rate limit (429). It allows each signed-in user \
             bff.rate_per_user (50/s by default) and each address bff.rate_per_address (200/s) for \
             anonymous requests, which every virtual user shares since all come from this machine, plus \
             bff.rate_burst (200). Lower --user-rate / --anonymous-rate, or raise \
             BOOKSTORE_BFF__RATE_PER_USER, BOOKSTORE_BFF__RATE_PER_ADDRESS and BOOKSTORE_BFF__RATE_BURST \
             on the stack",
            report.rate_limited
        );
    }
    if report.errors > 0 {
        eprintln!("unexpected errors (first {}):", report.error_samples.len());
        for sample in &report.error_samples {
            eprintln!("  {sample}");
        }
        anyhow::bail!(
            "{} unexpected errors in {} requests",
            report.errors,
            report.requests
        );
    }
    if let Some(hot_book) = &report.hot_book
        && !hot_book.holds()
    {
        anyhow::bail!("the hot-book invariants are broken");
    }
    if report.requests == 0 {
        anyhow::bail!("no request was sent");
    }
    Ok(())
}
