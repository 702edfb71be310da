//! `sessions`: the tower-sessions store, server-side in PostgreSQL.
//!
//! The session record is kept as JSON; the signed-in user's id is copied into its
//! own column so that all of a user's sessions can be ended at once.

use async_trait::async_trait;
use sqlx::PgPool;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use uuid::Uuid;

/// Session key holding the signed-in user's id.
pub const USER_ID_KEY: &str = "user_id";

/// A [`SessionStore`] on the `sessions` table.
#[derive(Debug, Clone)]
pub struct PgSessionStore {
    pool: PgPool,
}

impl PgSessionStore {
    /// A store on `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgSessionStore { pool }
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn user_of(record: &Record) -> Option<Uuid> {
    record
        .data
        .get(USER_ID_KEY)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

fn expires(record: &Record) -> Result<chrono::DateTime<chrono::Utc>, session_store::Error> {
    chrono::DateTime::from_timestamp(record.expiry_date.unix_timestamp(), 0)
        .ok_or_else(|| backend("expiry out of range"))
}

impl PgSessionStore {
    /// Runs `sql` with the record's id, user, data and expiry as `$1`–`$4`.
    /// Returns the rows written.
    async fn write(&self, sql: &str, record: &Record) -> session_store::Result<u64> {
        Ok(sqlx::query(sql)
            .bind(record.id.to_string())
            .bind(user_of(record))
            .bind(serde_json::to_value(&record.data).map_err(backend)?)
            .bind(expires(record)?)
            .execute(&self.pool)
            .await
            .map_err(backend)?
            .rows_affected())
    }
}

#[async_trait]
impl SessionStore for PgSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Retry on the (astronomically unlikely) id collision, as the trait asks.
        let insert = "INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING";
        while self.write(insert, record).await? == 0 {
            record.id = Id::default();
        }
        Ok(())
    }

    /// Updates a session that still exists, and only then: a session deleted
    /// meanwhile (log-out, log-out everywhere after a password reset, a disabled
    /// user) is not written back by a request that loaded it before (issue 12).
    /// New sessions go through [`SessionStore::create`].
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.write(
            "UPDATE sessions SET user_id = $2, data = $3, expires_at = $4 WHERE id = $1",
            record,
        )
        .await?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(serde_json::Value, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
            "SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > now()",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some((data, expires_at)) = row else {
            return Ok(None);
        };
        let expiry_date =
            time::OffsetDateTime::from_unix_timestamp(expires_at.timestamp()).map_err(backend)?;
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_value(data).map_err(backend)?,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for PgSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        delete_expired(&self.pool).await.map_err(backend)?;
        Ok(())
    }
}

/// Ends every session of `user_id` (log-out everywhere, a disabled user).
pub async fn delete_for_user(
    db: impl sqlx::PgExecutor<'_>,
    user_id: Uuid,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(db)
        .await?
        .rows_affected())
}

/// Deletes expired sessions.
pub async fn delete_expired(pool: &PgPool) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM sessions WHERE expires_at <= now()")
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

/// The user of the live session `id` (`None` once it was logged out or expired).
pub async fn live_user(pool: &PgPool, id: &Id) -> Result<Option<Uuid>, sqlx::Error> {
    Ok(sqlx::query_scalar::<_, Option<Uuid>>(
        "SELECT user_id FROM sessions WHERE id = $1 AND expires_at > now()",
    )
    .bind(id.to_string())
    .fetch_optional(pool)
    .await?
    .flatten())
}

/// The user of the live session `id` and the value its data holds under `key`
/// (`None` once the session was logged out or expired).
pub async fn live_user_and(
    pool: &PgPool,
    id: &Id,
    key: &str,
) -> Result<Option<(Option<Uuid>, Option<serde_json::Value>)>, sqlx::Error> {
    sqlx::query_as("SELECT user_id, data -> $2 FROM sessions WHERE id = $1 AND expires_at > now()")
        .bind(id.to_string())
        .bind(key)
        .fetch_optional(pool)
        .await
}

/// Live sessions of `user_id`.
pub async fn count_for_user(
    db: impl sqlx::PgExecutor<'_>,
    user_id: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id = $1 AND expires_at > now()")
        .bind(user_id)
        .fetch_one(db)
        .await
}
