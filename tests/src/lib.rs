//! The sandbox mesh: start any set of services in-process, each on its own loopback port
//! with a fresh database (SQLite or PostgreSQL, from `BOOKSTORE_TEST_DATABASE`) and a unique
//! Redis key prefix, wired through the same `bookstore::launch` code the binary runs.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use bookstore_tests::TestMesh;
//! use platform::ServiceName;
//! let mesh = TestMesh::builder().with(ServiceName::Inventory).start().await?;
//! let channel = mesh.channel(ServiceName::Inventory);
//! // … call it with a generated client and tokens from `mesh.keys()` …
//! mesh.shutdown().await?;
//! # Ok(()) }
//! ```

pub mod audit;
pub mod bench;
pub mod invariants;
pub mod redis_cluster;
pub mod stack;
mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use support::{bookstore_command, eventually, free_port};

use bookstore::config::BookstoreConfig;
use bookstore::launch::{self, Keys};
use platform::ServiceName;
use platform::testing::{TestDatabase, TestKeys};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// A change a test makes to the configuration before the services start.
type ConfigOverride = Box<dyn FnOnce(&mut BookstoreConfig) + Send>;

/// Chooses which services a [`TestMesh`] runs.
#[derive(Default)]
pub struct TestMeshBuilder {
    services: Vec<ServiceName>,
    tls: Option<TestTls>,
    overrides: Vec<ConfigOverride>,
}

impl std::fmt::Debug for TestMeshBuilder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TestMeshBuilder")
            .field("services", &self.services)
            .field("overrides", &self.overrides.len())
            .finish_non_exhaustive()
    }
}

