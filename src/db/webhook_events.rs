//! `webhook_events` (migration 0027): what happened, written in the transaction
//! of the change, with its deliveries (`tollgate_webhook_emit`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// Writes an event of `event_type` about `account_id` (`None`: no account) with
/// `data`, and one delivery per enabled endpoint that wants it; nothing when none
/// does, or when `dedup_key` was used before. Returns the event's id when written.
pub async fn emit(
    db: impl PgExecutor<'_>,
    account_id: Option<Uuid>,
    event_type: &str,
    data: &serde_json::Value,
    dedup_key: Option<&str>,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT tollgate_webhook_emit($1, $2, $3, $4)")
        .bind(account_id)
        .bind(event_type)
        .bind(data)
        .bind(dedup_key)
        .fetch_one(db)
        .await
}

/// An event as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: Uuid,
    pub seq: i64,
    pub account_id: Option<Uuid>,
    #[sqlx(rename = "type")]
    pub event_type: String,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// The events with these ids.
pub async fn by_ids(db: impl PgExecutor<'_>, ids: &[Uuid]) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, seq, account_id, type, data, created_at FROM webhook_events WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(db)
        .await
}

/// Forgets events older than `before` whose deliveries are all finished (with
/// their deliveries and attempts); an event with a dedup key (one that must
/// happen once: an invoice overdue, a limit reached in a period) is kept until
/// `keys_before`, so that it is not emitted again meanwhile. Returns how many.
pub async fn prune(db: impl PgExecutor<'_>, before: DateTime<Utc>, keys_before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM webhook_events ev
          WHERE ev.created_at < $1 AND (ev.dedup_key IS NULL OR ev.created_at < $2)
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = ev.id AND d.status = 'pending')",
    )
    .bind(before)
    .bind(keys_before)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Wakes the delivery workers at commit (a replay made a delivery due).
pub async fn wake(db: impl PgExecutor<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify('tollgate_webhooks', '')").execute(db).await?;
    Ok(())
}

/// Emits `subscription.trial_will_end` for every trialing subscription whose
/// trial ends within 3 days of `now` (once per subscription and trial end);
/// returns how many were written.
pub async fn emit_trials_ending(db: impl PgExecutor<'_>, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(tollgate_webhook_emit(s.account_id, 'subscription.trial_will_end',
                    jsonb_build_object('object', tollgate_webhook_subscription(s.account_id, s.id)),
                    'trial_will_end:' || s.id || ':' || extract(epoch FROM s.trial_end)::bigint))
           FROM subscriptions s
          WHERE s.status = 'trialing' AND s.trial_end > $1 AND s.trial_end <= $1 + interval '3 days'
            AND EXISTS (SELECT 1 FROM webhook_endpoints e
                         WHERE e.enabled AND (e.account_id IS NULL OR e.account_id = s.account_id))",
    )
    .bind(now)
    .fetch_one(db)
    .await
}

/// Emits `invoice.overdue` for every open invoice whose due date passed before
/// `now`, within the last 30 days (once per invoice; an endpoint added later does
/// not receive years of old invoices); returns how many were written.
pub async fn emit_invoices_overdue(db: impl PgExecutor<'_>, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(tollgate_webhook_emit(i.account_id, 'invoice.overdue',
                    jsonb_build_object('object', tollgate_webhook_invoice(i.account_id, i.id)),
                    'invoice_overdue:' || i.id))
           FROM invoices i
          WHERE i.status = 'open' AND i.due_at < $1 AND i.due_at >= $1 - interval '30 days'
            AND EXISTS (SELECT 1 FROM webhook_endpoints e
                         WHERE e.enabled AND (e.account_id IS NULL OR e.account_id = i.account_id))",
    )
    .bind(now)
    .fetch_one(db)
    .await
}

/// Emits `billing_cycle.ended` for the subscriptions' periods these invoices close
/// (once per subscription and period): the period, the invoice, and each meter's
/// usage counted in it.
pub async fn emit_cycles_ended(db: impl PgExecutor<'_>, invoice_ids: &[Uuid]) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(tollgate_webhook_emit(i.account_id, 'billing_cycle.ended',
                    jsonb_build_object('object', jsonb_build_object(
                        'account', i.account_id, 'subscription', i.subscription_id, 'plan', i.plan_key,
                        'period_start', i.period_start, 'period_end', i.period_end,
                        'invoice', tollgate_webhook_invoice(i.account_id, i.id),
                        'usage', (SELECT coalesce(jsonb_agg(jsonb_build_object('meter', t.meter, 'quantity', t.value::text,
                                                                              'period_start', t.period_start, 'period_end', t.period_end)
                                                            ORDER BY t.meter, t.period_start), '[]')
                                    FROM usage_totals t
                                   WHERE t.account_id = i.account_id
                                     AND t.period_start >= i.period_start AND t.period_start < i.period_end))),
                    'billing_cycle_ended:' || coalesce(i.subscription_id::text, i.id::text) || ':' || extract(epoch FROM i.period_start)::bigint))
           FROM invoices i
          WHERE i.id = ANY($1)
            AND EXISTS (SELECT 1 FROM webhook_endpoints e
                         WHERE e.enabled AND (e.account_id IS NULL OR e.account_id = i.account_id))",
    )
    .bind(invoice_ids)
    .fetch_one(db)
    .await
}

/// Emits `payment.failed` about a subscription gone past due and the invoice that
/// could not be collected (`None`: unknown), once per subscription and invoice.
pub async fn emit_payment_failed(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    subscription_id: Uuid,
    invoice_id: Option<Uuid>,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT tollgate_webhook_emit($1, 'payment.failed',
                    jsonb_build_object('object', jsonb_build_object(
                        'subscription', tollgate_webhook_subscription($1, $2),
                        'invoice', CASE WHEN $3::uuid IS NULL THEN NULL ELSE tollgate_webhook_invoice($1, $3) END)),
                    'payment_failed:' || $2 || ':' || coalesce($3::text, 'none'))",
    )
    .bind(account_id)
    .bind(subscription_id)
    .bind(invoice_id)
    .fetch_one(db)
    .await
}
