//! `GET /api/v1/usage?account=…`: the account's current period.

use super::auth::ApiCaller;
use super::error::{ApiError, ErrorBody};
use super::query::ApiQuery;
use crate::serve::AppState;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use tollgate::service::{accounts, usage};
use utoipa::{IntoParams, ToSchema};

/// Which account.
#[derive(Deserialize, IntoParams)]
pub struct AccountQuery {
    /// Account uuid or `ext:<external_id>`; required for platform keys.
    pub account: Option<String>,
}

/// The account's usage.
#[derive(Serialize, ToSchema)]
pub struct UsageResponse {
    /// Account uuid.
    pub account: String,
    /// Plan key; null without a live subscription.
    pub plan: Option<String>,
    /// Subscription status; null without one.
    pub status: Option<String>,
    /// Billing period start (UTC, inclusive).
    pub period_start: DateTime<Utc>,
    /// Billing period end (UTC, exclusive).
    pub period_end: DateTime<Utc>,
    /// Days left, rounded up.
    pub days_remaining: i64,
    /// One entry per meter.
    pub meters: Vec<MeterUsageOut>,
}

/// One meter.
#[derive(Serialize, ToSchema)]
pub struct MeterUsageOut {
    /// Meter key.
    pub meter: String,
    /// Usage this period (decimal string).
    pub usage: String,
    /// Included quantity; null when unlimited.
    pub limit: Option<String>,
    /// Percent of the limit, one decimal; null when unlimited.
    pub percent: Option<f64>,
    /// `ok`, `warning`, `limit_reached` or `blocked`.
    pub state: String,
    /// Linear end-of-period projection.
    pub projected: String,
    /// The projection passes the limit.
    pub projected_overage: bool,
    /// Unit.
    pub unit: String,
    /// `soft` or `hard`.
    pub enforcement: String,
    /// This meter's period start (calendar-month meters differ from the billing period).
    pub period_start: DateTime<Utc>,
    /// This meter's period end.
    pub period_end: DateTime<Utc>,
}

/// The account's usage of every meter in the current period.
#[utoipa::path(
    get, path = "/api/v1/usage", tag = "usage",
    params(AccountQuery),
    responses(
        (status = 200, description = "Usage", body = UsageResponse),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn usage(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(q): ApiQuery<AccountQuery>,
) -> Result<Json<UsageResponse>, ApiError> {
    let t = &state.tollgate;
    let account_id = accounts::resolve_for_caller(&t.pool, &caller, q.account.as_deref()).await?;
    let s = usage::snapshot(t, account_id, Utc::now()).await?;
    Ok(Json(UsageResponse {
        account: account_id.to_string(),
        plan: s.plan.as_ref().map(|p| p.key.clone()),
        status: s.plan.as_ref().map(|p| p.status.to_string()),
        period_start: s.period.start,
        period_end: s.period.end,
        days_remaining: s.days_remaining,
        meters: s
            .meters
            .into_iter()
            .map(|m| MeterUsageOut {
                meter: m.meter,
                usage: m.usage.normalize().to_string(),
                limit: m.limit.map(|l| l.normalize().to_string()),
                percent: m.percent.and_then(|p| p.to_f64()),
                state: m.state.as_str().into(),
                projected: m.projected.normalize().to_string(),
                projected_overage: m.projected_overage,
                unit: m.unit,
                enforcement: m.enforcement.as_str().into(),
                period_start: m.period.start,
                period_end: m.period.end,
            })
            .collect(),
    }))
}
