//! Account actions of the admin panel (issue 11 §5): change plan with the
//! customer's proration preview, cancel and reactivate, coupons, payment terms and
//! external id. Each answers a plain form post with a redirect back to the detail page.

use crate::error::AppError;
use crate::model::ChangePreview;
use leptos::prelude::*;

/// The super admin acting, the services and the account named by `account_id`.
#[cfg(feature = "ssr")]
async fn acting_on(
    account_id: &str,
) -> Result<
    (
        crate::server::ctx::SignedIn,
        tollgate::service::Tollgate,
        uuid::Uuid,
    ),
    AppError,
> {
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let account_id = super::parse_id(account_id, "account")?;
    Ok((me, t, account_id))
}

/// Answers a form post with the account's admin page.
#[cfg(feature = "ssr")]
async fn back_to(t: &tollgate::service::Tollgate, account_id: uuid::Uuid) -> Result<(), AppError> {
    leptos_axum::redirect(&super::actions::page_of_account(t, account_id).await?);
    Ok(())
}

/// The account's plan change preview for the admin's confirmation: moving
/// `account_id` to `plan` (any plan of the catalog) on `interval` at `timing`.
#[server(prefix = "/_fn", endpoint = "admin_preview_change")]
pub async fn admin_preview_change(
    account_id: String,
    plan: String,
    interval: String,
    timing: Option<String>,
) -> Result<ChangePreview, AppError> {
    use tollgate::service::plans::Chooser;
    let (me, t, account_id) = acting_on(&account_id).await?;
    crate::server::plans::ssr::preview(
        &t,
        account_id,
        &plan,
        &interval,
        timing.as_deref(),
        &me.actor(),
        Chooser::Operator,
    )
    .await
}

/// Moves the account to `plan` on `interval`, `now` or at the `period_end`.
#[server(prefix = "/_fn", endpoint = "admin_change_plan")]
pub async fn admin_change_plan(
    account_id: String,
    plan: String,
    interval: String,
    timing: Option<String>,
) -> Result<(), AppError> {
    use crate::error::FormError;
    use tollgate::service::provider::Timing;
    let (me, t, account_id) = acting_on(&account_id).await?;
    let interval = interval
        .parse::<tollgate::period::Interval>()
        .map_err(|e| FormError::field("interval", e.to_string()))?;
    let timing = timing
        .as_deref()
        .unwrap_or("now")
        .parse::<Timing>()
        .map_err(|e| FormError::field("timing", e))?;
    tollgate::service::admin::accounts::change_plan(
        &t,
        &me.actor(),
        account_id,
        &plan,
        interval,
        timing,
        chrono::Utc::now(),
    )
    .await?;
    back_to(&t, account_id).await
}

/// Ends the account's subscription at its period end.
#[server(prefix = "/_fn", endpoint = "admin_cancel_subscription")]
pub async fn admin_cancel_subscription(account_id: String) -> Result<(), AppError> {
    let (me, t, account_id) = acting_on(&account_id).await?;
    tollgate::service::admin::accounts::cancel(&t, &me.actor(), account_id, chrono::Utc::now())
        .await?;
    back_to(&t, account_id).await
}

/// Undoes a cancellation at the period end.
#[server(prefix = "/_fn", endpoint = "admin_reactivate_subscription")]
pub async fn admin_reactivate_subscription(account_id: String) -> Result<(), AppError> {
    let (me, t, account_id) = acting_on(&account_id).await?;
    tollgate::service::admin::accounts::reactivate(&t, &me.actor(), account_id, chrono::Utc::now())
        .await?;
    back_to(&t, account_id).await
}

/// Sets the account's net terms (0–120 days) and external id (empty clears it).
#[server(prefix = "/_fn", endpoint = "admin_set_terms")]
pub async fn admin_set_terms(
    account_id: String,
    net_terms_days: String,
    external_id: String,
) -> Result<(), AppError> {
    use crate::error::FormError;
    let (me, t, account_id) = acting_on(&account_id).await?;
    let keep = [
        ("net_terms_days", net_terms_days.as_str()),
        ("external_id", external_id.as_str()),
    ];
    let terms = tollgate::terms::Terms::parse(&net_terms_days, &external_id)
        .map_err(|r| AppError::from(FormError::field(r.field, r.message)).with_values(&keep))?;
    tollgate::service::admin::accounts::set_terms(&t, &me.actor(), account_id, &terms)
        .await
        .map_err(|e| AppError::from(e).with_values(&keep))?;
    back_to(&t, account_id).await
}

/// Applies catalog coupon `coupon` to the account from its next invoice, with who
/// verified it is eligible.
#[server(prefix = "/_fn", endpoint = "admin_apply_coupon")]
pub async fn admin_apply_coupon(
    account_id: String,
    coupon: String,
    verified_by: String,
) -> Result<(), AppError> {
    let (me, t, account_id) = acting_on(&account_id).await?;
    let keep = [
        ("coupon", coupon.as_str()),
        ("verified_by", verified_by.as_str()),
    ];
    tollgate::service::coupons::apply(
        &t,
        &me.actor(),
        account_id,
        &coupon,
        Some(&verified_by),
        chrono::Utc::now(),
    )
    .await
    .map_err(|e| AppError::from(e).with_values(&keep))?;
    back_to(&t, account_id).await
}

/// Removes the account's coupon: its next invoices are at full price.
#[server(prefix = "/_fn", endpoint = "admin_remove_coupon")]
pub async fn admin_remove_coupon(account_id: String) -> Result<(), AppError> {
    let (me, t, account_id) = acting_on(&account_id).await?;
    tollgate::service::coupons::remove(&t, &me.actor(), account_id).await?;
    back_to(&t, account_id).await
}
