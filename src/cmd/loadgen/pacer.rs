//! Pacing by token interval: each caller takes the next free slot, `1 / rate` after the
//! previous one, and sleeps until it. Used for `--rate` (shared by every virtual user), for
//! each user's own cap (`--user-rate`) and for the anonymous requests all users send from one
//! address (`--anonymous-rate`).

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// Hands out evenly spaced start times.
#[derive(Debug)]
pub(crate) struct Pacer {
    interval: Duration,
    /// The next free slot; locked only to read and advance it, never across an await.
    next: Mutex<Instant>,
}

impl Pacer {
    /// Returns a pacer for `rate` calls a second, or `None` for no limit (`rate <= 0`).
    pub(crate) fn per_second(rate: f64) -> Option<Pacer> {
        if !rate.is_finite() || rate <= 0.0 {
            return None;
        }
        Some(Pacer {
            interval: Duration::from_secs_f64(1.0 / rate),
            next: Mutex::new(Instant::now()),
        })
    }

    /// Reserves the next slot and returns when it comes. A caller that was idle does not
    /// earn a burst: a slot is never earlier than now.
    pub(crate) async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            let slot = (*next).max(Instant::now());
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slots_are_one_interval_apart() {
        let pacer = Pacer::per_second(100.0).unwrap();
        let started = Instant::now();
        for _ in 0..5 {
            pacer.wait().await;
        }
        // The first slot is now, then 4 more at 10 ms each.
        assert!(
            started.elapsed() >= Duration::from_millis(40),
            "{:?}",
            started.elapsed()
        );
        assert!(Pacer::per_second(0.0).is_none());
    }
}
