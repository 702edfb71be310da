//! `invoice_mailings` (migration 0028): what was e-mailed about each manual
//! invoice (issued, reminders, past due), each once; and the invoices the dunning
//! job looks at.

use super::invoices::InvoiceRow;
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// Records that `kind` (at `offset_days`) of `invoice` goes to `to` at `now`;
/// `false` when it was recorded before (by this process or another): then it
/// must not be sent again.
pub async fn claim(
    db: impl PgExecutor<'_>,
    invoice: &InvoiceRow,
    kind: &str,
    offset_days: i32,
    to: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO invoice_mailings (invoice_id, account_id, kind, offset_days, to_address, sent_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(invoice.id)
    .bind(invoice.account_id)
    .bind(kind)
    .bind(offset_days)
    .bind(to)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Open manual invoices issued since `since` (numbered) and not yet e-mailed,
/// oldest first, after `after` (issued_at and id, for paging), at most `limit`.
/// (An invoice issued paid, from credit, asks nothing of anyone.)
pub async fn unmailed(
    db: impl PgExecutor<'_>,
    since: DateTime<Utc>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<InvoiceRow>, sqlx::Error> {
    let (after_at, after_id) = after.map_or((None, None), |(d, i)| (Some(d), Some(i)));
    sqlx::query_as(&format!(
        "SELECT {} FROM invoices
          WHERE provider = 'manual' AND status = 'open' AND issued_at >= $1 AND number IS NOT NULL
            AND ($2::timestamptz IS NULL OR (issued_at, id) > ($2, $3))
            AND NOT EXISTS (SELECT 1 FROM invoice_mailings m WHERE m.account_id = invoices.account_id AND m.invoice_id = invoices.id AND m.kind = 'issued')
          ORDER BY issued_at, id LIMIT $4",
        super::invoices::COLUMNS
    ))
    .bind(since)
    .bind(after_at)
    .bind(after_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Open manual invoices due before `until` that were e-mailed as issued (an
/// invoice from before Tollgate e-mailed them, as after an upgrade, is never
/// chased: its customer was never told by Tollgate) and not yet escalated to past
/// due (after which nothing more is sent), soonest first, after `after`
/// (due date and id, for paging), at most `limit`.
pub async fn open_due_before(
    db: impl PgExecutor<'_>,
    until: DateTime<Utc>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<InvoiceRow>, sqlx::Error> {
    let (after_due, after_id) = after.map_or((None, None), |(d, i)| (Some(d), Some(i)));
    sqlx::query_as(&format!(
        "SELECT {} FROM invoices
          WHERE provider = 'manual' AND status = 'open' AND due_at < $1
            AND ($2::timestamptz IS NULL OR (due_at, id) > ($2, $3))
            AND EXISTS (SELECT 1 FROM invoice_mailings m
                         WHERE m.account_id = invoices.account_id AND m.invoice_id = invoices.id AND m.kind = 'issued')
            AND NOT EXISTS (SELECT 1 FROM invoice_mailings m
                             WHERE m.account_id = invoices.account_id AND m.invoice_id = invoices.id AND m.kind = 'past_due')
          ORDER BY due_at, id LIMIT $4",
        super::invoices::COLUMNS
    ))
    .bind(until)
    .bind(after_due)
    .bind(after_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

