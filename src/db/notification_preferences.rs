//! `notification_preferences` (migration 0029): the kinds each user turned off.

use sqlx::PgExecutor;
use uuid::Uuid;

/// One kind turned off in one channel or both (`true`: on).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PreferenceRow {
    pub kind: String,
    pub in_app: bool,
    pub email: bool,
}

/// The user's rows.
pub async fn of_user(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Vec<PreferenceRow>, sqlx::Error> {
    sqlx::query_as("SELECT kind, in_app, email FROM notification_preferences WHERE user_id = $1 ORDER BY kind")
        .bind(user_id)
        .fetch_all(db)
        .await
}

/// Replaces the user's rows with `rows` (run in a transaction with [`clear`]).
pub async fn insert(db: impl PgExecutor<'_>, user_id: Uuid, rows: &[PreferenceRow]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notification_preferences (user_id, kind, in_app, email)
         SELECT $1, * FROM unnest($2::text[], $3::bool[], $4::bool[])",
    )
    .bind(user_id)
    .bind(rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.in_app).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.email).collect::<Vec<_>>())
    .execute(db)
    .await?;
    Ok(())
}

/// Removes the user's rows.
pub async fn clear(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM notification_preferences WHERE user_id = $1")
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Whether the owner of `account_id` turned off e-mail of `kind` (the account's
/// e-mail goes to its billing address or its owner: the owner decides).
pub async fn owner_muted_email(db: impl PgExecutor<'_>, account_id: Uuid, kind: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM notification_preferences p
                          JOIN memberships m ON m.user_id = p.user_id AND m.role = 'owner'
                         WHERE m.account_id = $1 AND p.kind = $2 AND NOT p.email)",
    )
    .bind(account_id)
    .bind(kind)
    .fetch_one(db)
    .await
}
