//! Test support for every crate (feature `testsuite`): fresh databases on SQLite or
//! PostgreSQL, unique Redis prefixes, signing keys and every kind of bad token.
//!
//! The backend comes from `BOOKSTORE_TEST_DATABASE` (`sqlite`, the default, or `postgres`);
//! PostgreSQL is reached at `BOOKSTORE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432`) and each test gets its own database.

use std::sync::LazyLock;
use std::time::Duration;

use anyhow::Context as _;
use sea_orm::{ConnectionTrait as _, Database};

use crate::auth::{Claims, KeySet, MESH_AUDIENCE, Role, SigningKey, Verifier};

/// The issuer test tokens carry.
pub const TEST_ISSUER: &str = "bookstore-test";

/// Installs a test subscriber once; it prints only with `TEST_LOG=1`.
pub fn init_test_tracing() {
    static TRACING: LazyLock<()> = LazyLock::new(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
                )
                .with_test_writer()
                .try_init();
        }
    });
    LazyLock::force(&TRACING);
}

/// Which database backend the tests run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Reads `BOOKSTORE_TEST_DATABASE`.
    ///
    /// # Panics
    /// On a value other than `sqlite` or `postgres`, so a typo never silently tests SQLite.
    pub fn from_env() -> Backend {
        match std::env::var("BOOKSTORE_TEST_DATABASE").as_deref() {
            Err(_) | Ok("") | Ok("sqlite") => Backend::Sqlite,
            Ok("postgres") => Backend::Postgres,
            Ok(other) => panic!("BOOKSTORE_TEST_DATABASE must be sqlite or postgres, not {other:?}"),
        }
    }
}

/// A database that exists for one test: a temp SQLite file or a uuid-named PostgreSQL
/// database, removed when this value is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    backend: Backend,
    name: String,
}

impl TestDatabase {
    /// Creates an empty database on the backend chosen by the environment.
    ///
    /// # Errors
    /// Fails when PostgreSQL does not answer or refuses `CREATE DATABASE`.
    pub async fn create(service: &str) -> anyhow::Result<TestDatabase> {
        Self::create_on(Backend::from_env(), service).await
    }

    /// Creates an empty database on `backend`, whatever the environment says (the
    /// multi-process tests always run on PostgreSQL).
    ///
    /// # Errors
    /// Fails when PostgreSQL does not answer or refuses `CREATE DATABASE`.
    pub async fn create_on(backend: Backend, service: &str) -> anyhow::Result<TestDatabase> {
        let name = format!("test_{service}_{}", uuid::Uuid::new_v4().simple());
        let url = match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir()
                    .join("bookstore-tests")
                    .join(format!("{name}.db"));
                format!("sqlite://{}?mode=rwc", path.display())
            }
            Backend::Postgres => {
                let server = postgres_server_url();
                let admin = Database::connect(format!("{server}/postgres"))
                    .await
                    .with_context(|| format!("postgres at {server} does not answer"))?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .context("failed to create test database")?;
                admin.close().await.context("failed to close admin connection")?;
                format!("{server}/{name}")
            }
        };
        Ok(TestDatabase { url, backend, name })
    }
}

impl Drop for TestDatabase {
    /// Removes the database even when the test panicked (best effort: a leftover is harmless,
    /// just untidy). PostgreSQL is dropped from a thread of its own because `Drop` cannot
    /// await and may run inside the test's runtime.
    fn drop(&mut self) {
        match self.backend {
            Backend::Sqlite => {
                let Some(path) = crate::store_path(&self.url) else {
                    return;
                };
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
            }
            Backend::Postgres => {
                let name = self.name.clone();
                let dropper = std::thread::spawn(move || {
                    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build()
                    else {
                        return;
                    };
                    runtime.block_on(drop_postgres_database(&name));
                });
                let _ = dropper.join();
            }
        }
    }
}

