//! Check latency: `POST /api/v1/check` at a fixed request rate, open loop.
//!
//! Request `i` is scheduled at `start + i / rate`, whatever happened to earlier
//! requests, by a dedicated OS thread (`nanosleep`, sub-millisecond precision);
//! each request runs as its own task. Latency is measured from the *scheduled*
//! time to the full answer, so a server (or a load generator) that falls behind
//! shows up in the latency instead of silently lowering the rate ("coordinated
//! omission"). The time from the schedule to the actual send is reported apart as
//! `send_lag_ms`, and send-to-answer as `service_ms`, to tell a lagging generator
//! from a slow server. Requests scheduled in the warm-up are not measured.

use crate::cpu::{self, CpuUsage, Watch};
use crate::http;
use crate::stats::{self, Percentiles};
use hdrhistogram::Histogram;
use reqwest::header::HeaderValue;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Base URL, e.g. `http://127.0.0.1:3200`.
    pub url: String,
    /// Account key (`tg_sk_…`).
    pub key: String,
    /// Requests per second to send (req/s).
    pub rate: f64,
    /// Measurement window.
    pub duration: Duration,
    /// Load at the same rate before the window, not measured.
    pub warmup: Duration,
    /// Send `consume: true` with a unique idempotency key (the write path).
    pub consume: bool,
    /// Feature (meter) to check.
    pub feature: String,
    /// At most this many requests in flight; past it the schedule waits (and the
    /// wait counts in the latency).
    pub max_in_flight: usize,
}

/// The result of one run (one JSON line).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Target rate, req/s.
    pub rate: f64,
    /// Whether the checks consumed (wrote an event).
    pub consume: bool,
    /// Measurement window, s.
    pub duration_s: f64,
    /// Warm-up, s.
    pub warmup_s: f64,
    /// Requests scheduled in the window.
    pub requests: u64,
    /// Of those, successful (2xx) answers.
    pub ok: u64,
    /// Of those, failures (non-2xx, transport errors, timeouts, unreadable answers).
    pub errors: u64,
    /// Failures during the warm-up.
    pub warmup_errors: u64,
    /// Successful answers with `allowed: false` (unexpected here).
    pub not_allowed: u64,
    /// Successful consuming answers marked `duplicate` (unexpected: keys are unique).
    pub duplicates: u64,
    /// Successful answers per second, over the window or until the last answer
    /// of the window's requests if that came later (req/s).
    pub achieved_rate: f64,
    /// Up to five error descriptions.
    pub error_samples: Vec<String>,
    /// Scheduled time to full answer, successful requests, ms: the headline figure.
    pub latency_ms: Percentiles,
    /// Actual send to full answer, ms.
    pub service_ms: Percentiles,
    /// Scheduled time to actual send (load generator lag), ms.
    pub send_lag_ms: Percentiles,
    /// CPU use during the window.
    pub cpu: Option<CpuUsage>,
}

/// The fields of the server's answer that are checked.
#[derive(Deserialize)]
struct Answer {
    allowed: bool,
    #[serde(default)]
    duplicate: bool,
}

/// Results gathered by the request tasks.
struct Recorder {
    requests: u64,
    ok: u64,
    errors: u64,
    warmup_errors: u64,
    not_allowed: u64,
    duplicates: u64,
    last_done: Option<Instant>,
    samples: Vec<String>,
    latency: Histogram<u64>,
    service: Histogram<u64>,
    lag: Histogram<u64>,
}

struct Shared {
    in_flight: AtomicUsize,
    recorder: Mutex<Recorder>,
}

