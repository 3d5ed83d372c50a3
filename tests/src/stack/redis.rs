//! A private `redis-server` for a stack that kills its Redis: append-only with fsync on
//! every write, so a SIGKILL loses nothing acknowledged, as a production Redis with AOF.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use tokio::process::{Child, Command};

#[derive(Debug)]
pub(crate) struct PrivateRedis {
    pub(crate) port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PrivateRedis {
    pub(crate) async fn start(port: u16, dir: PathBuf) -> anyhow::Result<PrivateRedis> {
        std::fs::create_dir_all(&dir)?;
        let mut redis = PrivateRedis {
            port,
            dir,
            child: None,
        };
        redis.spawn().await?;
        Ok(redis)
    }

    pub(crate) async fn spawn(&mut self) -> anyhow::Result<()> {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "yes", "--appendfsync", "always"])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("failed to start redis-server")?;
        self.child = Some(child);
        let port = self.port;
        let answered = crate::eventually(
            Duration::from_secs(10),
            Duration::from_millis(50),
            || async move {
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .map(|_| ())
            },
        )
        .await;
        answered.map_err(|_| anyhow::anyhow!("redis-server on {port} did not start"))
    }

    pub(crate) async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }
}
