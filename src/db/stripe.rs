//! `stripe_customers` and `stripe_events` (migration 0011).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// The Stripe customer of `account_id`, if one was created.
pub async fn customer_of(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT customer_id FROM stripe_customers WHERE account_id = $1")
        .bind(account_id)
        .fetch_optional(db)
        .await
}

/// The account billed as Stripe customer `customer_id`.
pub async fn account_of(
    db: impl PgExecutor<'_>,
    customer_id: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT account_id FROM stripe_customers WHERE customer_id = $1")
        .bind(customer_id)
        .fetch_optional(db)
        .await
}

/// Records `customer_id` for `account_id`. Returns `false` (nothing stored) when
/// the account already has a customer.
pub async fn insert_customer(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    customer_id: &str,
    email: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO stripe_customers (account_id, customer_id, email) VALUES ($1, $2, $3) ON CONFLICT (account_id) DO NOTHING",
    )
    .bind(account_id)
    .bind(customer_id)
    .bind(email)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores the customer's billing e-mail as Stripe now reports it.
pub async fn set_customer_email(
    db: impl PgExecutor<'_>,
    customer_id: &str,
    email: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE stripe_customers SET email = $2, updated_at = now() WHERE customer_id = $1 AND email IS DISTINCT FROM $2")
        .bind(customer_id)
        .bind(email)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Claims event `id` for this transaction: `false` when it was processed before
/// (or is being processed by a concurrent delivery, which then wins or rolls back).
pub async fn claim_event(
    db: impl PgExecutor<'_>,
    id: &str,
    kind: &str,
    created: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("INSERT INTO stripe_events (id, type, created, outcome) VALUES ($1, $2, $3, 'pending') ON CONFLICT (id) DO NOTHING")
        .bind(id)
        .bind(kind)
        .bind(created)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Writes what the claimed event `id` did.
pub async fn set_outcome(
    db: impl PgExecutor<'_>,
    id: &str,
    outcome: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE stripe_events SET outcome = $2 WHERE id = $1")
        .bind(id)
        .bind(outcome)
        .execute(db)
        .await?;
    Ok(())
}

/// Records that Checkout session `session_id` of `account_id` completed.
pub async fn record_checkout(
    db: impl PgExecutor<'_>,
    session_id: &str,
    account_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO stripe_checkouts (session_id, account_id) VALUES ($1, $2) ON CONFLICT (account_id, session_id) DO NOTHING")
        .bind(session_id)
        .bind(account_id)
        .execute(db)
        .await?;
    Ok(())
}

/// The account of the completed Checkout session `session_id`.
pub async fn checkout_account(
    db: impl PgExecutor<'_>,
    session_id: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT account_id FROM stripe_checkouts WHERE session_id = $1")
        .bind(session_id)
        .fetch_optional(db)
        .await
}

/// Whether event `id` was processed.
pub async fn event_processed(db: impl PgExecutor<'_>, id: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM stripe_events WHERE id = $1)")
        .bind(id)
        .fetch_one(db)
        .await
}

/// When Stripe reported failed invoice payments (`invoice.payment_failed` events,
/// by their `created` time), from `since` on.
pub async fn failed_payments_since(
    db: impl PgExecutor<'_>,
    since: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar("SELECT created FROM stripe_events WHERE type = 'invoice.payment_failed' AND created >= $1 ORDER BY created")
        .bind(since)
        .fetch_all(db)
        .await
}
