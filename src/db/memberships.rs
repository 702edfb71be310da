//! Organization members and the organization's own fields (`memberships`,
//! `accounts` of kind `organization`, `subscriptions.seats`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// An organization with the asking user's role in it.
#[derive(Debug, Clone, FromRow)]
pub struct OrgRow {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub billing_email: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The user's role (`owner`, `admin`, `member`, `viewer`).
    pub role: String,
}

/// One member of an account.
#[derive(Debug, Clone, FromRow)]
pub struct MemberRow {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    pub role: String,
    pub joined_at: DateTime<Utc>,
}

/// The organization with `slug`, if `user_id` is a member of it (else `None`: the
/// same answer as for a slug that does not exist).
pub async fn org_for_member(
    db: impl PgExecutor<'_>,
    slug: &str,
    user_id: Uuid,
) -> Result<Option<OrgRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.id, a.name, a.slug, a.billing_email, a.created_at, m.role
         FROM accounts a JOIN memberships m ON m.account_id = a.id AND m.user_id = $2
         WHERE a.kind = 'organization' AND a.slug = $1",
    )
    .bind(slug)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// Every account `user_id` belongs to (personal and organizations), unordered.
pub async fn account_ids_of(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT account_id FROM memberships WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(db)
        .await
}

/// The organizations `user_id` belongs to, by name.
pub async fn orgs_of_user(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<Vec<OrgRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.id, a.name, a.slug, a.billing_email, a.created_at, m.role
         FROM accounts a JOIN memberships m ON m.account_id = a.id AND m.user_id = $1
         WHERE a.kind = 'organization' ORDER BY lower(a.name), a.slug",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// Members of `account_id`, owner first, then by name.
pub async fn members(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> Result<Vec<MemberRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id AS user_id, u.name, u.email, m.role, m.created_at AS joined_at
         FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.account_id = $1
         ORDER BY array_position(ARRAY['owner','admin','member','viewer'], m.role), lower(u.name), u.email",
    )
    .bind(account_id)
    .fetch_all(db)
    .await
}

/// Locks the membership row of `user_id` in `account_id` and returns the role.
pub async fn lock_role(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    user_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT role FROM memberships WHERE account_id = $1 AND user_id = $2 FOR UPDATE",
    )
    .bind(account_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// Sets a member's role; false when not a member.
pub async fn set_role(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    user_id: Uuid,
    role: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE memberships SET role = $3 WHERE account_id = $1 AND user_id = $2")
        .bind(account_id)
        .bind(user_id)
        .bind(role)
        .execute(db)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Removes a member; false when not a member.
pub async fn delete(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    user_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM memberships WHERE account_id = $1 AND user_id = $2")
        .bind(account_id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Updates an organization's name and billing e-mail.
pub async fn update_org(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    name: &str,
    billing_email: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE accounts SET name = $2, billing_email = $3 WHERE id = $1 AND kind = 'organization'",
    )
    .bind(account_id)
    .bind(name)
    .bind(billing_email)
    .execute(db)
    .await?;
    Ok(())
}

/// Locks the account row, serialising membership, invitation and seat changes of
/// one organization (seat counting must not race).
pub async fn lock_account(db: impl PgExecutor<'_>, account_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE")
        .bind(account_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Sets the seats of the account's live subscription; false without one.
pub async fn set_seats(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    seats: i32,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE subscriptions SET seats = $2, updated_at = now() WHERE account_id = $1 AND status <> 'canceled'")
        .bind(account_id)
        .bind(seats)
        .execute(db)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Usage of `meter` per acting user between `start` and `end` (sum of quantities,
/// or the peak for `max` meters when `peak`); events without a user are under `None`.
pub async fn usage_by_user(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    meter: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    peak: bool,
) -> Result<Vec<(Option<Uuid>, Decimal)>, sqlx::Error> {
    let agg = if peak {
        "max(quantity)"
    } else {
        "sum(quantity)"
    };
    sqlx::query_as(&format!(
        "SELECT user_id, {agg} FROM usage_events
         WHERE account_id = $1 AND meter = $2 AND occurred_at >= $3 AND occurred_at < $4
         GROUP BY user_id"
    ))
    .bind(account_id)
    .bind(meter)
    .bind(start)
    .bind(end)
    .fetch_all(db)
    .await
}
