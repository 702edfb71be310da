//! `POST /webhooks/stripe` (API.md "Webhooks in"): the raw body and the
//! `Stripe-Signature` header go to [`tollgate::service::stripe::webhooks::receive`].
//! `200` for a processed or repeated event, `400` for a bad or stale signature,
//! `404` when Stripe is not configured, `500` when acting on it failed (Stripe
//! retries).

use crate::serve::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tollgate::service::stripe::webhooks::{receive, Received, Refused};

/// The handler.
pub async fn stripe(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let Some(stripe) = state.tollgate.stripe.clone() else {
        return (StatusCode::NOT_FOUND, Json(serde_json::json!({"error": {"code": "not_found", "message": "Stripe is not configured"}}))).into_response();
    };
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    match receive(
        &state.tollgate,
        &stripe,
        signature,
        &body,
        chrono::Utc::now(),
    )
    .await
    {
        Ok(Received::Processed { id, .. }) => (
            StatusCode::OK,
            Json(serde_json::json!({"received": true, "id": id})),
        )
            .into_response(),
        Ok(Received::Duplicate { id }) => (
            StatusCode::OK,
            Json(serde_json::json!({"received": true, "id": id, "duplicate": true})),
        )
            .into_response(),
        Err(Refused::Signature(message)) => {
            tracing::warn!(%message, "Stripe webhook refused");
            (StatusCode::BAD_REQUEST, Json(serde_json::json!({"error": {"code": "invalid_request", "message": message, "details": {"field": "Stripe-Signature"}}}))).into_response()
        }
        Err(Refused::Failed(e)) => {
            tracing::error!(error = %e, "Stripe webhook failed; Stripe will retry");
            (StatusCode::INTERNAL_SERVER_ERROR, Json(serde_json::json!({"error": {"code": "internal", "message": "the event could not be processed"}}))).into_response()
        }
    }
}
