//! The stack as operators run it: one `bookstore serve <service>` process per replica,
//! configured only through `BOOKSTORE_…` variables exactly as the Helm chart does (migrations
//! by `bookstore migrate` first, services with `migrate_on_start=false`, svc-user holding the
//! only signing key, every other service using its client secret and fetching svc-user's key
//! set), one database per service, the shared Redis under a fresh key prefix.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use bookstore_tests::stack::Stack;
//! use platform::ServiceName;
//! // In a test of the root package: `env!("CARGO_BIN_EXE_bookstore")`.
//! let mut stack = Stack::builder("target/debug/bookstore")
//!     .replicas(ServiceName::Order, 2)
//!     .start()
//!     .await?;
//! stack.kill("order-1").await;
//! stack.restart("order-1").await?;
//! # Ok(()) }
//! ```
//!
//! One stack runs at a time per test binary: the machine has two cores, and two stacks
//! would only measure each other.

mod graphql;
pub mod metrics;
mod process;
mod proxy;
mod redis;
pub mod shop;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use anyhow::Context as _;
use platform::ServiceName;
use platform::testing::{Backend, TEST_ISSUER, TestDatabase, TestKeys};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use graphql::{GraphQl, Reply};
pub use process::{Process, probe, probe_at};

use crate::{bookstore_command, free_port};
use proxy::StoreProxy;
use redis::PrivateRedis;

static ONE_STACK_AT_A_TIME: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(1)));

/// The admin svc-user creates at start-up.
pub const ADMIN_EMAIL: &str = "admin@stack.test";
pub const ADMIN_PASSWORD: &str = "stack-admin-password";

/// Chooses replicas, backend and extra settings of a [`Stack`].
#[derive(Debug)]
pub struct StackBuilder {
    binary: PathBuf,
    backend: Backend,
    replicas: BTreeMap<ServiceName, usize>,
    settings: Vec<(String, String)>,
    private_redis: bool,
    database_proxy: bool,
    /// Replicas that listen on addresses of their own (one port, one loopback IP each).
    hosts: BTreeMap<ServiceName, Vec<std::net::IpAddr>>,
    ports: BTreeMap<ServiceName, u16>,
}

impl StackBuilder {
    /// Connects every service to PostgreSQL through a proxy the test may cut
    /// ([`Stack::cut_database`]); `bookstore migrate` and the test's own queries go direct.
    pub fn database_proxy(mut self) -> Self {
        self.database_proxy = true;
        self
    }

    /// Runs one replica of `service` on each of `hosts` (loopback addresses such as
    /// 127.0.0.2), all on `port`: what a DNS name with several addresses stands for.
    /// Callers still get every replica's URL as `<service>.endpoints` unless a setting
    /// replaces it.
    pub fn replicas_on(mut self, service: ServiceName, port: u16, hosts: Vec<std::net::IpAddr>) -> Self {
        self.replicas.insert(service, hosts.len().max(1));
        self.hosts.insert(service, hosts);
        self.ports.insert(service, port);
        self
    }

    /// Runs the stack on a Redis of its own (started here) that the test may kill.
    pub fn private_redis(mut self) -> Self {
        self.private_redis = true;
        self
    }

    /// Runs `count` replicas of `service` (default one each).
    pub fn replicas(mut self, service: ServiceName, count: usize) -> Self {
        self.replicas.insert(service, count.max(1));
        self
    }

    /// Runs on `backend` (default PostgreSQL, one database per service).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Adds a `BOOKSTORE_…` setting every process gets (later ones win).
    pub fn setting(mut self, variable: &str, value: impl ToString) -> Self {
        self.settings.push((variable.to_owned(), value.to_string()));
        self
    }

