//! Running the real `bookstore` binary as users do: `up`, `serve`, with SIGTERM to stop.

use std::path::PathBuf;
use std::process::Stdio;

/// Returns the `bookstore` binary built alongside the tests (`cargo test --workspace`
/// builds it).
///
/// # Panics
/// When the binary has not been built, with the command that builds it.
pub fn bookstore_binary() -> PathBuf {
    let mut directory = std::env::current_exe().unwrap_or_default();
    directory.pop();
    if directory.ends_with("deps") {
        directory.pop();
    }
    let binary = directory.join(format!("bookstore{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build -p bookstore` (or `cargo test --workspace`)",
        binary.display()
    );
    binary
}

/// Returns a `bookstore` command with a clean `BOOKSTORE_` environment and piped output.
pub fn bookstore_command() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(bookstore_binary());
    for (name, _) in std::env::vars() {
        if name.starts_with("BOOKSTORE_") {
            command.env_remove(name);
        }
    }
    command
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Returns a free loopback port (bound and released; fine for tests on one machine).
///
/// # Panics
/// When no port can be bound.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|error| panic!("cannot bind a loopback port: {error}"))
}

/// Sends SIGTERM to a child, as Kubernetes does before it kills a pod.
pub fn terminate(child: &tokio::process::Child) {
    if let Some(pid) = child.id() {
        // A child that already exited only makes `kill` fail, which is what we want.
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
    }
}
