//! The delivery worker: in every `tollgate serve` process, claims due deliveries
//! (several processes never claim the same one), signs and sends them, several at
//! once, and records each attempt. A failure is retried with exponential back-off
//! ([`crate::webhook::backoff`]) for 3 days; an endpoint that has failed every
//! attempt for 3 days is disabled, its pending deliveries failed, and its owner
//! told (in-app and by e-mail; the operator by the log for platform endpoints).
//!
//! Requests go only to public addresses unless private ones are allowed: the URL's
//! literal address is checked, and a name's addresses are checked as it resolves,
//! so the connection goes to an address that was checked (no second lookup to
//! rebind). Redirects are not followed; each request has a timeout; at most
//! [`RESPONSE_KEPT`] bytes of an answer are read.

use super::{signing, WebhookSettings};
use super::Tollgate;
use crate::db::{self, webhook_deliveries::Claimed, webhook_endpoints::EndpointRow, webhook_events::EventRow};
use crate::webhook::{backoff, is_public, EndpointUrl, RETRY_WINDOW};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Bytes of an answer kept in the log (and read at all).
pub const RESPONSE_KEPT: usize = 1024;

/// Pause between looks at the outbox when nothing woke the worker.
pub const POLL: Duration = Duration::from_secs(1);

/// The HTTP client deliveries go through.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    settings: WebhookSettings,
}

/// Resolves names to their public addresses only (all addresses when private
/// targets are allowed).
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found.into_iter().filter(|a| allow_private || is_public(a.ip())).collect();
            if allowed.is_empty() {
                return Err(format!("{} resolves to no public address", name.as_str()).into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

impl Client {
    /// A client with `settings`' timeout and address guard.
    ///
    /// # Errors
    /// The TLS back end failed to start.
    pub fn new(settings: &WebhookSettings) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            // A proxy from the environment would resolve the target itself, past
            // the guarded resolver.
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: settings.allow_private_targets,
            }))
            .user_agent(concat!("Tollgate-Webhooks/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(settings.concurrency.max(1))
            .build()?;
        Ok(Client {
            http,
            settings: settings.clone(),
        })
    }
}

/// What one attempt got.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status, if an answer came.
    pub status: Option<u16>,
    /// The answer's first bytes, as text.
    pub body: String,
    /// From sending to the last byte read.
    pub latency: Duration,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

impl Answer {
    /// A 2xx status.
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// The body of a delivery (API.md): `{"type", "id", "created_at", "data",
/// "sequence"}`; `sequence` grows with every event, so a receiver keeps an object's
/// latest state by keeping the highest.
pub fn body(event: &EventRow) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": event.event_type,
        "id": event.id,
        "created_at": event.created_at,
        "sequence": event.seq,
        "data": event.data,
    }))
    .unwrap_or_default()
}

/// The secrets that sign at `now`: the current one, and the previous one while its
/// overlap lasts.
pub fn signing_secrets(endpoint: &EndpointRow, now: DateTime<Utc>) -> Vec<&[u8]> {
    let mut secrets = vec![endpoint.secret.as_slice()];
    if let (Some(previous), Some(until)) = (&endpoint.previous_secret, endpoint.previous_secret_expires_at) {
        if until > now {
            secrets.push(previous.as_slice());
        }
    }
    secrets
}

