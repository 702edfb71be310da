//! Group commit for `POST /api/v1/events`: requests that arrive while a
//! transaction is running are stored together in the next one.
//!
//! Every transaction that records usage updates its accounts' period totals, and
//! a total's row stays locked from that update to the commit. Many small requests
//! for one account (one event each, the common integration) therefore ran one
//! after another, a few round trips each (issue 12: 1.4k events/s). Here a few
//! workers take the waiting requests together (up to [`GROUP_ROWS`] rows) and
//! store them in one transaction: one lock, one totals update per account and
//! meter, one commit.
//!
//! Each request keeps its own answer and its all-or-nothing rule: the rows of a
//! group are stored together or not at all. When a group meets an idempotency
//! conflict, the requests that sent that key are stored alone (so the conflict
//! reaches the request that caused it, with the event's index) and the others are
//! grouped again; after any other failure (a database error) each request is
//! stored again on its own. Two requests of one group
//! that send the same account and key are not grouped (each alone decides which is
//! the duplicate).

use super::ingest::store as store_rows;
use super::{retry, Error, Tollgate};
use crate::db::usage::EventRow;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot, Mutex};
use uuid::Uuid;

/// Rows stored together at most (the API's batch limit).
pub const GROUP_ROWS: usize = super::ingest::MAX_BATCH;
/// Transactions running at once per process.
pub const WORKERS: usize = 2;
/// Requests waiting at most; past it a request waits for room (back-pressure).
const QUEUE: usize = 4096;

/// Where a request's conflicting key sits in it, by (account, key).
pub type IndexOf = HashMap<(Uuid, String), usize>;

struct Job {
    rows: Vec<EventRow>,
    index_of: IndexOf,
    now: DateTime<Utc>,
    reply: oneshot::Sender<Result<(usize, usize), Error>>,
}

/// The queue of one process; its workers start with the first request.
#[derive(Default)]
pub struct IngestQueue {
    sender: OnceLock<mpsc::Sender<Job>>,
}

/// Stores one request's rows (sorted by account and key) in a group, and answers
/// (accepted, already stored) for them.
///
/// # Errors
/// As [`super::ingest::record`]: a conflict (with the request's event index), a
/// database error.
pub async fn store(
    t: &Tollgate,
    rows: Vec<EventRow>,
    index_of: IndexOf,
    now: DateTime<Utc>,
) -> Result<(usize, usize), Error> {
    if rows.len() >= GROUP_ROWS {
        return alone(t, &rows, &index_of, now).await;
    }
    let sender = t.ingest_queue.sender.get_or_init(|| start(t));
    let (reply, answer) = oneshot::channel();
    let job = Job {
        rows,
        index_of,
        now,
        reply,
    };
    if let Err(mpsc::error::SendError(job)) = sender.send(job).await {
        // The workers are gone (the runtime that started them ended): alone.
        return alone(t, &job.rows, &job.index_of, job.now).await;
    }
    answer
        .await
        .map_err(|_| Error::Internal("the ingestion worker stopped".into()))?
}

fn start(t: &Tollgate) -> mpsc::Sender<Job> {
    let (sender, receiver) = mpsc::channel(QUEUE);
    let receiver = Arc::new(Mutex::new(receiver));
    for _ in 0..WORKERS {
        tokio::spawn(work(t.clone(), receiver.clone()));
    }
    sender
}

async fn work(t: Tollgate, receiver: Arc<Mutex<mpsc::Receiver<Job>>>) {
    loop {
        let jobs = {
            let mut rx = receiver.lock().await;
            let Some(first) = rx.recv().await else {
                return;
            };
            let mut rows = first.rows.len();
            let mut jobs = vec![first];
            while let Ok(next) = rx.try_recv() {
                rows += next.rows.len();
                jobs.push(next);
                if rows >= GROUP_ROWS {
                    break;
                }
            }
            jobs
        };
        run(&t, jobs).await;
    }
}

async fn alone(
    t: &Tollgate,
    rows: &[EventRow],
    index_of: &IndexOf,
    now: DateTime<Utc>,
) -> Result<(usize, usize), Error> {
    let catalog = t.catalog.get()?;
    let stored = retry::on_deadlock(|| store_rows(t, &catalog, rows, index_of, now)).await?;
    Ok((stored.len(), rows.len() - stored.len()))
}

/// Whether two jobs send the same account and key.
fn overlapping(jobs: &[Job]) -> bool {
    let mut seen = HashSet::new();
    jobs.iter()
        .flat_map(|j| j.rows.iter())
        .any(|r| !seen.insert((r.account_id, r.idempotency_key.as_str())))
}

async fn run(t: &Tollgate, mut jobs: Vec<Job>) {
    while jobs.len() > 1 && !overlapping(&jobs) {
        match together(t, &jobs).await {
            Ok(stored) => {
                for job in jobs {
                    let accepted = job.rows.iter().filter(|r| stored.contains(&r.id)).count();
                    let _ = job.reply.send(Ok((accepted, job.rows.len() - accepted)));
                }
                return;
            }
            // The requests that sent the key are answered alone (one of them gets
            // the conflict, with its index); the others are grouped again.
            Err(Error::IdempotencyConflict { key, .. }) => {
                let (conflicting, rest): (Vec<Job>, Vec<Job>) = jobs
                    .into_iter()
                    .partition(|j| j.rows.iter().any(|r| r.idempotency_key == key));
                if conflicting.is_empty() {
                    jobs = rest;
                    break;
                }
                for job in conflicting {
                    let answer = alone(t, &job.rows, &job.index_of, job.now).await;
                    let _ = job.reply.send(answer);
                }
                jobs = rest;
            }
            Err(_) => break,
        }
    }
    for job in jobs {
        let answer = alone(t, &job.rows, &job.index_of, job.now).await;
        let _ = job.reply.send(answer);
    }
}

/// Stores every job's rows in one transaction; returns the ids stored.
async fn together(t: &Tollgate, jobs: &[Job]) -> Result<HashSet<Uuid>, Error> {
    let mut rows: Vec<EventRow> = jobs.iter().flat_map(|j| j.rows.clone()).collect();
    super::ingest::in_lock_order(&mut rows);
    let now = jobs.iter().map(|j| j.now).max().unwrap_or_else(Utc::now);
    let no_index = IndexOf::new();
    let catalog = t.catalog.get()?;
    retry::on_deadlock(|| store_rows(t, &catalog, &rows, &no_index, now)).await
}
