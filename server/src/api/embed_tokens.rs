//! `POST /api/v1/embed_tokens`: a platform key gets a short-lived signed token
//! that opens an account's embeddable widgets for one origin (API.md, issue 13;
//! [`tollgate::service::embed`]).

use super::auth::ApiCaller;
use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use crate::serve::AppState;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tollgate::service::embed;
use utoipa::ToSchema;

/// What the token opens.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmbedTokenRequest {
    /// Account uuid or `ext:<external_id>`.
    pub account: String,
    /// `pricing` and/or `usage`.
    #[schema(min_items = 1, max_items = 2)]
    pub widgets: Vec<String>,
    /// The one origin that may frame the widgets (`https://app.example.com`),
    /// among those the operator allows (`embed_origins`).
    pub origin: String,
}

/// The token.
#[derive(Serialize, ToSchema)]
pub struct EmbedTokenResponse {
    /// Pass it as `data-token` of `/embed.js`, or as `?token=` of
    /// `/embed/{widget}`.
    pub token: String,
    /// When it stops opening the widgets (15 minutes after issue, UTC).
    pub expires_at: DateTime<Utc>,
}

/// Issues an embed token.
#[utoipa::path(
    post, path = "/api/v1/embed_tokens", tag = "embed",
    request_body = EmbedTokenRequest,
    responses(
        (status = 200, description = "The token", body = EmbedTokenResponse),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: account keys cannot issue embed tokens", body = ErrorBody),
        (status = 404, description = "not_found", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn issue(
    State(state): State<AppState>,
    ApiCaller(caller): ApiCaller,
    ApiJson(req): ApiJson<EmbedTokenRequest>,
) -> Result<Json<EmbedTokenResponse>, ApiError> {
    let (token, expires_at) = embed::issue(
        &state.tollgate,
        &caller,
        &req.account,
        &req.widgets,
        &req.origin,
        &state.embed_origins,
        Utc::now(),
    )
    .await?;
    Ok(Json(EmbedTokenResponse { token, expires_at }))
}
