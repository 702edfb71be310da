//! `POST /api/v1/events/void`: a platform key voids recorded usage with a reason
//! (API.md, issue 13 "Corrections"; [`tollgate::service::usage_corrections`]).

use super::auth::ApiCaller;
use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use crate::serve::AppState;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tollgate::correction::{self, Reason};
use tollgate::service::keys::Caller;
use tollgate::service::{accounts, usage_corrections, Error};
use utoipa::ToSchema;

/// Which events to void, and why: `idempotency_keys`, or `meter` with `from` and
/// `to`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidRequest {
    /// Account uuid or `ext:<external_id>`.
    pub account: String,
    /// The idempotency keys the events were sent with (1 to 1000, each 1 to 255
    /// characters).
    #[schema(min_items = 1, max_items = 1000)]
    pub idempotency_keys: Option<Vec<String>>,
    /// Meter key of a range.
    pub meter: Option<String>,
    /// Start of a range, inclusive (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// End of a range, exclusive (RFC 3339). A range voids at most 100,000 events.
    pub to: Option<DateTime<Utc>>,
    /// Why (1 to 500 characters on one line), for the audit log.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// What was voided.
#[derive(Serialize, ToSchema)]
pub struct VoidResponse {
    /// Account uuid.
    pub account: String,
    /// The correction's id; null when nothing was voided.
    pub correction: Option<String>,
    /// Events voided now.
    pub voided: usize,
    /// Quantity voided per meter (decimal strings).
    pub meters: Vec<VoidedMeter>,
    /// Keys whose events were voided before (a repeat voids nothing twice).
    pub already_voided: Vec<String>,
    /// Keys with no stored event.
    pub not_found: Vec<String>,
    /// Issued invoices whose usage changed: each difference is billed on the
    /// account's next invoice (negative: a credit).
    pub adjustments: Vec<AdjustmentOut>,
}

/// One meter's voided quantity.
#[derive(Serialize, ToSchema)]
pub struct VoidedMeter {
    /// Meter key.
    pub meter: String,
    /// Decimal string.
    pub quantity: String,
}

/// One invoice adjustment.
#[derive(Serialize, ToSchema)]
pub struct AdjustmentOut {
    /// The issued invoice's number.
    pub invoice: String,
    /// Meter key.
    pub meter: String,
    /// Decimal string, rounded to the currency's minor unit; negative: a credit.
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
}

/// Voids recorded usage events of an account.
#[utoipa::path(
    post, path = "/api/v1/events/void", tag = "usage",
    request_body = VoidRequest,
    responses(
        (status = 200, description = "What was voided", body = VoidResponse),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: account keys cannot void usage", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn void(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(req): ApiJson<VoidRequest>,
) -> Result<Json<VoidResponse>, ApiError> {
    if !matches!(caller, Caller::Platform { .. }) {
        return Err(Error::Forbidden("only a platform key may void usage".into()).into());
    }
    let t = &state.tollgate;
    let refused = |r: tollgate::refusal::Refusal| ApiError::invalid(r.field, None, r.message);
    let reason = Reason::parse(&req.reason).map_err(refused)?;
    let selection =
        correction::selection(req.idempotency_keys, req.meter, req.from, req.to).map_err(refused)?;
    let account_id = accounts::resolve_for_caller(&t.pool, &caller, Some(&req.account)).await?;
    let done = usage_corrections::void(t, &caller.actor(), account_id, &selection, &reason, Utc::now())
        .await?;
    Ok(Json(VoidResponse {
        account: account_id.to_string(),
        correction: done.correction_id.map(|id| id.to_string()),
        voided: done.voided.len(),
        meters: done
            .by_meter
            .into_iter()
            .map(|(meter, q)| VoidedMeter {
                meter,
                quantity: q.normalize().to_string(),
            })
            .collect(),
        already_voided: done.already_voided,
        not_found: done.not_found,
        adjustments: done
            .adjustments
            .into_iter()
            .map(|a| AdjustmentOut {
                invoice: a.invoice_number,
                meter: a.meter,
                amount: a.amount.to_string(),
                currency: a.currency,
            })
            .collect(),
    }))
}
