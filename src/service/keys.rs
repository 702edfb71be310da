//! API keys: `tg_sk_…` act for one account, `tg_pk_…` (platform) for any
//! (API.md "Authentication"). A key is shown once; only its SHA-256 is stored, which
//! is enough for 190 random bits (no dictionary to attack, unlike passwords).

use super::accounts::{require_role, Role};
use super::{Actor, Error};
use crate::db::{self, api_keys::ApiKeyRow};
use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

/// Prefix of account keys.
pub const ACCOUNT_PREFIX: &str = "tg_sk_";
/// Prefix of platform keys.
pub const PLATFORM_PREFIX: &str = "tg_pk_";
/// Random characters after the prefix (base62: 32 × 5.95 ≈ 190 bits).
const SECRET_CHARS: usize = 32;
/// Characters of the key shown in lists (prefix + 6).
const VISIBLE_CHARS: usize = 12;

/// Who an API request acts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// An account key: its own account only.
    Account { key_id: Uuid, account_id: Uuid },
    /// A platform key: any account, named in the request.
    Platform { key_id: Uuid },
}

impl Caller {
    /// The key's id.
    pub fn key_id(&self) -> Uuid {
        match self {
            Caller::Account { key_id, .. } | Caller::Platform { key_id } => *key_id,
        }
    }

    /// For the audit log.
    pub fn actor(&self) -> Actor {
        Actor::ApiKey { id: self.key_id() }
    }
}

/// A freshly created key: the secret exists only here.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    /// The stored key.
    pub key: ApiKeyRow,
    /// The whole secret, to show once.
    pub secret: String,
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn generate(prefix: &str) -> String {
    let random: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(SECRET_CHARS)
        .map(char::from)
        .collect();
    format!("{prefix}{random}")
}

fn parse_name(name: &str) -> Result<String, Error> {
    crate::identity::parse_label(name, 100, "the key (such as \"production backend\")")
        .map_err(|e| Error::invalid("name", e.0))
}

async fn insert(
    pool: &PgPool,
    account_id: Option<Uuid>,
    name: &str,
    actor: &Actor,
) -> Result<CreatedKey, Error> {
    let name = parse_name(name)?;
    let (kind, prefix) = if account_id.is_some() {
        ("account", ACCOUNT_PREFIX)
    } else {
        ("platform", PLATFORM_PREFIX)
    };
    let secret = generate(prefix);
    let id = Uuid::now_v7();
    let visible: String = secret.chars().take(VISIBLE_CHARS).collect();
    let mut tx = pool.begin().await?;
    db::api_keys::insert(
        &mut *tx,
        &db::api_keys::NewKey {
            id,
            kind,
            account_id,
            name: &name,
            prefix: &visible,
            secret_hash: &hash(&secret),
            created_by: actor.user_id(),
        },
    )
    .await?;
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor,
            action: "api_key.created",
            target_kind: "api_key",
            target_id: id.to_string(),
            account_id,
            ip: None,
            details: serde_json::json!({ "name": name, "kind": kind, "prefix": visible }),
        },
    )
    .await?;
    tx.commit().await?;
    let key = db::api_keys::by_hash(pool, &hash(&secret))
        .await?
        .ok_or_else(|| Error::Internal("key vanished".into()))?;
    Ok(CreatedKey { key, secret })
}

/// An impersonating admin may look and help, but not take away credentials or
/// ownership in the customer's name (issue 12).
///
/// # Errors
/// [`Error::Forbidden`] naming `what` when `actor` is impersonated.
pub(crate) fn refuse_impersonated(actor: &Actor, what: &str) -> Result<(), Error> {
    if actor.is_impersonated() {
        return Err(Error::Forbidden(format!(
            "While impersonating you cannot {what}: ask the customer, or act as yourself."
        )));
    }
    Ok(())
}

/// Creates a key for `account_id`. A signed-in user must be its owner or an admin;
/// the operator CLI may create any.
///
/// # Errors
/// [`Error::Invalid`] for a bad name, [`Error::Forbidden`] for lesser roles and an
/// impersonating admin.
pub async fn create_account_key(
    pool: &PgPool,
    account_id: Uuid,
    name: &str,
    actor: &Actor,
) -> Result<CreatedKey, Error> {
    refuse_impersonated(actor, "create API keys")?;
    if let Some(user) = actor.user_id() {
        require_role(pool, account_id, user, Role::Admin).await?;
    }
    super::email_verification::require_verified(pool, actor).await?;
    insert(pool, Some(account_id), name, actor).await
}

/// Creates a platform key (operator CLI and super admins only; the caller checks).
///
/// # Errors
/// [`Error::Invalid`] for a bad name.
pub async fn create_platform_key(
    pool: &PgPool,
    name: &str,
    actor: &Actor,
) -> Result<CreatedKey, Error> {
    super::email_verification::require_verified(pool, actor).await?;
    insert(pool, None, name, actor).await
}

/// The account's keys, newest first. Any member may read the list (secrets are
/// never stored, so nothing secret is in it).
///
/// # Errors
/// [`Error::Forbidden`] for non-members.
pub async fn list(pool: &PgPool, account_id: Uuid, user_id: Uuid) -> Result<Vec<ApiKeyRow>, Error> {
    require_role(pool, account_id, user_id, Role::Viewer).await?;
    Ok(db::api_keys::for_account(pool, account_id).await?)
}

