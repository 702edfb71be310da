//! Logs (tracing) and Prometheus metrics.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// Logs to stderr, filtered by `RUST_LOG` (default: info, quieter sqlx).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_sessions=warn")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The process's Prometheus recorder (installed once).
pub fn metrics() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets(&[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5])
                .and_then(PrometheusBuilder::install_recorder)
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "metrics recorder not installed; /metrics will be empty");
                    PrometheusBuilder::new().build_recorder().handle()
                })
        })
        .clone()
}

/// The method as a metrics label: one of the standard methods, else `other`, so
/// that a client cannot make new series by inventing methods (issue 12).
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts requests and their latency by route template (`unmatched` for any path
/// no route has: the label set stays fixed), method and status.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = method_label(req.method()).to_string();
    let start = Instant::now();
    let res = next.run(req).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", res.status().as_u16().to_string()),
    ];
    metrics::counter!("tollgate_http_requests_total", &labels).increment(1);
    metrics::histogram!("tollgate_http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    res
}
