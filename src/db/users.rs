//! `users`.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// A user row.
#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub is_super_admin: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// When the user proved their e-mail address (UTC); `None`: not yet.
    pub verified_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, email, name, password_hash, is_super_admin, last_login_at, disabled_at, created_at, verified_at";

/// Inserts a user, with the address counted as verified now when `verified`.
/// Fails with a unique violation on `users_email_key` when the e-mail is taken.
pub async fn insert(
    db: impl PgExecutor<'_>,
    id: Uuid,
    email: &str,
    name: &str,
    password_hash: &str,
    is_super_admin: bool,
    verified: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO users (id, email, name, password_hash, is_super_admin, verified_at) VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN now() END)")
        .bind(id)
        .bind(email)
        .bind(name)
        .bind(password_hash)
        .bind(is_super_admin)
        .bind(verified)
        .execute(db)
        .await?;
    Ok(())
}

/// Records that the user proved their address now, unless they already had.
/// Returns whether it changed.
pub async fn set_verified(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("UPDATE users SET verified_at = now() WHERE id = $1 AND verified_at IS NULL")
            .bind(id)
            .execute(db)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Locks the user's row until the transaction ends (things counted per user, such
/// as verification links sent, are decided one request at a time).
pub async fn lock(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// The user with `email` (already normalised to lower case).
pub async fn by_email(
    db: impl PgExecutor<'_>,
    email: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE email = $1"))
        .bind(email)
        .fetch_optional(db)
        .await
}

/// The user with `id`.
pub async fn by_id(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// How many users have an e-mail outside the given domains (lower case, e.g.
/// `tollgate.test`): the demo seed's check that a database holds only demo users.
pub async fn count_outside_domains(
    db: impl PgExecutor<'_>,
    domains: &[&str],
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM users WHERE NOT (lower(split_part(email, '@', 2)) = ANY($1))",
    )
    .bind(domains)
    .fetch_one(db)
    .await
}

/// Disables (`true`) or enables (`false`) a user; returns whether the row changed
/// (disabling a disabled user keeps the first time).
pub async fn set_disabled(
    db: impl PgExecutor<'_>,
    id: Uuid,
    disabled: bool,
) -> Result<bool, sqlx::Error> {
    let sql = if disabled {
        "UPDATE users SET disabled_at = now(), updated_at = now() WHERE id = $1 AND disabled_at IS NULL"
    } else {
        "UPDATE users SET disabled_at = NULL, updated_at = now() WHERE id = $1 AND disabled_at IS NOT NULL"
    };
    Ok(sqlx::query(sql).bind(id).execute(db).await?.rows_affected() == 1)
}

/// Replaces a user's password hash (an argon2id PHC string).
pub async fn set_password_hash(
    db: impl PgExecutor<'_>,
    id: Uuid,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(password_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// Records a successful log-in.
pub async fn touch_last_login(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET last_login_at = now(), updated_at = now() WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Members of `account_id` among `refs` (user ids or e-mails, as sent), as
/// `(reference, user id)` pairs; references that match no member are absent. Ids
/// and e-mails are looked up through their own indexes.
pub async fn members_by_ref(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    refs: &[String],
) -> Result<Vec<(String, Uuid)>, sqlx::Error> {
    let (mut id_refs, mut ids, mut email_refs, mut emails) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in refs {
        match Uuid::parse_str(r.trim()) {
            Ok(id) => {
                id_refs.push(r.as_str());
                ids.push(id);
            }
            Err(_) => {
                email_refs.push(r.as_str());
                emails.push(r.trim().to_lowercase());
            }
        }
    }
    sqlx::query_as(
        "SELECT r.ref, u.id FROM unnest($2::text[], $3::uuid[]) AS r(ref, id)
         JOIN users u ON u.id = r.id
         JOIN memberships m ON m.user_id = u.id AND m.account_id = $1
         UNION ALL
         SELECT r.ref, u.id FROM unnest($4::text[], $5::text[]) AS r(ref, email)
         JOIN users u ON u.email = r.email
         JOIN memberships m ON m.user_id = u.id AND m.account_id = $1",
    )
    .bind(account_id)
    .bind(&id_refs)
    .bind(&ids)
    .bind(&email_refs)
    .bind(&emails)
    .fetch_all(db)
    .await
}
