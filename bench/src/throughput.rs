//! Request throughput of one endpoint, closed loop: `concurrency` workers each
//! send a request, read the whole answer and send the next, for `warmup +
//! duration`. The figure is the successful (2xx) answers that arrived inside the
//! measurement window divided by its length (req/s), with their latency.
//!
//! Used for a baseline and its rival in the same run: `GET /healthz` (the same
//! server doing no work) against `POST /api/v1/check` (a read check), so that the
//! check's share of the server's ceiling is printed beside it.

use crate::cpu::{self, CpuUsage, Watch};
use crate::stats::{self, Percentiles};
use hdrhistogram::Histogram;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::time::Instant;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Full URL, e.g. `http://127.0.0.1:3200/healthz`.
    pub url: String,
    /// `Authorization` to send, if any.
    pub auth: Option<HeaderValue>,
    /// JSON body to POST; `None` sends a GET.
    pub body: Option<String>,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Measurement window.
    pub duration: Duration,
    /// Load before the window, not measured.
    pub warmup: Duration,
}

/// The result of one run (one JSON line).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// `GET` or `POST`, and the path.
    pub request: String,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Measurement window, s.
    pub duration_s: f64,
    /// Successful (2xx) answers in the window.
    pub requests: u64,
    /// Successful answers per second of the window (req/s): the headline figure.
    pub requests_per_s: f64,
    /// Failed requests in the window.
    pub errors: u64,
    /// Failed requests during the warm-up.
    pub warmup_errors: u64,
    /// Up to five error descriptions.
    pub error_samples: Vec<String>,
    /// Send to full answer of the window's successful requests, ms.
    pub latency_ms: Percentiles,
    /// CPU use during the window.
    pub cpu: Option<CpuUsage>,
}

struct Tally {
    requests: u64,
    errors: u64,
    warmup_errors: u64,
    samples: Vec<String>,
    latency: Histogram<u64>,
}

impl Tally {
    fn new() -> anyhow::Result<Tally> {
        Ok(Tally {
            requests: 0,
            errors: 0,
            warmup_errors: 0,
            samples: Vec::new(),
            latency: stats::new_histogram()?,
        })
    }

    fn note(&mut self, text: String) {
        if self.samples.len() < 5 {
            self.samples.push(text);
        }
    }
}

async fn once(client: &reqwest::Client, opts: &Options) -> Result<(), String> {
    let mut req = match &opts.body {
        Some(body) => client
            .post(&opts.url)
            .header(CONTENT_TYPE, "application/json")
            .body(body.clone()),
        None => client.get(&opts.url),
    };
    if let Some(auth) = &opts.auth {
        req = req.header(AUTHORIZATION, auth.clone());
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(())
    } else {
        Err(
            format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes))
                .chars()
                .take(300)
                .collect(),
        )
    }
}

async fn worker(
    client: reqwest::Client,
    opts: Options,
    measure_start: Instant,
    measure_end: Instant,
) -> anyhow::Result<Tally> {
    let mut t = Tally::new()?;
    while Instant::now() < measure_end {
        let sent = Instant::now();
        let outcome = once(&client, &opts).await;
        let done = Instant::now();
        let in_window = done >= measure_start && done <= measure_end;
        match outcome {
            Ok(()) if in_window => {
                t.requests += 1;
                stats::record(&mut t.latency, done - sent);
            }
            Ok(()) => {}
            Err(e) => {
                if done < measure_start {
                    t.warmup_errors += 1;
                } else if in_window {
                    t.errors += 1;
                }
                t.note(e);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    Ok(t)
}

/// Runs the scenario; `watches` are the process trees whose CPU use is reported.
///
/// # Errors
/// No concurrency, or a worker that could not run.
pub async fn run(
    client: &reqwest::Client,
    opts: &Options,
    watches: &[Watch],
) -> anyhow::Result<Report> {
    anyhow::ensure!(opts.concurrency >= 1, "--concurrency must be at least 1");
    let start = Instant::now();
    let measure_start = start + opts.warmup;
    let measure_end = measure_start + opts.duration;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..opts.concurrency {
        workers.spawn(worker(
            client.clone(),
            opts.clone(),
            measure_start,
            measure_end,
        ));
    }
    tokio::time::sleep_until(measure_start).await;
    let cpu_before = cpu::snapshot(watches);
    tokio::time::sleep_until(measure_end).await;
    let cpu_after = cpu::snapshot(watches);
    let mut total = Tally::new()?;
    while let Some(joined) = workers.join_next().await {
        let t = joined??;
        total.requests += t.requests;
        total.errors += t.errors;
        total.warmup_errors += t.warmup_errors;
        for s in t.samples {
            total.note(s);
        }
        total.latency.add(&t.latency)?;
    }
    let secs = opts.duration.as_secs_f64();
    let path = opts
        .url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("/");
    Ok(Report {
        request: format!(
            "{} {path}",
            if opts.body.is_some() { "POST" } else { "GET" }
        ),
        concurrency: opts.concurrency,
        duration_s: secs,
        requests: total.requests,
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
