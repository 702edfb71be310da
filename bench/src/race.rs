//! `loadgen race`: many consuming checks for one account at the same instant, to
//! show that a hard limit is never passed (issue 12: 1,000 parallel checks against
//! a hard limit of 100, exactly 100 allowed).
//!
//! Every request is prepared first and released together behind a barrier, each on
//! its own connection. Afterwards the account's stored usage is read back through
//! `GET /api/v1/usage`, so the verdict rests on what the server recorded, not only
//! on what it answered.

use crate::http;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::Barrier;

/// What to send.
pub struct Options {
    /// Server base URL.
    pub url: String,
    /// The account's key.
    pub key: String,
    /// The metered feature to consume.
    pub feature: String,
    /// Requests released at once.
    pub requests: usize,
}

/// The result: counts and the usage read back.
#[derive(Debug, Serialize)]
pub struct Report {
    pub requests: usize,
    /// The hard limit's `blocks_at` before the race (decimal string).
    pub blocks_at: String,
    /// Usage before the race.
    pub usage_before: String,
    /// Answers `200` with `allowed: true`.
    pub allowed: usize,
    /// Answers `429 plan_limit_exceeded`.
    pub refused: usize,
    /// Anything else (status and body, first few).
    pub errors: usize,
    pub error_samples: Vec<String>,
    /// Usage read back after the race.
    pub usage_after: String,
    /// Allowed = blocks_at − usage before, usage after = blocks_at, no error.
    pub exact: bool,
}

/// Runs the race.
///
/// # Errors
/// The first peek or the final usage read fails, or the feature has no hard limit.
pub async fn run(opts: &Options) -> anyhow::Result<Report> {
    let client = http::client(std::time::Duration::from_secs(60))?;
    let auth = http::bearer(&opts.key)?;
    let check_url = format!("{}/api/v1/check", opts.url.trim_end_matches('/'));
    let peek: Value = http::post_json(
        &client,
        &check_url,
        &auth,
        json!({"feature": opts.feature}).to_string(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("peek: {e}"))?;
    let blocks_at = peek["blocks_at"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("`{}` has no hard limit: {peek}", opts.feature))?
        .to_string();
    let usage_before = peek["usage"].as_str().unwrap_or("0").to_string();

    let barrier = Arc::new(Barrier::new(opts.requests));
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..opts.requests {
        // One client per request: separate connections, so the server sees them in parallel.
        let client = http::client(std::time::Duration::from_secs(60))?;
        let (barrier, url, auth) = (barrier.clone(), check_url.clone(), auth.clone());
        let body = json!({"feature": opts.feature, "consume": true, "idempotency_key": format!("race-{run_id}-{i}")}).to_string();
        calls.spawn(async move {
            barrier.wait().await;
            send(&client, &url, &auth, body).await
        });
    }
    let answers = calls.join_all().await;
    let (mut allowed, mut refused, mut error_samples, mut errors) = (0, 0, Vec::new(), 0);
    for a in answers {
        match a {
            Ok((200, b)) if b["allowed"] == true => allowed += 1,
            Ok((429, b)) if b["error"]["code"] == "plan_limit_exceeded" => refused += 1,
            other => {
                errors += 1;
                if error_samples.len() < 5 {
                    error_samples.push(format!("{other:?}").chars().take(300).collect());
                }
            }
        }
    }
    let usage_after = http::stored_usage(&client, &opts.url, &auth, &opts.feature).await?;
    let exact = errors == 0
        && same(&usage_after, &blocks_at)
        && difference(&blocks_at, &usage_before) == Some(allowed as i64);
    Ok(Report {
        requests: opts.requests,
        blocks_at,
        usage_before,
        allowed,
        refused,
        errors,
        error_samples,
        usage_after,
        exact,
    })
}

async fn send(
    client: &reqwest::Client,
    url: &str,
    auth: &HeaderValue,
    body: String,
) -> Result<(u16, Value), String> {
    let res = client
        .post(url)
        .header(AUTHORIZATION, auth.clone())
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let body = res.json::<Value>().await.map_err(|e| e.to_string())?;
    Ok((status, body))
}

/// Whole decimal strings compared as numbers (`"100"` and `"100.0"` alike).
fn same(a: &str, b: &str) -> bool {
    matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
}

/// `a − b` for whole decimal strings.
fn difference(a: &str, b: &str) -> Option<i64> {
    let whole = |s: &str| s.split('.').next().and_then(|w| w.parse::<i64>().ok());
    Some(whole(a)? - whole(b)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn decimals_compare_as_numbers() {
        assert!(super::same("100", "100.0"));
        assert!(!super::same("100", "99"));
        assert_eq!(super::difference("100", "5"), Some(95));
        assert_eq!(super::difference("x", "5"), None);
    }
}
