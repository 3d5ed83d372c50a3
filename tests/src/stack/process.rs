//! One `bookstore serve <service>` child process: spawned with its environment, its output
//! appended to a log file (so every line survives kills and restarts, for the grep of the
//! security suite), killed with SIGKILL and started again on the same port.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use platform::ServiceName;
use tokio::process::Child;

use crate::bookstore_command;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// How long a process may take to report ready (keys fetched, store reachable).
const READY_WITHIN: Duration = Duration::from_secs(60);

/// A replica of one service, running or killed.
#[derive(Debug)]
pub struct Process {
    /// `order-1`, `inventory-2`, `bff-1`…
    pub name: String,
    pub service: ServiceName,
    /// Where it listens: 127.0.0.1 unless the stack gave it an address of its own.
    pub host: std::net::IpAddr,
    /// The gRPC port, or the HTTP port of the BFF.
    pub port: u16,
    /// Where a gRPC service serves `/metrics`.
    pub metrics_port: Option<u16>,
    pub log: PathBuf,
    binary: PathBuf,
    environment: Vec<(String, String)>,
    child: Option<Child>,
}

impl Process {
    pub(crate) fn new(
        service: ServiceName,
        replica: usize,
        binary: PathBuf,
        log: PathBuf,
        ports: (std::net::IpAddr, u16, Option<u16>),
        environment: Vec<(String, String)>,
    ) -> Process {
        Process {
            name: format!("{service}-{replica}"),
            service,
            host: ports.0,
            port: ports.1,
            metrics_port: ports.2,
            log,
            binary,
            environment,
            child: None,
        }
    }

    /// Starts the process (again), its output appended to its log.
    ///
    /// # Errors
    /// Fails when the log cannot be opened or the binary cannot be started.
    pub fn spawn(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("failed to open {}", self.log.display()))?;
        let mut command = bookstore_command(&self.binary);
        command
            .args(["serve", self.service.as_str()])
            .envs(self.environment.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        let child = command
            .spawn()
            .with_context(|| format!("failed to start {}", self.binary.display()))?;
        self.child = Some(child);
        Ok(())
    }

    /// Kills the process with SIGKILL (no drain, no goodbye) and reaps it.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// Sends SIGTERM, as the kubelet does once a pod's `preStop` is over; the process drains
    /// and exits by itself (see [`Process::wait_exit`]).
    pub fn terminate(&self) {
        if let Some(pid) = self.pid() {
            // A process that already exited only makes `kill` fail, which is what we want.
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
        }
    }

    /// Waits up to `within` for the process to exit and returns whether it exited with 0.
    ///
    /// # Errors
    /// When it is still running after `within`.
    pub async fn wait_exit(&mut self, within: Duration) -> anyhow::Result<bool> {
        let Some(child) = self.child.as_mut() else {
            return Ok(false);
        };
        let status = tokio::time::timeout(within, child.wait())
            .await
            .with_context(|| format!("{} still runs after {within:?}", self.name))??;
        self.child = None;
        Ok(status.success())
    }

    /// Returns the process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// Returns whether the process was started and has not exited.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Waits until the process answers SERVING (gRPC) or `/readyz` 200 (BFF).
    ///
    /// # Errors
    /// Fails when it exits first or is not ready within a minute, with its log's tail.
    pub async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + READY_WITHIN;
        let mut last = String::from("no answer");
        while tokio::time::Instant::now() < deadline {
            if !self.is_running() {
                anyhow::bail!("{} exited while starting:\n{}", self.name, self.log_tail());
            }
            match self.probe().await {
                Ok(()) => return Ok(()),
                Err(answer) => last = answer,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!(
            "{} was not ready within {READY_WITHIN:?} (last: {last}):\n{}",
            self.name,
            self.log_tail()
        )
    }

    /// Asks once whether the process is ready: gRPC health SERVING, or the BFF's `/readyz`.
    ///
    /// # Errors
    /// What it answered instead, or why it could not be asked.
    pub async fn probe(&self) -> Result<(), String> {
        probe_at(self.service, self.host, self.port).await
    }

    /// Asks once whether the process is alive: gRPC health's empty name SERVING (what the
    /// chart's liveness probe asks), or the BFF's `/livez` 200.
    ///
    /// # Errors
    /// What it answered instead, or why it could not be asked.
    pub async fn liveness(&self) -> Result<(), String> {
        ask(self.service, self.host, self.port, Probe::Liveness).await
    }

    /// The last lines of the log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

/// Asks `service` on `port` whether it is ready: gRPC health SERVING, or the BFF's
/// `/readyz` 200. `Err` carries the last answer.
pub async fn probe(service: ServiceName, port: u16) -> Result<(), String> {
    probe_at(service, std::net::IpAddr::from([127, 0, 0, 1]), port).await
}

/// [`probe`] of a process listening on `host`.
///
/// # Errors
/// As [`probe`].
pub async fn probe_at(service: ServiceName, host: std::net::IpAddr, port: u16) -> Result<(), String> {
    ask(service, host, port, Probe::Readiness).await
}

/// Which of the two questions the kubelet asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    Liveness,
    Readiness,
}

async fn ask(service: ServiceName, host: std::net::IpAddr, port: u16, question: Probe) -> Result<(), String> {
    let address = std::net::SocketAddr::new(host, port);
    if service == ServiceName::Bff {
        let path = match question {
            Probe::Liveness => "livez",
            Probe::Readiness => "readyz",
        };
        let url = format!("http://{address}/{path}");
        return match reqwest::get(url).await {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(format!("{path} {}", response.status())),
            Err(error) => Err(error.to_string()),
        };
    }
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .map_err(|error| error.to_string())?
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(2));
    let channel = endpoint.connect().await.map_err(|error| error.to_string())?;
    let name = match question {
        Probe::Liveness => platform::server::LIVENESS,
        Probe::Readiness => service.grpc_name(),
    };
    let request = HealthCheckRequest {
        service: name.to_owned(),
    };
    match HealthClient::new(channel).check(request).await {
        Ok(response) if response.get_ref().status == ServingStatus::Serving as i32 => Ok(()),
        Ok(response) => Err(ServingStatus::try_from(response.get_ref().status)
            .map(|status| status.as_str_name().to_owned())
            .unwrap_or_else(|_| format!("status {}", response.get_ref().status))),
        Err(status) => Err(status.message().to_owned()),
    }
}