    /// Creates the databases, migrates them, starts every process and waits until each is
    /// ready.
    ///
    /// # Errors
    /// Fails when a store does not answer, a migration fails, or a process does not become
    /// ready (with its log's tail).
    pub async fn start(self) -> anyhow::Result<Stack> {
        let permit = ONE_STACK_AT_A_TIME
            .clone()
            .acquire_owned()
            .await
            .context("stack semaphore closed")?;
        let dir = std::env::temp_dir()
            .join("bookstore-stacks")
            .join(uuid::Uuid::new_v4().simple().to_string());
        std::fs::create_dir_all(&dir).with_context(|| format!("failed to create {}", dir.display()))?;
        let keys = TestKeys::new();
        let signing_key_file = dir.join("signing-key.pem");
        std::fs::write(&signing_key_file, keys.signing_key.to_pem())?;

        let mut databases = BTreeMap::new();
        for service in [
            ServiceName::User,
            ServiceName::Catalog,
            ServiceName::Order,
            ServiceName::Inventory,
        ] {
            databases.insert(
                service,
                TestDatabase::create_on(self.backend, service.as_str()).await?,
            );
        }
        let redis_prefix = platform::testing::redis_prefix();
        let (redis, redis_url) = if self.private_redis {
            let redis = PrivateRedis::start(free_port(), dir.join("redis")).await?;
            let url = format!("redis://127.0.0.1:{}", redis.port);
            (Some(redis), url)
        } else {
            (None, platform::testing::redis_url())
        };
        let mut common = vec![
            ("BOOKSTORE_AUTH__ISSUER".to_owned(), TEST_ISSUER.to_owned()),
            ("BOOKSTORE_REDIS_URL".to_owned(), redis_url),
            ("BOOKSTORE_REDIS_KEY_PREFIX".to_owned(), redis_prefix.clone()),
            (
                "BOOKSTORE_DATA_DIR".to_owned(),
                dir.join("data").display().to_string(),
            ),
            // Six pools of 8 fit PostgreSQL's default 100 connections with room for checks.
            ("BOOKSTORE_DATABASE_POOL_SIZE".to_owned(), "8".to_owned()),
            // One JSON object a line: what operators ship, and what the security suite greps.
            ("BOOKSTORE_TELEMETRY__FORMAT".to_owned(), "json".to_owned()),
            (
                "RUST_LOG".to_owned(),
                "info,sqlx=warn,h2=warn,tower=warn".to_owned(),
            ),
        ];
        let database_proxy = match (self.database_proxy, databases.values().next()) {
            (true, Some(database)) => Some(StoreProxy::start(server_address(&database.url).await?).await?),
            _ => None,
        };
        let mut proxied = Vec::new();
        for (service, database) in &databases {
            let url = match &database_proxy {
                Some(proxy) => through_port(&database.url, proxy.port)?,
                None => database.url.clone(),
            };
            proxied.push((variable(*service, "DATABASE_URL"), url));
            common.push((variable(*service, "DATABASE_URL"), database.url.clone()));
            common.push((variable(*service, "MIGRATE_ON_START"), "false".to_owned()));
        }
        let loopback = std::net::IpAddr::from([127, 0, 0, 1]);
        let mut ports = BTreeMap::new();
        for service in ServiceName::all() {
            let count = self.replicas.get(&service).copied().unwrap_or(1);
            let hosts = self.hosts.get(&service);
            let shared_port = self.ports.get(&service).copied().unwrap_or_default();
            let mut replicas = Vec::new();
            for index in 0..count {
                let (host, port) = match hosts.and_then(|hosts| hosts.get(index)) {
                    Some(host) => (*host, shared_port),
                    None => (loopback, free_port()),
                };
                let metrics = (service != ServiceName::Bff).then(free_port);
                replicas.push((host, port, metrics));
            }
            ports.insert(service, replicas);
        }
        for service in ServiceName::grpc_services() {
            let endpoints: Vec<String> = ports[&service]
                .iter()
                .map(|(host, port, _)| format!("\"http://{}\"", std::net::SocketAddr::new(*host, *port)))
                .collect();
            common.push((
                variable(service, "ENDPOINTS"),
                format!("[{}]", endpoints.join(",")),
            ));
        }
        let secrets: BTreeMap<ServiceName, String> = ServiceName::all()
            .into_iter()
            .filter(|service| !service.callees().is_empty())
            .map(|service| (service, uuid::Uuid::new_v4().simple().to_string()))
            .collect();
        common.extend(self.settings.iter().cloned());

        migrate(&self.binary, &common).await?;
        // Later entries win: the services reach their databases through the proxy.
        common.extend(proxied);

        let mut processes = Vec::new();
        for (service, replicas) in &ports {
            for (index, (host, port, metrics_port)) in replicas.iter().enumerate() {
                let mut environment = common.clone();
                environment.push((
                    variable(*service, "LISTEN"),
                    std::net::SocketAddr::new(*host, *port).to_string(),
                ));
                if let Some(metrics_port) = metrics_port {
                    environment.push((
                        variable(*service, "METRICS_LISTEN"),
                        format!("127.0.0.1:{metrics_port}"),
                    ));
                }
                if *service == ServiceName::User {
                    environment.push((
                        "BOOKSTORE_AUTH__SIGNING_KEY_FILE".to_owned(),
                        signing_key_file.display().to_string(),
                    ));
                    environment.push((
                        "BOOKSTORE_BOOTSTRAP_ADMIN_EMAIL".to_owned(),
                        ADMIN_EMAIL.to_owned(),
                    ));
                    environment.push((
                        "BOOKSTORE_BOOTSTRAP_ADMIN_PASSWORD".to_owned(),
                        ADMIN_PASSWORD.to_owned(),
                    ));
                    for (client, secret) in &secrets {
                        environment.push((
                            format!(
                                "BOOKSTORE_AUTH__SERVICE_CLIENTS__{}",
                                client.as_str().to_uppercase()
                            ),
                            secret.clone(),
                        ));
                    }
                }
                if let Some(secret) = secrets.get(service) {
                    environment.push(("BOOKSTORE_AUTH__CLIENT_SECRET".to_owned(), secret.clone()));
                }
                let name = format!("{service}-{}", index + 1);
                let log = dir.join(format!("{name}.log"));
                processes.push(Process::new(
                    *service,
                    index + 1,
                    self.binary.clone(),
                    log,
                    (*host, *port, *metrics_port),
                    environment,
                ));
            }
        }
        for process in &mut processes {
            process.spawn()?;
        }
        for process in &mut processes {
            process.wait_ready().await?;
        }
        let bff_port = ports[&ServiceName::Bff][0].1;
        Ok(Stack {
            dir,
            keys,
            databases,
            processes,
            redis_prefix,
            redis,
            database_proxy,
            graphql: GraphQl::new(format!("http://127.0.0.1:{bff_port}/graphql")),
            _permit: permit,
        })
    }
}

