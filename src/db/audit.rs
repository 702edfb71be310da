//! `audit_log`: append-only record of every change to money, membership, plan or
//! permission (the table refuses updates and deletes).

use serde_json::Value;
use sqlx::PgExecutor;
use std::future::Future;
use std::net::IpAddr;
use uuid::Uuid;

tokio::task_local! {
    /// The address of the client whose request is being served: the server's
    /// middleware sets it around each request ([`with_client_ip`]).
    static CLIENT_IP: IpAddr;
}

/// Runs `f` with `ip` as the client address that every entry written meanwhile (in
/// this task, without an `ip` of its own) records: server functions, API calls,
/// and Stripe's webhooks (Stripe's address). Work on other tasks records none:
/// scheduled jobs, and what a page's resources write while it renders (they run
/// on tasks of their own).
pub async fn with_client_ip<F: Future>(ip: IpAddr, f: F) -> F::Output {
    CLIENT_IP.scope(ip, f).await
}

/// The client address of the request this task serves, if any.
pub fn client_ip() -> Option<IpAddr> {
    CLIENT_IP.try_with(|ip| *ip).ok()
}

/// Who did something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user, possibly impersonated by a super admin.
    User {
        id: Uuid,
        impersonator: Option<Uuid>,
    },
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
        Actor::User {
            id,
            impersonator: None,
        }
    }

    /// The acting user's id, if a user acts.
    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Actor::User { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// Whether a super admin acts as this user (impersonation).
    pub fn is_impersonated(&self) -> bool {
        matches!(
            self,
            Actor::User {
                impersonator: Some(_),
                ..
            }
        )
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
    /// The client address; `None` takes the served request's ([`with_client_ip`]).
    pub ip: Option<String>,
    pub details: Value,
}

/// Appends an entry, with the client address of the request being served when the
/// entry names none.
pub async fn record(db: impl PgExecutor<'_>, e: &Entry<'_>) -> Result<(), sqlx::Error> {
    let ip =
        e.ip.clone()
            .or_else(|| client_ip().map(|ip| ip.to_string()));
    let (kind, user, key, impersonator) = actor_columns(e.actor);
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
    .bind(ip)
    .bind(&e.details)
    .execute(db)
    .await?;
    Ok(())
}

/// The actor columns: kind, user, API key, impersonator.
fn actor_columns(actor: &Actor) -> (&'static str, Option<Uuid>, Option<Uuid>, Option<Uuid>) {
    match actor {
        Actor::User { id, impersonator } => ("user", Some(*id), None, *impersonator),
        Actor::ApiKey { id } => ("api_key", None, Some(*id), None),
        Actor::Cli => ("cli", None, None, None),
        Actor::System => ("system", None, None, None),
    }
}

/// [`record`] for many entries in one statement (a batch of the invoice run), in
/// their order; each takes the served request's client address when it names none.
pub async fn record_many(
    db: impl PgExecutor<'_>,
    entries: &[Entry<'_>],
) -> Result<(), sqlx::Error> {
    if entries.is_empty() {
        return Ok(());
    }
    let served = client_ip().map(|ip| ip.to_string());
    let actors: Vec<_> = entries.iter().map(|e| actor_columns(e.actor)).collect();
    sqlx::query(
        "INSERT INTO audit_log (actor_kind, actor_user_id, actor_api_key_id, impersonator_user_id, action, target_kind, target_id, account_id, ip, details)
         SELECT kind, usr, key, imp, action, target_kind, target_id, account_id, ip::inet, details
         FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::uuid[], $9::text[], $10::jsonb[])
              WITH ORDINALITY AS t(kind, usr, key, imp, action, target_kind, target_id, account_id, ip, details, n)
         ORDER BY n",
    )
    .bind(actors.iter().map(|a| a.0).collect::<Vec<_>>())
    .bind(actors.iter().map(|a| a.1).collect::<Vec<_>>())
    .bind(actors.iter().map(|a| a.2).collect::<Vec<_>>())
    .bind(actors.iter().map(|a| a.3).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.action).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.target_kind).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.target_id.as_str()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.account_id).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.ip.clone().or_else(|| served.clone())).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| &e.details).collect::<Vec<_>>())
    .execute(db)
    .await?;
    Ok(())
}

