//! The admin panel's changes: disable and enable a user, and the support tools
//! (extend a trial, apply a credit, send a password-reset link). Each answers a
//! plain form post with a redirect back to the detail page.

use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::parse_id;

/// The detail page of the account's user or organization, to return to.
#[cfg(feature = "ssr")]
async fn page_of_account(t: &tollgate::service::Tollgate, account_id: uuid::Uuid) -> Result<String, AppError> {
    let account = tollgate::db::accounts::by_id(&t.pool, account_id)
        .await
        .map_err(tollgate::service::Error::from)?
        .ok_or_else(|| AppError::NotFound("There is no such account.".into()))?;
    let owner: Option<uuid::Uuid> = if account.kind == "personal" {
        tollgate::db::admin::members_of(&t.pool, account_id).await.map_err(tollgate::service::Error::from)?.first().map(|m| m.user_id)
    } else {
        None
    };
    Ok(match owner {
        Some(user) => format!("/admin/users/{user}"),
        None => format!("/admin/organizations/{account_id}"),
    })
}

/// Disables a user: they cannot log in, and their sessions end at once.
#[server(prefix = "/_fn", endpoint = "admin_user_disable")]
pub async fn disable_user(id: String) -> Result<(), AppError> {
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let id = parse_id(&id, "user")?;
    tollgate::service::admin::users::disable(&t.pool, &me.actor(), id).await?;
    leptos_axum::redirect(&format!("/admin/users/{id}"));
    Ok(())
}

/// Enables a disabled user.
#[server(prefix = "/_fn", endpoint = "admin_user_enable")]
pub async fn enable_user(id: String) -> Result<(), AppError> {
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let id = parse_id(&id, "user")?;
    tollgate::service::admin::users::enable(&t.pool, &me.actor(), id).await?;
    leptos_axum::redirect(&format!("/admin/users/{id}"));
    Ok(())
}

/// Extends the account's trial by `days` (1–90); returns the new trial end.
#[server(prefix = "/_fn", endpoint = "admin_extend_trial")]
pub async fn extend_trial(account_id: String, days: String) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let account_id = parse_id(&account_id, "account")?;
    let keep = [("days", days.as_str())];
    let parsed: i64 = days.trim().parse().map_err(|_| AppError::from(crate::error::FormError::field("days", "Enter a number of days from 1 to 90.")).with_values(&keep))?;
    let end = tollgate::service::admin::support::extend_trial(&t, &me.actor(), account_id, parsed, chrono::Utc::now())
        .await
        .map_err(|e| AppError::from(e).with_values(&keep))?;
    leptos_axum::redirect(&page_of_account(&t, account_id).await?);
    Ok(end)
}

/// Adds `amount` in `currency` to the account's credit balance for `reason`;
/// returns the new balance for display.
#[server(prefix = "/_fn", endpoint = "admin_apply_credit")]
pub async fn apply_credit(account_id: String, amount: String, currency: String, reason: String) -> Result<String, AppError> {
    use tollgate::service::admin::support;
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let account_id = parse_id(&account_id, "account")?;
    let keep = [("amount", amount.as_str()), ("currency", currency.as_str()), ("reason", reason.as_str())];
    let credit = support::parse_credit(&amount, &currency, &reason).map_err(|e| AppError::from(e).with_values(&keep))?;
    let balance = support::apply_credit(&t, &me.actor(), account_id, &credit).await.map_err(|e| AppError::from(e).with_values(&keep))?;
    leptos_axum::redirect(&page_of_account(&t, account_id).await?);
    Ok(tollgate::money::Money::new(balance, credit.currency).display())
}

/// E-mails the user a password-reset link.
#[server(prefix = "/_fn", endpoint = "admin_send_reset")]
pub async fn send_password_reset(id: String) -> Result<(), AppError> {
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let id = parse_id(&id, "user")?;
    tollgate::service::admin::support::send_password_reset(&t, &me.actor(), id, chrono::Utc::now()).await?;
    leptos_axum::redirect(&format!("/admin/users/{id}?sent=reset"));
    Ok(())
}
