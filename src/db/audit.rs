//! `audit_log`: append-only record of every change to money, membership, plan or
//! permission (the table refuses updates and deletes).

use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

/// Who did something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user, possibly impersonated by a super admin.
    User { id: Uuid, impersonator: Option<Uuid> },
    /// A request authenticated by an API key.
    ApiKey { id: Uuid },
    /// The operator CLI.
    Cli,
    /// Tollgate itself (scheduled jobs).
    System,
}

impl Actor {
    /// A user acting as themself.
    pub fn user(id: Uuid) -> Self {
        Actor::User { id, impersonator: None }
    }

    /// The acting user's id, if a user acts.
    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Actor::User { id, .. } => Some(*id),
            _ => None,
        }
    }
}

/// One entry.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub actor: &'a Actor,
    pub action: &'a str,
    pub target_kind: &'a str,
    pub target_id: String,
    pub account_id: Option<Uuid>,
    pub ip: Option<String>,
    pub details: Value,
}

/// Appends an entry.
pub async fn record(db: impl PgExecutor<'_>, e: &Entry<'_>) -> Result<(), sqlx::Error> {
    let (kind, user, key, impersonator) = match e.actor {
        Actor::User { id, impersonator } => ("user", Some(*id), None, *impersonator),
        Actor::ApiKey { id } => ("api_key", None, Some(*id), None),
        Actor::Cli => ("cli", None, None, None),
        Actor::System => ("system", None, None, None),
    };
    sqlx::query(
        "INSERT INTO audit_log (actor_kind, actor_user_id, actor_api_key_id, impersonator_user_id, action, target_kind, target_id, account_id, ip, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::inet, $10)",
    )
    .bind(kind)
    .bind(user)
    .bind(key)
    .bind(impersonator)
    .bind(e.action)
    .bind(e.target_kind)
    .bind(&e.target_id)
    .bind(e.account_id)
    .bind(e.ip.as_deref())
    .bind(&e.details)
    .execute(db)
    .await?;
    Ok(())
}

/// Actions recorded for `target_id`, oldest first (for tests and the admin panel).
pub async fn actions_for_target(db: impl PgExecutor<'_>, target_id: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT action FROM audit_log WHERE target_id = $1 ORDER BY id")
        .bind(target_id)
        .fetch_all(db)
        .await
}
