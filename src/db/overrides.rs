//! `entitlement_overrides`: each account's own limits and feature values.

use crate::overrides::{Override, Overrides, Target};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgExecutor};
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Debug, FromRow)]
struct Row {
    account_id: Uuid,
    kind: String,
    key: String,
    value: Value,
    reason: String,
    author: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
}

impl Row {
    /// The override, or `None` for a value that no longer parses (skipped, not
    /// applied: the plan's value holds).
    fn parse(self) -> Option<(Uuid, Override)> {
        let target = match self.kind.as_str() {
            "limit" => Target::Limit {
                meter: self.key,
                value: serde_json::from_value(self.value).ok()?,
            },
            _ => Target::Feature {
                feature: self.key,
                value: serde_json::from_value(self.value).ok()?,
            },
        };
        Some((
            self.account_id,
            Override {
                target,
                reason: self.reason,
                author: self.author,
                created_at: self.created_at,
                expires_at: self.expires_at,
            },
        ))
    }
}

const COLUMNS: &str = "account_id, kind, key, value, reason, author, created_at, expires_at";

/// The account's overrides in force at `now` (expired ones left out), by kind and key.
pub async fn active(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Overrides, sqlx::Error> {
    Ok(active_for(db, &[account_id], now)
        .await?
        .remove(&account_id)
        .unwrap_or_default())
}

/// The overrides in force at `now` of several accounts (accounts without any are absent).
pub async fn active_for(
    db: impl PgExecutor<'_>,
    account_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, Overrides>, sqlx::Error> {
    if account_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM entitlement_overrides WHERE account_id = ANY($1) AND (expires_at IS NULL OR expires_at > $2) ORDER BY kind, key"
    ))
    .bind(account_ids)
    .bind(now)
    .fetch_all(db)
    .await?;
    let mut out: HashMap<Uuid, Overrides> = HashMap::new();
    for (account, o) in rows.into_iter().filter_map(Row::parse) {
        out.entry(account).or_default().entries.push(o);
    }
    Ok(out)
}

/// Every override of the account, expired ones too, newest first (for the admin page).
pub async fn all_for_account(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> Result<Vec<Override>, sqlx::Error> {
    let rows: Vec<Row> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM entitlement_overrides WHERE account_id = $1 ORDER BY created_at DESC, kind, key"))
            .bind(account_id)
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(Row::parse)
        .map(|(_, o)| o)
        .collect())
}

/// Sets (inserts or replaces) the account's override of `o.target`.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    o: &Override,
    created_by: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    let value = match &o.target {
        Target::Limit { value, .. } => serde_json::to_value(value),
        Target::Feature { value, .. } => serde_json::to_value(value),
    }
    .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query(
        "INSERT INTO entitlement_overrides (account_id, kind, key, value, reason, created_by, author, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (account_id, kind, key) DO UPDATE SET value = $4, reason = $5, created_by = $6, author = $7, created_at = $8, expires_at = $9",
    )
    .bind(account_id)
    .bind(o.target.kind())
    .bind(o.target.key())
    .bind(value)
    .bind(&o.reason)
    .bind(created_by)
    .bind(&o.author)
    .bind(o.created_at)
    .bind(o.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Removes the account's override of `kind` (`limit`/`feature`) `key`; the removed
/// one, if there was one.
pub async fn remove(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    kind: &str,
    key: &str,
) -> Result<Option<Value>, sqlx::Error> {
    sqlx::query_scalar("DELETE FROM entitlement_overrides WHERE account_id = $1 AND kind = $2 AND key = $3 RETURNING value")
        .bind(account_id)
        .bind(kind)
        .bind(key)
        .fetch_optional(db)
        .await
}
