//! The loops a service runs beside its server (sweepers, consumers, relays, the Redis
//! connector), owned by [`super::serve`]: each gets a token that stops it when the server
//! stops, and a task that fails or panics is logged and stops the service with an error,
//! the same in every service.

use std::collections::HashMap;

use futures::future::BoxFuture;
use tokio::task::{JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

/// A named loop, started with the token that stops it.
pub struct Background {
    pub(super) name: &'static str,
    pub(super) start: Box<dyn FnOnce(CancellationToken) -> BoxFuture<'static, anyhow::Result<()>> + Send>,
}

impl std::fmt::Debug for Background {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Background")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Background {
    /// Creates a task named `name` (for logs) that `start` builds from its stop token. It
    /// should return once the token is cancelled; returning earlier is fine (a connector
    /// that connected), failing or panicking stops the service.
    pub fn new<F, Fut>(name: &'static str, start: F) -> Self
    where
        F: FnOnce(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        Self {
            name,
            // A loop's statements are not those of the requests a test counts.
            start: Box::new(move |stop| Box::pin(crate::store::round_trips::uncounted(start(stop)))),
        }
    }
}

/// The running tasks of one service.
pub(super) struct Tasks {
    set: JoinSet<anyhow::Result<()>>,
    names: HashMap<tokio::task::Id, &'static str>,
}

impl Tasks {
    /// Starts every task with `stop`.
    pub(super) fn start(tasks: Vec<Background>, stop: &CancellationToken) -> Self {
        let mut set = JoinSet::new();
        let mut names = HashMap::new();
        for task in tasks {
            let handle = set.spawn((task.start)(stop.clone()));
            names.insert(handle.id(), task.name);
        }
        Self { set, names }
    }

    /// Waits for the next task to end; `None` when none is left. A failure is logged once
    /// and returned.
    pub(super) async fn next_failure(&mut self) -> Option<Result<(), anyhow::Error>> {
        let joined = self.set.join_next_with_id().await?;
        Some(self.judge(joined))
    }

    /// Waits for every task, returning the first failure.
    pub(super) async fn finish(mut self) -> anyhow::Result<()> {
        let mut first = Ok(());
        while let Some(outcome) = self.next_failure().await {
            if first.is_ok() {
                first = outcome;
            }
        }
        first
    }

    fn judge(
        &mut self,
        joined: Result<(tokio::task::Id, anyhow::Result<()>), JoinError>,
    ) -> anyhow::Result<()> {
        let (id, outcome) = match joined {
            Ok((id, outcome)) => (id, outcome.map_err(|error| (error, "failed"))),
            Err(error) => {
                let what = if error.is_panic() {
                    "panicked"
                } else {
                    "was cancelled"
                };
                (error.id(), Err((anyhow::Error::new(error), what)))
            }
        };
        let name = self.names.remove(&id).unwrap_or("background task");
        outcome.map_err(|(error, what)| {
            tracing::error!(task = name, outcome = what, error.cause_chain = %crate::telemetry::cause_chain(&error), "background task ended, stopping the service");
            error.context(format!("background task `{name}` {what}"))
        })
    }
}
