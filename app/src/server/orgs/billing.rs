//! The organization's billing (plan and seats, with the manual provider) and its
//! security page (SSO, on plans with `sso_enabled`).

use crate::error::AppError;
use crate::org_model::{BillingPage, SecurityPage};
use leptos::prelude::*;

/// The billing page: plan, seats and the team plans to choose from. Owner and
/// admins read it; only the owner changes anything.
#[server(prefix = "/_fn", endpoint = "org_billing")]
pub async fn org_billing(slug: String) -> Result<BillingPage, AppError> {
    use crate::org_model::{SeatsView, TeamPlanOption};
    use tollgate::catalog::Audience;
    use tollgate::period::Interval;
    use tollgate::service::accounts::{self, Role};
    use tollgate::service::organizations::seats;
    let o = super::super::org_ctx::require_org(&slug, Role::Admin).await?;
    let catalog = o.t.catalog.get()?;
    let state = accounts::state(&o.t.pool, o.org.id).await?;
    let current = state
        .subscription
        .as_ref()
        .map(|s| (s.plan_key.clone(), s.interval.clone()));
    let plan = state.subscription.as_ref().map(|s| {
        let name = catalog
            .plan(&s.plan_key)
            .map_or(s.plan_key.clone(), |p| p.name.clone());
        format!(
            "{name}, {}, billed every {}",
            s.status.replace('_', " "),
            s.interval
        )
    });
    let options = catalog
        .plans
        .iter()
        .filter(|p| p.audience == Audience::Team && p.self_serve && p.public)
        .flat_map(|p| {
            let current = current.clone();
            [Interval::Month, Interval::Year]
                .into_iter()
                .filter_map(move |i| {
                    let price = p.price(i)?;
                    Some(TeamPlanOption {
                        key: p.key.to_string(),
                        name: p.name.clone(),
                        price: format!(
                            "{}/{i}{}",
                            price.amount.display_short(),
                            if price.per_seat { " per seat" } else { "" }
                        ),
                        interval: i.to_string(),
                        current: current
                            .as_ref()
                            .is_some_and(|(k, iv)| k == p.key.as_str() && iv == i.as_str()),
                    })
                })
        })
        .collect();
    let mut conn =
        o.t.pool
            .acquire()
            .await
            .map_err(tollgate::service::Error::from)?;
    let s = seats::seat_use(&o.t, &mut conn, o.org.id, chrono::Utc::now()).await?;
    Ok(BillingPage {
        org: o.header(),
        plan,
        seats: SeatsView {
            members: s.members,
            pending: s.pending,
            purchased: s.purchased,
        },
        options,
    })
}

/// The owner puts the organization on a team plan through its payment provider
/// (at once; Stripe Checkout first for a new card-paid plan).
#[server(prefix = "/_fn", endpoint = "org_choose_plan")]
pub async fn choose_org_plan(slug: String, plan: String, interval: String) -> Result<(), AppError> {
    use tollgate::service::accounts::Role;
    use tollgate::service::{plans::Chooser, provider};
    let o = super::super::org_ctx::require_org(&slug, Role::Owner).await?;
    let interval = interval
        .parse::<tollgate::period::Interval>()
        .map_err(|e| crate::error::FormError::field("interval", e.to_string()))?;
    let chosen = provider::choose(
        &o.t,
        o.org.id,
        &plan,
        interval,
        provider::Timing::Now,
        Chooser::Customer,
        &o.me.actor(),
        chrono::Utc::now(),
    )
    .await?;
    let done = format!("/orgs/{}/billing?changed=1", o.org.slug);
    leptos_axum::redirect(&crate::server::plans::after_choice(chosen, &done, &done));
    Ok(())
}

/// The owner sets the number of seats bought, through the subscription's provider
/// (Stripe: the subscription's quantity), audited.
#[server(prefix = "/_fn", endpoint = "org_seats")]
pub async fn set_org_seats(slug: String, seats: String) -> Result<(), AppError> {
    use tollgate::service::accounts::Role;
    let o = super::super::org_ctx::require_org(&slug, Role::Owner).await?;
    let keep = [("seats", seats.as_str())];
    let n: i32 = seats.trim().parse().map_err(|_| {
        AppError::from(
            crate::error::FormError::field("seats", "Enter a whole number of seats.")
                .with_values(&keep),
        )
    })?;
    tollgate::service::organizations::seats::set_seats(
        &o.t,
        o.org.id,
        o.me.user.id,
        n,
        &o.me.actor(),
        chrono::Utc::now(),
    )
    .await
    .map_err(|e| AppError::from(e).with_values(&keep))?;
    leptos_axum::redirect(&format!("/orgs/{}/billing?seats=1", o.org.slug));
    Ok(())
}

/// The security page (owner and admins): whether the plan includes SSO.
#[server(prefix = "/_fn", endpoint = "org_security")]
pub async fn org_security(slug: String) -> Result<SecurityPage, AppError> {
    use tollgate::catalog::FeatureValue;
    use tollgate::service::accounts::{self, Role};
    let o = super::super::org_ctx::require_org(&slug, Role::Admin).await?;
    let catalog = o.t.catalog.get()?;
    let state = accounts::state(&o.t.pool, o.org.id).await?;
    let sso_enabled = state
        .standing()
        .feature(&catalog, "sso_enabled")
        .is_some_and(|v| matches!(v, FeatureValue::Bool(true)));
    Ok(SecurityPage {
        org: o.header(),
        sso_enabled,
    })
}
