//! svc-order's metrics, all named here and described in [`describe`]: how checkouts end, how
//! long they take, and payment declines.

use std::time::Duration;

use platform::ErrorCode;
use platform::error::{Refusal as _, ServiceError};

use crate::domain::OrderStatus;
use crate::domain::order::Order;
use crate::error::OrderResult;

/// Checkouts that ended, by `outcome`: `confirmed`, or the failure's code in lower case
/// (`out_of_stock`, `payment_declined`, `unavailable`, ...). Counted once per order, when
/// its status becomes CONFIRMED or FAILED (by the request that placed it or by recovery).
pub const CHECKOUTS_TOTAL: &str = "order_checkouts_total";
/// Time PlaceOrder took for a new order, from the request to its answer, by `outcome`
/// (`confirmed`, `pending` when recovery finishes it, or the error's code in lower case).
pub const CHECKOUT_DURATION_SECONDS: &str = "order_checkout_duration_seconds";
/// Payments the provider declined, by `stage` (`authorize` or `capture`).
pub const PAYMENT_DECLINES_TOTAL: &str = "order_payment_declines_total";

/// The outcomes an operator's panels and alerts read; they exist from the start, at zero.
const OUTCOMES: [&str; 4] = ["confirmed", "out_of_stock", "payment_declined", "unavailable"];

/// HELP text of svc-order's metrics; the recorder must be installed first.
pub fn describe() {
    metrics::describe_counter!(
        CHECKOUTS_TOTAL,
        "Checkouts that ended, by outcome (confirmed, or the failure code: out_of_stock, payment_declined, unavailable, ...)"
    );
    metrics::describe_histogram!(
        CHECKOUT_DURATION_SECONDS,
        metrics::Unit::Seconds,
        "Time PlaceOrder took for a new order, by outcome"
    );
    metrics::describe_counter!(
        PAYMENT_DECLINES_TOTAL,
        "Payments the provider declined, by stage (authorize, capture)"
    );
    for outcome in OUTCOMES {
        metrics::counter!(CHECKOUTS_TOTAL, "outcome" => outcome).absolute(0);
    }
    for stage in ["authorize", "capture"] {
        metrics::counter!(PAYMENT_DECLINES_TOTAL, "stage" => stage).absolute(0);
    }
}

/// The `outcome` label of a failure code.
pub fn outcome(code: ErrorCode) -> String {
    code.graphql_code().to_ascii_lowercase()
}

/// An order's checkout ended with `outcome`.
pub fn checkout_ended(outcome: &str) {
    metrics::counter!(CHECKOUTS_TOTAL, "outcome" => outcome.to_owned()).increment(1);
}

/// A first PlaceOrder attempt answered after `elapsed`.
pub fn checkout_answered(elapsed: Duration, result: &OrderResult<Order>) {
    let outcome = match result {
        Ok(order) if order.status == OrderStatus::Confirmed => "confirmed".to_owned(),
        Ok(order) if order.status == OrderStatus::Pending => "pending".to_owned(),
        Ok(_) => "failed".to_owned(),
        Err(ServiceError::Refused(refusal)) => outcome(refusal.error_code()),
        Err(ServiceError::InvalidArgument(_)) => "bad_user_input".to_owned(),
        Err(ServiceError::NotFound { .. }) => "not_found".to_owned(),
        Err(ServiceError::Internal(_)) => "internal".to_owned(),
    };
    metrics::histogram!(CHECKOUT_DURATION_SECONDS, "outcome" => outcome).record(elapsed.as_secs_f64());
}

/// The provider declined a payment at `stage` (`authorize` or `capture`).
pub fn payment_declined(stage: &'static str) {
    metrics::counter!(PAYMENT_DECLINES_TOTAL, "stage" => stage).increment(1);
}
