//! Payments: the [`PaymentProvider`] trait a processor adapter implements, the built-in
//! [`sandbox`] processor, and [`Payments`], which records every call and its answer in the
//! `payments` table. Every operation carries an idempotency key, and capture, void and
//! refund name the authorization by the key it was requested with, so a caller that lost
//! an answer (a timeout, a crash) can still settle it.

pub mod sandbox;

use std::sync::Arc;
use std::time::Duration;

use proto::types::{Money, OrderId};
use sea_orm::DatabaseConnection;
use tracing::Instrument as _;

use crate::domain::payment::PaymentMethod;
use crate::error::OrderResult;
use crate::store::payments::{self as calls, PaymentCall};

/// What to authorize.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest<'a> {
    /// Stable per order: a retry of the same authorization reuses it.
    pub key: &'a str,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub method: &'a PaymentMethod,
}

/// The processor's answer to an authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    Approved {
        id: String,
    },
    /// `reason` is the processor's code: `card_declined`, `insufficient_funds`, ….
    Declined {
        reason: String,
    },
}

/// What voiding found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voided {
    /// The hold is gone (now, or already).
    Voided,
    /// There was never an authorization under that key: nothing to give back.
    NothingAuthorized,
    /// The money was captured: it takes a refund.
    AlreadyCaptured,
}

/// Why a provider call did not give an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// No answer (timeout, network): the call may or may not have happened; retry it.
    #[error("payment provider unavailable: {0}")]
    Unavailable(String),
    /// The processor refuses the operation in the authorization's state.
    #[error("payment provider refused: {0}")]
    Refused(String),
}

/// A payment processor. Implementations must make every operation idempotent on its key.
#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync + std::fmt::Debug {
    async fn authorize(&self, request: &AuthorizeRequest<'_>) -> Result<Authorization, ProviderError>;
    async fn capture(&self, authorize_key: &str, key: &str) -> Result<(), ProviderError>;
    async fn void(&self, authorize_key: &str, key: &str) -> Result<Voided, ProviderError>;
    async fn refund(&self, authorize_key: &str, key: &str) -> Result<(), ProviderError>;
}

/// The provider, with every call and its result recorded against the order.
#[derive(Debug, Clone)]
pub struct Payments {
    provider: Arc<dyn PaymentProvider>,
    db: DatabaseConnection,
    /// The longest a provider call may take; past it the call counts as unanswered.
    deadline: Duration,
}

/// Bounds a provider call by `deadline` (a processor that hangs is an unavailable one), in
/// a client span of its own (`payment authorize`): the card network is a hop of the
/// checkout's trace like any service.
async fn bounded<T>(
    deadline: Duration,
    operation: &'static str,
    call: impl std::future::Future<Output = Result<T, ProviderError>>,
) -> Result<T, ProviderError> {
    let span = tracing::info_span!(
        "payment.call",
        otel.name = %format_args!("payment {operation}"),
        otel.kind = "client",
        payment.operation = operation,
        otel.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
    );
    let result = match tokio::time::timeout(deadline, call)
        .instrument(span.clone())
        .await
    {
        Ok(result) => result,
        Err(_) => Err(ProviderError::Unavailable(format!(
            "no answer within {} ms",
            deadline.as_millis()
        ))),
    };
    if let Err(error) = &result {
        span.record("otel.status_code", "ERROR");
        span.record(
            "error.type",
            match error {
                ProviderError::Unavailable(_) => "unavailable",
                ProviderError::Refused(_) => "refused",
            },
        );
    }
    result
}

/// The keys of one order's payment operations: derived from the order id, so every
/// replica and every retry uses the same ones.
pub fn key(order: OrderId, operation: &str) -> String {
    format!("order:{order}:{operation}")
}

fn outcome<T>(
    result: &Result<T, ProviderError>,
    approved: impl FnOnce(&T) -> (String, String),
) -> (String, String) {
    match result {
        Ok(value) => approved(value),
        Err(error) => ("error".to_owned(), error.to_string()),
    }
}

impl Payments {
    /// Wraps a provider.
    pub fn new(provider: Arc<dyn PaymentProvider>, db: DatabaseConnection, deadline: Duration) -> Self {
        Self {
            provider,
            db,
            deadline,
        }
    }

    async fn record(
        &self,
        order: OrderId,
        operation: &str,
        amount: Money,
        result: (String, String),
    ) -> OrderResult<()> {
        let call = PaymentCall {
            operation: operation.to_owned(),
            idempotency_key: key(order, operation),
            amount_minor: amount.minor(),
            currency: amount.currency().to_string(),
            outcome: result.0,
            detail: result.1,
        };
        calls::record(&self.db, order, &call).await
    }

    /// Authorizes the order's total.
    ///
    /// # Errors
    /// The provider's error (recorded), or the database's.
    pub async fn authorize(
        &self,
        order: OrderId,
        amount: Money,
        method: &PaymentMethod,
    ) -> OrderResult<Result<Authorization, ProviderError>> {
        let authorize_key = key(order, "authorize");
        let currency = amount.currency().to_string();
        let request = AuthorizeRequest {
            key: &authorize_key,
            amount_minor: amount.minor(),
            currency: &currency,
            method,
        };
        let result = bounded(self.deadline, "authorize", self.provider.authorize(&request)).await;
        let recorded = outcome(&result, |answer| match answer {
            Authorization::Approved { id } => ("approved".to_owned(), id.clone()),
            Authorization::Declined { reason } => ("declined".to_owned(), reason.clone()),
        });
        self.record(order, "authorize", amount, recorded).await?;
        Ok(result)
    }

    /// Captures the order's authorization.
    ///
    /// # Errors
    /// The provider's error (recorded), or the database's.
    pub async fn capture(&self, order: OrderId, amount: Money) -> OrderResult<Result<(), ProviderError>> {
        let result = bounded(
            self.deadline,
            "capture",
            self.provider
                .capture(&key(order, "authorize"), &key(order, "capture")),
        )
        .await;
        let recorded = outcome(&result, |()| ("approved".to_owned(), String::new()));
        self.record(order, "capture", amount, recorded).await?;
        Ok(result)
    }

    /// Voids the order's authorization, if there is one.
    ///
    /// # Errors
    /// The provider's error (recorded), or the database's.
    pub async fn void(&self, order: OrderId, amount: Money) -> OrderResult<Result<Voided, ProviderError>> {
        let result = bounded(
            self.deadline,
            "void",
            self.provider.void(&key(order, "authorize"), &key(order, "void")),
        )
        .await;
        let recorded = outcome(&result, |voided| ("approved".to_owned(), format!("{voided:?}")));
        self.record(order, "void", amount, recorded).await?;
        Ok(result)
    }

    /// Refunds the order's captured payment.
    ///
    /// # Errors
    /// The provider's error (recorded), or the database's.
    pub async fn refund(&self, order: OrderId, amount: Money) -> OrderResult<Result<(), ProviderError>> {
        let result = bounded(
            self.deadline,
            "refund",
            self.provider
                .refund(&key(order, "authorize"), &key(order, "refund")),
        )
        .await;
        let recorded = outcome(&result, |()| ("approved".to_owned(), String::new()));
        self.record(order, "refund", amount, recorded).await?;
        Ok(result)
    }
}
