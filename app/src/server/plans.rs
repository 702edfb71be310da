//! Choosing and changing plans from the pages.

use crate::error::AppError;
use crate::model::ChangePreview;
use leptos::prelude::*;
use tollgate::period::Interval;

/// `month` unless `year` was asked for.
pub fn parse_interval(s: Option<&str>) -> Interval {
    s.and_then(|s| s.parse().ok()).unwrap_or(Interval::Month)
}

/// Puts the signed-in user's account on `plan` through its payment provider: at
/// once, at the period end (`timing=period_end`), or via Stripe Checkout for a new
/// card-paid plan; then goes to the dashboard (or `/billing` for a scheduled change).
#[server(prefix = "/_fn", endpoint = "choose_plan")]
pub async fn choose_plan(
    plan: String,
    interval: String,
    timing: Option<String>,
) -> Result<(), AppError> {
    use tollgate::service::{plans::Chooser, provider};
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    let interval = interval
        .parse::<Interval>()
        .map_err(|e| crate::error::FormError::field("interval", e.to_string()))?;
    let timing = timing
        .as_deref()
        .unwrap_or("now")
        .parse::<provider::Timing>()
        .map_err(|e| crate::error::FormError::field("timing", e))?;
    let chosen = provider::choose(
        &t,
        me.account_id,
        &plan,
        interval,
        timing,
        Chooser::Customer,
        &me.actor(),
        chrono::Utc::now(),
    )
    .await?;
    leptos_axum::redirect(&after_choice(chosen, "/dashboard", "/billing"));
    Ok(())
}

/// Where a choice leads: Checkout's page, or `applied` / `scheduled`.
#[cfg(feature = "ssr")]
pub fn after_choice(
    chosen: tollgate::service::provider::Chosen,
    applied: &str,
    scheduled: &str,
) -> String {
    use tollgate::service::provider::Chosen;
    match chosen {
        Chosen::Checkout(url) => url,
        Chosen::Applied => applied.to_owned(),
        Chosen::Scheduled(_) => scheduled.to_owned(),
    }
}

/// What changing to `plan` on `interval` at `timing` (`now`, `period_end`) would do,
/// for the confirmation page: the provider's proration preview (Stripe's invoice
/// preview for a card-paid plan), and the meters already over the new plan's limits.
#[server(prefix = "/_fn", endpoint = "preview_change")]
pub async fn preview_change(
    plan: String,
    interval: String,
    timing: Option<String>,
) -> Result<ChangePreview, AppError> {
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    ssr::preview(
        &t,
        me.account_id,
        &plan,
        &interval,
        timing.as_deref(),
        &me.actor(),
        tollgate::service::plans::Chooser::Customer,
    )
    .await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::error::AppError;
    use crate::model::ChangePreview;
    use tollgate::service::plans::Chooser;
    use tollgate::service::{Actor, Tollgate};
    use uuid::Uuid;

    /// The confirmation page's preview of moving `account_id` to `plan` on
    /// `interval` at `timing` (`now`, `period_end`), asked by `actor` as `who`: a
    /// customer may only pick public self-serve plans, an operator any plan.
    ///
    /// # Errors
    /// [`AppError::PlanRequired`] without a live subscription; not found for a plan
    /// `who` may not pick or a missing price; the provider's refusals.
    pub async fn preview(
        t: &Tollgate,
        account_id: Uuid,
        plan: &str,
        interval: &str,
        timing: Option<&str>,
        actor: &Actor,
        who: Chooser,
    ) -> Result<ChangePreview, AppError> {
        use super::parse_interval;
        use tollgate::invoice::charges::period_amount;
        use tollgate::service::{accounts, provider, usage};
        let interval = parse_interval(Some(interval));
        let timing = timing
            .unwrap_or("now")
            .parse::<provider::Timing>()
            .map_err(|e| crate::error::FormError::field("timing", e))?;
        let catalog = t.catalog.get()?;
        let state = accounts::state(&t.pool, account_id).await?;
        let current = state.subscription.as_ref().ok_or(AppError::PlanRequired)?;
        let target = catalog
            .plan(plan)
            .filter(|p| who == Chooser::Operator || (p.self_serve && p.public))
            .ok_or_else(|| AppError::NotFound(format!("There is no plan \"{plan}\" to choose.")))?;
        let price = target.price(interval).ok_or_else(|| {
            AppError::NotFound(format!("{} has no {interval} price.", target.name))
        })?;
        let now = chrono::Utc::now();
        let preview = provider::preview(t, account_id, plan, interval, timing, actor, now).await?;
        let from_name = catalog
            .plan(&current.plan_key)
            .map_or(current.plan_key.clone(), |p| p.name.clone());
        let trial_used = state.account.trial_used_at.is_some();
        let after =
            tollgate::subscription::change(&current.terms(), target, interval, now, trial_used);
        let snapshot = usage::snapshot(t, account_id, now).await?;
        let seats = state.standing().seats();
        let over_limits = snapshot
            .meters
            .iter()
            .filter_map(|m| {
                let new_limit = target.limit(&m.meter).resolve(seats).included?;
                (m.usage > new_limit).then(|| {
                    format!(
                        "{}: {} used, {} allows {}",
                        m.name,
                        crate::format::quantity(m.usage),
                        target.name,
                        crate::format::quantity(new_limit)
                    )
                })
            })
            .collect();
        let seat_count = u32::try_from(current.seats.max(1)).unwrap_or(1);
        let old_amount = catalog
            .plan(&current.plan_key)
            .and_then(|p| p.price(current.cycle().interval))
            .map(|p| period_amount(p, seat_count));
        let downgrade = old_amount.is_some_and(|old| period_amount(price, seat_count) < old)
            && current.interval == interval.as_str();
        let period_end = provider::period_end(current, now);
        let signed = |m: tollgate::money::Money| {
            if m.amount.is_sign_negative() {
                m.display()
            } else {
                format!("+{}", m.display())
            }
        };
        Ok(ChangePreview {
            proration: preview.amount.map(signed),
            proration_label: match preview.collected {
                provider::Collected::Now => "Charged now to your card".into(),
                provider::Collected::NextInvoice => "Proration on your next invoice".into(),
            },
            lines: preview
                .lines
                .into_iter()
                .map(|(d, m)| (d, signed(m)))
                .collect(),
            timing: if timing == provider::Timing::PeriodEnd {
                "period_end".into()
            } else {
                "now".into()
            },
            effective: if timing == provider::Timing::PeriodEnd {
                crate::format::date(preview.effective_at)
            } else {
                "at once".into()
            },
            period_end_option: (downgrade
                && current.status() == tollgate::subscription::Status::Active)
                .then(|| crate::format::date(period_end)),
            from: format!("{from_name}, billed every {}", current.interval),
            to: format!("{}, billed every {interval}", target.name),
            plan: target.key.to_string(),
            interval: interval.to_string(),
            price: format!(
                "{}{}",
                price.amount.display(),
                if price.per_seat { " per seat" } else { "" }
            ),
            status_after: if timing == provider::Timing::PeriodEnd {
                current.status.replace('_', " ")
            } else {
                after.status.to_string()
            },
            over_limits,
        })
    }
}
