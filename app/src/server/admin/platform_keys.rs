//! `/admin/keys`: platform keys (`tg_pk_…`), listed, created (the secret shown
//! once, as on the customer's keys page) and revoked by a super admin.

use crate::error::AppError;
use crate::model::{ApiKeyView, NewApiKey};
use leptos::prelude::*;

/// Name of the one-time cookie carrying a new platform key to a page without JavaScript.
pub const NEW_PLATFORM_KEY_COOKIE: &str = "tg_new_platform_key";
/// The page, which the cookie is scoped to.
pub const PLATFORM_KEYS_PATH: &str = "/admin/keys";

/// Every platform key, live ones first.
#[server(prefix = "/_fn", endpoint = "admin_platform_keys")]
pub async fn admin_platform_keys() -> Result<Vec<ApiKeyView>, AppError> {
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let keys = tollgate::service::admin::platform_keys::list(&t, &me.actor()).await?;
    Ok(keys.into_iter().map(ApiKeyView::from).collect())
}

/// Creates a platform key and returns its secret, once.
#[server(prefix = "/_fn", endpoint = "admin_platform_key_create")]
pub async fn admin_platform_key_create(name: String) -> Result<NewApiKey, AppError> {
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let created = tollgate::service::admin::platform_keys::create(&t, &me.actor(), &name)
        .await
        .map_err(|e| AppError::from(e).with_values(&[("name", name.as_str())]))?;
    let key = NewApiKey {
        name: created.key.name,
        secret: created.secret,
    };
    crate::server::keys::ssr::hand_over(
        &t,
        &me.user,
        NEW_PLATFORM_KEY_COOKIE,
        PLATFORM_KEYS_PATH,
        &key,
    );
    Ok(key)
}

/// The platform key created by a plain form post, once.
#[server(prefix = "/_fn", endpoint = "admin_platform_key_flash")]
pub async fn admin_take_new_platform_key() -> Result<Option<NewApiKey>, AppError> {
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    Ok(crate::server::keys::ssr::take_over(
        &t,
        &me.user,
        NEW_PLATFORM_KEY_COOKIE,
        PLATFORM_KEYS_PATH,
    ))
}

/// Revokes a platform key; it answers `401` from then on.
#[server(prefix = "/_fn", endpoint = "admin_platform_key_revoke")]
pub async fn admin_platform_key_revoke(id: String) -> Result<(), AppError> {
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let id = super::parse_id(&id, "key")?;
    tollgate::service::admin::platform_keys::revoke(&t, &me.actor(), id).await?;
    leptos_axum::redirect(PLATFORM_KEYS_PATH);
    Ok(())
}