/// The request body of check number `i`.
pub fn check_body(feature: &str, consume: bool, run_id: &str, i: u64) -> String {
    if consume {
        format!(r#"{{"feature":"{feature}","consume":true,"idempotency_key":"{run_id}-{i}"}}"#)
    } else {
        format!(r#"{{"feature":"{feature}"}}"#)
    }
}

/// How many requests a run schedules, and the index of the first measured one.
pub fn schedule_counts(rate: f64, warmup: Duration, duration: Duration) -> (u64, u64) {
    let warm = (warmup.as_secs_f64() * rate).ceil() as u64;
    let measured = (duration.as_secs_f64() * rate).round() as u64;
    (warm + measured, warm)
}

#[allow(clippy::too_many_arguments)]
async fn one_request(
    client: reqwest::Client,
    url: Arc<str>,
    auth: HeaderValue,
    body: String,
    scheduled: Instant,
    measured: bool,
    shared: Arc<Shared>,
) {
    let sent = Instant::now();
    let outcome = http::post_json::<Answer>(&client, &url, &auth, body).await;
    let done = Instant::now();
    {
        let mut r = shared
            .recorder
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match outcome {
            Ok(a) if measured => {
                r.requests += 1;
                r.ok += 1;
                r.not_allowed += u64::from(!a.allowed);
                r.duplicates += u64::from(a.duplicate);
                r.last_done = r.last_done.max(Some(done));
                stats::record(&mut r.latency, done - scheduled);
                stats::record(&mut r.service, done - sent);
                stats::record(&mut r.lag, sent.saturating_duration_since(scheduled));
            }
            Ok(_) => {}
            Err(e) => {
                if measured {
                    r.requests += 1;
                    r.errors += 1;
                    r.last_done = r.last_done.max(Some(done));
                } else {
                    r.warmup_errors += 1;
                }
                if r.samples.len() < 5 {
                    r.samples.push(e);
                }
            }
        }
    }
    shared.in_flight.fetch_sub(1, Ordering::AcqRel);
}

/// Sends the scheduled requests; runs on a blocking thread.
#[allow(clippy::too_many_arguments)]
fn schedule(
    handle: tokio::runtime::Handle,
    client: reqwest::Client,
    opts: Options,
    url: Arc<str>,
    auth: HeaderValue,
    run_id: String,
    start: Instant,
    shared: Arc<Shared>,
) {
    let (total, first_measured) = schedule_counts(opts.rate, opts.warmup, opts.duration);
    let interval = 1.0 / opts.rate;
    for i in 0..total {
        let at = start + Duration::from_secs_f64(i as f64 * interval);
        let now = Instant::now();
        if at > now {
            std::thread::sleep(at - now);
        }
        while shared.in_flight.load(Ordering::Acquire) >= opts.max_in_flight {
            std::thread::sleep(Duration::from_micros(100));
        }
        shared.in_flight.fetch_add(1, Ordering::AcqRel);
        let body = check_body(&opts.feature, opts.consume, &run_id, i);
        handle.spawn(one_request(
            client.clone(),
            url.clone(),
            auth.clone(),
            body,
            at,
            i >= first_measured,
            shared.clone(),
        ));
    }
}

/// Runs the scenario; `watches` are the process trees whose CPU use is reported.
/// `timeout` is the client's per-request timeout, used to bound the final wait.
///
/// # Errors
/// A bad rate or key, or a scheduler thread that died.
pub async fn run(
    client: &reqwest::Client,
    opts: &Options,
    timeout: Duration,
    watches: &[Watch],
) -> anyhow::Result<Report> {
    anyhow::ensure!(
        opts.rate.is_finite() && opts.rate > 0.0 && opts.rate <= 100_000.0,
        "--rate must be above 0 and at most 100000"
    );
    anyhow::ensure!(
        opts.max_in_flight >= 1,
        "--max-in-flight must be at least 1"
    );
    let auth = http::bearer(&opts.key)?;
    let url: Arc<str> = format!("{}/api/v1/check", opts.url.trim_end_matches('/')).into();
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let shared = Arc::new(Shared {
        in_flight: AtomicUsize::new(0),
        recorder: Mutex::new(Recorder {
            requests: 0,
            ok: 0,
            errors: 0,
            warmup_errors: 0,
            not_allowed: 0,
            duplicates: 0,
            last_done: None,
            samples: Vec::new(),
            latency: stats::new_histogram()?,
            service: stats::new_histogram()?,
            lag: stats::new_histogram()?,
        }),
    });

    // Start a little ahead so the first requests are not late by construction.
    let start = Instant::now() + Duration::from_millis(20);
    let measure_start = start + opts.warmup;
    let measure_end = measure_start + opts.duration;
    let scheduler = {
        let (handle, client, opts, url, auth, shared) = (
            tokio::runtime::Handle::current(),
            client.clone(),
            opts.clone(),
            url.clone(),
            auth.clone(),
            shared.clone(),
        );
        tokio::task::spawn_blocking(move || {
            schedule(handle, client, opts, url, auth, run_id, start, shared)
        })
    };
    tokio::time::sleep_until(measure_start.into()).await;
    let cpu_before = cpu::snapshot(watches);
    tokio::time::sleep_until(measure_end.into()).await;
    let cpu_after = cpu::snapshot(watches);
    scheduler.await?;
    let deadline = Instant::now() + timeout + Duration::from_secs(1);
    while shared.in_flight.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let stuck = shared.in_flight.load(Ordering::Acquire) as u64;

    let r = shared
        .recorder
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let mut samples = r.samples.clone();
    if stuck > 0 {
        samples.push(format!(
            "{stuck} requests still unanswered after the client timeout"
        ));
    }
    let window = r.last_done.map_or(opts.duration, |d| {
        d.saturating_duration_since(measure_start)
            .max(opts.duration)
    });
    Ok(Report {
        rate: opts.rate,
        consume: opts.consume,
        duration_s: opts.duration.as_secs_f64(),
        warmup_s: opts.warmup.as_secs_f64(),
        requests: r.requests + stuck,
        ok: r.ok,
        errors: r.errors + stuck,
        warmup_errors: r.warmup_errors,
        not_allowed: r.not_allowed,
        duplicates: r.duplicates,
        achieved_rate: r.ok as f64 / window.as_secs_f64(),
        error_samples: samples,
        latency_ms: Percentiles::of(&r.latency),
        service_ms: Percentiles::of(&r.service),
        send_lag_ms: Percentiles::of(&r.lag),
        cpu: cpu_before
            .zip(cpu_after)
            .and_then(|(b, a)| cpu::usage(&b, &a)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        assert_eq!(
            check_body("queries", false, "r", 7),
            r#"{"feature":"queries"}"#
        );
        let v: serde_json::Value =
            serde_json::from_str(&check_body("queries", true, "r", 7)).unwrap();
        assert_eq!(v["consume"], true);
        assert_eq!(v["idempotency_key"], "r-7");
    }

    #[test]
    fn schedule_counts_split_warmup_and_window() {
        assert_eq!(
            schedule_counts(500.0, Duration::from_secs(2), Duration::from_secs(15)),
            (8500, 1000)
        );
        assert_eq!(
            schedule_counts(3.0, Duration::from_millis(500), Duration::from_secs(1)),
            (5, 2)
        );
        assert_eq!(
            schedule_counts(100.0, Duration::ZERO, Duration::from_secs(1)),
            (100, 0)
        );
    }
}
