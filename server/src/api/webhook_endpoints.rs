//! `/api/v1/webhook_endpoints` (API.md "Coming next", issue 14): a platform key
//! manages the platform's endpoints (every account's events), or an account's with
//! `account`; an account key its own account's. The secret is answered once, on
//! creation and rotation ([`tollgate::service::webhooks`]).

use super::auth::ApiCaller;
use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use super::query::{ApiPath, ApiQuery};
use crate::serve::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tollgate::service::keys::Caller;
use tollgate::service::webhooks::{self, Endpoint, EndpointInput, Scope};
use tollgate::service::Actor;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Which owner's endpoints.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OwnerQuery {
    /// Account uuid or `ext:<external_id>`; omitted: a platform key's own
    /// (platform-wide) endpoints, an account key's account.
    pub account: Option<String>,
}

/// A page of the delivery log.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// As [`OwnerQuery::account`].
    pub account: Option<String>,
    /// Page from 0, 25 deliveries each, newest first.
    #[param(minimum = 0, maximum = 10000)]
    pub page: Option<u32>,
}

/// An endpoint to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpointRequest {
    /// Where deliveries are POSTed: `https://…` (or `http://`), public addresses
    /// only unless the operator allows private ones.
    #[schema(max_length = 2048)]
    pub url: String,
    /// The event types wanted (`invoice.paid`, `usage.limit_reached`, …; the
    /// `webhooks` tag lists them); omitted or empty: every type.
    #[schema(max_items = 32, example = json!(["invoice.paid", "usage.limit_reached"]))]
    pub event_types: Option<Vec<String>>,
    /// One line, at most 200 characters.
    #[schema(max_length = 200)]
    pub description: Option<String>,
    /// As [`OwnerQuery::account`].
    pub account: Option<String>,
}

/// Changes to an endpoint; omitted fields stay.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEndpointRequest {
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    /// Empty: every type.
    #[schema(max_items = 32)]
    pub event_types: Option<Vec<String>>,
    #[schema(max_length = 200)]
    pub description: Option<String>,
    /// `false` stops deliveries (they wait); `true` starts them again, also after
    /// Tollgate disabled the endpoint for failing 3 days.
    pub enabled: Option<bool>,
    /// As [`OwnerQuery::account`].
    pub account: Option<String>,
}

/// An endpoint.
#[derive(Serialize, ToSchema)]
pub struct EndpointOut {
    pub id: Uuid,
    /// Account uuid; null: platform-wide.
    pub account: Option<Uuid>,
    pub url: String,
    pub description: String,
    /// Empty: every type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// `manual` or `failing` (every attempt failed for 3 days) while disabled.
    pub disabled_reason: Option<String>,
    /// Failing every attempt since (UTC).
    pub failing_since: Option<DateTime<Utc>>,
    /// After a rotation: until when the previous secret still signs (UTC).
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<Endpoint> for EndpointOut {
    fn from(e: Endpoint) -> Self {
        EndpointOut {
            id: e.id,
            account: e.account_id,
            url: e.url,
            description: e.description,
            event_types: e.event_types,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            failing_since: e.failing_since,
            previous_secret_expires_at: e.previous_secret_expires_at,
            created_at: e.created_at,
        }
    }
}

/// An endpoint with its secret, answered once.
#[derive(Serialize, ToSchema)]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: EndpointOut,
    /// `whsec_…`: verify deliveries with it (Standard Webhooks libraries take it
    /// as is). Shown only now.
    pub secret: String,
}

/// The endpoints.
#[derive(Serialize, ToSchema)]
pub struct EndpointList {
    pub data: Vec<EndpointOut>,
}

/// One delivery of the log, with its last attempt.
#[derive(Serialize, ToSchema)]
pub struct DeliveryOut {
    pub id: Uuid,
    /// The event's id, also the `webhook-id` header.
    pub event: Uuid,
    pub event_type: String,
    pub sequence: i64,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: i32,
    /// When a pending delivery is tried next (UTC).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The delivery this one replays.
    pub replay_of: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// The last attempt's HTTP status; null: no answer.
    pub response_status: Option<i32>,
    /// The last attempt's latency in milliseconds.
    pub latency_ms: Option<i32>,
    pub error: Option<String>,
}

/// A page of deliveries.
#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub data: Vec<DeliveryOut>,
    /// Deliveries of the endpoint in all.
    pub total: i64,
}

