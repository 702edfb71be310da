//! `accounts` and `memberships`.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// An account row.
#[derive(Debug, Clone, FromRow)]
pub struct AccountRow {
    pub id: Uuid,
    pub kind: String,
    pub name: String,
    pub slug: Option<String>,
    pub external_id: Option<String>,
    pub trial_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Days a manual invoice is due after it is issued.
    pub net_terms_days: i32,
}

const COLUMNS: &str =
    "a.id, a.kind, a.name, a.slug, a.external_id, a.trial_used_at, a.created_at, a.net_terms_days";

/// Creates `user_id`'s personal account, with the user as its owner.
pub async fn insert_personal(
    db: &mut sqlx::PgConnection,
    id: Uuid,
    user_id: Uuid,
    name: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO accounts (id, kind, name, personal_user_id) VALUES ($1, 'personal', $2, $3)",
    )
    .bind(id)
    .bind(name)
    .bind(user_id)
    .execute(&mut *db)
    .await?;
    insert_membership(&mut *db, id, user_id, "owner").await
}

/// Creates an organization account owned by `owner_id`.
pub async fn insert_organization(
    db: &mut sqlx::PgConnection,
    id: Uuid,
    name: &str,
    slug: &str,
    billing_email: &str,
    owner_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO accounts (id, kind, name, slug, billing_email) VALUES ($1, 'organization', $2, $3, $4)")
        .bind(id)
        .bind(name)
        .bind(slug)
        .bind(billing_email)
        .execute(&mut *db)
        .await?;
    insert_membership(&mut *db, id, owner_id, "owner").await
}

/// Adds a member.
pub async fn insert_membership(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    user_id: Uuid,
    role: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO memberships (account_id, user_id, role) VALUES ($1, $2, $3)")
        .bind(account_id)
        .bind(user_id)
        .bind(role)
        .execute(db)
        .await?;
    Ok(())
}

/// The account with `id`.
pub async fn by_id(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<AccountRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM accounts a WHERE a.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The account with external id `external_id`.
pub async fn by_external_id(
    db: impl PgExecutor<'_>,
    external_id: &str,
) -> Result<Option<AccountRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM accounts a WHERE a.external_id = $1"
    ))
    .bind(external_id)
    .fetch_optional(db)
    .await
}

/// The personal account of the user with `email`.
pub async fn personal_by_email(
    db: impl PgExecutor<'_>,
    email: &str,
) -> Result<Option<AccountRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM accounts a JOIN users u ON u.id = a.personal_user_id WHERE u.email = $1"
    ))
    .bind(email)
    .fetch_optional(db)
    .await
}

/// The personal account of `user_id`.
pub async fn personal_of(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<Option<AccountRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM accounts a WHERE a.personal_user_id = $1"
    ))
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// `user_id`'s role in `account_id`, if a member.
pub async fn role_of(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    user_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT role FROM memberships WHERE account_id = $1 AND user_id = $2")
        .bind(account_id)
        .bind(user_id)
        .fetch_optional(db)
        .await
}

/// Number of members (the seat count of an organization).
pub async fn member_count(db: impl PgExecutor<'_>, account_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM memberships WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(db)
        .await
}

/// Marks the account's one trial as used (no-op when already set).
pub async fn mark_trial_used(db: impl PgExecutor<'_>, account_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET trial_used_at = coalesce(trial_used_at, now()) WHERE id = $1")
        .bind(account_id)
        .execute(db)
        .await?;
    Ok(())
}

/// The names of `ids` (those that exist), as `(id, name)`.
pub async fn names(db: impl PgExecutor<'_>, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, name FROM accounts WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(db)
        .await
}

/// Every account's id, oldest first (`tollgate usage rebuild-rollups` over all).
pub async fn all_ids(db: impl PgExecutor<'_>) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM accounts ORDER BY created_at, id")
        .fetch_all(db)
        .await
}

/// Locks the account for a billing-cycle change: usage ingestion takes the same
/// lock shared (see [`begin_for_usage`]), so no event lands in a period that a
/// concurrent plan change is about to rebuild.
pub async fn lock_for_cycle_change(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 7))")
        .bind(account_id)
        .execute(db)
        .await?;
    Ok(())
}

/// [`lock_for_cycle_change`] on each of `account_ids`, taken in the ids' sorted order
/// (two batches of the invoice run never wait on each other in opposite orders).
pub async fn lock_for_cycle_change_many(
    db: impl PgExecutor<'_>,
    account_ids: &[Uuid],
) -> Result<(), sqlx::Error> {
    let mut ids = account_ids.to_vec();
    ids.sort();
    ids.dedup();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended(id::text, 7)) FROM unnest($1::uuid[]) AS t(id)")
        .bind(&ids)
        .execute(db)
        .await?;
    Ok(())
}

/// Begins a transaction holding the shared counterpart of
/// [`lock_for_cycle_change`] on `account_ids` (sorted, so that two batches never
/// wait on each other in opposite orders). The lock is taken inside the
/// [`super::Tx`], so a failure or a cancelled wait rolls the transaction back and
/// the connection goes back to the pool clean.
///
/// # Errors
/// A database error (the transaction is rolled back).
pub async fn begin_for_usage(
    pool: &sqlx::PgPool,
    account_ids: &[Uuid],
) -> Result<super::Tx<'static>, sqlx::Error> {
    let mut ids = account_ids.to_vec();
    ids.sort();
    ids.dedup();
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock_shared(hashtextextended(id::text, 7)) FROM unnest($1::uuid[]) AS t(id)")
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Who receives an account's e-mail (usage warnings): the billing e-mail when the
/// account has one, else its owner's e-mail; `owner_*` is the owner either way.
#[derive(Debug, Clone, FromRow)]
pub struct MailRecipient {
    pub account_name: String,
    /// `personal` or `organization`.
    pub account_kind: String,
    pub email: String,
    pub owner_name: String,
    pub owner_email: String,
}

/// The account's [`MailRecipient`]; `None` for an unknown account or one without an
/// owner.
pub async fn mail_recipient(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> Result<Option<MailRecipient>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.name AS account_name, a.kind AS account_kind, coalesce(a.billing_email, u.email) AS email, u.name AS owner_name, u.email AS owner_email
         FROM accounts a JOIN memberships m ON m.account_id = a.id AND m.role = 'owner' JOIN users u ON u.id = m.user_id
         WHERE a.id = $1",
    )
    .bind(account_id)
    .fetch_optional(db)
    .await
}

/// The account's payment terms for manual invoices, in days.
pub async fn net_terms_days(db: impl PgExecutor<'_>, account_id: Uuid) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar("SELECT net_terms_days FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(db)
        .await
}

/// The payment terms in days of each of `account_ids` (unknown accounts are absent).
pub async fn net_terms_days_many(
    db: impl PgExecutor<'_>,
    account_ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, i32>, sqlx::Error> {
    let rows: Vec<(Uuid, i32)> =
        sqlx::query_as("SELECT id, net_terms_days FROM accounts WHERE id = ANY($1)")
            .bind(account_ids)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().collect())
}

/// Sets the account's net terms and external id; a unique violation on
/// `accounts_external_id_key` when another account has that external id.
pub async fn set_terms(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    terms: &crate::terms::Terms,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET net_terms_days = $2, external_id = $3 WHERE id = $1")
        .bind(account_id)
        .bind(terms.net_terms_days)
        .bind(terms.external_id.as_deref())
        .execute(db)
        .await?;
    Ok(())
}
