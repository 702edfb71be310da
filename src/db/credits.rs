//! `credit_balance_transactions`: the ledger behind an account's credit balance.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// Appends a ledger row (positive: credit given; negative: credit consumed).
pub async fn insert(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    amount: Decimal,
    currency: &str,
    reason: &str,
    created_by: Option<Uuid>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO credit_balance_transactions (account_id, amount, currency, reason, created_by)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(account_id)
    .bind(amount)
    .bind(currency)
    .bind(reason)
    .bind(created_by)
    .fetch_one(db)
    .await
}

/// Appends a ledger row caused by an invoice (credit applied to it: negative;
/// credit left over by it: positive).
pub async fn insert_for_invoice(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    amount: Decimal,
    currency: &str,
    reason: &str,
    invoice_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO credit_balance_transactions (account_id, amount, currency, reason, invoice_id) VALUES ($1, $2, $3, $4, $5)")
        .bind(account_id)
        .bind(amount)
        .bind(currency)
        .bind(reason)
        .bind(invoice_id)
        .execute(db)
        .await?;
    Ok(())
}

/// A ledger row an invoice writes (see [`insert_for_invoice`]).
#[derive(Debug, Clone)]
pub struct InvoiceCredit<'a> {
    pub account_id: Uuid,
    /// Negative: taken from the balance; positive: added to it.
    pub amount: Decimal,
    pub currency: &'a str,
    pub reason: String,
    pub invoice_id: Uuid,
}

/// [`insert_for_invoice`] for many rows in one statement.
pub async fn insert_for_invoices(
    db: impl PgExecutor<'_>,
    rows: &[InvoiceCredit<'_>],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO credit_balance_transactions (account_id, amount, currency, reason, invoice_id)
         SELECT * FROM unnest($1::uuid[], $2::numeric[], $3::text[], $4::text[], $5::uuid[])",
    )
    .bind(rows.iter().map(|r| r.account_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.amount).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.currency).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.reason.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.invoice_id).collect::<Vec<_>>())
    .execute(db)
    .await?;
    Ok(())
}

/// The credit an invoice took from the balance (a positive amount), to give back
/// when it is voided.
pub async fn applied_to_invoice(
    db: impl PgExecutor<'_>,
    invoice_id: Uuid,
) -> Result<Decimal, sqlx::Error> {
    sqlx::query_scalar("SELECT coalesce(-sum(amount), 0) FROM credit_balance_transactions WHERE invoice_id = $1 AND amount < 0")
        .bind(invoice_id)
        .fetch_one(db)
        .await
}

/// The balance in one currency.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct BalanceRow {
    pub currency: String,
    pub balance: Decimal,
}

/// The account's balance per currency (currencies with ledger rows only), by code.
pub async fn balances(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> Result<Vec<BalanceRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT currency::text AS currency, sum(amount) AS balance FROM credit_balance_transactions
         WHERE account_id = $1 GROUP BY currency ORDER BY currency",
    )
    .bind(account_id)
    .fetch_all(db)
    .await
}

/// The balance in `currency` of each of `account_ids` (accounts without ledger rows
/// in it are absent).
pub async fn balances_in(
    db: impl PgExecutor<'_>,
    account_ids: &[Uuid],
    currency: &str,
) -> Result<std::collections::HashMap<Uuid, Decimal>, sqlx::Error> {
    let rows: Vec<(Uuid, Decimal)> = sqlx::query_as(
        "SELECT account_id, sum(amount) FROM credit_balance_transactions
         WHERE account_id = ANY($1) AND currency = $2 GROUP BY account_id",
    )
    .bind(account_ids)
    .bind(currency)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().collect())
}

/// One ledger row, for the admin panel.
#[derive(Debug, Clone, FromRow)]
pub struct TransactionRow {
    pub id: i64,
    pub amount: Decimal,
    pub currency: String,
    pub reason: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// The account's latest ledger rows, newest first.
pub async fn recent(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    limit: i64,
) -> Result<Vec<TransactionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, amount, currency::text AS currency, reason, created_by, created_at FROM credit_balance_transactions
         WHERE account_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(account_id)
    .bind(limit)
    .fetch_all(db)
    .await
}
