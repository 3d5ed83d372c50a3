//! A TCP proxy in front of PostgreSQL that a test can cut: while cut, its port refuses new
//! connections and every open one is closed, as when the database host goes away; restored,
//! it forwards again on the same port.

use std::net::SocketAddr;

use anyhow::Context as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

#[derive(Debug)]
pub(crate) struct StoreProxy {
    pub(crate) port: u16,
    upstream: SocketAddr,
    /// The accept loop; aborting it drops the listener (refusing) and, with its `JoinSet`,
    /// every forwarded connection (closing them).
    forwarding: Option<JoinHandle<()>>,
}

impl StoreProxy {
    /// Forwards a free loopback port to `upstream`.
    pub(crate) async fn start(upstream: SocketAddr) -> anyhow::Result<StoreProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        Ok(StoreProxy {
            port,
            upstream,
            forwarding: Some(tokio::spawn(forward(listener, upstream))),
        })
    }

    /// Closes every connection and refuses new ones.
    pub(crate) fn cut(&mut self) {
        if let Some(forwarding) = self.forwarding.take() {
            forwarding.abort();
        }
    }

    /// Accepts and forwards again, on the same port.
    pub(crate) async fn restore(&mut self) -> anyhow::Result<()> {
        if self.forwarding.is_none() {
            let listener = TcpListener::bind(("127.0.0.1", self.port))
                .await
                .with_context(|| format!("failed to bind the proxy's port {} again", self.port))?;
            self.forwarding = Some(tokio::spawn(forward(listener, self.upstream)));
        }
        Ok(())
    }
}

impl Drop for StoreProxy {
    fn drop(&mut self) {
        self.cut();
    }
}

async fn forward(listener: TcpListener, upstream: SocketAddr) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        while connections.try_join_next().is_some() {}
        connections.spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}
