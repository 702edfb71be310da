//! `POST /api/v1/events`: record usage.

use super::auth::ApiCaller;
use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use crate::serve::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tollgate::service::ingest::{self, Draft};
use utoipa::ToSchema;

/// The pattern of a quantity sent as a string: a positive decimal, no exponent.
pub const QUANTITY_PATTERN: &str = r"^([0-9]*[1-9][0-9]*(\.[0-9]+)?|[0-9]+\.[0-9]*[1-9][0-9]*)$";

/// An event's quantity in the OpenAPI document: a positive decimal string (exact)
/// or a positive JSON number.
pub fn quantity_schema() -> utoipa::openapi::schema::Schema {
    quantity_one_of(false)
}

/// A check's quantity: as an event's, or null (1).
pub fn optional_quantity_schema() -> utoipa::openapi::schema::Schema {
    quantity_one_of(true)
}

fn quantity_one_of(nullable: bool) -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    let mut one = OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(QUANTITY_PATTERN)))
        .item(ObjectBuilder::new().schema_type(Type::Number).exclusive_minimum(Some(0)))
        .description(Some(
            "Greater than 0 and at most 10^12, with at most 12 decimal places (whole for a meter that counts): a decimal string (exact) or a JSON number.",
        ));
    if nullable {
        one = one.item(ObjectBuilder::new().schema_type(Type::Null));
    }
    one.build().into()
}

/// A batch of 1 to 1000 events.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsRequest {
    /// The events; validated and stored as a whole.
    #[schema(min_items = 1, max_items = 1000)]
    pub events: Vec<EventIn>,
}

/// One usage event.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventIn {
    /// Meter key (`queries`).
    #[schema(example = "queries")]
    pub meter: String,
    /// Quantity > 0 and at most 10^12, with at most 12 decimal places (whole for
    /// a meter that counts), as a decimal string (exact) or a JSON number.
    #[schema(schema_with = quantity_schema)]
    pub quantity: Value,
    /// 1–255 characters, unique per account for at least 35 days.
    #[schema(example = "msg-8812", min_length = 1, max_length = 255)]
    pub idempotency_key: String,
    /// When it happened (RFC 3339, UTC); defaults to now; at most 35 days old and
    /// 5 minutes ahead.
    pub timestamp: Option<DateTime<Utc>>,
    /// Acting member: user id or e-mail.
    pub user: Option<String>,
    /// Platform keys only: account uuid or `ext:<external_id>`.
    pub account: Option<String>,
    /// Free-form properties (model, provider, `cost_usd`).
    #[schema(value_type = Object)]
    pub properties: Option<Map<String, Value>>,
}

/// What the batch did.
#[derive(Serialize, ToSchema)]
pub struct EventsAccepted {
    /// Events stored now.
    pub accepted: usize,
    /// Events already stored under their idempotency key.
    pub duplicates: usize,
}

/// Records a batch of usage events.
#[utoipa::path(
    post, path = "/api/v1/events", tag = "usage",
    request_body = EventsRequest,
    responses(
        (status = 202, description = "Stored (or already stored)", body = EventsAccepted),
        (status = 400, description = "invalid_request: `details.index` names the first bad event", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: an account key naming another account", body = ErrorBody),
        (status = 404, description = "not_found: a platform key naming an unknown account", body = ErrorBody),
        (status = 409, description = "idempotency_conflict", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn record(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(body): ApiJson<EventsRequest>,
) -> Result<(StatusCode, Json<EventsAccepted>), ApiError> {
    let drafts = body
        .events
        .into_iter()
        .map(|e| Draft {
            account: e.account,
            meter: e.meter,
            quantity: e.quantity,
            timestamp: e.timestamp,
            user: e.user,
            idempotency_key: e.idempotency_key,
            properties: e.properties.unwrap_or_default(),
        })
        .collect();
    let outcome = ingest::record(&state.tollgate, &caller, drafts, Utc::now()).await?;
    metrics::counter!("tollgate_events_accepted_total").increment(outcome.accepted as u64);
    metrics::counter!("tollgate_events_duplicate_total").increment(outcome.duplicates as u64);
    Ok((
        StatusCode::ACCEPTED,
        Json(EventsAccepted {
            accepted: outcome.accepted,
            duplicates: outcome.duplicates,
        }),
    ))
}
