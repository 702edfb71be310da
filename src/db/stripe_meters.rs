//! `stripe_usage_counters` and `stripe_meter_reports` (migration 0013): the usage job's
//! record of what goes to Stripe's billing meters. `subscriptions.stripe_metered_for` is
//! read and written in [`super::subscriptions`].

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A usage event not yet assigned a report, with what assigning it needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UnreportedEvent {
    pub event_id: Uuid,
    pub meter: String,
    pub quantity: Decimal,
    pub occurred_at: DateTime<Utc>,
    pub subscription_id: Uuid,
    /// The subscription's account (for its entitlement overrides).
    pub account_id: Uuid,
    pub plan_key: String,
    pub interval: String,
    pub seats: i32,
    pub cycle_anchor: DateTime<Utc>,
    pub stripe_customer: String,
}

/// Up to `limit` usage events, oldest first, of accounts whose live subscription Stripe
/// bills on a plan that prices their meter through Stripe (`billed`: `(plan_key, meter)`
/// pairs), that happened since the subscription started and since `since`, and have no
/// report yet.
pub async fn unreported(
    db: impl PgExecutor<'_>,
    billed: &[(String, String)],
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<UnreportedEvent>, sqlx::Error> {
    let (plans, meters): (Vec<&str>, Vec<&str>) =
        billed.iter().map(|(p, m)| (p.as_str(), m.as_str())).unzip();
    sqlx::query_as(
        "SELECT e.id AS event_id, e.meter, e.quantity, e.occurred_at, s.id AS subscription_id, s.account_id, s.plan_key, s.interval, s.seats,
                s.cycle_anchor, c.customer_id AS stripe_customer
         FROM subscriptions s
         JOIN stripe_customers c ON c.account_id = s.account_id
         JOIN unnest($1::text[], $2::text[]) AS b(plan_key, meter) ON b.plan_key = s.plan_key
         JOIN usage_events e ON e.account_id = s.account_id AND e.meter = b.meter
                            AND e.occurred_at >= GREATEST(s.created_at, $3)
         WHERE s.provider = 'stripe' AND s.status <> 'canceled'
           AND NOT EXISTS (SELECT 1 FROM stripe_meter_reports r WHERE r.account_id = e.account_id AND r.event_id = e.id)
         ORDER BY e.occurred_at, e.id
         LIMIT $4",
    )
    .bind(&plans)
    .bind(&meters)
    .bind(since)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Serialises the assignment of reports across processes for the rest of the transaction.
pub async fn lock_assignment(db: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('tollgate.stripe_meter_reports'))")
        .execute(db)
        .await?;
    Ok(())
}

/// Adds `quantity` to the usage counted for `(subscription, meter, period_start)` and returns
/// the count before it.
pub async fn count(
    db: &mut PgConnection,
    account_id: Uuid,
    subscription_id: Uuid,
    meter: &str,
    period_start: DateTime<Utc>,
    quantity: Decimal,
) -> Result<Decimal, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO stripe_usage_counters (account_id, subscription_id, meter, period_start, counted) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account_id, subscription_id, meter, period_start) DO UPDATE SET counted = stripe_usage_counters.counted + EXCLUDED.counted
         RETURNING counted - $5",
    )
    .bind(account_id)
    .bind(subscription_id)
    .bind(meter)
    .bind(period_start)
    .bind(quantity)
    .fetch_one(db)
    .await
}

/// A report to store: `value` whole units, pending when it is to be sent.
#[derive(Debug, Clone)]
pub struct NewReport<'a> {
    pub account_id: Uuid,
    pub event_id: Uuid,
    pub subscription_id: Uuid,
    pub stripe_customer: &'a str,
    pub event_name: &'a str,
    pub value: i64,
    pub occurred_at: DateTime<Utc>,
    pub send: bool,
}

/// Stores `r` (`pending` and due at once, or `included`).
pub async fn insert(db: impl PgExecutor<'_>, r: &NewReport<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO stripe_meter_reports (account_id, event_id, subscription_id, stripe_customer, event_name, value, occurred_at, status, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN 'pending' ELSE 'included' END, CASE WHEN $8 THEN now() END)",
    )
    .bind(r.account_id)
    .bind(r.event_id)
    .bind(r.subscription_id)
    .bind(r.stripe_customer)
    .bind(r.event_name)
    .bind(r.value)
    .bind(r.occurred_at)
    .bind(r.send)
    .execute(db)
    .await?;
    Ok(())
}

/// A report's key: its usage event, in its account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct ReportKey {
    pub account_id: Uuid,
    pub event_id: Uuid,
}

/// A claimed report to send.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueReport {
    #[sqlx(flatten)]
    pub key: ReportKey,
    pub stripe_customer: String,
    pub event_name: String,
    pub value: i64,
    pub occurred_at: DateTime<Utc>,
    pub attempts: i32,
}

/// Claims up to `limit` pending reports that are due, counting an attempt and moving
/// `next_attempt_at` `lease_seconds` ahead so no other worker claims them meanwhile
/// (`FOR UPDATE SKIP LOCKED`); a worker that dies leaves them to be claimed after the lease.
pub async fn claim_due(
    db: impl PgExecutor<'_>,
    limit: i64,
    lease_seconds: f64,
) -> Result<Vec<DueReport>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE stripe_meter_reports SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
         WHERE (account_id, event_id) IN (
             SELECT account_id, event_id FROM stripe_meter_reports WHERE status = 'pending' AND next_attempt_at <= now()
             ORDER BY next_attempt_at, occurred_at LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING account_id, event_id, stripe_customer, event_name, value, occurred_at, attempts",
    )
    .bind(limit)
    .bind(lease_seconds)
    .fetch_all(db)
    .await
}

/// Marks a claimed report sent.
pub async fn mark_sent(db: impl PgExecutor<'_>, key: ReportKey) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE stripe_meter_reports SET status = 'sent', sent_at = now(), next_attempt_at = NULL, last_error = NULL
                 WHERE account_id = $1 AND event_id = $2 AND status = 'pending'")
        .bind(key.account_id)
        .bind(key.event_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Schedules another attempt of a claimed report `delay_seconds` from now.
pub async fn mark_retry(
    db: impl PgExecutor<'_>,
    key: ReportKey,
    delay_seconds: f64,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE stripe_meter_reports SET next_attempt_at = now() + make_interval(secs => $3), last_error = $4
                 WHERE account_id = $1 AND event_id = $2 AND status = 'pending'")
        .bind(key.account_id)
        .bind(key.event_id)
        .bind(delay_seconds)
        .bind(error)
        .execute(db)
        .await?;
    Ok(())
}

/// Gives up on a claimed report.
pub async fn mark_failed(
    db: impl PgExecutor<'_>,
    key: ReportKey,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE stripe_meter_reports SET status = 'failed', next_attempt_at = NULL, last_error = $3
                 WHERE account_id = $1 AND event_id = $2 AND status = 'pending'",
    )
    .bind(key.account_id)
    .bind(key.event_id)
    .bind(error)
    .execute(db)
    .await?;
    Ok(())
}

/// Reports of `subscription_id` by status: `(status, count, units)`, for the operator's view and tests.
pub async fn summary(
    db: impl PgExecutor<'_>,
    subscription_id: Uuid,
) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT status, count(*), COALESCE(sum(value), 0)::bigint FROM stripe_meter_reports WHERE subscription_id = $1 GROUP BY status ORDER BY status",
    )
    .bind(subscription_id)
    .fetch_all(db)
    .await
}
