//! `GET /api/v1/usage/history`: a meter's usage over time, by day or month, split
//! by member or by one of the meter's properties (API.md, issue 13).

use super::auth::ApiCaller;
use super::error::{ApiError, ErrorBody};
use super::query::ApiQuery;
use crate::serve::AppState;
use axum::extract::State;
use axum::Json;
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tollgate::history::RawQuery;
use tollgate::service::{accounts, usage_history};
use utoipa::{IntoParams, ToSchema};

/// What to read.
#[derive(Deserialize, IntoParams)]
pub struct HistoryParams {
    /// Account uuid or `ext:<external_id>`; required for platform keys.
    pub account: Option<String>,
    /// Meter key.
    pub meter: String,
    /// First day, inclusive (`YYYY-MM-DD`, UTC; an RFC 3339 time counts by its UTC
    /// day). Default: 30 days before `to` (day), eleven months before this one
    /// (month).
    pub from: Option<String>,
    /// Day after the last, exclusive. Default: tomorrow (UTC). Month granularity
    /// widens both to month starts. At most 731 days, or 120 months.
    pub to: Option<String>,
    /// `day` (default) or `month` (UTC calendar months).
    pub granularity: Option<String>,
    /// `user` (one series per member; key null for events naming none) or
    /// `property:<name>` (one per value of a property the meter's catalog entry
    /// groups by; key null for events without it). Default: one series, key null.
    pub group_by: Option<String>,
}

/// The history.
#[derive(Serialize, ToSchema)]
pub struct HistoryResponse {
    /// Account uuid.
    pub account: String,
    /// Meter key.
    pub meter: String,
    /// `day` or `month`.
    pub granularity: String,
    /// First day, inclusive.
    pub from: NaiveDate,
    /// Day after the last, exclusive.
    pub to: NaiveDate,
    /// The series: key null first, then the largest by total. At most 100.
    pub series: Vec<SeriesOut>,
    /// Series left out beyond 100 (the smallest).
    pub series_omitted: usize,
}

/// One series.
#[derive(Serialize, ToSchema)]
pub struct SeriesOut {
    /// User uuid or property value; null: the events naming none.
    pub key: Option<String>,
    /// One point per day or month of the range, zeros included.
    pub points: Vec<PointOut>,
}

/// One day or month.
#[derive(Serialize, ToSchema)]
pub struct PointOut {
    /// The bucket's first day (UTC).
    pub start: NaiveDate,
    /// Usage in the meter's unit (decimal string): the sum for count and sum
    /// meters, the peak for max meters, the level last reported for last meters.
    pub value: String,
    /// Sum of the meter's cost property (decimal string; "0" without one).
    pub cost: String,
}

/// Usage history of one meter, exactly the sum of the stored events.
#[utoipa::path(
    get, path = "/api/v1/usage/history", tag = "usage",
    params(HistoryParams),
    responses(
        (status = 200, description = "History", body = HistoryResponse),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn history(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(q): ApiQuery<HistoryParams>,
) -> Result<Json<HistoryResponse>, ApiError> {
    let t = &state.tollgate;
    let account_id = accounts::resolve_for_caller(&t.pool, &caller, q.account.as_deref()).await?;
    let raw = RawQuery {
        from: q.from.as_deref(),
        to: q.to.as_deref(),
        granularity: q.granularity.as_deref(),
        group_by: q.group_by.as_deref(),
    };
    let h = usage_history::history(t, account_id, &q.meter, &raw, Utc::now()).await?;
    Ok(Json(HistoryResponse {
        account: account_id.to_string(),
        meter: h.meter,
        granularity: h.granularity.as_str().into(),
        from: h.from,
        to: h.to,
        series: h
            .series
            .into_iter()
            .map(|s| SeriesOut {
                key: s.key,
                points: s
                    .points
                    .into_iter()
                    .map(|p| PointOut {
                        start: p.start,
                        value: p.value.normalize().to_string(),
                        cost: p.cost.normalize().to_string(),
                    })
                    .collect(),
            })
            .collect(),
        series_omitted: h.series_omitted,
    }))
}
