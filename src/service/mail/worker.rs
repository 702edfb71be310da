//! The outbox worker: in every `tollgate serve` process, claims due messages
//! (several processes never claim the same one), renders and sends them, and retries
//! failed sends with exponential back-off until it gives up.

use super::templates;
use super::transport::Mailer;
use crate::db::{self, outbox::OutboxRow};
use sqlx::PgPool;
use std::time::Duration;

/// How the worker paces itself.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Attempts before a message is marked `failed` (at least 1).
    pub max_attempts: u32,
    /// Wait after the first failed attempt; doubled after each further one.
    pub backoff_base: Duration,
    /// The longest wait between two attempts.
    pub backoff_max: Duration,
    /// How long a claimed message stays reserved for its worker: longer than a send
    /// can take (the SMTP timeout); after it, a message whose worker died is claimed
    /// again.
    pub lease: Duration,
    /// Pause between looks at the outbox when it had nothing due.
    pub poll: Duration,
    /// Messages claimed at once.
    pub batch: u32,
}

impl Default for WorkerSettings {
    /// 8 attempts, 30 s doubling up to 1 h (the last attempt about 1 h 4 min after
    /// the first), a 5-minute lease, a look every second, 10 at a time.
    fn default() -> Self {
        WorkerSettings {
            max_attempts: 8,
            backoff_base: Duration::from_secs(30),
            backoff_max: Duration::from_secs(3600),
            lease: Duration::from_secs(300),
            poll: Duration::from_secs(1),
            batch: 10,
        }
    }
}

impl WorkerSettings {
    /// The wait after failed attempt number `attempt` (1 for the first):
    /// `backoff_base · 2^(attempt−1)`, at most `backoff_max`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(30));
        self.backoff_base
            .saturating_mul(factor)
            .min(self.backoff_max)
    }
}

/// What happened to one claimed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Sent (or logged, without SMTP).
    Sent,
    /// Failed; another attempt is scheduled.
    Retry,
    /// Failed for good: attempts used up, or an error that retrying cannot fix.
    Failed,
}

/// Pause after a database error, so an outage does not flood the log.
const ERROR_PAUSE: Duration = Duration::from_secs(5);

/// Runs the worker forever: delivers what is due, then waits `poll` (at least 5 s
/// after a database error).
pub async fn run(pool: PgPool, mailer: Mailer, settings: WorkerSettings) {
    loop {
        match deliver_due(&pool, &mailer, &settings).await {
            Ok(done) if done.len() >= settings.batch as usize => continue,
            Ok(_) => tokio::time::sleep(settings.poll).await,
            Err(e) => {
                tracing::warn!(error = %e, "e-mail outbox worker failed; retrying in 5 s");
                tokio::time::sleep(settings.poll.max(ERROR_PAUSE)).await;
            }
        }
    }
}

/// Claims up to `batch` due messages and delivers each; returns what happened to
/// them.
///
/// # Errors
/// A database error (messages claimed but not yet recorded are retried after the
/// lease).
pub async fn deliver_due(
    pool: &PgPool,
    mailer: &Mailer,
    settings: &WorkerSettings,
) -> Result<Vec<(OutboxRow, Delivery)>, sqlx::Error> {
    let mut claimed = db::outbox::claim_due(
        pool,
        i64::from(settings.batch.max(1)),
        settings.lease.as_secs_f64(),
    )
    .await?;
    // Oldest first (`UPDATE … RETURNING` has no order of its own).
    claimed.sort_by_key(|m| (m.created_at, m.id));
    let mut done = Vec::with_capacity(claimed.len());
    for message in claimed {
        let outcome = deliver(pool, mailer, settings, &message).await?;
        done.push((message, outcome));
    }
    Ok(done)
}

async fn deliver(
    pool: &PgPool,
    mailer: &Mailer,
    settings: &WorkerSettings,
    m: &OutboxRow,
) -> Result<Delivery, sqlx::Error> {
    let attempt = u32::try_from(m.attempts).unwrap_or(u32::MAX);
    let max_attempts = settings.max_attempts.max(1);
    if attempt > max_attempts {
        // Claimed again after a worker died mid-send on the last attempt.
        db::outbox::mark_failed(
            pool,
            m.id,
            m.last_error.as_deref().unwrap_or("attempts used up"),
        )
        .await?;
        return Ok(Delivery::Failed);
    }
    let rendered = match templates::render(&m.template, &m.context) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(id = %m.id, template = m.template, error = %e, "e-mail cannot be rendered; giving up");
            db::outbox::mark_failed(pool, m.id, &e.to_string()).await?;
            return Ok(Delivery::Failed);
        }
    };
    match mailer.send(&m.to_address, &rendered).await {
        Ok(()) => {
            db::outbox::mark_sent(pool, m.id).await?;
            if !mailer.is_log() {
                tracing::info!(id = %m.id, to = m.to_address, template = m.template, "e-mail sent");
            }
            Ok(Delivery::Sent)
        }
        Err(e) if e.is_permanent() || attempt >= max_attempts => {
            tracing::error!(id = %m.id, to = m.to_address, attempt, error = %e, "e-mail failed; giving up");
            db::outbox::mark_failed(pool, m.id, &e.to_string()).await?;
            Ok(Delivery::Failed)
        }
        Err(e) => {
            let wait = settings.backoff(attempt);
            tracing::warn!(id = %m.id, to = m.to_address, attempt, retry_in_s = wait.as_secs_f64(), error = %e, "e-mail failed; will retry");
            db::outbox::mark_retry(pool, m.id, wait.as_secs_f64(), &e.to_string()).await?;
            Ok(Delivery::Retry)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = WorkerSettings::default();
        let secs: Vec<u64> = (1..=9).map(|a| s.backoff(a).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(s.backoff(0).as_secs(), 30);
        assert_eq!(s.backoff(u32::MAX), s.backoff_max);
    }
}
