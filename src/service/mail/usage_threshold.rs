//! The usage warning e-mail (template `usage_threshold`), for thresholds whose
//! catalog actions include `email` (emtchat: 75 % and 90 %).

use crate::db;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// A threshold an account's meter reached for the first time this period.
#[derive(Debug, Clone)]
pub struct Warning<'a> {
    pub account_id: Uuid,
    /// The catalog's title (`EMTChat`).
    pub product: &'a str,
    /// Meter key, display name and unit.
    pub meter_key: &'a str,
    pub meter_name: &'a str,
    pub meter_unit: &'a str,
    /// The threshold, in percent (75).
    pub percent: Decimal,
    /// Usage this period after the events that crossed it.
    pub used: Decimal,
    /// The plan's included quantity.
    pub limit: Decimal,
    /// The entitled plan's key and name.
    pub plan_key: &'a str,
    pub plan_name: &'a str,
    /// The meter's current period.
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
}

/// The once-ever key of a warning: `threshold:<account>:<meter>:<period start>:<percent>`.
pub fn dedup_key(w: &Warning<'_>) -> String {
    format!(
        "threshold:{}:{}:{}:{}",
        w.account_id,
        w.meter_key,
        w.period_start.to_rfc3339(),
        w.percent.normalize()
    )
}

/// Enqueues the warning for the account's recipient (billing e-mail, else the
/// owner) unless it was enqueued before; returns whether it was. `public_url` is
/// the portal's base URL for the links. An account without an owner gets nothing.
///
/// # Errors
/// Database errors.
pub async fn enqueue(
    db: &mut PgConnection,
    public_url: &str,
    w: &Warning<'_>,
) -> Result<bool, super::Error> {
    let Some(to) = db::accounts::mail_recipient(&mut *db, w.account_id).await? else {
        tracing::warn!(account = %w.account_id, "usage warning e-mail not sent: the account has no owner");
        return Ok(false);
    };
    let used = w.used.normalize().to_string();
    let context = serde_json::json!({
        "product": w.product,
        "user": { "name": to.owner_name, "email": to.owner_email },
        "account": { "name": to.account_name, "kind": to.account_kind },
        "meter": { "key": w.meter_key, "name": w.meter_name, "unit": w.meter_unit },
        "usage": { (w.meter_key): used },
        "limit": w.limit.normalize().to_string(),
        "percent": w.percent.normalize().to_string(),
        "plan": { "key": w.plan_key, "name": w.plan_name },
        "period": {
            "start": w.period_start.format("%Y-%m-%d %H:%M UTC").to_string(),
            "end": w.period_end.format("%Y-%m-%d %H:%M UTC").to_string(),
        },
        "upgrade_link": format!("{public_url}/pricing"),
        "usage_link": format!("{public_url}/dashboard"),
    });
    super::enqueue(
        &mut *db,
        &to.email,
        "usage_threshold",
        &context,
        Some(&dedup_key(w)),
        Some(w.account_id),
    )
    .await
}