/// A running multi-process stack; every process is killed when it is dropped.
#[derive(Debug)]
pub struct Stack {
    dir: PathBuf,
    keys: TestKeys,
    databases: BTreeMap<ServiceName, TestDatabase>,
    processes: Vec<Process>,
    redis_prefix: String,
    redis: Option<PrivateRedis>,
    database_proxy: Option<StoreProxy>,
    graphql: GraphQl,
    _permit: OwnedSemaphorePermit,
}

impl Stack {
    /// Starts choosing a stack run by `binary` (`env!("CARGO_BIN_EXE_bookstore")` in tests).
    pub fn builder(binary: impl AsRef<Path>) -> StackBuilder {
        StackBuilder {
            binary: binary.as_ref().to_path_buf(),
            backend: Backend::Postgres,
            replicas: BTreeMap::new(),
            settings: Vec::new(),
            private_redis: false,
            database_proxy: false,
            hosts: BTreeMap::new(),
            ports: BTreeMap::new(),
        }
    }

    /// The GraphQL client of the (first) BFF.
    pub fn graphql(&self) -> &GraphQl {
        &self.graphql
    }

    /// A GraphQL client of one BFF replica (`bff-1`, `bff-2`…).
    ///
    /// # Panics
    /// When there is no such replica; a test names its processes.
    pub fn graphql_of(&self, name: &str) -> GraphQl {
        let port = self
            .processes
            .iter()
            .find(|process| process.name == name && process.service == ServiceName::Bff)
            .map(|process| process.port)
            .unwrap_or_else(|| panic!("no bff replica {name}"));
        GraphQl::new(format!("http://127.0.0.1:{port}/graphql"))
    }

    /// The key svc-user signs with, to mint tokens a test needs (expired, other audiences…).
    pub fn keys(&self) -> &TestKeys {
        &self.keys
    }

    /// The database of a SQL service.
    ///
    /// # Panics
    /// For cart and the BFF, which have none.
    pub fn database_url(&self, service: ServiceName) -> &str {
        &self.databases[&service].url
    }

    /// The Redis key prefix every process uses.
    pub fn redis_prefix(&self) -> &str {
        &self.redis_prefix
    }

    /// Every process, in start order.
    pub fn processes(&self) -> &[Process] {
        &self.processes
    }

    /// The replicas of one service.
    pub fn replicas(&self, service: ServiceName) -> Vec<&Process> {
        self.processes
            .iter()
            .filter(|process| process.service == service)
            .collect()
    }

    /// The process named `name` (`order-2`…).
    ///
    /// # Panics
    /// When there is none; a test names its processes.
    pub fn process_mut(&mut self, name: &str) -> &mut Process {
        self.processes
            .iter_mut()
            .find(|process| process.name == name)
            .unwrap_or_else(|| panic!("no process {name}"))
    }

