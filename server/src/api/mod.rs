//! `/api/v1`: the public contract with the product's backend (API.md). Handlers
//! read like the contract: parse, call one service, answer.

mod auth;
mod check;
mod corrections;
mod embed_tokens;
mod entitlements;
mod error;
mod estimate;
mod events;
mod history;
mod json;
mod openapi;
mod query;
mod usage;
mod webhook_endpoints;

pub use openapi::ApiDoc;

use crate::serve::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

/// Largest request body accepted (a full batch of 1000 events fits well within).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The `/api/v1` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/events", post(events::record))
        .route("/events/void", post(corrections::void))
        .route("/check", post(check::check))
        .route("/usage", get(usage::usage))
        .route("/usage/history", get(history::history))
        .route("/entitlements", get(entitlements::entitlements))
        .route("/estimate", post(estimate::estimate))
        .route("/embed_tokens", post(embed_tokens::issue))
        .route("/webhook_endpoints", get(webhook_endpoints::list).post(webhook_endpoints::create))
        .route(
            "/webhook_endpoints/{id}",
            get(webhook_endpoints::get).patch(webhook_endpoints::update).delete(webhook_endpoints::delete),
        )
        .route("/webhook_endpoints/{id}/rotate_secret", post(webhook_endpoints::rotate_secret))
        .route("/webhook_endpoints/{id}/deliveries", get(webhook_endpoints::deliveries))
        .route("/webhook_endpoints/{id}/deliveries/{delivery}", get(webhook_endpoints::delivery))
        .route("/webhook_endpoints/{id}/deliveries/{delivery}/replay", post(webhook_endpoints::replay))
        .route("/openapi.json", get(openapi::document))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}