/// Sends `event` to `endpoint`, signed at `now`.
pub async fn send(client: &Client, endpoint: &EndpointRow, event: &EventRow, now: DateTime<Utc>) -> Answer {
    let started = Instant::now();
    let fail = |error: String| Answer {
        status: None,
        body: String::new(),
        latency: started.elapsed(),
        error: Some(error),
    };
    // Checked again: the setting may have changed since the endpoint was saved.
    let url = match EndpointUrl::parse(&endpoint.url, client.settings.allow_private_targets) {
        Ok(u) => u,
        Err(e) => return fail(format!("the URL {e}")),
    };
    let body = body(event);
    let msg_id = event.id.to_string();
    let timestamp = now.timestamp();
    let signature = signing::signature_header(&signing_secrets(endpoint, now), &msg_id, timestamp, &body);
    let sent = client
        .http
        .post(url.url().clone())
        .header("content-type", "application/json")
        .header("webhook-id", &msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    let mut response = match sent {
        Ok(r) => r,
        Err(e) => return fail(describe(&e)),
    };
    let status = response.status().as_u16();
    if !(100..=599).contains(&status) {
        return fail(format!("invalid HTTP status {status}"));
    }
    let mut kept = Vec::new();
    let mut error = None;
    while kept.len() < RESPONSE_KEPT {
        match response.chunk().await {
            Ok(Some(chunk)) => kept.extend_from_slice(&chunk[..chunk.len().min(RESPONSE_KEPT - kept.len())]),
            Ok(None) => break,
            Err(e) => {
                error = Some(describe(&e));
                break;
            }
        }
    }
    // PostgreSQL text cannot hold NUL.
    let text: String = String::from_utf8_lossy(&kept).chars().filter(|c| *c != '\0').take(RESPONSE_KEPT).collect();
    let error = error.or_else(|| (!(200..300).contains(&status)).then(|| format!("HTTP {status}")));
    Answer {
        status: Some(status),
        body: text,
        latency: started.elapsed(),
        error,
    }
}

/// The error's chain in one line, at most 500 characters.
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() { "timed out".to_owned() } else { e.to_string() };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.chars().take(500).collect()
}

/// What a pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Answered 2xx.
    pub succeeded: usize,
    /// Failed, another attempt scheduled.
    pub retried: usize,
    /// Failed for good (3 days of attempts, or the endpoint disabled).
    pub failed: usize,
    /// Endpoints disabled for failing 3 days.
    pub disabled: usize,
}

impl Report {
    /// Deliveries attempted.
    pub fn attempted(&self) -> usize {
        self.succeeded + self.retried + self.failed
    }
}

/// Deliveries claimed per pass, in rounds of the concurrency.
const ROUNDS: usize = 4;

