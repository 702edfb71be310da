//! `loadgen live`: how long a customer's event takes to move a super admin's live
//! usage board (issue 11 §2). A super admin logs in on one server process and
//! opens `/admin/live/usage?accounts={account}`; events are sent one at a time to
//! (by default) another process; each latency is measured from just before the
//! `POST /api/v1/events` until the stream's message showing the new usage has
//! been read. Events are spaced by `pause`, so each one is measured alone (the
//! board coalesces changes within 50 ms).

use crate::http::{bearer, post_json};
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What to measure.
pub struct Options {
    /// The admin's server.
    pub url: String,
    /// Where events are sent.
    pub events_url: String,
    /// The customer's account key and account id.
    pub key: String,
    pub account: String,
    /// The super admin's credentials.
    pub admin_email: String,
    pub admin_password: String,
    /// Events to measure.
    pub events: usize,
    /// Rest between events.
    pub pause: Duration,
    /// Meter the events count on.
    pub meter: String,
    /// More admin streams held open (other tabs), watching a page of accounts.
    pub tabs: usize,
    /// Loads of `/admin/usage` to time (server-rendered, from the board).
    pub page_loads: usize,
}

/// Latencies in ms.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub events: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub samples_ms: Vec<f64>,
    /// Other admin streams open while measuring.
    pub tabs: usize,
    /// `/admin/usage` load time, ms: p50 and max (`None` when not measured).
    pub page_p50_ms: Option<f64>,
    pub page_max_ms: Option<f64>,
}

/// Logs in through the form and returns the session cookie (from the redirect
/// itself, so without following it).
async fn log_in(o: &Options) -> anyhow::Result<String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()?;
    let res = client
        .post(format!("{}/_fn/log_in", o.url))
        .header("accept", "text/html")
        .header("referer", format!("{}/login", o.url))
        .form(&[
            ("email", o.admin_email.as_str()),
            ("password", o.admin_password.as_str()),
            ("next", "/admin/usage"),
        ])
        .send()
        .await
        .context("logging in")?;
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tollgate_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
        .with_context(|| format!("the log-in set no session (HTTP {})", res.status()))
}

/// The account's usage of `meter` in a board message, if it is in it.
fn usage_in(message: &Value, account: &str, meter: &str) -> Option<f64> {
    let a = message["accounts"]
        .as_array()?
        .iter()
        .find(|a| a["account_id"] == account)?;
    let m = a["meters"]
        .as_array()?
        .iter()
        .find(|m| m["meter"] == meter)?;
    m["usage"].as_str()?.parse().ok()
}

/// Reads the stream's messages and forwards the watched usage with its arrival time.
async fn read_stream(
    mut res: reqwest::Response,
    account: String,
    meter: String,
    tx: mpsc::UnboundedSender<(Instant, f64)>,
) {
    let mut buffer = String::new();
    while let Ok(Some(chunk)) = res.chunk().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let now = Instant::now();
            for data in frame.lines().filter_map(|l| l.strip_prefix("data: ")) {
                if let Some(u) = serde_json::from_str::<Value>(data)
                    .ok()
                    .and_then(|v| usage_in(&v, &account, &meter))
                {
                    if tx.send((now, u)).is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// The value at `q` (0–1) of sorted `xs`, nearest rank.
fn percentile(xs: &[f64], q: f64) -> f64 {
    let rank = ((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len());
    xs[rank - 1]
}

/// Runs the measurement.
///
/// # Errors
/// Log-in or stream refused, an event refused, or an update not arriving within 5 s.
pub async fn run(client: &reqwest::Client, o: &Options) -> anyhow::Result<Report> {
    let cookie = log_in(o).await?;
    let cookie = cookie.as_str();
    let stream = reqwest::Client::builder().build()?; // no overall timeout: the stream stays open
    let res = stream
        .get(format!("{}/admin/live/usage?accounts={}", o.url, o.account))
        .header("cookie", cookie)
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("the admin stream answered HTTP {}", res.status());
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let reader = tokio::spawn(read_stream(res, o.account.clone(), o.meter.clone(), tx));
    // The other tabs: each reads (and drops) everything its stream sends.
    let mut tabs = Vec::with_capacity(o.tabs);
    for _ in 0..o.tabs {
        let res = stream
            .get(format!("{}/admin/live/usage?accounts={}", o.url, o.account))
            .header("cookie", cookie)
            .send()
            .await?;
        if !res.status().is_success() {
            bail!("an extra admin stream answered HTTP {}", res.status());
        }
        tabs.push(tokio::spawn(async move {
            let mut res = res;
            while let Ok(Some(_)) = res.chunk().await {}
        }));
    }
    let mut page_ms = Vec::with_capacity(o.page_loads);
    for _ in 0..o.page_loads {
        let started = Instant::now();
        let page = client
            .get(format!("{}/admin/usage", o.url))
            .header("cookie", cookie)
            .send()
            .await?;
        let status = page.status();
        let _ = page.bytes().await?;
        if !status.is_success() {
            bail!("/admin/usage answered HTTP {status}");
        }
        page_ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    page_ms.sort_by(f64::total_cmp);
    let mut seen = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .context("no first message")?
        .context("the stream ended")?
        .1;
    let auth = bearer(&o.key)?;
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let mut samples = Vec::with_capacity(o.events);
    for i in 0..o.events {
        tokio::time::sleep(o.pause).await;
        while let Ok((_, u)) = rx.try_recv() {
            seen = u;
        }
        let body = json!({ "events": [{ "meter": o.meter, "quantity": 1, "idempotency_key": format!("live-{run_id}-{i}") }] }).to_string();
        let sent = Instant::now();
        post_json::<Value>(
            client,
            &format!("{}/api/v1/events", o.events_url),
            &auth,
            body,
        )
        .await
        .map_err(anyhow::Error::msg)?;
        let target = seen + 1.0;
        let arrived = loop {
            let (at, u) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .with_context(|| format!("event {i}: no update within 5 s"))?
                .context("the stream ended")?;
            seen = u;
            if u >= target {
                break at;
            }
        };
        samples.push(arrived.duration_since(sent).as_secs_f64() * 1000.0);
    }
    reader.abort();
    tabs.iter().for_each(tokio::task::JoinHandle::abort);
    let mut sorted = samples.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(Report {
        events: samples.len(),
        p50_ms: percentile(&sorted, 0.50),
        p95_ms: percentile(&sorted, 0.95),
        min_ms: sorted[0],
        max_ms: sorted[sorted.len() - 1],
        samples_ms: samples,
        tabs: o.tabs,
        page_p50_ms: (!page_ms.is_empty()).then(|| percentile(&page_ms, 0.5)),
        page_max_ms: page_ms.last().copied(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let xs: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&xs, 0.5), 10.0);
        assert_eq!(percentile(&xs, 0.95), 19.0);
        assert_eq!(percentile(&[7.0], 0.95), 7.0);
    }

    #[test]
    fn usage_is_read_from_the_watched_account_only() {
        let m = json!({ "accounts": [{ "account_id": "a", "meters": [{ "meter": "queries", "usage": "12" }] }] });
        assert_eq!(usage_in(&m, "a", "queries"), Some(12.0));
        assert_eq!(usage_in(&m, "b", "queries"), None);
        assert_eq!(usage_in(&m, "a", "tokens"), None);
    }
}