    /// `http://<host>:<port>` of a gRPC replica.
    pub fn grpc_url(&self, name: &str) -> String {
        match self.processes.iter().find(|process| process.name == name) {
            Some(process) => format!("http://{}", std::net::SocketAddr::new(process.host, process.port)),
            None => "http://127.0.0.1:0".to_owned(),
        }
    }

    /// SIGKILLs one process.
    pub async fn kill(&mut self, name: &str) {
        self.process_mut(name).kill().await;
    }

    /// Starts a killed process again on its port and waits until it is ready.
    ///
    /// # Errors
    /// Fails when it does not become ready.
    pub async fn restart(&mut self, name: &str) -> anyhow::Result<()> {
        let process = self.process_mut(name);
        process.kill().await;
        process.spawn()?;
        process.wait_ready().await
    }

    /// SIGKILLs the stack's private Redis, waits `down`, and starts it again on its port
    /// (its append-only file brings the data back).
    ///
    /// # Errors
    /// Fails without a private Redis, or when it does not start again.
    pub async fn restart_redis(&mut self, down: std::time::Duration) -> anyhow::Result<()> {
        let redis = self
            .redis
            .as_mut()
            .context("the stack was started without private_redis()")?;
        redis.kill().await;
        tokio::time::sleep(down).await;
        redis.spawn().await
    }

    /// Closes every service's database connections and refuses new ones until
    /// [`Stack::restore_database`].
    ///
    /// # Errors
    /// Without [`StackBuilder::database_proxy`].
    pub fn cut_database(&mut self) -> anyhow::Result<()> {
        self.database_proxy
            .as_mut()
            .context("the stack was started without database_proxy()")?
            .cut();
        Ok(())
    }

    /// Lets the services reach their databases again.
    ///
    /// # Errors
    /// Without [`StackBuilder::database_proxy`], or when its port cannot be bound again.
    pub async fn restore_database(&mut self) -> anyhow::Result<()> {
        self.database_proxy
            .as_mut()
            .context("the stack was started without database_proxy()")?
            .restore()
            .await
    }

    /// Every line every process logged so far (all restarts included).
    pub fn logs(&self) -> String {
        self.processes
            .iter()
            .map(|process| std::fs::read_to_string(&process.log).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Names of processes that are no longer running (crashed, or killed and not restarted).
    pub fn exited(&mut self) -> Vec<String> {
        self.processes
            .iter_mut()
            .filter_map(|process| (!process.is_running()).then(|| process.name.clone()))
            .collect()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // Children are killed on drop (`kill_on_drop`); the logs go with the directory
        // unless the test failed, when they are worth reading.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("stack logs kept in {}", self.dir.display());
        }
    }
}

/// The address of the server a `postgres://` URL names.
async fn server_address(url: &str) -> anyhow::Result<std::net::SocketAddr> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("invalid database url {url}"))?;
    let host = parsed.host_str().context("database url without a host")?;
    tokio::net::lookup_host((host, parsed.port().unwrap_or(5432)))
        .await?
        .next()
        .with_context(|| format!("{host} resolves to nothing"))
}

/// `url` with its host and port replaced by the proxy's loopback port.
fn through_port(url: &str, port: u16) -> anyhow::Result<String> {
    let mut parsed = reqwest::Url::parse(url).with_context(|| format!("invalid database url {url}"))?;
    parsed
        .set_host(Some("127.0.0.1"))
        .with_context(|| format!("cannot point {url} at the proxy"))?;
    parsed
        .set_port(Some(port))
        .map_err(|()| anyhow::anyhow!("cannot point {url} at the proxy's port"))?;
    Ok(parsed.to_string())
}

/// `BOOKSTORE_<SERVICE>__<KEY>`.
fn variable(service: ServiceName, key: &str) -> String {
    format!("BOOKSTORE_{}__{key}", service.as_str().to_uppercase())
}

/// Applies every service's migrations with `bookstore migrate`, as the chart's hook Job does.
async fn migrate(binary: &Path, environment: &[(String, String)]) -> anyhow::Result<()> {
    let output = bookstore_command(binary)
        .arg("migrate")
        .envs(environment.iter().map(|(name, value)| (name, value)))
        .output()
        .await
        .context("failed to run bookstore migrate")?;
    anyhow::ensure!(
        output.status.success(),
        "bookstore migrate failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}
