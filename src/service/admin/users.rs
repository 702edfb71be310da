//! Disabling and enabling users.

use super::{audit, require_super_admin, user};
use crate::db;
use crate::service::{Actor, Error};
use sqlx::PgPool;
use uuid::Uuid;

/// Disables `user_id`: log-in refuses them and every session of theirs ends at
/// once (their rows in `sessions` are deleted; an impersonation of them ends on
/// its next request), and every API key they created is revoked. Audited as
/// `user.disabled`.
///
/// # Errors
/// [`Error::Forbidden`] for a non-admin actor or a super admin disabling
/// themself; [`Error::NotFound`]; [`Error::Conflict`] when already disabled.
pub async fn disable(pool: &PgPool, actor: &Actor, user_id: Uuid) -> Result<u64, Error> {
    let admin = require_super_admin(pool, actor).await?;
    if admin.id == user_id {
        return Err(Error::Forbidden("You cannot disable yourself.".into()));
    }
    let mut tx = pool.begin().await?;
    let target = user(&mut *tx, user_id).await?;
    if !db::users::set_disabled(&mut *tx, user_id, true).await? {
        return Err(Error::Conflict(format!(
            "{} is already disabled.",
            target.email
        )));
    }
    let ended = db::sessions::delete_for_user(&mut *tx, user_id).await?;
    let keys = db::api_keys::revoke_created_by(&mut *tx, user_id, None).await?;
    let personal = db::accounts::personal_of(&mut *tx, user_id)
        .await?
        .map(|a| a.id);
    audit(
        &mut *tx,
        actor,
        "user.disabled",
        ("user", user_id.to_string()),
        personal,
        serde_json::json!({ "email": target.email, "sessions_ended": ended, "keys_revoked": keys }),
    )
    .await?;
    tx.commit().await?;
    Ok(ended)
}

/// Enables a disabled user again. Audited as `user.enabled`.
///
/// # Errors
/// [`Error::Forbidden`] for a non-admin actor; [`Error::NotFound`];
/// [`Error::Conflict`] when the user is not disabled.
pub async fn enable(pool: &PgPool, actor: &Actor, user_id: Uuid) -> Result<(), Error> {
    require_super_admin(pool, actor).await?;
    let mut tx = pool.begin().await?;
    let target = user(&mut *tx, user_id).await?;
    if !db::users::set_disabled(&mut *tx, user_id, false).await? {
        return Err(Error::Conflict(format!(
            "{} is not disabled.",
            target.email
        )));
    }
    let personal = db::accounts::personal_of(&mut *tx, user_id)
        .await?
        .map(|a| a.id);
    audit(
        &mut *tx,
        actor,
        "user.enabled",
        ("user", user_id.to_string()),
        personal,
        serde_json::json!({ "email": target.email }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
