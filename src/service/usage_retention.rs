//! Upkeep of `usage_events`' monthly partitions (migration 0020): each month gets its
//! partition before its first event can arrive, and with a retention set, months
//! past it are forgotten whole (issue 12, "usage_events partitioned by time, with a
//! retention setting").

use super::ingest::MAX_AGE_DAYS;
use super::Actor;
use crate::db::{self, usage_partitions};
use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use sqlx::PgPool;

/// Shortest retention, in months: a yearly subscription's invoice reads the usage of
/// its whole 12-month period; the invoice run bills a period in the month after it
/// closes; and events may be back-dated 35 days ([`MAX_AGE_DAYS`]).
pub const MIN_MONTHS: u32 = 14;

/// Longest retention, in months (100 years; unset keeps every event).
pub const MAX_MONTHS: u32 = 1200;

/// Months whose partitions are created ahead of the current one.
pub const MONTHS_AHEAD: u32 = 2;

/// How often [`run`] works.
pub const PERIOD: std::time::Duration = std::time::Duration::from_secs(3600);

/// How long raw usage events are kept, in whole calendar months (UTC) before the
/// current one. Period totals, invoices and the audit log are kept regardless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    months: u32,
}

impl Retention {
    /// A retention of `months`.
    ///
    /// # Errors
    /// A message naming the bounds when `months` is below [`MIN_MONTHS`] or above
    /// [`MAX_MONTHS`].
    pub fn parse(months: u32) -> Result<Self, String> {
        if !(MIN_MONTHS..=MAX_MONTHS).contains(&months) {
            return Err(format!(
                "usage_retention_months must be between {MIN_MONTHS} and {MAX_MONTHS} (a yearly invoice reads 12 months of usage, billed the month after, with events back-dated up to {MAX_AGE_DAYS} days); leave it unset to keep every event"
            ));
        }
        Ok(Retention { months })
    }

    /// The retention in months.
    pub fn months(self) -> u32 {
        self.months
    }

    /// The first instant (UTC) still kept at `now`: the start of the month `months`
    /// before `now`'s month. With 14 months in 2026-12, events from 2025-10-01 on.
    pub fn cutoff(self, now: DateTime<Utc>) -> DateTime<Utc> {
        let this_month = usage_partitions::month_containing(now);
        usage_partitions::month_start(
            this_month
                .checked_sub_months(Months::new(self.months))
                .unwrap_or(NaiveDate::MIN),
        )
    }
}

/// What one [`upkeep`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Upkeep {
    /// Partitions created.
    pub created: i64,
    /// What retention removed.
    pub dropped: usage_partitions::Dropped,
}

/// Creates the partitions of every month an event may be recorded in at `now` (from
/// [`MAX_AGE_DAYS`] back to [`MONTHS_AHEAD`] ahead), then, with a `retention`,
/// forgets the events before its cutoff and writes what it dropped to the audit log
/// (`usage.events_forgotten`, by the system). Safe to run in every process at once.
///
/// # Errors
/// Database errors; partitions created before the error stay.
pub async fn upkeep(
    pool: &PgPool,
    retention: Option<Retention>,
    now: DateTime<Utc>,
) -> Result<Upkeep, sqlx::Error> {
    let ahead = now
        .checked_add_months(Months::new(MONTHS_AHEAD))
        .unwrap_or(now);
    let created =
        usage_partitions::ensure_months(pool, now - Duration::days(MAX_AGE_DAYS), ahead).await?;
    let Some(retention) = retention else {
        return Ok(Upkeep {
            created,
            dropped: Default::default(),
        });
    };
    let cutoff = retention.cutoff(now);
    let dropped = usage_partitions::drop_before(pool, cutoff).await?;
    if dropped != usage_partitions::Dropped::default() {
        db::audit::record(
            pool,
            &db::audit::Entry {
                actor: &Actor::System,
                action: "usage.events_forgotten",
                target_kind: "usage_events",
                target_id: cutoff.to_rfc3339(),
                account_id: None,
                ip: None,
                details: serde_json::json!({
                    "retention_months": retention.months(),
                    "before": cutoff,
                    "months": dropped.months.iter().map(|m| m.format("%Y-%m").to_string()).collect::<Vec<_>>(),
                    "default_partition_rows": dropped.default_rows,
                    "idempotency_keys": dropped.keys,
                    "stripe_meter_reports": dropped.meter_reports,
                }),
            },
        )
        .await?;
    }
    Ok(Upkeep { created, dropped })
}

/// Runs [`upkeep`] now and then every [`PERIOD`], forever, logging what it did.
pub async fn run(pool: PgPool, retention: Option<Retention>) {
    let mut tick = tokio::time::interval(PERIOD);
    loop {
        tick.tick().await;
        match upkeep(&pool, retention, Utc::now()).await {
            Ok(u) if u != Upkeep::default() => tracing::info!(
                created = u.created,
                dropped_months = u.dropped.months.len(),
                idempotency_keys = u.dropped.keys,
                "usage partitions kept up"
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "usage partition upkeep failed; retrying in an hour")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retention_is_bounded_and_cuts_at_a_month_start() {
        assert!(Retention::parse(13).is_err());
        assert!(Retention::parse(MAX_MONTHS + 1).is_err());
        let r = Retention::parse(14).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 5, 23, 40, 0).unwrap();
        assert_eq!(
            r.cutoff(now),
            Utc.with_ymd_and_hms(2025, 10, 1, 0, 0, 0).unwrap()
        );
        let first = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        assert_eq!(
            r.cutoff(first),
            Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
        );
    }
}
