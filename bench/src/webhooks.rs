//! `loadgen webhooks`: outgoing webhooks (issue 14), with a receiver of its own on
//! `listen` (the endpoint the script registered points there).
//!
//! - `latency`: for each of `events` accounts (`ext:{prefix}{i}`, on a plan with
//!   500 queries included), one `POST /api/v1/events` of 260 queries: the 50 %
//!   threshold is crossed in that request's transaction, which writes the
//!   `usage.threshold_reached` event. Each latency runs from just before the POST
//!   to the delivery's arrival at the receiver. One at a time, `pause` apart.
//! - `drain`: waits for `expect` deliveries (the script writes them in bulk once
//!   the receiver listens, touching `ready_file`) and reports the delivery
//!   worker's throughput: deliveries per second from the first to the last
//!   arrival, and the time from the bulk commit (`--since` on stdin) to the last.

use crate::http::{bearer, post_json};
use anyhow::Context;
use axum::body::Bytes;
use serde::Serialize;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What the receiver saw: arrival time and the event's type.
type Arrival = (Instant, String);

/// Starts the receiver: answers 204 to every POST and reports each arrival.
async fn receiver(listen: SocketAddr) -> anyhow::Result<mpsc::UnboundedReceiver<Arrival>> {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().fallback(axum::routing::post(move |body: Bytes| {
        let tx = tx.clone();
        async move {
            let at = Instant::now();
            let kind = serde_json::from_slice::<Value>(&body).ok().and_then(|v| v["type"].as_str().map(str::to_owned)).unwrap_or_default();
            let _ = tx.send((at, kind));
            axum::http::StatusCode::NO_CONTENT
        }
    }));
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(rx)
}

/// Latencies, ms.
#[derive(Debug, Serialize)]
pub struct LatencyReport {
    pub events: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub samples_ms: Vec<f64>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The `latency` scenario.
pub async fn latency(url: &str, key: &str, listen: SocketAddr, prefix: &str, events: usize, pause: Duration) -> anyhow::Result<LatencyReport> {
    let mut arrivals = receiver(listen).await?;
    let client = crate::http::client(Duration::from_secs(10))?;
    let auth = bearer(key)?;
    let mut samples = Vec::with_capacity(events);
    for i in 0..events {
        let body = json!({ "events": [{
            "account": format!("ext:{prefix}{i}"), "meter": "queries", "quantity": 260,
            "idempotency_key": format!("wh-bench-{prefix}{i}"),
        }]})
        .to_string();
        let sent = Instant::now();
        let _: Value = post_json(&client, &format!("{url}/api/v1/events"), &auth, body).await.map_err(|e| anyhow::anyhow!("event {i}: {e}"))?;
        let (at, kind) = tokio::time::timeout(Duration::from_secs(30), arrivals.recv())
            .await
            .with_context(|| format!("event {i}: no delivery within 30 s"))?
            .context("the receiver stopped")?;
        anyhow::ensure!(kind == "usage.threshold_reached", "event {i}: delivered {kind}");
        samples.push(at.duration_since(sent).as_secs_f64() * 1000.0);
        tokio::time::sleep(pause).await;
    }
    let mut sorted = samples.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(LatencyReport {
        events,
        p50_ms: percentile(&sorted, 50.0),
        p95_ms: percentile(&sorted, 95.0),
        min_ms: sorted[0],
        max_ms: sorted[sorted.len() - 1],
        samples_ms: samples,
    })
}

/// Throughput.
#[derive(Debug, Serialize)]
pub struct DrainReport {
    pub deliveries: usize,
    /// From the first arrival to the last.
    pub deliveries_per_s: f64,
    /// From the receiver's start signal (the script commits the bulk right after)
    /// to the last arrival.
    pub total_s: f64,
}

/// The `drain` scenario: writes `ready_file` once listening, then counts.
pub async fn drain(listen: SocketAddr, expect: usize, ready_file: &std::path::Path, timeout: Duration) -> anyhow::Result<DrainReport> {
    let mut arrivals = receiver(listen).await?;
    std::fs::write(ready_file, b"ready").context("writing the ready file")?;
    let start = Instant::now();
    let deadline = start + timeout;
    let mut first = None;
    let mut last = start;
    let mut count = 0;
    while count < expect {
        let left = deadline.saturating_duration_since(Instant::now());
        let (at, _) = tokio::time::timeout(left, arrivals.recv())
            .await
            .with_context(|| format!("only {count} of {expect} deliveries within {timeout:?}"))?
            .context("the receiver stopped")?;
        first.get_or_insert(at);
        last = at;
        count += 1;
    }
    let span = last.duration_since(first.unwrap_or(start)).as_secs_f64().max(1e-9);
    Ok(DrainReport {
        deliveries: count,
        deliveries_per_s: count as f64 / span,
        total_s: last.duration_since(start).as_secs_f64(),
    })
}