/// Revokes a key of the account; from then on it answers `401`.
///
/// # Errors
/// [`Error::Forbidden`] for lesser roles, [`Error::NotFound`] for an unknown or
/// already revoked key.
pub async fn revoke(
    pool: &PgPool,
    account_id: Uuid,
    key_id: Uuid,
    actor: &Actor,
) -> Result<ApiKeyRow, Error> {
    if let Some(user) = actor.user_id() {
        require_role(pool, account_id, user, Role::Admin).await?;
    }
    let mut tx = pool.begin().await?;
    let key = db::api_keys::revoke(&mut *tx, account_id, key_id)
        .await?
        .ok_or_else(|| Error::NotFound("no such live key on this account".into()))?;
    audit_revoked(&mut tx, actor, &key).await?;
    tx.commit().await?;
    Ok(key)
}

/// Records `api_key.revoked` for `key`.
async fn audit_revoked(tx: &mut db::Tx<'_>, actor: &Actor, key: &ApiKeyRow) -> Result<(), Error> {
    db::audit::record(
        &mut **tx,
        &db::audit::Entry {
            actor,
            action: "api_key.revoked",
            target_kind: "api_key",
            target_id: key.id.to_string(),
            account_id: key.account_id,
            ip: None,
            details: serde_json::json!({ "name": key.name, "kind": key.kind, "prefix": key.prefix }),
        },
    )
    .await?;
    Ok(())
}

/// Revokes any live key, an account's or a platform key, by its id: the operator's
/// move (the CLI; the caller checks who). Audited
/// as `api_key.revoked`.
///
/// # Errors
/// [`Error::NotFound`] for an unknown or already revoked key.
pub async fn revoke_by_operator(
    pool: &PgPool,
    key_id: Uuid,
    actor: &Actor,
) -> Result<ApiKeyRow, Error> {
    let mut tx = pool.begin().await?;
    let key = db::api_keys::revoke_any(&mut *tx, key_id)
        .await?
        .ok_or_else(|| Error::NotFound("no such live key".into()))?;
    audit_revoked(&mut tx, actor, &key).await?;
    tx.commit().await?;
    Ok(key)
}

fn well_formed(secret: &str) -> bool {
    (secret.starts_with(ACCOUNT_PREFIX) || secret.starts_with(PLATFORM_PREFIX))
        && secret.len() <= 64
}

/// [`authenticate`], answered from the process's [`super::state_cache`] when it
/// holds the key (no database round trip; `last_used_at` is still written at most
/// once a minute per key and process). Unknown and revoked keys are never held,
/// and a revocation drops the key from every process's cache when its
/// notification arrives (at once for revocations made by this process's
/// listener's peers; see the cache's documentation).
///
/// # Errors
/// As [`authenticate`].
pub async fn authenticate_cached(t: &super::Tollgate, secret: &str) -> Result<Caller, Error> {
    if !well_formed(secret) {
        return Err(Error::Unauthorized);
    }
    let h = hash(secret);
    let now = chrono::Utc::now().timestamp();
    if let Some(k) = t.cache.key(&h) {
        let last = k.touched.load(std::sync::atomic::Ordering::Relaxed);
        if now - last > 60
            && k.touched
                .compare_exchange(
                    last,
                    now,
                    std::sync::atomic::Ordering::Relaxed,
                    std::sync::atomic::Ordering::Relaxed,
                )
                .is_ok()
        {
            db::api_keys::touch(&t.pool, k.caller.key_id()).await?;
        }
        return Ok(k.caller);
    }
    let ticket = t.cache.key_ticket();
    let caller = authenticate(&t.pool, secret).await?;
    if let Some(ticket) = ticket {
        let entry = super::state_cache::KeyEntry {
            caller,
            touched: std::sync::atomic::AtomicI64::new(now),
            loaded: std::time::Instant::now(),
        };
        t.cache.put_key(h, ticket, std::sync::Arc::new(entry));
    }
    Ok(caller)
}

/// Authenticates a bearer secret against the database.
///
/// # Errors
/// [`Error::Unauthorized`] for a malformed, unknown or revoked key.
pub async fn authenticate(pool: &PgPool, secret: &str) -> Result<Caller, Error> {
    if !well_formed(secret) {
        return Err(Error::Unauthorized);
    }
    let key = db::api_keys::by_hash(pool, &hash(secret))
        .await?
        .ok_or(Error::Unauthorized)?;
    if key.revoked_at.is_some() {
        return Err(Error::Unauthorized);
    }
    if key
        .last_used_at
        .is_none_or(|t| chrono::Utc::now() - t > chrono::Duration::minutes(1))
    {
        db::api_keys::touch(pool, key.id).await?;
    }
    match (key.kind.as_str(), key.account_id) {
        ("account", Some(account_id)) => Ok(Caller::Account {
            key_id: key.id,
            account_id,
        }),
        ("platform", None) => Ok(Caller::Platform { key_id: key.id }),
        _ => Err(Error::Unauthorized),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_documented_shape() {
        let k = generate(ACCOUNT_PREFIX);
        assert_eq!(k.len(), ACCOUNT_PREFIX.len() + SECRET_CHARS);
        assert!(k.starts_with("tg_sk_"));
        assert_ne!(generate(ACCOUNT_PREFIX), k);
        assert_eq!(hash(&k).len(), 32);
        assert!(parse_name("  ").is_err());
        assert_eq!(parse_name(" prod ").expect("test fixture"), "prod");
    }
}
