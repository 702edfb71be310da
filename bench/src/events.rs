//! Ingestion throughput: `POST /api/v1/events`, closed loop.
//!
//! `concurrency` workers each send a batch, wait for the answer, and send the next
//! one, for `warmup + duration`. Only answers that arrive inside the measurement
//! window (after the warm-up) count; the figure is the events the server reported
//! as `accepted` in that window divided by its length (events/s). Every event has
//! an idempotency key unique to this run (`<run id>-<worker>-<n>`), so a healthy
//! server reports no duplicates.

use crate::cpu::{self, CpuUsage, Watch};
use crate::http;
use crate::stats::{self, Percentiles};
use hdrhistogram::Histogram;
use reqwest::header::HeaderValue;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::time::Duration;
use tokio::time::Instant;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Base URL, e.g. `http://127.0.0.1:3200`.
    pub url: String,
    /// Account key (`tg_sk_…`).
    pub key: String,
    /// Events per request (1 to 1000).
    pub batch: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Measurement window.
    pub duration: Duration,
    /// Load before the window, not measured.
    pub warmup: Duration,
    /// Meter the events count on.
    pub meter: String,
    /// Events per second to send in all (paced per worker); `None`: as fast as
    /// answers come (closed loop).
    pub rate: Option<f64>,
}

/// The result of one run (one JSON line).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Events per request.
    pub batch: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Measurement window, s.
    pub duration_s: f64,
    /// Warm-up, s.
    pub warmup_s: f64,
    /// Successful (2xx) requests answered in the window.
    pub requests: u64,
    /// Events the server reported as accepted in the window.
    pub events_accepted: u64,
    /// Events the server reported as duplicates in the window (should be 0).
    pub duplicates: u64,
    /// Accepted events per second of the window (events/s): the headline figure.
    pub events_per_s: f64,
    /// Successful requests per second of the window (requests/s).
    pub requests_per_s: f64,
    /// Failed requests (non-2xx, transport errors, unreadable answers) in the window.
    pub errors: u64,
    /// Failed requests during the warm-up.
    pub warmup_errors: u64,
    /// Up to five error descriptions.
    pub error_samples: Vec<String>,
    /// Request latency (send to full answer) of the window's successful requests, ms.
    pub latency_ms: Percentiles,
    /// CPU use during the window.
    pub cpu: Option<CpuUsage>,
}

/// The server's answer.
#[derive(Deserialize)]
struct Accepted {
    accepted: u64,
    duplicates: u64,
}

/// One worker's tally.
struct Tally {
    requests: u64,
    accepted: u64,
    duplicates: u64,
    errors: u64,
    warmup_errors: u64,
    samples: Vec<String>,
    latency: Histogram<u64>,
}

/// The JSON body of one request: `batch` events with keys `<prefix>-<first + i>`.
pub fn batch_body(meter: &str, prefix: &str, first: u64, batch: usize) -> String {
    let mut body = String::with_capacity(32 + batch * 128);
    body.push_str("{\"events\":[");
    for i in 0..batch as u64 {
        if i > 0 {
            body.push(',');
        }
        // Keys and meter are plain ASCII (uuid, digits, a catalog key): no escaping.
        let _ = write!(
            body,
            r#"{{"meter":"{meter}","quantity":1,"idempotency_key":"{prefix}-{}","properties":{{"model":"bench","cost_usd":"0.0031"}}}}"#,
            first + i
        );
    }
    body.push_str("]}");
    body
}

/// Keeps a short description of an error, up to five per worker.
fn note(samples: &mut Vec<String>, text: String) {
    if samples.len() < 5 {
        samples.push(text);
    }
}