/// Actions recorded for `target_id`, oldest first (for tests and the admin panel).
pub async fn actions_for_target(
    db: impl PgExecutor<'_>,
    target_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT action FROM audit_log WHERE target_id = $1 ORDER BY id")
        .bind(target_id)
        .fetch_all(db)
        .await
}

/// An entry with the names of the users involved, for the admin panel.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub actor_kind: String,
    pub actor_user_id: Option<Uuid>,
    pub actor_email: Option<String>,
    pub impersonator_user_id: Option<Uuid>,
    pub impersonator_email: Option<String>,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub account_id: Option<Uuid>,
    /// The client address of the request that made the change (its TCP peer);
    /// none for the CLI and scheduled jobs.
    pub ip: Option<String>,
    pub details: Value,
}

const ROW: &str = "SELECT l.id, l.occurred_at, l.actor_kind, l.actor_user_id, au.email AS actor_email,
        l.impersonator_user_id, iu.email AS impersonator_email, l.action, l.target_kind, l.target_id,
        l.account_id, host(l.ip) AS ip, l.details
     FROM audit_log l
     LEFT JOIN users au ON au.id = l.actor_user_id
     LEFT JOIN users iu ON iu.id = l.impersonator_user_id";

/// Filters of the admin panel's audit log; `None` filters nothing.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Part of the acting user's or the impersonating admin's e-mail.
    pub actor: Option<String>,
    /// Start of the action (`impersonation.` finds every impersonation entry).
    pub action: Option<String>,
    /// The target's id, exactly.
    pub target: Option<String>,
    /// First day (UTC), inclusive.
    pub from: Option<chrono::NaiveDate>,
    /// Last day (UTC), inclusive.
    pub to: Option<chrono::NaiveDate>,
}

const WHERE: &str =
    "WHERE ($1::text IS NULL OR au.email ILIKE $1 ESCAPE '\\' OR iu.email ILIKE $1 ESCAPE '\\')
       AND ($2::text IS NULL OR l.action LIKE $2 ESCAPE '\\')
       AND ($3::text IS NULL OR l.target_id = $3)
       AND ($4::date IS NULL OR l.occurred_at >= ($4::date)::timestamp AT TIME ZONE 'UTC')
       AND ($5::date IS NULL OR l.occurred_at < ($5::date + 1)::timestamp AT TIME ZONE 'UTC')";

/// One page of entries matching `f`, newest first, and the number of matches.
pub async fn search(
    db: &sqlx::PgPool,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AuditRow>, i64), sqlx::Error> {
    use crate::db::admin::like_escape;
    let clean = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let actor = clean(&f.actor).map(|a| format!("%{}%", like_escape(&a)));
    let action = clean(&f.action).map(|a| format!("{}%", like_escape(&a)));
    let target = clean(&f.target);
    let rows = sqlx::query_as(&format!(
        "{ROW} {WHERE} ORDER BY l.id DESC LIMIT $6 OFFSET $7"
    ))
    .bind(&actor)
    .bind(&action)
    .bind(&target)
    .bind(f.from)
    .bind(f.to)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    let total = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM audit_log l LEFT JOIN users au ON au.id = l.actor_user_id LEFT JOIN users iu ON iu.id = l.impersonator_user_id {WHERE}"
    ))
    .bind(&actor)
    .bind(&action)
    .bind(&target)
    .bind(f.from)
    .bind(f.to)
    .fetch_one(db)
    .await?;
    Ok((rows, total))
}

/// The latest entries where `user_id` acted, impersonated, or was the target.
pub async fn recent_for_user(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{ROW} WHERE l.actor_user_id = $1 OR l.impersonator_user_id = $1 OR l.target_id = $1::text ORDER BY l.id DESC LIMIT $2"
    ))
    .bind(user_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The latest entries about `account_id` (its changes, or it as the target).
pub async fn recent_for_account(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{ROW} WHERE l.account_id = $1 OR l.target_id = $1::text ORDER BY l.id DESC LIMIT $2"
    ))
    .bind(account_id)
    .bind(limit)
    .fetch_all(db)
    .await
}
