//! Platform keys (`tg_pk_…`) in the admin panel (`/admin/keys`, issue 11 §5): a
//! platform key may act for any account, so only a super admin acting as themself
//! lists, creates and revokes them (the CLI does the same with `tollgate keys`).
//! Creation and revocation are audited by [`crate::service::keys`].

use super::require_super_admin;
use crate::db::{self, api_keys::ApiKeyRow};
use crate::service::keys::{self, CreatedKey};
use crate::service::{Actor, Error, Tollgate};
use uuid::Uuid;

/// Every platform key, live ones first, newest first.
///
/// # Errors
/// [`Error::Forbidden`] unless a super admin acting as themself.
pub async fn list(t: &Tollgate, actor: &Actor) -> Result<Vec<ApiKeyRow>, Error> {
    require_super_admin(&t.pool, actor).await?;
    Ok(db::api_keys::platform_keys(&t.pool).await?)
}

/// Creates a platform key named `name`; its secret is in the answer, once.
///
/// # Errors
/// As [`list`]; [`Error::Invalid`] for a bad name.
pub async fn create(t: &Tollgate, actor: &Actor, name: &str) -> Result<CreatedKey, Error> {
    require_super_admin(&t.pool, actor).await?;
    keys::create_platform_key(&t.pool, name, actor).await
}

/// Revokes the platform key `id`: it answers `401` from then on.
///
/// # Errors
/// As [`list`]; [`Error::NotFound`] for an unknown or revoked platform key (an
/// account's key is revoked from its account, not here).
pub async fn revoke(t: &Tollgate, actor: &Actor, id: Uuid) -> Result<ApiKeyRow, Error> {
    require_super_admin(&t.pool, actor).await?;
    let key = db::api_keys::by_id(&t.pool, id).await?;
    if !key.is_some_and(|k| k.kind == "platform" && k.revoked_at.is_none()) {
        return Err(Error::NotFound(
            "There is no such live platform key.".into(),
        ));
    }
    keys::revoke_by_operator(&t.pool, id, actor).await
}
