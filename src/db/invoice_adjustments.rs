//! `invoice_adjustments` (migration 0024): what a usage correction changed on an
//! invoice already issued, waiting for the account's next invoice.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgExecutor};
use std::collections::HashMap;
use uuid::Uuid;

/// A manual invoice issued for a period a correction touched.
#[derive(Debug, Clone, FromRow)]
pub struct Corrected {
    pub id: Uuid,
    pub number: String,
    pub subscription_id: Uuid,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
}

/// A new adjustment.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAdjustment {
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub meter: String,
    /// Rounded to the currency's minor unit; negative: a credit.
    pub amount: Decimal,
    pub description: String,
}

/// An adjustment not billed yet.
#[derive(Debug, Clone, FromRow)]
pub struct Pending {
    pub account_id: Uuid,
    pub id: Uuid,
    pub meter: String,
    pub amount: Decimal,
    pub currency: String,
    pub description: String,
}

/// The account's issued manual invoices (not void) whose period holds one of
/// `times`, oldest first.
pub async fn invoices_covering(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    times: &[DateTime<Utc>],
) -> Result<Vec<Corrected>, sqlx::Error> {
    sqlx::query_as(
        "SELECT i.id, i.number, i.subscription_id, i.period_start, i.period_end FROM invoices i
          WHERE i.account_id = $1 AND i.provider = 'manual' AND i.status IN ('open', 'paid', 'uncollectible')
            AND i.subscription_id IS NOT NULL AND i.number IS NOT NULL
            AND EXISTS (SELECT 1 FROM unnest($2::timestamptz[]) AS t(at) WHERE t.at >= i.period_start AND t.at < i.period_end)
          ORDER BY i.period_start, i.id",
    )
    .bind(account_id)
    .bind(times)
    .fetch_all(db)
    .await
}

/// What the invoice has billed per meter so far: its usage lines, plus the
/// adjustments made to it since (billed or waiting).
pub async fn billed_by_meter(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    invoice_id: Uuid,
) -> Result<HashMap<String, Decimal>, sqlx::Error> {
    let rows: Vec<(String, Decimal)> = sqlx::query_as(
        "SELECT meter, sum(amount) FROM (
             SELECT meter, amount FROM invoice_lines
              WHERE account_id = $1 AND invoice_id = $2 AND kind = 'usage' AND meter IS NOT NULL
             UNION ALL
             SELECT meter, amount FROM invoice_adjustments WHERE account_id = $1 AND invoice_id = $2
         ) AS billed GROUP BY meter",
    )
    .bind(account_id)
    .bind(invoice_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Stores adjustments of one correction.
pub async fn insert_many(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    correction_id: Uuid,
    currency: &str,
    rows: &[NewAdjustment],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO invoice_adjustments (account_id, id, correction_id, invoice_id, meter, amount, currency, description)
         SELECT $1, id, $2, invoice_id, meter, amount, $3, description
           FROM unnest($4::uuid[], $5::uuid[], $6::text[], $7::numeric[], $8::text[]) AS t(id, invoice_id, meter, amount, description)",
    )
    .bind(account_id)
    .bind(correction_id)
    .bind(currency)
    .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.invoice_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.meter.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.amount).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.description.as_str()).collect::<Vec<_>>())
    .execute(db)
    .await?;
    Ok(())
}

/// The accounts' adjustments not billed yet, oldest first; with `lock`, locked
/// until the transaction ends (the invoice run bills them).
pub async fn pending(
    db: impl PgExecutor<'_>,
    account_ids: &[Uuid],
    lock: bool,
) -> Result<Vec<Pending>, sqlx::Error> {
    let sql = format!(
        "SELECT account_id, id, meter, amount, currency::text AS currency, description FROM invoice_adjustments
          WHERE account_id = ANY($1) AND applied_invoice_id IS NULL
          ORDER BY account_id, created_at, id{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    sqlx::query_as(&sql).bind(account_ids).fetch_all(db).await
}

/// Marks adjustments billed: `(account_id, adjustment id, invoice id)`.
pub async fn mark_applied(
    db: impl PgExecutor<'_>,
    applied: &[(Uuid, Uuid, Uuid)],
) -> Result<(), sqlx::Error> {
    if applied.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE invoice_adjustments a SET applied_invoice_id = t.invoice_id
           FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS t(account_id, id, invoice_id)
          WHERE a.account_id = t.account_id AND a.id = t.id",
    )
    .bind(applied.iter().map(|a| a.0).collect::<Vec<_>>())
    .bind(applied.iter().map(|a| a.1).collect::<Vec<_>>())
    .bind(applied.iter().map(|a| a.2).collect::<Vec<_>>())
    .execute(db)
    .await?;
    Ok(())
}
