//! The small helpers every test binary shares: a free port, a `bookstore` command with a
//! clean environment, and waiting for something that happens eventually.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use tokio::process::Command;

/// Ports this process already handed out.
static TAKEN: LazyLock<Mutex<BTreeSet<u16>>> = LazyLock::new(|| Mutex::new(BTreeSet::new()));

/// Returns a free loopback port below the ephemeral range (32768+), never the same one twice
/// in a process, so no outgoing connection of this machine can be holding it when a killed
/// process binds it again.
///
/// # Panics
/// When the set of ports handed out is poisoned (another test panicked holding it).
pub fn free_port() -> u16 {
    use rand::Rng as _;
    loop {
        let port = rand::thread_rng().gen_range(20_000..32_000);
        let mut taken = TAKEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !taken.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            taken.insert(port);
            return port;
        }
    }
}

/// A command running `binary` with none of the caller's `BOOKSTORE_…` variables: the
/// process gets only the settings its caller gives it (a test's own knobs, such as
/// `BOOKSTORE_TEST_DATABASE`, are not settings and would be refused).
pub fn bookstore_command(binary: &Path) -> Command {
    let mut command = Command::new(binary);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("BOOKSTORE_") {
            command.env_remove(name);
        }
    }
    command
}

/// Tries `attempt` every `every` until it succeeds or `within` has passed; returns its last
/// outcome, so a failure can say what was seen last.
///
/// # Errors
/// The last attempt's error once time is up.
pub async fn eventually<T, E, F, Fut>(within: Duration, every: Duration, mut attempt: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let outcome = attempt().await;
        if outcome.is_ok() || tokio::time::Instant::now() >= deadline {
            return outcome;
        }
        tokio::time::sleep(every).await;
    }
}
