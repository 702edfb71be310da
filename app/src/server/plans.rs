//! Choosing and changing plans from the pages.

use crate::error::AppError;
use crate::model::ChangePreview;
use leptos::prelude::*;
use tollgate::period::Interval;

/// `month` unless `year` was asked for.
pub fn parse_interval(s: Option<&str>) -> Interval {
    s.and_then(|s| s.parse().ok()).unwrap_or(Interval::Month)
}

/// Puts the signed-in user's account on `plan` at once (starting or changing the
/// subscription), then goes to the dashboard.
#[server(prefix = "/_fn", endpoint = "choose_plan")]
pub async fn choose_plan(plan: String, interval: String) -> Result<(), AppError> {
    use tollgate::service::plans;
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    let interval = interval.parse::<Interval>().map_err(|e| crate::error::FormError::field("interval", e.to_string()))?;
    if let Some(url) = checkout_url(&t, me.account_id, me.user.id, &me.actor(), &plan, interval).await? {
        leptos_axum::redirect(&url);
        return Ok(());
    }
    plans::choose(&t, me.account_id, &plan, interval, plans::Chooser::Customer, &me.actor(), chrono::Utc::now()).await?;
    leptos_axum::redirect("/dashboard");
    Ok(())
}

/// With Stripe configured, a paid plan for an account not yet paying by card starts
/// Stripe Checkout: its URL. `None`: the manual provider applies the plan at once.
#[cfg(feature = "ssr")]
pub async fn checkout_url(
    t: &tollgate::service::Tollgate,
    account_id: uuid::Uuid,
    user_id: uuid::Uuid,
    actor: &tollgate::service::Actor,
    plan: &str,
    interval: Interval,
) -> Result<Option<String>, AppError> {
    use tollgate::service::stripe::checkout;
    if !checkout::paid_through_stripe(t, plan, interval) {
        return Ok(None);
    }
    let started = checkout::start(t, account_id, user_id, actor, plan, interval, chrono::Utc::now()).await?;
    Ok(Some(started.url))
}

/// What changing to `plan` would do, for the confirmation page.
#[server(prefix = "/_fn", endpoint = "preview_change")]
pub async fn preview_change(plan: String, interval: String) -> Result<ChangePreview, AppError> {
    use tollgate::service::{accounts, usage};
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    let interval = parse_interval(Some(&interval));
    let catalog = t.catalog.get()?;
    let state = accounts::state(&t.pool, me.account_id).await?;
    let current = state.subscription.as_ref().ok_or(AppError::PlanRequired)?;
    let target = catalog
        .plan(&plan)
        .filter(|p| p.self_serve && p.public)
        .ok_or_else(|| AppError::NotFound(format!("There is no plan \"{plan}\" to choose.")))?;
    let price = target.price(interval).ok_or_else(|| AppError::NotFound(format!("{} has no {interval} price.", target.name)))?;
    let from_name = catalog.plan(&current.plan_key).map_or(current.plan_key.clone(), |p| p.name.clone());
    let trial_used = state.account.trial_used_at.is_some();
    let after = tollgate::subscription::change(&current.terms(), target, interval, chrono::Utc::now(), trial_used);
    let snapshot = usage::snapshot(&t, me.account_id, chrono::Utc::now()).await?;
    let seats = state.standing().seats();
    let over_limits = snapshot
        .meters
        .iter()
        .filter_map(|m| {
            let new_limit = target.limit(&m.meter).resolve(seats).included?;
            (m.usage > new_limit).then(|| {
                format!("{}: {} used, {} allows {}", m.name, crate::format::quantity(m.usage), target.name, crate::format::quantity(new_limit))
            })
        })
        .collect();
    let new_seats = i32::try_from(seats).unwrap_or(current.seats);
    let proration = tollgate::service::plans::change_proration(&catalog, current, target, interval, new_seats, &after, chrono::Utc::now()).map(|p| {
        let shown = tollgate::money::Money::new(p, catalog.currency).round();
        if shown.amount.is_sign_negative() { shown.display() } else { format!("+{}", shown.display()) }
    });
    Ok(ChangePreview {
        proration,
        from: format!("{from_name}, billed every {}", current.interval),
        to: format!("{}, billed every {interval}", target.name),
        plan: target.key.to_string(),
        interval: interval.to_string(),
        price: format!("{}{}", price.amount.display(), if price.per_seat { " per seat" } else { "" }),
        status_after: after.status.to_string(),
        over_limits,
    })
}
