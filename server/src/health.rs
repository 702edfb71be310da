//! `GET /healthz`, `/readyz` and `/metrics` (API.md "Health").

use crate::serve::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The database answers (`503` otherwise).
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match sqlx::query("SELECT 1").execute(&state.tollgate.pool).await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

/// Prometheus text format, for the operator's scraper only (issue 12): with a
/// `metrics_token` configured, requests must bring it as `Authorization: Bearer
/// <token>` (401 otherwise); without one, only the machine itself (a loopback
/// address) may read it (403 otherwise).
pub async fn metrics(
    State(state): State<AppState>,
    req: axum::extract::Request,
) -> axum::response::Response {
    match &state.metrics_token {
        Some(token) => {
            let given = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            if !same_secret(given, token) {
                return (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer")],
                    "metrics need the configured token",
                )
                    .into_response();
            }
        }
        None => {
            let peer = req
                .extensions()
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip());
            if !peer.is_some_and(|ip| ip.is_loopback()) {
                return (StatusCode::FORBIDDEN, "metrics are served to this machine only; set metrics_token to scrape from elsewhere").into_response();
            }
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// Compares two secrets in time independent of where they differ (both are
/// hashed first, so lengths do not leak either).
fn same_secret(a: &str, b: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (x, y) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    x.iter()
        .zip(y.iter())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
}