async fn drop_postgres_database(name: &str) {
    let server = postgres_server_url();
    let Ok(admin) = Database::connect(format!("{server}/postgres")).await else {
        return;
    };
    let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    if let Err(error) = admin.execute_unprepared(&statement).await {
        eprintln!("failed to drop test database {name}: {error}");
    }
    let _ = admin.close().await;
}

fn postgres_server_url() -> String {
    std::env::var("BOOKSTORE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// Returns the Redis URL tests use (`BOOKSTORE_TEST_REDIS_URL`, default local Redis).
pub fn redis_url() -> String {
    std::env::var("BOOKSTORE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Returns a Redis key prefix no other test uses.
pub fn redis_prefix() -> String {
    format!("test:{}", uuid::Uuid::new_v4().simple())
}

/// A signing key plus helpers that mint good and bad tokens against it.
#[derive(Debug, Clone)]
pub struct TestKeys {
    pub signing_key: SigningKey,
}

impl Default for TestKeys {
    fn default() -> Self {
        Self::new()
    }
}

impl TestKeys {
    /// Generates a fresh key.
    pub fn new() -> Self {
        Self {
            signing_key: SigningKey::generate(),
        }
    }

    /// Returns the key set that verifies this key's tokens.
    pub fn key_set(&self) -> KeySet {
        KeySet::from_signing_keys(std::slice::from_ref(&self.signing_key))
    }

    /// Returns a verifier for the service whose audience is `audience`.
    pub fn verifier(&self, audience: &str) -> Verifier {
        Verifier::new(TEST_ISSUER, audience, self.key_set())
    }

    fn sign(&self, claims: &Claims) -> String {
        claims.sign(&self.signing_key).unwrap_or_default()
    }

    /// Returns a valid access token for a new user with `role`, and the user's id.
    pub fn user_token(&self, role: Role) -> (proto::types::UserId, String) {
        let id = proto::types::UserId::generate();
        let claims = Claims::new(
            id.to_string(),
            role,
            TEST_ISSUER,
            vec![MESH_AUDIENCE.to_owned()],
            Duration::from_secs(300),
        );
        (id, self.sign(&claims))
    }

    /// Returns a valid service token from `caller` for `callee`.
    pub fn service_token(&self, caller: &str, callee: &str) -> String {
        let claims = Claims::new(
            caller,
            Role::Service,
            TEST_ISSUER,
            vec![callee.to_owned()],
            Duration::from_secs(300),
        );
        self.sign(&claims)
    }

    /// Returns a well-formed customer token signed by a key nobody trusts.
    pub fn token_from_unknown_key(&self) -> String {
        let stranger = TestKeys::new();
        stranger.user_token(Role::Admin).1
    }

    /// Returns a customer token that expired a minute ago.
    pub fn expired_token(&self) -> String {
        let mut claims = Claims::new(
            proto::types::UserId::generate().to_string(),
            Role::Customer,
            TEST_ISSUER,
            vec![MESH_AUDIENCE.to_owned()],
            Duration::from_secs(300),
        );
        claims.iat -= 600;
        claims.exp = claims.iat + 540;
        self.sign(&claims)
    }

    /// Returns an admin token for an audience outside the mesh.
    pub fn wrong_audience_token(&self) -> String {
        let claims = Claims::new(
            proto::types::UserId::generate().to_string(),
            Role::Admin,
            TEST_ISSUER,
            vec!["some-other-shop".to_owned()],
            Duration::from_secs(300),
        );
        self.sign(&claims)
    }

    /// Returns an admin token with `alg: none` and no signature, naming this key's `kid`.
    pub fn alg_none_token(&self) -> String {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims = Claims::new(
            proto::types::UserId::generate().to_string(),
            Role::Admin,
            TEST_ISSUER,
            vec![MESH_AUDIENCE.to_owned()],
            Duration::from_secs(300),
        );
        let kid = self.signing_key.kid();
        let header = engine.encode(format!(r#"{{"alg":"none","typ":"JWT","kid":"{kid}"}}"#));
        let payload = engine.encode(serde_json::to_vec(&claims).unwrap_or_default());
        format!("{header}.{payload}.")
    }
}