/// Claims the deliveries due at `now` (up to [`ROUNDS`] × the concurrency), sends
/// them `concurrency` at a time, and records what happened. The claim lasts
/// longer than the pass can (every round timing out, plus a margin), so no other
/// worker sends them meanwhile.
///
/// # Errors
/// A database error (deliveries claimed but not recorded go again after the lease).
pub async fn deliver_due(t: &Tollgate, client: &Client, now: DateTime<Utc>) -> Result<Report, sqlx::Error> {
    let concurrency = client.settings.concurrency.max(1);
    let lease = client.settings.timeout.as_secs_f64() * ROUNDS as f64 + 30.0;
    let window = chrono::Duration::from_std(RETRY_WINDOW).unwrap_or_default();
    db::webhook_deliveries::fail_stale(&t.pool, now - window - chrono::Duration::days(1), now).await?;
    let claimed = db::webhook_deliveries::claim_due(&t.pool, now, i64::try_from(concurrency * ROUNDS).unwrap_or(64), lease).await?;
    if claimed.is_empty() {
        return Ok(Report::default());
    }
    let event_ids: Vec<Uuid> = claimed.iter().map(|c| c.event_id).collect();
    let endpoint_ids: Vec<Uuid> = claimed.iter().map(|c| c.endpoint_id).collect();
    let events: HashMap<Uuid, EventRow> = db::webhook_events::by_ids(&t.pool, &event_ids).await?.into_iter().map(|e| (e.id, e)).collect();
    let endpoints: HashMap<Uuid, EndpointRow> =
        db::webhook_endpoints::by_ids(&t.pool, &endpoint_ids).await?.into_iter().map(|e| (e.id, e)).collect();
    let answers: Vec<(Claimed, DateTime<Utc>, Answer)> = futures::stream::iter(claimed)
        .map(|c| {
            let (event, endpoint) = (events.get(&c.event_id), endpoints.get(&c.endpoint_id));
            async move {
                let sent_at = now;
                let answer = match (event, endpoint) {
                    (Some(ev), Some(ep)) => send(client, ep, ev, sent_at).await,
                    _ => Answer {
                        status: None,
                        body: String::new(),
                        latency: Duration::ZERO,
                        error: Some("the event or the endpoint is gone".into()),
                    },
                };
                (c, sent_at, answer)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    record(t, &endpoints, answers, now).await
}

/// Records the attempts of a pass in one transaction, each delivery under a
/// savepoint of its own: one that cannot be recorded is logged and goes again
/// after the lease, and the others are kept. Endpoints are updated in id order,
/// so two workers never wait on each other's rows in a cycle.
async fn record(
    t: &Tollgate,
    endpoints: &HashMap<Uuid, EndpointRow>,
    mut answers: Vec<(Claimed, DateTime<Utc>, Answer)>,
    now: DateTime<Utc>,
) -> Result<Report, sqlx::Error> {
    answers.sort_by_key(|(c, _, _)| (c.endpoint_id, c.id));
    let mut report = Report::default();
    let mut disabled: Vec<(Uuid, DateTime<Utc>, String)> = Vec::new();
    let mut tx = t.pool.begin().await?;
    for (c, sent_at, answer) in answers {
        let mut savepoint = sqlx::Connection::begin(&mut *tx).await?;
        match record_one(&mut savepoint, &c, sent_at, &answer, &mut disabled, now).await {
            Ok(Some(outcome)) => {
                savepoint.commit().await?;
                match outcome {
                    Outcome::Succeeded => report.succeeded += 1,
                    Outcome::Retried => report.retried += 1,
                    Outcome::Failed => report.failed += 1,
                }
            }
            Ok(None) => savepoint.commit().await?,
            Err(e) => {
                savepoint.rollback().await?;
                tracing::warn!(delivery = %c.id, error = %e, "a webhook attempt could not be recorded; it goes again after its lease");
            }
        }
    }
    for (endpoint_id, since, last_error) in &disabled {
        report.failed += usize::try_from(db::webhook_deliveries::fail_pending_of(&mut *tx, *endpoint_id, now).await?).unwrap_or(0);
        if let Some(endpoint) = endpoints.get(endpoint_id) {
            tell_owner(t, &mut tx, endpoint, *since, last_error).await?;
        }
    }
    report.disabled = disabled.len();
    tx.commit().await?;
    Ok(report)
}

/// What became of one delivery.
enum Outcome {
    Succeeded,
    Retried,
    Failed,
}

/// Records one attempt; `None` when its delivery is gone (the endpoint was
/// deleted while it was in flight).
async fn record_one(
    tx: &mut sqlx::PgConnection,
    c: &Claimed,
    sent_at: DateTime<Utc>,
    answer: &Answer,
    disabled: &mut Vec<(Uuid, DateTime<Utc>, String)>,
    now: DateTime<Utc>,
) -> Result<Option<Outcome>, sqlx::Error> {
    let window = chrono::Duration::from_std(RETRY_WINDOW).unwrap_or_default();
    {
        let recorded = db::webhook_attempts::insert(
            &mut *tx,
            &db::webhook_attempts::AttemptRow {
                delivery_id: c.id,
                attempted_at: sent_at,
                response_status: answer.status.map(i32::from),
                response_body: answer.body.clone(),
                latency_ms: i32::try_from(answer.latency.as_millis()).unwrap_or(i32::MAX),
                error: answer.error.clone(),
            },
        )
        .await?;
        if !recorded {
            return Ok(None);
        }
    }
    if answer.succeeded() {
        db::webhook_deliveries::finish(&mut *tx, c.id, c.attempts, "succeeded", now).await?;
        db::webhook_endpoints::mark_healthy(&mut *tx, c.endpoint_id).await?;
        return Ok(Some(Outcome::Succeeded));
    }
    let since = db::webhook_endpoints::mark_failing(&mut *tx, c.endpoint_id, now).await?.unwrap_or(now);
    let already = disabled.iter().any(|d| d.0 == c.endpoint_id);
    if now - since >= window && !already {
        if db::webhook_endpoints::disable_failing(&mut *tx, c.endpoint_id).await? {
            disabled.push((c.endpoint_id, since, answer.error.clone().unwrap_or_default()));
        }
        db::webhook_deliveries::finish(&mut *tx, c.id, c.attempts, "failed", now).await?;
        Ok(Some(Outcome::Failed))
    } else if already || now - c.created_at >= window {
        db::webhook_deliveries::finish(&mut *tx, c.id, c.attempts, "failed", now).await?;
        Ok(Some(Outcome::Failed))
    } else {
        let wait = chrono::Duration::from_std(backoff(u32::try_from(c.attempts).unwrap_or(u32::MAX))).unwrap_or_default();
        db::webhook_deliveries::retry_at(&mut *tx, c.id, c.attempts, now + wait).await?;
        Ok(Some(Outcome::Retried))
    }
}

/// The audit entry of an endpoint disabled for failing, and word to its owner: an
/// in-app notification and an e-mail to the account's owner; the operator's log
/// for a platform endpoint.
async fn tell_owner(
    t: &Tollgate,
    tx: &mut db::Tx<'_>,
    endpoint: &EndpointRow,
    since: DateTime<Utc>,
    last_error: &str,
) -> Result<(), sqlx::Error> {
    db::audit::record(
        &mut **tx,
        &db::audit::Entry {
            actor: &super::Actor::System,
            action: "webhook_endpoint.disabled",
            target_kind: "webhook_endpoint",
            target_id: endpoint.id.to_string(),
            account_id: endpoint.account_id,
            ip: None,
            details: serde_json::json!({ "url": endpoint.url, "failing_since": since, "last_error": last_error, "reason": "failing" }),
        },
    )
    .await?;
    let Some(account_id) = endpoint.account_id else {
        tracing::error!(endpoint = %endpoint.id, url = endpoint.url, since = %since, "platform webhook endpoint disabled: every delivery failed for 3 days");
        return Ok(());
    };
    tracing::warn!(endpoint = %endpoint.id, account = %account_id, "webhook endpoint disabled: every delivery failed for 3 days");
    db::notifications::insert(
        &mut **tx,
        account_id,
        "webhook_disabled",
        "Webhook endpoint disabled",
        &format!(
            "Every delivery to {} failed for 3 days, so it was disabled. Fix the receiver, enable it again and replay what it missed.",
            endpoint.url
        ),
        &serde_json::json!({ "endpoint": endpoint.id }),
    )
    .await?;
    if !crate::service::notifications::email_allowed(tx, account_id, crate::notification::Kind::WebhookDisabled).await? {
        return Ok(());
    }
    let Some(to) = db::accounts::mail_recipient(&mut **tx, account_id).await? else {
        return Ok(());
    };
    let product = t.product_name();
    let context = serde_json::json!({
        "product": product,
        "user": { "name": to.owner_name, "email": to.owner_email },
        "account": { "name": to.account_name },
        "endpoint": { "url": endpoint.url, "failing_since": since.format("%Y-%m-%d %H:%M UTC").to_string(), "last_error": last_error },
        "link": format!("{}/settings/webhooks", t.settings.public_url),
    });
    let dedup = format!("webhook_disabled:{}:{}", endpoint.id, since.timestamp());
    if let Err(e) = crate::service::mail::enqueue(&mut **tx, &to.owner_email, "webhook_endpoint_disabled", &context, Some(&dedup), Some(account_id)).await {
        tracing::warn!(error = %e, "the webhook-disabled e-mail could not be enqueued");
    }
    Ok(())
}

/// Runs the worker forever: delivers what is due, then waits for a wake-up
/// (`NOTIFY tollgate_webhooks`, sent when deliveries are written) or [`POLL`].
pub async fn run(t: Tollgate, client: Client) {
    let listening = async {
        let mut l = sqlx::postgres::PgListener::connect_with(&t.pool).await?;
        l.listen("tollgate_webhooks").await?;
        Ok::<_, sqlx::Error>(l)
    };
    let mut listener = listening
        .await
        .inspect_err(|e| tracing::warn!(error = %e, "webhook worker cannot listen; polling each second"))
        .ok();
    let full = client.settings.concurrency.max(1) * ROUNDS;
    loop {
        match deliver_due(&t, &client, Utc::now()).await {
            Ok(r) if r.attempted() >= full => continue,
            Ok(r) => {
                if r.attempted() > 0 {
                    tracing::debug!(succeeded = r.succeeded, retried = r.retried, failed = r.failed, "webhook deliveries");
                }
                match listener.as_mut() {
                    Some(l) => {
                        if let Ok(Err(e)) = tokio::time::timeout(POLL, l.recv()).await {
                            tracing::warn!(error = %e, "webhook worker lost its listener; polling each second");
                            listener = None;
                        }
                    }
                    None => tokio::time::sleep(POLL).await,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "webhook worker failed; retrying in 5 s");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}
