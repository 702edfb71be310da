//! `usage_reports` and `usage_report_lines` (migration 0025): each account's
//! monthly usage, stored once at the month's end from the daily rollup.

use super::usage_rollups::Figures;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// One line of a report: a meter's month for one member and property values.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct Line {
    pub meter: String,
    #[sqlx(flatten)]
    pub figures: Figures,
}

/// A stored report.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct Report {
    pub month: NaiveDate,
    pub generated_at: DateTime<Utc>,
}

/// Stores the reports of the month starting `month` (a first day) for every
/// account with usage in it and no report of it yet, in one statement; returns
/// how many reports were stored.
pub async fn store_month(db: impl PgExecutor<'_>, month: NaiveDate) -> Result<u64, sqlx::Error> {
    let stored: i64 = sqlx::query_scalar(
        "WITH bounds AS (SELECT $1::date AS first, ($1::date + interval '1 month')::date AS next),
         new AS (
             INSERT INTO usage_reports (account_id, month)
             SELECT DISTINCT r.account_id, b.first FROM usage_daily_rollups r, bounds b
              WHERE r.day >= b.first AND r.day < b.next
             ON CONFLICT DO NOTHING
             RETURNING account_id
         ),
         lines AS (
             INSERT INTO usage_report_lines
                 (account_id, month, meter, user_id, dimensions, events, quantity, max_quantity, last_quantity, cost)
             SELECT r.account_id, b.first, r.meter, r.user_id, r.dimensions, sum(r.events), sum(r.quantity),
                    max(r.max_quantity), (array_agg(r.last_quantity ORDER BY r.last_occurred_at DESC))[1], sum(r.cost)
               FROM usage_daily_rollups r JOIN new USING (account_id), bounds b
              WHERE r.day >= b.first AND r.day < b.next
              GROUP BY r.account_id, b.first, r.meter, r.user_id, r.dimensions
             RETURNING 1
         )
         SELECT count(*) FROM new",
    )
    .bind(month)
    .fetch_one(db)
    .await?;
    Ok(u64::try_from(stored).unwrap_or_default())
}

/// Whether any report of the month is stored.
pub async fn month_stored(db: impl PgExecutor<'_>, month: NaiveDate) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM usage_reports WHERE month = $1)")
        .bind(month)
        .fetch_one(db)
        .await
}

/// The account's reports, newest first, at most `limit`.
pub async fn list(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    limit: i64,
) -> Result<Vec<Report>, sqlx::Error> {
    sqlx::query_as(
        "SELECT month, generated_at FROM usage_reports WHERE account_id = $1 ORDER BY month DESC LIMIT $2",
    )
    .bind(account_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// One report's lines by meter, member and property values; `None` when the
/// account has no report of that month.
pub async fn lines(
    db: impl PgExecutor<'_> + Copy,
    account_id: Uuid,
    month: NaiveDate,
) -> Result<Option<(Report, Vec<Line>)>, sqlx::Error> {
    let report: Option<Report> = sqlx::query_as(
        "SELECT month, generated_at FROM usage_reports WHERE account_id = $1 AND month = $2",
    )
    .bind(account_id)
    .bind(month)
    .fetch_optional(db)
    .await?;
    let Some(report) = report else {
        return Ok(None);
    };
    let lines = sqlx::query_as(
        "SELECT meter, user_id, dimensions, events, quantity, max_quantity, last_quantity, cost
           FROM usage_report_lines WHERE account_id = $1 AND month = $2
          ORDER BY meter, user_id NULLS FIRST, dimensions",
    )
    .bind(account_id)
    .bind(month)
    .fetch_all(db)
    .await?;
    Ok(Some((report, lines)))
}
