//! The super admin panel's look-ups across `users`, `accounts`, `memberships` and
//! `subscriptions`: searches with filters and pages, and the detail pages' lists.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Search filters shared by users and organizations. `None` filters nothing.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Part of the e-mail or name (users) or name or slug (organizations),
    /// case-insensitive.
    pub query: Option<String>,
    /// Plan key of the live subscription.
    pub plan: Option<String>,
    /// Status of the live subscription, or `none` for accounts without one.
    pub status: Option<String>,
}

/// A user in the admin list; plan and status are those of their personal account.
#[derive(Debug, Clone, FromRow)]
pub struct UserListRow {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub is_super_admin: bool,
    pub disabled_at: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub plan_key: Option<String>,
    pub status: Option<String>,
}

const USER_FROM: &str = "FROM users u
     LEFT JOIN accounts a ON a.personal_user_id = u.id
     LEFT JOIN subscriptions s ON s.account_id = a.id AND s.status <> 'canceled'
     WHERE ($1::text IS NULL OR u.email ILIKE $1 ESCAPE '\\' OR u.name ILIKE $1 ESCAPE '\\')
       AND ($2::text IS NULL OR s.plan_key = $2)
       AND ($3::text IS NULL OR coalesce(s.status, 'none') = $3)";

fn pattern(q: &Option<String>) -> Option<String> {
    q.as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| format!("%{}%", like_escape(q)))
}

/// One page (`limit` after `offset`) of `SELECT {columns} {from} ORDER BY {order}`
/// and the number of matches, where `from` takes the filter as `$1` (LIKE pattern),
/// `$2` (plan) and `$3` (status).
async fn filtered_page<T>(
    db: &sqlx::PgPool,
    columns: &str,
    from: &str,
    order: &str,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<T>, i64), sqlx::Error>
where
    T: for<'r> FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let q = pattern(&f.query);
    let rows = sqlx::query_as(&format!(
        "SELECT {columns} {from} ORDER BY {order} LIMIT $4 OFFSET $5"
    ))
    .bind(&q)
    .bind(&f.plan)
    .bind(&f.status)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    let total = sqlx::query_scalar(&format!("SELECT count(*) {from}"))
        .bind(&q)
        .bind(&f.plan)
        .bind(&f.status)
        .fetch_one(db)
        .await?;
    Ok((rows, total))
}

/// One page of users matching `f`, newest first, and the number of matches.
pub async fn search_users(
    db: &sqlx::PgPool,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<UserListRow>, i64), sqlx::Error> {
    let columns = "u.id, u.email, u.name, u.is_super_admin, u.disabled_at, u.last_login_at, u.created_at, s.plan_key, s.status";
    filtered_page(
        db,
        columns,
        USER_FROM,
        "u.created_at DESC, u.id DESC",
        f,
        limit,
        offset,
    )
    .await
}

/// An organization in the admin list.
#[derive(Debug, Clone, FromRow)]
pub struct OrgListRow {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub members: i64,
    pub created_at: DateTime<Utc>,
    pub plan_key: Option<String>,
    pub status: Option<String>,
    pub seats: Option<i32>,
}

const ORG_FROM: &str = "FROM accounts a
     LEFT JOIN subscriptions s ON s.account_id = a.id AND s.status <> 'canceled'
     WHERE a.kind = 'organization'
       AND ($1::text IS NULL OR a.name ILIKE $1 ESCAPE '\\' OR a.slug ILIKE $1 ESCAPE '\\')
       AND ($2::text IS NULL OR s.plan_key = $2)
       AND ($3::text IS NULL OR coalesce(s.status, 'none') = $3)";

/// One page of organizations matching `f`, newest first, and the number of matches.
pub async fn search_orgs(
    db: &sqlx::PgPool,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<OrgListRow>, i64), sqlx::Error> {
    let columns = "a.id, a.name, a.slug, (SELECT count(*) FROM memberships m WHERE m.account_id = a.id) AS members,
                   a.created_at, s.plan_key, s.status, s.seats";
    filtered_page(
        db,
        columns,
        ORG_FROM,
        "a.created_at DESC, a.id DESC",
        f,
        limit,
        offset,
    )
    .await
}

/// An account a user belongs to, with their role.
#[derive(Debug, Clone, FromRow)]
pub struct MembershipRow {
    pub account_id: Uuid,
    pub kind: String,
    pub name: String,
    pub slug: Option<String>,
    pub role: String,
    pub created_at: DateTime<Utc>,
}

/// Every account of `user_id` (personal first, then organizations by name).
pub async fn memberships_of(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<Vec<MembershipRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.id AS account_id, a.kind, a.name, a.slug, m.role, m.created_at FROM memberships m
         JOIN accounts a ON a.id = m.account_id WHERE m.user_id = $1
         ORDER BY a.kind = 'organization', a.name",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// A member of an account.
#[derive(Debug, Clone, FromRow)]
pub struct MemberRow {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// The members of `account_id`, owner first, then by role and name.
pub async fn members_of(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> Result<Vec<MemberRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id AS user_id, u.email, u.name, m.role, u.disabled_at, m.created_at FROM memberships m
         JOIN users u ON u.id = m.user_id WHERE m.account_id = $1
         ORDER BY array_position(ARRAY['owner', 'admin', 'member', 'viewer'], m.role), u.name",
    )
    .bind(account_id)
    .fetch_all(db)
    .await
}

/// Numbers of users and organizations (subscriptions are counted by the
/// analytics, [`crate::analytics::report::Now`]).
pub async fn counts(db: &sqlx::PgPool) -> Result<(i64, i64), sqlx::Error> {
    let users = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(db)
        .await?;
    let orgs = sqlx::query_scalar("SELECT count(*) FROM accounts WHERE kind = 'organization'")
        .fetch_one(db)
        .await?;
    Ok((users, orgs))
}