/// PEM files for serving gRPC over TLS in a test: a CA and a `localhost` leaf it signed.
#[derive(Debug, Clone)]
pub struct TestTls {
    pub ca_file: PathBuf,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

impl TestTls {
    /// Writes a fresh CA and a `localhost` leaf it signed to a new temp directory.
    ///
    /// # Panics
    /// When the files cannot be written or rcgen refuses the parameters.
    pub fn generate() -> TestTls {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        let directory = std::env::temp_dir()
            .join("bookstore-tests")
            .join(format!("tls-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&directory).unwrap_or_else(|error| panic!("test pki dir: {error}"));
        let generated = (|| -> Result<(String, String, String), rcgen::Error> {
            let ca_key = KeyPair::generate()?;
            let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
            ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let ca_cert = ca_params.self_signed(&ca_key)?;
            let issuer = Issuer::new(ca_params, ca_key);
            let leaf_key = KeyPair::generate()?;
            let leaf_cert =
                CertificateParams::new(vec!["localhost".to_owned()])?.signed_by(&leaf_key, &issuer)?;
            Ok((ca_cert.pem(), leaf_cert.pem(), leaf_key.serialize_pem()))
        })();
        let (ca, cert, key) = generated.unwrap_or_else(|error| panic!("test pki: {error}"));
        let tls = TestTls {
            ca_file: directory.join("ca.pem"),
            cert_file: directory.join("server.pem"),
            key_file: directory.join("server.key"),
        };
        for (path, pem) in [(&tls.ca_file, ca), (&tls.cert_file, cert), (&tls.key_file, key)] {
            std::fs::write(path, pem).unwrap_or_else(|error| panic!("test pki file: {error}"));
        }
        tls
    }
}

impl TestMeshBuilder {
    /// Adds one service.
    pub fn with(mut self, service: ServiceName) -> Self {
        if !self.services.contains(&service) {
            self.services.push(service);
        }
        self
    }

    /// Adds every service and the BFF.
    pub fn with_all(mut self) -> Self {
        for service in ServiceName::all() {
            self = self.with(service);
        }
        self
    }

    /// Changes the configuration the services start with (after the harness's own settings).
    pub fn configure(mut self, change: impl FnOnce(&mut BookstoreConfig) + Send + 'static) -> Self {
        self.overrides.push(Box::new(change));
        self
    }

    /// Serves every gRPC service over TLS with `tls`'s leaf certificate.
    pub fn with_grpc_tls(mut self, tls: TestTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Starts the chosen services and waits until each gRPC service reports SERVING.
    ///
    /// # Errors
    /// Fails when a database cannot be created or a service does not come up in time.
    pub async fn start(self) -> anyhow::Result<TestMesh> {
        platform::testing::init_test_tracing();
        let keys = TestKeys::new();
        let mut config = BookstoreConfig {
            redis_url: platform::testing::redis_url(),
            redis_key_prefix: platform::testing::redis_prefix(),
            ..BookstoreConfig::default()
        };
        config.auth.common.issuer = platform::testing::TEST_ISSUER.to_owned();
        config.grpc.health_interval_ms = 200;
        config.grpc.drain_timeout_ms = 1_000;
        // Inventory asks the catalog whether a book exists; a mesh without a catalog has
        // nobody to ask, so its tests set stock for made-up ids.
        config.inventory.own.verify_books = self.services.contains(&ServiceName::Catalog);
        if let Some(tls) = &self.tls {
            config.grpc.tls_cert_file = Some(tls.cert_file.clone());
            config.grpc.tls_key_file = Some(tls.key_file.clone());
        }
        for change in self.overrides {
            change(&mut config);
        }

        // Bind every listener first, so each service's upstream addresses are known.
        let mut listeners = Vec::new();
        let mut addresses = HashMap::new();
        for service in ServiceName::all() {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let address = listener.local_addr()?;
            addresses.insert(service, address);
            set_listen(&mut config, service, address);
            if self.services.contains(&service) {
                listeners.push((service, listener));
            }
        }

        let mut databases = Vec::new();
        for (service, _) in &listeners {
            if matches!(service, ServiceName::Cart | ServiceName::Bff) {
                continue;
            }
            let database = TestDatabase::create(service.as_str()).await?;
            set_database(&mut config, *service, database.url.clone());
            databases.push((*service, database));
        }

        let launch_keys = Keys {
            verification: keys.key_set(),
            signing: Some(keys.signing_key.clone()),
            client_secrets: HashMap::new(),
        };
        let mut mesh = TestMesh {
            keys,
            addresses,
            services: self.services,
            shutdown: CancellationToken::new(),
            tasks: HashMap::new(),
            databases,
            redis_prefix: config.redis_key_prefix.clone(),
            tls: self.tls,
            config,
            launch_keys,
        };
        for (service, listener) in listeners {
            mesh.spawn(service, mesh.config.clone(), listener);
        }
        for service in mesh.services.clone() {
            if service != ServiceName::Bff {
                mesh.wait_for_status(service, ServingStatus::Serving, Duration::from_secs(20))
                    .await?;
            }
        }
        Ok(mesh)
    }
}

fn set_listen(config: &mut BookstoreConfig, service: ServiceName, address: SocketAddr) {
    match service {
        ServiceName::Bff => config.bff.listen = Some(address),
        grpc => config.wiring_mut(grpc).listen = Some(address),
    }
}

fn set_database(config: &mut BookstoreConfig, service: ServiceName, url: String) {
    match service {
        ServiceName::Cart | ServiceName::Bff => {}
        sql => config.wiring_mut(sql).database_url = Some(url),
    }
}

/// A running sandbox mesh. Call [`TestMesh::shutdown`] at the end of each test; if a test
/// panics first, dropping the mesh stops the services and removes the databases.
#[derive(Debug)]
pub struct TestMesh {
    keys: TestKeys,
    addresses: HashMap<ServiceName, SocketAddr>,
    services: Vec<ServiceName>,
    /// Cancelling it stops every service; `tasks` then finish.
    shutdown: CancellationToken,
    /// One task per running service with the token that stops it alone; each task
    /// returns why it stopped.
    tasks: HashMap<ServiceName, (CancellationToken, JoinHandle<anyhow::Result<()>>)>,
    /// Dropped after the services stop (field order), which removes them.
    databases: Vec<(ServiceName, TestDatabase)>,
    redis_prefix: String,
    tls: Option<TestTls>,
    /// What the services were started with, for restarts.
    config: BookstoreConfig,
    launch_keys: Keys,
}

impl Drop for TestMesh {
    fn drop(&mut self) {
        self.shutdown.cancel();
        for (_, task) in self.tasks.values() {
            task.abort();
        }
    }
}

impl TestMesh {
    /// Returns a builder with no services.
    pub fn builder() -> TestMeshBuilder {
        TestMeshBuilder::default()
    }

    /// Returns the signing key the mesh trusts, with helpers for good and bad tokens.
    pub fn keys(&self) -> &TestKeys {
        &self.keys
    }

    /// Returns where `service` listens.
    pub fn address(&self, service: ServiceName) -> SocketAddr {
        self.addresses[&service]
    }

    /// Returns the base URL of the BFF.
    pub fn bff_url(&self) -> String {
        format!("http://{}", self.address(ServiceName::Bff))
    }

    /// Returns the database URL of a running SQL service, for tests that check what was
    /// written (invariants, no plaintext secrets).
    pub fn database_url(&self, service: ServiceName) -> Option<&str> {
        for (owner, database) in &self.databases {
            if *owner == service {
                return Some(&database.url);
            }
        }
        None
    }

    /// Returns the Redis key prefix this mesh's services use.
    pub fn redis_prefix(&self) -> &str {
        &self.redis_prefix
    }

    /// Returns a channel to `service` without a token (add one per request), over TLS when
    /// the mesh serves TLS.
    ///
    /// # Panics
    /// When the test CA file cannot be read.
    pub fn channel(&self, service: ServiceName) -> Channel {
        self.channel_with_deadline(service, Duration::from_secs(10))
    }

    /// [`TestMesh::channel`] for a bulk call (an import of thousands of books), whose deadline
    /// is that of the work rather than of one read: `bookstore seed` sets none.
    ///
    /// # Panics
    /// As [`TestMesh::channel`].
    pub fn long_call_channel(&self, service: ServiceName) -> Channel {
        self.channel_with_deadline(service, Duration::from_secs(120))
    }

    fn channel_with_deadline(&self, service: ServiceName, deadline: Duration) -> Channel {
        let port = self.address(service).port();
        let Some(tls) = &self.tls else {
            return Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
                .map(|endpoint| endpoint.timeout(deadline).connect_lazy())
                .unwrap_or_else(|error| panic!("loopback address is a valid uri: {error}"));
        };
        let ca = std::fs::read(&tls.ca_file).unwrap_or_else(|error| panic!("test ca: {error}"));
        let tls_config = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(ca))
            .domain_name("localhost");
        Endpoint::from_shared(format!("https://localhost:{port}"))
            .and_then(|endpoint| endpoint.tls_config(tls_config))
            .map(|endpoint| endpoint.timeout(deadline).connect_lazy())
            .unwrap_or_else(|error| panic!("tls endpoint: {error}"))
    }

    /// Asks `service`'s tonic-health for its status.
    ///
    /// # Errors
    /// Fails when the health RPC itself fails.
    pub async fn health(&self, service: ServiceName) -> anyhow::Result<ServingStatus> {
        let mut client = HealthClient::new(self.channel(service));
        let response = client
            .check(HealthCheckRequest {
                service: service.grpc_name().to_owned(),
            })
            .await?;
        Ok(ServingStatus::try_from(response.into_inner().status)?)
    }

    /// Waits until `service` reports `expected`.
    ///
    /// # Errors
    /// Fails after `timeout`, with the last status or error seen.
    pub async fn wait_for_status(
        &self,
        service: ServiceName,
        expected: ServingStatus,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let seen = eventually(timeout, Duration::from_millis(50), || async {
            match self.health(service).await {
                Ok(status) if status == expected => Ok(()),
                other => Err(other),
            }
        })
        .await;
        seen.map_err(|last| {
            anyhow::anyhow!("{service} did not report {expected:?} within {timeout:?}; last: {last:?}")
        })
    }

    /// Stops every service, waits for each to drain, and checks none failed. The test
    /// databases go when the mesh is dropped, also after a panic.
    ///
    /// # Errors
    /// Returns the first service that stopped with an error or panicked.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        let mut first_error = None;
        let services: Vec<ServiceName> = self.tasks.keys().copied().collect();
        for service in services {
            if let Err(error) = self.stop(service).await {
                first_error.get_or_insert(error);
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    fn spawn(&mut self, service: ServiceName, config: BookstoreConfig, listener: TcpListener) {
        let token = self.shutdown.child_token();
        let launch_keys = self.launch_keys.clone();
        let stop = token.clone();
        let task = tokio::spawn(async move {
            let verifier = launch::verifier(&config, service, &launch_keys);
            // The harness restarts single services, so every call goes over loopback TCP.
            let over_tcp = platform::client::InProcess::default();
            launch::run_service(
                &config,
                service,
                &launch_keys,
                verifier,
                listener,
                &over_tcp,
                stop,
            )
            .await
        });
        self.tasks.insert(service, (token, task));
    }

    /// Stops one service (as a crash would, from the outside: in-flight work is dropped at
    /// the drain timeout) and waits until it is gone.
    ///
    /// # Errors
    /// When it stopped with an error or panicked.
    pub async fn stop(&mut self, service: ServiceName) -> anyhow::Result<()> {
        let Some((token, task)) = self.tasks.remove(&service) else {
            return Ok(());
        };
        token.cancel();
        match tokio::time::timeout(Duration::from_secs(15), task).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(error))) => Err(error.context(format!("{service} failed"))),
            Ok(Err(panic)) => Err(anyhow::anyhow!("{service} panicked: {panic}")),
            Err(_) => Err(anyhow::anyhow!("{service} did not stop within 15 s")),
        }
    }

    /// Starts a stopped service again on its address and database, with `change` applied
    /// to its configuration only, and waits until it serves.
    ///
    /// # Errors
    /// When its address cannot be bound again or it does not come up.
    pub async fn restart(
        &mut self,
        service: ServiceName,
        change: impl FnOnce(&mut BookstoreConfig),
    ) -> anyhow::Result<()> {
        self.stop(service).await?;
        let mut config = self.config.clone();
        change(&mut config);
        let address = self.address(service);
        let mut attempts = 0;
        let listener = loop {
            match TcpListener::bind(address).await {
                Ok(listener) => break listener,
                // The old listener may not be closed yet.
                Err(_) if attempts < 50 => {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => return Err(error.into()),
            }
        };
        self.spawn(service, config, listener);
        if service != ServiceName::Bff {
            self.wait_for_status(service, ServingStatus::Serving, Duration::from_secs(20))
                .await?;
        }
        Ok(())
    }
}

impl TestMesh {
    /// Returns a client of svc-user (add tokens per request with [`with_token`]).
    pub fn user_client(&self) -> proto::user::v1::user_service_client::UserServiceClient<Channel> {
        proto::user::v1::user_service_client::UserServiceClient::new(self.channel(ServiceName::User))
    }

    /// Returns the BFF's service token for `callee`, as the BFF would present it.
    pub fn bff_token(&self, callee: ServiceName) -> String {
        self.keys
            .service_token(ServiceName::Bff.as_str(), callee.as_str())
    }
}

/// Returns `request` with `authorization: Bearer <token>`.
pub fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    request
}