/// One attempt of a delivery.
#[derive(Serialize, ToSchema)]
pub struct AttemptOut {
    pub attempted_at: DateTime<Utc>,
    /// The HTTP status; null: no answer.
    pub response_status: Option<i32>,
    /// The answer's first 1024 characters.
    pub response_body: String,
    pub latency_ms: i32,
    /// Why it failed (`HTTP 503`, `timed out`, a refused address…).
    pub error: Option<String>,
}

/// A delivery in full: the request body as sent, and every attempt.
#[derive(Serialize, ToSchema)]
pub struct DeliveryDetailOut {
    pub delivery: DeliveryOut,
    /// The JSON body POSTed (the same on every attempt).
    pub request_body: String,
    /// Oldest first.
    pub attempts: Vec<AttemptOut>,
}

/// A replay.
#[derive(Serialize, ToSchema)]
pub struct ReplayOut {
    /// The new delivery's id.
    pub id: Uuid,
}

fn actor(caller: &Caller) -> Actor {
    Actor::ApiKey { id: caller.key_id() }
}

async fn scope(state: &AppState, caller: &Caller, account: Option<&str>) -> Result<Scope, ApiError> {
    Ok(webhooks::scope_for_caller(&state.tollgate, caller, account).await?)
}

/// Lists the endpoints.
#[utoipa::path(
    get, path = "/api/v1/webhook_endpoints", tag = "webhooks", params(OwnerQuery),
    responses(
        (status = 200, description = "The endpoints, oldest first", body = EndpointList),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: another account", body = ErrorBody),
        (status = 404, description = "not_found: no such account", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiQuery(q): ApiQuery<OwnerQuery>,
) -> Result<Json<EndpointList>, ApiError> {
    let scope = scope(&state, &caller, q.account.as_deref()).await?;
    let data = webhooks::list(&state.tollgate, scope).await?;
    Ok(Json(EndpointList {
        data: data.into_iter().map(EndpointOut::from).collect(),
    }))
}

/// Creates an endpoint; the answer carries its secret, this once.
#[utoipa::path(
    post, path = "/api/v1/webhook_endpoints", tag = "webhooks",
    request_body = CreateEndpointRequest,
    responses(
        (status = 201, description = "Created, with the secret", body = EndpointWithSecret),
        (status = 400, description = "invalid_request: url, event_types or description", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: another account", body = ErrorBody),
        (status = 404, description = "not_found: no such account", body = ErrorBody),
        (status = 409, description = "conflict: 20 endpoints already", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(req): ApiJson<CreateEndpointRequest>,
) -> Result<(StatusCode, Json<EndpointWithSecret>), ApiError> {
    let scope = scope(&state, &caller, req.account.as_deref()).await?;
    let input = EndpointInput {
        url: Some(req.url),
        description: req.description,
        event_types: req.event_types,
        enabled: None,
    };
    let created = webhooks::create(&state.tollgate, &actor(&caller), scope, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(EndpointWithSecret {
            endpoint: created.endpoint.into(),
            secret: created.secret,
        }),
    ))
}

/// One endpoint.
#[utoipa::path(
    get, path = "/api/v1/webhook_endpoints/{id}", tag = "webhooks",
    params(("id" = Uuid, Path, description = "Endpoint id"), OwnerQuery),
    responses(
        (status = 200, description = "The endpoint", body = EndpointOut),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: another account", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<OwnerQuery>,
) -> Result<Json<EndpointOut>, ApiError> {
    let scope = scope(&state, &caller, q.account.as_deref()).await?;
    Ok(Json(webhooks::get(&state.tollgate, scope, id).await?.into()))
}

/// Changes an endpoint.
#[utoipa::path(
    patch, path = "/api/v1/webhook_endpoints/{id}", tag = "webhooks",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    request_body = UpdateEndpointRequest,
    responses(
        (status = 200, description = "The endpoint as changed", body = EndpointOut),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: another account", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<UpdateEndpointRequest>,
) -> Result<Json<EndpointOut>, ApiError> {
    let scope = scope(&state, &caller, req.account.as_deref()).await?;
    let input = EndpointInput {
        url: req.url,
        description: req.description,
        event_types: req.event_types,
        enabled: req.enabled,
    };
    Ok(Json(webhooks::update(&state.tollgate, &actor(&caller), scope, id, &input).await?.into()))
}

/// Deletes an endpoint and its delivery log.
#[utoipa::path(
    delete, path = "/api/v1/webhook_endpoints/{id}", tag = "webhooks",
    params(("id" = Uuid, Path, description = "Endpoint id"), OwnerQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: another account", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<OwnerQuery>,
) -> Result<StatusCode, ApiError> {
    let scope = scope(&state, &caller, q.account.as_deref()).await?;
    webhooks::delete(&state.tollgate, &actor(&caller), scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives the endpoint a new secret, answered this once; deliveries carry a
/// signature by the previous one too for 24 hours.
#[utoipa::path(
    post, path = "/api/v1/webhook_endpoints/{id}/rotate_secret", tag = "webhooks",
    params(("id" = Uuid, Path, description = "Endpoint id"), OwnerQuery),
    responses(
        (status = 200, description = "The endpoint and its new secret", body = EndpointWithSecret),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: another account", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn rotate_secret(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<OwnerQuery>,
) -> Result<Json<EndpointWithSecret>, ApiError> {
    let scope = scope(&state, &caller, q.account.as_deref()).await?;
    let (endpoint, secret) = webhooks::rotate_secret(&state.tollgate, &actor(&caller), scope, id, Utc::now()).await?;
    Ok(Json(EndpointWithSecret {
        endpoint: endpoint.into(),
        secret,
    }))
}

/// The endpoint's delivery log, newest first.
#[utoipa::path(
    get, path = "/api/v1/webhook_endpoints/{id}/deliveries", tag = "webhooks",
    params(("id" = Uuid, Path, description = "Endpoint id"), DeliveriesQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryList),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: another account", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn deliveries(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> Result<Json<DeliveryList>, ApiError> {
    let scope = scope(&state, &caller, q.account.as_deref()).await?;
    let (rows, total) = webhooks::deliveries(&state.tollgate, scope, id, q.page.unwrap_or(0)).await?;
    Ok(Json(DeliveryList {
        data: rows.into_iter().map(DeliveryOut::from).collect(),
        total,
    }))
}

impl From<tollgate::db::webhook_deliveries::LogRow> for DeliveryOut {
    fn from(d: tollgate::db::webhook_deliveries::LogRow) -> Self {
        DeliveryOut {
            id: d.id,
            event: d.event_id,
            event_type: d.event_type,
            sequence: d.event_seq,
            next_attempt_at: (d.status == "pending").then_some(d.next_attempt_at),
            status: d.status,
            attempts: d.attempts,
            replay_of: d.replay_of,
            created_at: d.created_at,
            response_status: d.response_status,
            latency_ms: d.latency_ms,
            error: d.error,
        }
    }
}

/// One delivery in full: the request body and every attempt.
#[utoipa::path(
    get, path = "/api/v1/webhook_endpoints/{id}/deliveries/{delivery}", tag = "webhooks",
    params(("id" = Uuid, Path, description = "Endpoint id"), ("delivery" = Uuid, Path, description = "Delivery id"), OwnerQuery),
    responses(
        (status = 200, description = "The delivery", body = DeliveryDetailOut),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: another account", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delivery(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath((id, delivery)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(q): ApiQuery<OwnerQuery>,
) -> Result<Json<DeliveryDetailOut>, ApiError> {
    let scope = scope(&state, &caller, q.account.as_deref()).await?;
    let d = webhooks::delivery(&state.tollgate, scope, id, delivery).await?;
    Ok(Json(DeliveryDetailOut {
        delivery: d.delivery.into(),
        request_body: d.body,
        attempts: d
            .attempts
            .into_iter()
            .map(|a| AttemptOut {
                attempted_at: a.attempted_at,
                response_status: a.response_status,
                response_body: a.response_body,
                latency_ms: a.latency_ms,
                error: a.error,
            })
            .collect(),
    }))
}

/// Sends a delivery's event again now (same `webhook-id`).
#[utoipa::path(
    post, path = "/api/v1/webhook_endpoints/{id}/deliveries/{delivery}/replay", tag = "webhooks",
    params(("id" = Uuid, Path, description = "Endpoint id"), ("delivery" = Uuid, Path, description = "Delivery id"), OwnerQuery),
    responses(
        (status = 202, description = "A new delivery is queued", body = ReplayOut),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: another account", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 409, description = "conflict: the endpoint is disabled", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn replay(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiPath((id, delivery)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(q): ApiQuery<OwnerQuery>,
) -> Result<(StatusCode, Json<ReplayOut>), ApiError> {
    let scope = scope(&state, &caller, q.account.as_deref()).await?;
    let new = webhooks::replay(&state.tollgate, &actor(&caller), scope, id, delivery, Utc::now()).await?;
    Ok((StatusCode::ACCEPTED, Json(ReplayOut { id: new })))
}
