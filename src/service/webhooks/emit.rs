//! The events that no audit entry announces (the audit log's trigger of migration
//! 0027 emits the others): usage thresholds and limits, trials ending, invoices
//! overdue, billing cycles ended, payments failed. Each is written in the
//! transaction of what causes it, or by the hourly job for what time causes.

use crate::db;
use crate::period::Period;
use crate::webhook::EventType;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// A meter's usage at a threshold or limit.
#[derive(Debug, Clone)]
pub struct UsageMark<'a> {
    pub account_id: Uuid,
    pub meter: &'a str,
    /// The meter's current period.
    pub period: Period,
    /// Usage so far this period.
    pub used: Decimal,
    /// The limit that applies (plan and overrides).
    pub limit: Decimal,
    /// The threshold reached, in percent of `limit`.
    pub percent: Decimal,
}

fn usage_data(m: &UsageMark<'_>) -> serde_json::Value {
    serde_json::json!({ "object": {
        "account": m.account_id, "meter": m.meter,
        "period_start": m.period.start, "period_end": m.period.end,
        "used": m.used.normalize().to_string(), "limit": m.limit.normalize().to_string(),
        "percent": m.percent.normalize().to_string(),
    }})
}

/// `usage.threshold_reached` for a catalog threshold reached for the first time
/// this period (the caller knows it is the first: the crossing was just recorded),
/// and `usage.limit_reached` too when it is 100 % or more.
///
/// # Errors
/// A database error.
pub async fn threshold_reached(conn: &mut PgConnection, m: &UsageMark<'_>) -> Result<(), sqlx::Error> {
    let data = usage_data(m);
    db::webhook_events::emit(&mut *conn, Some(m.account_id), EventType::UsageThresholdReached.as_str(), &data, None).await?;
    if m.percent >= Decimal::ONE_HUNDRED {
        limit_reached(conn, m).await?;
    }
    Ok(())
}

/// `usage.limit_reached` (usage at or past the limit) or, past it,
/// `usage.limit_exceeded` too: each once per account, meter and period.
///
/// # Errors
/// A database error.
pub async fn limit_reached(conn: &mut PgConnection, m: &UsageMark<'_>) -> Result<(), sqlx::Error> {
    let data = usage_data(m);
    let key = |kind: &str| format!("{kind}:{}:{}:{}", m.account_id, m.meter, m.period.start.timestamp());
    db::webhook_events::emit(&mut *conn, Some(m.account_id), EventType::UsageLimitReached.as_str(), &data, Some(&key("limit_reached"))).await?;
    if m.used > m.limit {
        db::webhook_events::emit(&mut *conn, Some(m.account_id), EventType::UsageLimitExceeded.as_str(), &data, Some(&key("limit_exceeded")))
            .await?;
    }
    Ok(())
}

/// What time causes: `subscription.trial_will_end` 3 days before a trial ends,
/// `invoice.overdue` once an open invoice's due date passed (each once). Returns
/// how many events were written.
///
/// # Errors
/// A database error.
pub async fn scheduled(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    let trials = db::webhook_events::emit_trials_ending(&mut *conn, now).await?;
    let overdue = db::webhook_events::emit_invoices_overdue(&mut *conn, now).await?;
    Ok(trials + overdue)
}
