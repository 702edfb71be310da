//! `notifications`: the in-app notification list.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// A notification.
#[derive(Debug, Clone, FromRow)]
pub struct NotificationRow {
    pub id: Uuid,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// Adds a notification for the account.
pub async fn insert(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    kind: &str,
    title: &str,
    body: &str,
    data: &serde_json::Value,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO notifications (id, account_id, kind, title, body, data) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id)
        .bind(account_id)
        .bind(kind)
        .bind(title)
        .bind(body)
        .bind(data)
        .execute(db)
        .await?;
    Ok(id)
}

/// A notification to insert with [`insert_many`].
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    pub account_id: Uuid,
    pub kind: &'a str,
    pub title: String,
    pub body: String,
    pub data: serde_json::Value,
}

/// [`insert`] for many notifications in one statement.
pub async fn insert_many(
    db: impl PgExecutor<'_>,
    rows: &[NewNotification<'_>],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO notifications (id, account_id, kind, title, body, data)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::jsonb[])",
    )
    .bind(rows.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.account_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.kind).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.title.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.body.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| &r.data).collect::<Vec<_>>())
    .execute(db)
    .await?;
    Ok(())
}

/// The account's notifications, newest first, `limit` after `offset`.
pub async fn list(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<Vec<NotificationRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, kind, title, body, created_at, read_at FROM notifications WHERE account_id = $1
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
    )
    .bind(account_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

/// Number of notifications and of unread ones.
pub async fn counts(db: impl PgExecutor<'_>, account_id: Uuid) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as("SELECT count(*), count(*) FILTER (WHERE read_at IS NULL) FROM notifications WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(db)
        .await
}

/// Marks every notification of the account read.
pub async fn mark_all_read(db: impl PgExecutor<'_>, account_id: Uuid) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE notifications SET read_at = now() WHERE account_id = $1 AND read_at IS NULL",
    )
    .bind(account_id)
    .execute(db)
    .await?
    .rows_affected())
}