async fn worker(
    client: reqwest::Client,
    opts: Options,
    auth: HeaderValue,
    prefix: String,
    measure_start: Instant,
    measure_end: Instant,
) -> anyhow::Result<Tally> {
    let url = format!("{}/api/v1/events", opts.url.trim_end_matches('/'));
    let mut t = Tally {
        requests: 0,
        accepted: 0,
        duplicates: 0,
        errors: 0,
        warmup_errors: 0,
        samples: Vec::new(),
        latency: stats::new_histogram()?,
    };
    let mut next_key = 0u64;
    // Paced: this worker's share of the rate, one batch per `interval`.
    let interval = opts
        .rate
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(opts.batch as f64 * opts.concurrency as f64 / r));
    let mut next_send = Instant::now();
    while Instant::now() < measure_end {
        if let Some(interval) = interval {
            tokio::time::sleep_until(next_send).await;
            next_send += interval;
        }
        let body = batch_body(&opts.meter, &prefix, next_key, opts.batch);
        next_key += opts.batch as u64;
        let sent = Instant::now();
        let outcome = http::post_json::<Accepted>(&client, &url, &auth, body).await;
        let done = Instant::now();
        let in_window = done >= measure_start && done <= measure_end;
        match outcome {
            Ok(a) if in_window => {
                t.requests += 1;
                t.accepted += a.accepted;
                t.duplicates += a.duplicates;
                stats::record(&mut t.latency, done - sent);
            }
            Ok(_) => {}
            Err(e) => {
                if done < measure_start {
                    t.warmup_errors += 1;
                } else if in_window {
                    t.errors += 1;
                }
                note(&mut t.samples, e);
                // Do not spin on a server that refuses connections.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    Ok(t)
}

/// Runs the scenario; `watches` are the process trees whose CPU use is reported.
///
/// # Errors
/// A bad key (not a valid header value), or a worker that could not run.
pub async fn run(
    client: &reqwest::Client,
    opts: &Options,
    watches: &[Watch],
) -> anyhow::Result<Report> {
    anyhow::ensure!(
        (1..=1000).contains(&opts.batch),
        "--batch must be 1 to 1000"
    );
    anyhow::ensure!(opts.concurrency >= 1, "--concurrency must be at least 1");
    let auth = http::bearer(&opts.key)?;
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let start = Instant::now();
    let measure_start = start + opts.warmup;
    let measure_end = measure_start + opts.duration;

    let mut workers = tokio::task::JoinSet::new();
    for w in 0..opts.concurrency {
        let prefix = format!("{run_id}-{w}");
        workers.spawn(worker(
            client.clone(),
            opts.clone(),
            auth.clone(),
            prefix,
            measure_start,
            measure_end,
        ));
    }
    tokio::time::sleep_until(measure_start).await;
    let cpu_before = cpu::snapshot(watches);
    tokio::time::sleep_until(measure_end).await;
    let cpu_after = cpu::snapshot(watches);

    let mut total = Tally {
        requests: 0,
        accepted: 0,
        duplicates: 0,
        errors: 0,
        warmup_errors: 0,
        samples: Vec::new(),
        latency: stats::new_histogram()?,
    };
    while let Some(joined) = workers.join_next().await {
        let t = joined??;
        total.requests += t.requests;
        total.accepted += t.accepted;
        total.duplicates += t.duplicates;
        total.errors += t.errors;
        total.warmup_errors += t.warmup_errors;
        for s in t.samples {
            note(&mut total.samples, s);
        }
        total.latency.add(&t.latency)?;
    }
    let secs = opts.duration.as_secs_f64();
    Ok(Report {
        batch: opts.batch,
        concurrency: opts.concurrency,
        duration_s: secs,
        warmup_s: opts.warmup.as_secs_f64(),
        requests: total.requests,
        events_accepted: total.accepted,
        duplicates: total.duplicates,
        events_per_s: total.accepted as f64 / secs,
        requests_per_s: total.requests as f64 / secs,
        errors: total.errors,
        warmup_errors: total.warmup_errors,
        error_samples: total.samples,
        latency_ms: Percentiles::of(&total.latency),
        cpu: cpu_before
            .zip(cpu_after)
            .and_then(|(b, a)| cpu::usage(&b, &a)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_bodies_are_valid_json_with_unique_keys() {
        let body = batch_body("queries", "run-3", 200, 100);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let events = v["events"].as_array().unwrap();
        assert_eq!(events.len(), 100);
        assert_eq!(events[0]["idempotency_key"], "run-3-200");
        assert_eq!(events[99]["idempotency_key"], "run-3-299");
        assert_eq!(events[5]["meter"], "queries");
        assert_eq!(events[5]["quantity"], 1);
        let keys: std::collections::HashSet<_> = events
            .iter()
            .map(|e| e["idempotency_key"].as_str().unwrap())
            .collect();
        assert_eq!(keys.len(), 100);
        // The next request of the same worker continues where this one stopped.
        let next: serde_json::Value =
            serde_json::from_str(&batch_body("queries", "run-3", 300, 1)).unwrap();
        assert_eq!(next["events"][0]["idempotency_key"], "run-3-300");
    }
}
