//! The admin panel's changes: disable and enable a user, and the support tools
//! (extend a trial, apply a credit, send a password-reset link). Each answers a
//! plain form post with a redirect back to the detail page.

use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::parse_id;

/// The detail page of the account's user or organization, to return to.
#[cfg(feature = "ssr")]
pub(super) async fn page_of_account(
    t: &tollgate::service::Tollgate,
    account_id: uuid::Uuid,
) -> Result<String, AppError> {
    let account = tollgate::db::accounts::by_id(&t.pool, account_id)
        .await
        .map_err(tollgate::service::Error::from)?
        .ok_or_else(|| AppError::NotFound("There is no such account.".into()))?;
    let owner: Option<uuid::Uuid> = if account.kind == "personal" {
        tollgate::db::admin::members_of(&t.pool, account_id)
            .await
            .map_err(tollgate::service::Error::from)?
            .first()
            .map(|m| m.user_id)
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
pub async fn extend_trial(
    account_id: String,
    days: String,
) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let account_id = parse_id(&account_id, "account")?;
    let keep = [("days", days.as_str())];
    let parsed: i64 = days.trim().parse().map_err(|_| {
        AppError::from(crate::error::FormError::field(
            "days",
            "Enter a number of days from 1 to 90.",
        ))
        .with_values(&keep)
    })?;
    let end = tollgate::service::admin::support::extend_trial(
        &t,
        &me.actor(),
        account_id,
        parsed,
        chrono::Utc::now(),
    )
    .await
    .map_err(|e| AppError::from(e).with_values(&keep))?;
    leptos_axum::redirect(&page_of_account(&t, account_id).await?);
    Ok(end)
}

/// Adds `amount` in `currency` to the account's credit balance for `reason`;
/// returns the new balance for display.
#[server(prefix = "/_fn", endpoint = "admin_apply_credit")]
pub async fn apply_credit(
    account_id: String,
    amount: String,
    currency: String,
    reason: String,
) -> Result<String, AppError> {
    use tollgate::service::admin::support;
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let account_id = parse_id(&account_id, "account")?;
    let keep = [
        ("amount", amount.as_str()),
        ("currency", currency.as_str()),
        ("reason", reason.as_str()),
    ];
    let credit = support::parse_credit(&amount, &currency, &reason)
        .map_err(|e| AppError::from(e).with_values(&keep))?;
    let balance = support::apply_credit(&t, &me.actor(), account_id, &credit)
        .await
        .map_err(|e| AppError::from(e).with_values(&keep))?;
    leptos_axum::redirect(&page_of_account(&t, account_id).await?);
    Ok(tollgate::money::Money::new(balance, credit.currency).display())
}

/// E-mails the user a password-reset link.
#[server(prefix = "/_fn", endpoint = "admin_send_reset")]
pub async fn send_password_reset(id: String) -> Result<(), AppError> {
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let id = parse_id(&id, "user")?;
    tollgate::service::admin::support::send_password_reset(&t, &me.actor(), id, chrono::Utc::now())
        .await?;
    leptos_axum::redirect(&format!("/admin/users/{id}?sent=reset"));
    Ok(())
}

/// Sets the account's override of `target`: `limit:<meter>` (`included`,
/// `enforcement`, `grace_percent`, each empty to keep the plan's) or
/// `feature:<feature>` (`value`), for `reason`, until the end of `until` (a UTC
/// date, `YYYY-MM-DD`; empty: until removed).
#[server(prefix = "/_fn", endpoint = "admin_set_override")]
#[allow(clippy::too_many_arguments)]
pub async fn set_override(
    account_id: String,
    target: String,
    included: Option<String>,
    enforcement: Option<String>,
    grace_percent: Option<String>,
    value: Option<String>,
    reason: String,
    until: Option<String>,
) -> Result<(), AppError> {
    use tollgate::overrides::Input;
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let account_id = parse_id(&account_id, "account")?;
    let (included, enforcement, grace_percent, value, until) = (
        included.unwrap_or_default(),
        enforcement.unwrap_or_default(),
        grace_percent.unwrap_or_default(),
        value.unwrap_or_default(),
        until.unwrap_or_default(),
    );
    let keep = [
        ("target", target.as_str()),
        ("included", included.as_str()),
        ("enforcement", enforcement.as_str()),
        ("grace_percent", grace_percent.as_str()),
        ("value", value.as_str()),
        ("reason", reason.as_str()),
        ("until", until.as_str()),
    ];
    let (kind, key) = target.split_once(':').unwrap_or(("", target.as_str()));
    let expires_at = match until.trim() {
        "" => None,
        d => Some(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .ok()
                .and_then(tollgate::overrides::expiry_after)
                .ok_or_else(|| {
                    AppError::from(crate::error::FormError::field(
                        "until",
                        "Enter a date as YYYY-MM-DD.",
                    ))
                    .with_values(&keep)
                })?,
        ),
    };
    let input = Input {
        kind,
        key,
        included: &included,
        enforcement: &enforcement,
        grace_percent: &grace_percent,
        value: &value,
    };
    tollgate::service::admin::overrides::set(
        &t,
        &me.actor(),
        account_id,
        &input,
        &reason,
        expires_at,
        chrono::Utc::now(),
    )
    .await
    .map_err(|e| AppError::from(e).with_values(&keep))?;
    leptos_axum::redirect(&page_of_account(&t, account_id).await?);
    Ok(())
}

/// Removes the account's override of `kind` `key`: the plan's value applies again.
#[server(prefix = "/_fn", endpoint = "admin_remove_override")]
pub async fn remove_override(
    account_id: String,
    kind: String,
    key: String,
) -> Result<(), AppError> {
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let account_id = parse_id(&account_id, "account")?;
    tollgate::service::admin::overrides::remove(&t, &me.actor(), account_id, &kind, &key).await?;
    leptos_axum::redirect(&page_of_account(&t, account_id).await?);
    Ok(())
}
