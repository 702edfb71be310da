//! API keys from the settings page.
//!
//! A new key's secret is returned once. A plain form post (no JavaScript) cannot
//! receive a return value, so the secret then travels back in a short-lived
//! HttpOnly cookie scoped to the keys page and bound to the user who created it,
//! which the page reads and clears at once; it is never stored on the server.

use crate::error::AppError;
use crate::model::{ApiKeyView, NewApiKey};
use leptos::prelude::*;

/// Name of the one-time cookie carrying a new key to a page without JavaScript.
pub const NEW_KEY_COOKIE: &str = "tg_new_key";
/// Path the cookie is scoped to.
pub const KEYS_PATH: &str = "/settings/api-keys";

/// The account's keys, newest first.
#[server(prefix = "/_fn", endpoint = "api_keys")]
pub async fn list_api_keys() -> Result<Vec<ApiKeyView>, AppError> {
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    let keys = tollgate::service::keys::list(&t.pool, me.account_id, me.user.id).await?;
    Ok(keys.into_iter().map(ApiKeyView::from).collect())
}

/// Creates a key and returns its secret, once.
#[server(prefix = "/_fn", endpoint = "api_key_create")]
pub async fn create_api_key(name: String) -> Result<NewApiKey, AppError> {
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    let created =
        tollgate::service::keys::create_account_key(&t.pool, me.account_id, &name, &me.actor())
            .await
            .map_err(|e| AppError::from(e).with_values(&[("name", name.as_str())]))?;
    let key = NewApiKey {
        name: created.key.name,
        secret: created.secret,
    };
    ssr::hand_over(&t, &me.user, NEW_KEY_COOKIE, KEYS_PATH, &key);
    Ok(key)
}

/// The signed-in user's e-mail address while it is not verified (`None` once it
/// is): what the API keys page asks them to confirm.
#[server(prefix = "/_fn", endpoint = "email_verification")]
pub async fn unverified_email() -> Result<Option<String>, AppError> {
    let me = super::ctx::require_signed_in().await?;
    Ok(me.user.verified_at.is_none().then(|| me.user.email.clone()))
}

/// Sends the signed-in user a new e-mail verification link (at most three in 15
/// minutes).
#[server(prefix = "/_fn", endpoint = "email_verification_send")]
pub async fn send_email_verification() -> Result<(), AppError> {
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    tollgate::service::email_verification::send(
        &t,
        &me.user,
        &tollgate::service::email_verification::After::ApiKeys,
        None,
        chrono::Utc::now(),
    )
    .await?;
    Ok(())
}

/// The key created by a plain form post, once: reading it clears the cookie. A
/// cookie left by another user of the same browser is dropped unread.
#[server(prefix = "/_fn", endpoint = "api_key_flash")]
pub async fn take_new_api_key() -> Result<Option<NewApiKey>, AppError> {
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    Ok(ssr::take_over(&t, &me.user, NEW_KEY_COOKIE, KEYS_PATH))
}

#[cfg(feature = "ssr")]
impl From<tollgate::db::api_keys::ApiKeyRow> for ApiKeyView {
    fn from(k: tollgate::db::api_keys::ApiKeyRow) -> Self {
        ApiKeyView {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::model::NewApiKey;
    use crate::server::ctx;
    use tollgate::db::users::UserRow;
    use tollgate::service::Tollgate;

    /// The `Set-Cookie` value of a one-time cookie `name` scoped to `path`.
    fn flash_cookie(name: &str, path: &str, value: &str, max_age: u32, secure: bool) -> String {
        format!(
            "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
            if secure { "; Secure" } else { "" }
        )
    }

    /// After a plain form post (no JavaScript to receive the answer), puts `key`
    /// in the one-time cookie `name` of the page at `path`, bound to `user`, for
    /// two minutes.
    pub fn hand_over(t: &Tollgate, user: &UserRow, name: &str, path: &str, key: &NewApiKey) {
        if ctx::is_plain_form_post() {
            let value = format!(
                "{}.{}.{}",
                user.id.simple(),
                key.secret,
                crate::pages::api_keys::encode_name(&key.name)
            );
            ctx::set_cookie(&flash_cookie(
                name,
                path,
                &value,
                120,
                t.settings.cookie_secure,
            ));
        }
    }

    /// The key [`hand_over`] left for `user` in cookie `name`, once: the cookie is
    /// cleared; one left by another user is dropped unread.
    pub fn take_over(t: &Tollgate, user: &UserRow, name: &str, path: &str) -> Option<NewApiKey> {
        let value = ctx::cookie(name)?;
        ctx::set_cookie(&flash_cookie(name, path, "", 0, t.settings.cookie_secure));
        let mut parts = value.splitn(3, '.');
        let (Some(owner), Some(secret), Some(key_name)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        (owner == user.id.simple().to_string()).then(|| NewApiKey {
            name: crate::pages::api_keys::decode_name(key_name),
            secret: secret.to_string(),
        })
    }
}

/// Revokes a key of the account; it answers `401` from then on.
#[server(prefix = "/_fn", endpoint = "api_key_revoke")]
pub async fn revoke_api_key(id: String) -> Result<(), AppError> {
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    let id = uuid::Uuid::parse_str(&id).map_err(|_| AppError::NotFound("No such key.".into()))?;
    tollgate::service::keys::revoke(&t.pool, me.account_id, id, &me.actor()).await?;
    leptos_axum::redirect(super::keys::KEYS_PATH);
    Ok(())
}
