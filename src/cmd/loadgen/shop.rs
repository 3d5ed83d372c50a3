//! The `shop` scenario: each virtual user registers, then runs weighted journeys (mostly
//! browsing and searching, some carting, few checkouts) until the duration is up, back to
//! back (closed loop) or, with `--rate`, at a shared pace (open loop).

use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::client::{Client, Endpoint, Pacing};
use super::journeys::{Account, Shopper, register};
use super::options::{Journey, Mix};
use super::pacer::Pacer;
use super::stats::{Progress, Recorder};

/// What the shop run does.
#[derive(Debug, Clone)]
pub(crate) struct ShopPlan {
    pub(crate) users: usize,
    pub(crate) duration: Duration,
    /// Journeys a second across all users; `None` runs closed loop.
    pub(crate) rate: Option<f64>,
    pub(crate) mix: Mix,
    pub(crate) pacing: Pacing,
    /// Makes this run's account emails unique.
    pub(crate) run_id: String,
}

/// Returns the account of virtual user `index` in run `run_id`.
pub(crate) fn account(run_id: &str, index: usize) -> Account {
    Account {
        email: format!("loadgen-{run_id}-{index}@example.com"),
        password: format!("loadgen-{run_id}-password"),
        name: format!("Load Shopper {index}"),
    }
}

/// Runs every user until the duration is up or `stop` is cancelled (Ctrl-C); returns what
/// they recorded.
pub(crate) async fn run(
    endpoint: &Endpoint,
    plan: &ShopPlan,
    progress: Arc<Progress>,
    stop: CancellationToken,
) -> Recorder {
    let journey_pacer = plan.rate.and_then(Pacer::per_second).map(Arc::new);
    let deadline = stop.clone();
    let duration = plan.duration;
    let timer = tokio::spawn(async move {
        tokio::time::sleep(duration).await;
        deadline.cancel();
    });
    let mut users = JoinSet::new();
    for index in 0..plan.users {
        let client = Client::new(endpoint.clone(), Recorder::new(progress.clone()), &plan.pacing);
        let shopper = Shopper::new(client, account(&plan.run_id, index), StdRng::from_entropy());
        users.spawn(shop(
            shopper,
            plan.mix.clone(),
            journey_pacer.clone(),
            stop.clone(),
        ));
    }
    let mut total = Recorder::new(progress);
    while let Some(joined) = users.join_next().await {
        match joined {
            Ok(recorder) => total.merge(recorder),
            Err(error) => total.user_failed(format!("a virtual user stopped: {error}")),
        }
    }
    timer.abort();
    total
}

/// One user's life: register, then journeys until `stop`.
async fn shop(
    mut shopper: Shopper,
    mix: Mix,
    journey_pacer: Option<Arc<Pacer>>,
    stop: CancellationToken,
) -> Recorder {
    let mut rng = StdRng::from_entropy();
    // Signed in from the first request on: a signed-in user has its own rate budget, while
    // anonymous requests of every user share the one address's.
    if !register(&mut shopper.client, &shopper.account).await {
        return shopper.client.recorder;
    }
    while !stop.is_cancelled() {
        if let Some(pacer) = &journey_pacer {
            tokio::select! {
                _ = pacer.wait() => {}
                _ = stop.cancelled() => break,
            }
        }
        if shopper.client.needs_sign_in() {
            shopper.login().await;
            continue;
        }
        match mix.pick(rng.gen_range(0..mix.total())) {
            Journey::Browse => shopper.browse().await,
            Journey::Search => shopper.search().await,
            Journey::ViewBook => shopper.view_book().await,
            Journey::AddToCart => shopper.add_to_cart().await,
            Journey::ViewCart => shopper.view_cart().await,
            Journey::Login => shopper.login().await,
            Journey::Checkout => shopper.checkout().await,
        }
    }
    shopper.client.recorder
}
