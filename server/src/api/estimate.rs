//! `POST /api/v1/estimate`: what a plan would cost for a given usage, priced by the
//! invoice run's code ([`tollgate::invoice::estimate`]).

use super::auth::ApiCaller;
use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use crate::serve::AppState;
use axum::extract::State;
use axum::Json;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tollgate::invoice::estimate::{self, EstimateError};
use tollgate::period::Interval;
use utoipa::ToSchema;

/// A usage quantity of an estimate: a non-negative decimal string.
pub const USAGE_PATTERN: &str = r"^[0-9]+(\.[0-9]+)?$";

/// The usage object in the OpenAPI document: meter key → decimal string, or null.
fn usage_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .additional_properties(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(USAGE_PATTERN)),
                )),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(
            "Usage over the billing period by meter key: decimal strings >= 0 and at most 10^12.",
        ))
        .build()
        .into()
}

/// What to estimate.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EstimateRequest {
    /// Plan key.
    #[schema(example = "standard-ai")]
    pub plan: String,
    /// `month` (default) or `year`.
    #[schema(pattern = "^(month|year)$")]
    pub interval: Option<String>,
    /// Seats (default 1).
    #[schema(minimum = 1, maximum = 100_000)]
    pub seats: Option<u32>,
    /// Usage over the whole billing period by meter key, decimal strings ≥ 0 and at
    /// most 10^12 (meters left out used nothing). A meter with a cost-plus price
    /// takes the provider cost in the catalog's currency.
    #[schema(schema_with = usage_schema, required = false)]
    pub usage: Option<BTreeMap<String, String>>,
}

/// The invoice the plan would issue.
#[derive(Serialize, ToSchema)]
pub struct EstimateResponse {
    /// ISO 4217 code of the catalog.
    pub currency: String,
    /// The invoice lines, in order.
    pub lines: Vec<EstimateLine>,
    /// Σ lines, rounded to the currency's minor unit, decimal string.
    pub total: String,
}

/// One line.
#[derive(Serialize, ToSchema)]
pub struct EstimateLine {
    /// What it is for (`Standard AI, monthly`; `API calls: 1200 call over 100000 included`).
    pub description: String,
    /// Rounded to the currency's minor unit, decimal string.
    pub amount: String,
}

/// Estimates one billing period of a plan.
#[utoipa::path(
    post, path = "/api/v1/estimate", tag = "billing",
    request_body = EstimateRequest,
    responses(
        (status = 200, description = "The invoice the plan would issue", body = EstimateResponse),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn estimate(
    State(state): State<AppState>,
    ApiCaller(_caller): ApiCaller,
    ApiJson(req): ApiJson<EstimateRequest>,
) -> Result<Json<EstimateResponse>, ApiError> {
    let catalog = state.tollgate.catalog.get()?;
    let plan = catalog
        .plan(&req.plan)
        .ok_or_else(|| ApiError::invalid("plan", None, format!("{:?} is not a plan", req.plan)))?;
    let interval = match req.interval.as_deref() {
        None => Interval::Month,
        Some(text) => text
            .parse()
            .map_err(|_| ApiError::invalid("interval", None, "interval is month or year"))?,
    };
    let mut usage = BTreeMap::new();
    for (meter, text) in req.usage.unwrap_or_default() {
        let quantity = parse_usage(&text).ok_or_else(|| {
            ApiError::invalid(
                &format!("usage.{meter}"),
                None,
                format!("usage of {meter} must be a decimal string such as \"1200\" or \"0.5\""),
            )
        })?;
        usage.insert(meter, quantity);
    }
    let seats = req.seats.unwrap_or(1);
    let draft = estimate::estimate(&catalog, plan, interval, seats, &usage).map_err(|e| {
        let field = match &e {
            EstimateError::NoPrice { .. } => "interval".to_string(),
            EstimateError::UnknownMeter(m) | EstimateError::BadUsage(m) => format!("usage.{m}"),
            EstimateError::BadSeats => "seats".to_string(),
        };
        ApiError::invalid(&field, None, e.to_string())
    })?;
    Ok(Json(EstimateResponse {
        currency: draft.total.currency.code().to_string(),
        lines: draft
            .lines
            .iter()
            .map(|l| EstimateLine {
                description: l.description.clone(),
                amount: l.amount.amount.to_string(),
            })
            .collect(),
        total: draft.total.amount.to_string(),
    }))
}

/// A decimal string as [`USAGE_PATTERN`] states it (digits, one optional point
/// between digits), at most 28 significant digits; `None` otherwise.
fn parse_usage(text: &str) -> Option<Decimal> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ok = match text.split_once('.') {
        Some((whole, fraction)) => digits(whole) && digits(fraction),
        None => digits(text),
    };
    if !ok {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::parse_usage;

    #[test]
    fn usage_is_a_plain_non_negative_decimal_string() {
        assert_eq!(
            parse_usage("1200").map(|d| d.to_string()),
            Some("1200".into())
        );
        assert_eq!(
            parse_usage("0.5").map(|d| d.to_string()),
            Some("0.5".into())
        );
        for bad in [
            "", "-1", "+1", "1e5", "1_000", ".5", "5.", "1.2.3", " 1", "１",
        ] {
            assert_eq!(parse_usage(bad), None, "{bad:?}");
        }
    }
}
