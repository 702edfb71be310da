//! `POST /api/v1/check`: may the account do this?

use super::auth::ApiCaller;
use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use crate::serve::AppState;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tollgate::quantity::Quantity;
use tollgate::service::check::{self, MeterCheck, Outcome, Request};
use utoipa::ToSchema;

/// A check.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// Meter or feature key.
    #[schema(example = "queries")]
    pub feature: String,
    /// Quantity asked for, > 0 as for events; default 1.
    #[schema(schema_with = super::events::optional_quantity_schema, required = false)]
    pub quantity: Option<Value>,
    /// Platform keys only: account uuid or `ext:<external_id>`.
    pub account: Option<String>,
    /// Record the quantity atomically if allowed (meters that count or sum).
    #[serde(default)]
    pub consume: bool,
    /// Required with `consume`; 1–255 characters.
    #[schema(min_length = 1, max_length = 255)]
    pub idempotency_key: Option<String>,
}

/// The answer for a meter.
#[derive(Serialize, ToSchema)]
pub struct MeterCheckResponse {
    /// Meter key.
    pub feature: String,
    /// False only when a hard limit blocks.
    pub allowed: bool,
    /// `ok`, `warning`, `limit_reached` or `blocked`.
    pub state: String,
    /// Usage before this request, decimal string.
    pub usage: String,
    /// Included quantity; null when unlimited.
    pub limit: Option<String>,
    /// `max(limit − usage, 0)`; null when unlimited.
    pub remaining: Option<String>,
    /// `usage / limit × 100`, one decimal; null when unlimited.
    pub percent: Option<f64>,
    /// No limit.
    pub unlimited: bool,
    /// `soft` or `hard`.
    pub enforcement: String,
    /// Hard limits: the usage that may not be passed.
    pub blocks_at: Option<String>,
    /// Start of the meter's period (UTC, inclusive).
    pub period_start: DateTime<Utc>,
    /// End of the meter's period (UTC, exclusive).
    pub period_end: DateTime<Utc>,
    /// Where to upgrade.
    pub upgrade_url: String,
    /// A consuming check whose idempotency key was already recorded.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

fn text(d: Decimal) -> String {
    d.normalize().to_string()
}

impl From<MeterCheck> for MeterCheckResponse {
    fn from(c: MeterCheck) -> Self {
        let e = c.evaluation;
        MeterCheckResponse {
            feature: c.feature,
            allowed: e.allowed,
            state: e.state.as_str().into(),
            usage: text(e.usage),
            limit: e.limit.map(text),
            remaining: e.remaining.map(text),
            percent: e
                .percent
                .map(tollgate::usage::round_percent)
                .and_then(|p| p.to_f64()),
            unlimited: e.unlimited(),
            enforcement: e.enforcement.as_str().into(),
            blocks_at: e.blocks_at.map(text),
            period_start: c.period.start,
            period_end: c.period.end,
            upgrade_url: c.upgrade_url,
            duplicate: c.duplicate,
        }
    }
}

/// The answer for a boolean, numeric or enum feature.
#[derive(Serialize, ToSchema)]
pub struct FeatureCheckResponse {
    /// Feature key.
    pub feature: String,
    /// False for `false`, `0` or a feature the plan lacks.
    pub allowed: bool,
    /// The plan's value: a boolean, a number, a string, or null (the plan lacks it,
    /// or unlimited).
    pub value: Value,
}

/// The answer for a rate feature (each check counts one call per `quantity`).
#[derive(Serialize, ToSchema)]
pub struct RateCheckResponse {
    /// Feature key.
    pub feature: String,
    /// Always true (a refused call is `429 rate_limited`).
    pub allowed: bool,
    /// Calls allowed per window; null when unlimited.
    #[schema(value_type = Option<f64>)]
    pub value: Value,
    /// Calls left in this window; null when unlimited.
    pub remaining: Option<String>,
    /// When the window ends (UTC).
    pub resets_at: DateTime<Utc>,
}

/// One of the three answers.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum CheckResponse {
    /// A meter.
    Meter(MeterCheckResponse),
    /// A feature.
    Feature(FeatureCheckResponse),
    /// A rate feature.
    Rate(RateCheckResponse),
}

/// The outcomes `tollgate_checks_total` counts, in a fixed order.
const OUTCOMES: [&str; 8] = [
    "ok",
    "warning",
    "limit_reached",
    "blocked",
    "allowed",
    "denied",
    "rate_limited",
    "error",
];

/// The counter of one outcome, registered once (the first check runs after the
/// recorder is installed) rather than looked up by its labels on every request.
fn outcome_counter(outcome: &str) -> &'static metrics::Counter {
    static COUNTERS: std::sync::OnceLock<Vec<metrics::Counter>> = std::sync::OnceLock::new();
    let counters = COUNTERS.get_or_init(|| {
        OUTCOMES
            .iter()
            .map(|o| metrics::counter!("tollgate_checks_total", "outcome" => *o))
            .collect()
    });
    let i = OUTCOMES
        .iter()
        .position(|o| *o == outcome)
        .unwrap_or(OUTCOMES.len() - 1);
    &counters[i]
}

/// Answers whether the account may use `quantity` more of `feature`.
#[utoipa::path(
    post, path = "/api/v1/check", tag = "entitlements",
    request_body = CheckRequest,
    responses(
        (status = 200, description = "The answer", body = CheckResponse),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "idempotency_conflict", body = ErrorBody),
        (status = 429, description = "plan_limit_exceeded (consume refused; the answer is in `details`) or rate_limited (with Retry-After)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn check(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(body): ApiJson<CheckRequest>,
) -> Result<Json<CheckResponse>, ApiError> {
    let quantity = match &body.quantity {
        None => Quantity::new(Decimal::ONE),
        Some(v) => Quantity::from_json(v),
    }
    .map_err(|e| ApiError::invalid("quantity", None, format!("`quantity` {e}")))?;
    let req = Request {
        account: body.account,
        feature: body.feature,
        quantity,
        consume: body.consume,
        idempotency_key: body.idempotency_key,
    };
    let result = check::check(&state.tollgate, &caller, req, Utc::now()).await;
    let outcome_label = match &result {
        Ok(Outcome::Meter(m)) => m.evaluation.state.as_str(),
        Ok(Outcome::Feature { allowed: true, .. }) | Ok(Outcome::Rate { .. }) => "allowed",
        Ok(Outcome::Feature { .. }) => "denied",
        Err(tollgate::service::Error::PlanLimitExceeded(_)) => "blocked",
        Err(tollgate::service::Error::RateLimited { .. }) => "rate_limited",
        Err(_) => "error",
    };
    outcome_counter(outcome_label).increment(1);
    Ok(Json(match result? {
        Outcome::Meter(m) => CheckResponse::Meter(m.into()),
        Outcome::Feature {
            feature,
            allowed,
            value,
        } => CheckResponse::Feature(FeatureCheckResponse {
            feature,
            allowed,
            value: value.map_or(Value::Null, |v| v.to_json()),
        }),
        Outcome::Rate {
            feature,
            limit,
            remaining,
            resets_at,
        } => CheckResponse::Rate(RateCheckResponse {
            feature,
            allowed: true,
            value: limit.map_or(Value::Null, tollgate::catalog::value::decimal_to_json),
            remaining: remaining.map(text),
            resets_at,
        }),
    }))
}
