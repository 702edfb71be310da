//! `loadgen faults`: usage events sent under faults, then counted (issue 12's
//! "exactness under faults").
//!
//! `events` events of quantity 1, in batches, from `concurrency` clients spread
//! over one or more servers on the same database. A batch that fails in any way
//! (refused connection while a server is down, a 5xx while PostgreSQL restarts, a
//! timeout) is sent again with the same idempotency keys, to the next server,
//! until it is answered `202`. Besides, every twentieth batch (5 %) is sent a
//! second time after its success, as a client retrying a lost answer would. The
//! script around it restarts PostgreSQL and kills a server meanwhile
//! (scripts/faults.sh).
//!
//! Exact means: the stored usage equals the events sent, and the servers accepted
//! each event once over all answers (the rest were reported as duplicates).

use crate::http;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to send.
pub struct Options {
    /// Servers, used in turn.
    pub urls: Vec<String>,
    /// The account's key.
    pub key: String,
    /// Meter (counting) the events go to.
    pub meter: String,
    /// Events in all.
    pub events: usize,
    /// Events per request.
    pub batch: usize,
    /// Clients sending at once.
    pub concurrency: usize,
    /// Give up on a batch after this long without a `202`.
    pub give_up_after: Duration,
}

/// The counts.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub events: usize,
    pub batches: usize,
    /// Requests answered `202`.
    pub answered: u64,
    /// Requests that failed and were sent again (same keys).
    pub retried: u64,
    /// Batches sent a second time after their success (5 %).
    pub resent: u64,
    /// Sum of `accepted` over every `202`.
    pub accepted: u64,
    /// Sum of `duplicates` over every `202`.
    pub duplicates: u64,
    /// Batches given up (never answered).
    pub abandoned: u64,
    /// A few of the failures seen.
    pub failure_samples: Vec<String>,
    /// Stored usage read back at the end.
    pub usage_after: String,
    pub seconds: f64,
    /// Usage after = events = accepted, nothing abandoned.
    pub exact: bool,
}

#[derive(Deserialize)]
struct Accepted {
    accepted: u64,
    duplicates: u64,
}

#[derive(Default)]
struct Counts {
    answered: AtomicU64,
    retried: AtomicU64,
    resent: AtomicU64,
    accepted: AtomicU64,
    duplicates: AtomicU64,
    abandoned: AtomicU64,
    samples: std::sync::Mutex<Vec<String>>,
}

/// The request body of batch `index`: its events' keys depend only on the run and
/// the batch, so every send of it carries the same keys.
fn body(run: &str, meter: &str, index: usize, size: usize) -> String {
    let events: Vec<_> = (0..size).map(|i| json!({"meter": meter, "quantity": 1, "idempotency_key": format!("f-{run}-{index}-{i}")})).collect();
    json!({ "events": events }).to_string()
}

/// Runs the clients until every batch is answered (or given up), then reads the
/// stored usage from the first server.
///
/// # Errors
/// No server given, a bad key, or the final usage cannot be read.
pub async fn run(opts: Options) -> anyhow::Result<Report> {
    anyhow::ensure!(
        !opts.urls.is_empty() && opts.batch >= 1 && opts.batch <= 1000,
        "give --url and a --batch of 1 to 1000"
    );
    let auth = http::bearer(&opts.key)?;
    let client = http::client(Duration::from_secs(10))?;
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let batches = opts.events.div_ceil(opts.batch);
    let next = Arc::new(AtomicUsize::new(0));
    let counts = Arc::new(Counts::default());
    let opts = Arc::new(opts);
    let started = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for worker in 0..opts.concurrency {
        let (next, counts, opts, client, auth, run_id) = (
            next.clone(),
            counts.clone(),
            opts.clone(),
            client.clone(),
            auth.clone(),
            run_id.clone(),
        );
        clients.spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= batches {
                    break;
                }
                let size = opts.batch.min(opts.events - index * opts.batch);
                let text = body(&run_id, &opts.meter, index, size);
                let sends = if index % 20 == 0 { 2 } else { 1 };
                for send in 0..sends {
                    if send == 1 {
                        counts.resent.fetch_add(1, Ordering::Relaxed);
                    }
                    deliver(&client, &auth, &opts, &counts, worker + index + send, &text).await;
                }
            }
        });
    }
    clients.join_all().await;
    let usage_after = http::stored_usage(&client, &opts.urls[0], &auth, &opts.meter).await?;
    let c = &counts;
    let accepted = c.accepted.load(Ordering::Relaxed);
    let abandoned = c.abandoned.load(Ordering::Relaxed);
    let exact = abandoned == 0
        && accepted == opts.events as u64
        && usage_after.split('.').next() == Some(opts.events.to_string().as_str());
    Ok(Report {
        events: opts.events,
        batches,
        answered: c.answered.load(Ordering::Relaxed),
        retried: c.retried.load(Ordering::Relaxed),
        resent: c.resent.load(Ordering::Relaxed),
        accepted,
        duplicates: c.duplicates.load(Ordering::Relaxed),
        abandoned,
        failure_samples: c.samples.lock().map(|s| s.clone()).unwrap_or_default(),
        usage_after,
        seconds: started.elapsed().as_secs_f64(),
        exact,
    })
}

/// Sends one batch until a `202`, rotating over the servers, 100 ms apart.
async fn deliver(
    client: &reqwest::Client,
    auth: &reqwest::header::HeaderValue,
    opts: &Options,
    counts: &Counts,
    start: usize,
    text: &str,
) {
    let deadline = Instant::now() + opts.give_up_after;
    for attempt in 0.. {
        let url = format!(
            "{}/api/v1/events",
            opts.urls[(start + attempt) % opts.urls.len()].trim_end_matches('/')
        );
        match http::post_json::<Accepted>(client, &url, auth, text.to_string()).await {
            Ok(a) => {
                counts.answered.fetch_add(1, Ordering::Relaxed);
                counts.accepted.fetch_add(a.accepted, Ordering::Relaxed);
                counts.duplicates.fetch_add(a.duplicates, Ordering::Relaxed);
                return;
            }
            Err(e) => {
                counts.retried.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut samples) = counts.samples.lock() {
                    if samples.len() < 5
                        && !samples
                            .iter()
                            .any(|s| s.chars().take(40).eq(e.chars().take(40)))
                    {
                        samples.push(e);
                    }
                }
                if Instant::now() > deadline {
                    counts.abandoned.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_batch_keeps_its_keys_on_every_send() {
        let a = super::body("r", "queries", 7, 3);
        assert_eq!(a, super::body("r", "queries", 7, 3));
        assert!(a.contains("f-r-7-0") && a.contains("f-r-7-2") && !a.contains("f-r-7-3"));
        assert_ne!(a, super::body("r", "queries", 8, 3));
    }
}
