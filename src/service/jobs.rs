//! Background upkeep, once a minute in every `tollgate serve` process (each step is
//! safe to run concurrently): e-mailing and chasing manual invoices
//! ([`super::invoices::dunning`]), ending manual trials, applying the manual provider's
//! period-end plan changes and cancellations, and pruning rate windows, failed
//! log-ins, password-reset requests and links, and expired sessions; sending usage
//! to Stripe's billing meters when Stripe is configured ([`super::stripe::meter_usage`]);
//! and once an hour the manual provider's invoice run for last month and this one (periods
//! that closed so far), which issues nothing twice, and last month's usage reports
//! ([`super::usage_reports`]), stored once, and the webhook events time causes
//! ([`webhook_upkeep`]).

use super::{Actor, Tollgate};
use crate::db;
use chrono::Utc;
use std::time::Duration;

/// How often [`run`] works.
pub const PERIOD: Duration = Duration::from_secs(60);

/// Every how many passes the invoice run goes (hourly).
pub const INVOICE_RUN_EVERY: u32 = 60;

/// Runs the upkeep forever.
pub async fn run(t: Tollgate) {
    let mut tick = tokio::time::interval(PERIOD);
    let mut passes: u32 = 0;
    loop {
        tick.tick().await;
        if let Err(e) = once(&t).await {
            tracing::warn!(error = %e, "background upkeep failed; retrying next minute");
        }
        match super::invoices::dunning::run(&t, &t.dunning, Utc::now()).await {
            Ok(r) if r != Default::default() => tracing::info!(
                issued = r.issued,
                reminders = r.reminders,
                past_due = r.past_due,
                "manual invoices e-mailed and chased"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "chasing manual invoices failed; retrying next minute"),
        }
        match super::provider::manual::apply_due(&t, Utc::now()).await {
            Ok(done) if done != Default::default() => tracing::info!(
                changed = done.changed,
                ended = done.ended,
                "period-end changes applied"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "period-end changes failed; retrying next minute"),
        }
        if let Some(stripe) = t.stripe.as_deref() {
            match super::stripe::meter_usage::run(&t, stripe, Utc::now()).await {
                Ok(r) if r != Default::default() => {
                    tracing::info!(
                        items = r.items_checked,
                        assigned = r.assigned,
                        sent = r.sent,
                        retried = r.retried,
                        failed = r.failed,
                        "usage sent to Stripe meters"
                    );
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "sending usage to Stripe failed; retrying next minute")
                }
            }
        }
        if passes.is_multiple_of(INVOICE_RUN_EVERY) {
            invoice_runs(&t).await;
            match super::notifications::scheduled(&t, Utc::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(accounts = n, "trials ending: accounts told"),
                Err(e) => tracing::warn!(error = %e, "notifying trials ending failed; retrying in an hour"),
            }
            match webhook_upkeep(&t, Utc::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(events = n, "scheduled webhook events emitted"),
                Err(e) => tracing::warn!(error = %e, "scheduled webhook events failed; retrying in an hour"),
            }
            match super::usage_reports::store_last_month(&t, Utc::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(reports = n, "monthly usage reports stored"),
                Err(e) => tracing::warn!(error = %e, "storing the monthly usage reports failed; retrying in an hour"),
            }
        }
        passes = passes.wrapping_add(1);
    }
}

/// The invoice run for last month and this one.
async fn invoice_runs(t: &Tollgate) {
    let now = Utc::now();
    for month in [
        crate::invoice::schedule::previous_month(now),
        crate::period::Period::calendar_month(now),
    ] {
        match super::invoices::run(t, month, &Actor::System, now).await {
            Ok(r) if !r.issued.is_empty() => {
                tracing::info!(month = %crate::invoice::schedule::month_label(month), issued = r.issued.len(), "invoice run")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "invoice run failed; retrying in an hour"),
        }
    }
}

/// How long delivered webhook events (and their delivery log) are kept.
pub const WEBHOOK_EVENTS_KEPT_DAYS: i64 = 30;

/// How long events that happen once (with a dedup key) are kept: longer than any
/// period they are once per (a yearly meter's), and than the 30 days an invoice
/// is looked at for `invoice.overdue`.
pub const WEBHOOK_ONCE_KEPT_DAYS: i64 = 400;

/// The webhook events time causes ([`super::webhooks::emit::scheduled`]: trials
/// ending in 3 days, invoices overdue), and forgetting finished events older than
/// [`WEBHOOK_EVENTS_KEPT_DAYS`] ([`WEBHOOK_ONCE_KEPT_DAYS`] for those that happen
/// once). Returns how many events were emitted.
///
/// # Errors
/// A database error.
pub async fn webhook_upkeep(t: &Tollgate, now: chrono::DateTime<Utc>) -> Result<i64, sqlx::Error> {
    let mut conn = t.pool.acquire().await?;
    let emitted = super::webhooks::emit::scheduled(&mut conn, now).await?;
    db::webhook_events::prune(
        &mut *conn,
        now - chrono::Duration::days(WEBHOOK_EVENTS_KEPT_DAYS),
        now - chrono::Duration::days(WEBHOOK_ONCE_KEPT_DAYS),
    )
    .await?;
    Ok(emitted)
}

/// One pass of the upkeep.
///
/// # Errors
/// A database error.
pub async fn once(t: &Tollgate) -> Result<(), sqlx::Error> {
    let mut tx = t.pool.begin().await?;
    let ended = db::subscriptions::end_trials(&mut *tx, Utc::now()).await?;
    for (subscription_id, account_id) in &ended {
        db::audit::record(
            &mut *tx,
            &db::audit::Entry {
                actor: &Actor::System,
                action: "subscription.trial_ended",
                target_kind: "subscription",
                target_id: subscription_id.to_string(),
                account_id: Some(*account_id),
                ip: None,
                details: serde_json::json!({ "status": "active", "provider": "manual" }),
            },
        )
        .await?;
    }
    let accounts: Vec<uuid::Uuid> = ended.iter().map(|(_, a)| *a).collect();
    db::usage::notify_changed(&mut *tx, &accounts).await?;
    tx.commit().await?;
    t.cache.invalidate(&accounts);
    db::rate_windows::prune(&t.pool).await?;
    db::login_failures::prune(&t.pool).await?;
    db::password_resets::prune(&t.pool).await?;
    db::sessions::delete_expired(&t.pool).await?;
    Ok(())
}
