//! The built-in sandbox processor: behaves like a card processor's test mode (the table in
//! docs/api.md), keeps its own ledger of charges in the `sandbox_charges` table (so
//! it survives a restart and answers every replica alike, as a real processor would), and
//! can be told to be slow or to fail, for fault tests. A failure happens before or after
//! the operation takes effect, at random, as a timeout would: callers must retry.

use std::time::Duration;

use sea_orm::DatabaseConnection;

use super::{Authorization, AuthorizeRequest, PaymentProvider, ProviderError, Voided};
use crate::domain::payment::PaymentMethod;
use platform::store::{column, execute, query};

use crate::store::now_ms;

/// Fault injection.
#[derive(Debug, Clone, Copy, Default)]
pub struct SandboxFaults {
    /// Added to every call.
    pub latency: Duration,
    /// Share of calls (0 to 1) that end without an answer.
    pub failure_rate: f64,
}

/// The sandbox processor.
#[derive(Debug, Clone)]
pub struct SandboxProvider {
    db: DatabaseConnection,
    faults: SandboxFaults,
}

/// The sandbox's verdict on a payment method.
fn verdict(method: &PaymentMethod) -> Option<&'static str> {
    match method {
        PaymentMethod::Card(card) => match card.number() {
            "4000000000000002" => Some("card_declined"),
            "4000000000009995" => Some("insufficient_funds"),
            _ => None,
        },
        PaymentMethod::Paypal { email } if email == "declined@example.com" => Some("paypal_declined"),
        PaymentMethod::Paypal { .. } => None,
    }
}

/// A charge's (authorization id, state, decline reason).
fn charge(row: &sea_orm::QueryResult) -> Result<(String, String, String), ProviderError> {
    let read = |name: &str| column::<String>(row, name).map_err(unavailable);
    Ok((read("authorization_id")?, read("state")?, read("decline_reason")?))
}

fn unavailable(error: impl std::fmt::Display) -> ProviderError {
    ProviderError::Unavailable(error.to_string())
}

impl SandboxProvider {
    /// A sandbox keeping its ledger in `db`.
    pub fn new(db: DatabaseConnection, faults: SandboxFaults) -> Self {
        Self { db, faults }
    }

    /// Waits the injected latency; then maybe fails before the operation.
    async fn before(&self) -> Result<bool, ProviderError> {
        if !self.faults.latency.is_zero() {
            tokio::time::sleep(self.faults.latency).await;
        }
        if rand::random::<f64>() < self.faults.failure_rate {
            // Half the injected failures lose the request, half lose the answer.
            if rand::random::<bool>() {
                return Err(ProviderError::Unavailable(
                    "sandbox: request timed out".to_owned(),
                ));
            }
            return Ok(true);
        }
        Ok(false)
    }

    fn after<T>(lose_answer: bool, value: T) -> Result<T, ProviderError> {
        if lose_answer {
            return Err(ProviderError::Unavailable("sandbox: answer timed out".to_owned()));
        }
        Ok(value)
    }

    async fn state(&self, authorize_key: &str) -> Result<Option<(String, String, String)>, ProviderError> {
        let rows = query(
            &self.db,
            "sandbox payment",
            "SELECT authorization_id, state, decline_reason FROM sandbox_charges WHERE authorize_key = ?",
            [authorize_key.into()],
        )
        .await
        .map_err(unavailable)?;
        rows.first().map(charge).transpose()
    }

    /// Moves the charge `from` -> `to`; false when it was not in `from`.
    async fn transition(&self, authorize_key: &str, from: &str, to: &str) -> Result<bool, ProviderError> {
        let changed = execute(
            &self.db,
            "sandbox payment",
            "UPDATE sandbox_charges SET state = ?, updated_at_ms = ? WHERE authorize_key = ? AND state = ?",
            [to.into(), now_ms().into(), authorize_key.into(), from.into()],
        )
        .await
        .map_err(unavailable)?;
        Ok(changed == 1)
    }
}

#[async_trait::async_trait]
impl PaymentProvider for SandboxProvider {
    async fn authorize(&self, request: &AuthorizeRequest<'_>) -> Result<Authorization, ProviderError> {
        let lose_answer = self.before().await?;
        let declined = verdict(request.method);
        // The first request under a key decides; a replay gets the same answer: the upsert
        // changes nothing of a stored charge and returns it, in one statement.
        let rows = query(
            &self.db,
            "sandbox payment",
            "INSERT INTO sandbox_charges (authorization_id, authorize_key, amount_minor, currency, state, \
             decline_reason, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (authorize_key) DO UPDATE SET authorize_key = excluded.authorize_key \
             RETURNING authorization_id, state, decline_reason",
            [
                format!("sbx_{}", uuid::Uuid::now_v7().simple()).into(),
                request.key.into(),
                request.amount_minor.into(),
                request.currency.into(),
                if declined.is_some() {
                    "declined"
                } else {
                    "authorized"
                }
                .into(),
                declined.unwrap_or_default().into(),
                now_ms().into(),
            ],
        )
        .await
        .map_err(unavailable)?;
        let Some((id, state, reason)) = rows.first().map(charge).transpose()? else {
            return Err(ProviderError::Unavailable("sandbox: charge vanished".to_owned()));
        };
        let answer = if state == "declined" {
            Authorization::Declined { reason }
        } else {
            Authorization::Approved { id }
        };
        Self::after(lose_answer, answer)
    }

    async fn capture(&self, authorize_key: &str, _key: &str) -> Result<(), ProviderError> {
        let lose_answer = self.before().await?;
        if !self.transition(authorize_key, "authorized", "captured").await? {
            match self.state(authorize_key).await? {
                Some((_, state, _)) if state == "captured" || state == "refunded" => {}
                Some((_, state, _)) => {
                    return Err(ProviderError::Refused(format!("cannot capture a {state} charge")));
                }
                None => return Err(ProviderError::Refused("no such authorization".to_owned())),
            }
        }
        Self::after(lose_answer, ())
    }

    async fn void(&self, authorize_key: &str, _key: &str) -> Result<Voided, ProviderError> {
        let lose_answer = self.before().await?;
        let outcome = if self.transition(authorize_key, "authorized", "voided").await? {
            Voided::Voided
        } else {
            match self.state(authorize_key).await? {
                None => Voided::NothingAuthorized,
                Some((_, state, _)) if state == "declined" => Voided::NothingAuthorized,
                Some((_, state, _)) if state == "captured" || state == "refunded" => Voided::AlreadyCaptured,
                Some(_) => Voided::Voided,
            }
        };
        Self::after(lose_answer, outcome)
    }

    async fn refund(&self, authorize_key: &str, _key: &str) -> Result<(), ProviderError> {
        let lose_answer = self.before().await?;
        if !self.transition(authorize_key, "captured", "refunded").await? {
            match self.state(authorize_key).await? {
                Some((_, state, _)) if state == "refunded" => {}
                Some((_, state, _)) => {
                    return Err(ProviderError::Refused(format!("cannot refund a {state} charge")));
                }
                None => return Err(ProviderError::Refused("no such authorization".to_owned())),
            }
        }
        Self::after(lose_answer, ())
    }
}
