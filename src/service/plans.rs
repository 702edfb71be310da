//! Choosing and changing a plan with the built-in `manual` provider (issue 2,
//! point 8): takes effect at once, kept in the plan history and the audit log.

use super::{Actor, Error, Tollgate};
use crate::catalog::{Audience, Catalog, Plan};
use crate::db::{self, subscriptions::SubscriptionRow};
use crate::period::{Cycle, Interval};
use crate::subscription::{self, PlanTerms};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Who may pick which plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chooser {
    /// A customer on the pricing page: public, self-serve plans only.
    Customer,
    /// The operator (CLI, admin panel): any plan, "contact sales" ones included.
    Operator,
}

pub(crate) fn choosable<'c>(
    catalog: &'c Catalog,
    key: &str,
    interval: Interval,
    who: Chooser,
) -> Result<&'c Plan, Error> {
    let plan = catalog
        .plan(key)
        .ok_or_else(|| Error::invalid("plan", format!("There is no plan \"{key}\".")))?;
    if who == Chooser::Customer && (!plan.self_serve || !plan.public) {
        return Err(Error::invalid(
            "plan",
            format!("{} is arranged with our sales team.", plan.name),
        ));
    }
    if plan.price(interval).is_none() && (who == Chooser::Customer || !plan.prices.is_empty()) {
        return Err(Error::invalid(
            "interval",
            format!("{} has no {} price.", plan.name, interval),
        ));
    }
    Ok(plan)
}

/// Puts `account_id` on `plan_key` billed every `interval`, starting a subscription
/// or changing the live one, at once. Customers must be the account's owner, and
/// team plans are for organization accounts.
///
/// Rules: [`subscription::start`] and [`subscription::change`]. When the billing
/// cycle moves, the current period's usage totals are rebuilt from the events.
///
/// # Errors
/// [`Error::Invalid`] for an unknown, non-self-serve or unpriced plan;
/// [`Error::Conflict`] when already on that plan and interval, or when the live
/// subscription is billed by Stripe;
/// [`Error::Forbidden`] for a customer who is not the owner.
pub async fn choose(
    t: &Tollgate,
    account_id: Uuid,
    plan_key: &str,
    interval: Interval,
    who: Chooser,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<SubscriptionRow, Error> {
    apply(
        t,
        account_id,
        plan_key,
        interval,
        who,
        actor,
        now,
        Applying::Chosen,
    )
    .await?
    .ok_or_else(|| Error::Internal("a chosen plan was not applied".into()))
}

/// Whether [`apply`] makes a change chosen now or the one scheduled for `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applying {
    /// Chosen now: prorated against the current period.
    Chosen,
    /// The change scheduled for the period end that `now` is: applied only if it is
    /// still the scheduled one, without proration (the new period starts on it).
    Scheduled,
}

/// [`choose`], or the scheduled change when `applying` says so (`None`: nothing
/// was scheduled any more).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn apply(
    t: &Tollgate,
    account_id: Uuid,
    plan_key: &str,
    interval: Interval,
    who: Chooser,
    actor: &Actor,
    now: DateTime<Utc>,
    applying: Applying,
) -> Result<Option<SubscriptionRow>, Error> {
    let catalog = t.catalog.get()?;
    let plan = choosable(&catalog, plan_key, interval, who)?;
    let mut tx = t.pool.begin().await?;
    if let (Chooser::Customer, Some(user)) = (who, actor.user_id()) {
        super::accounts::require_role(&mut *tx, account_id, user, super::accounts::Role::Owner)
            .await?;
    }
    db::accounts::lock_for_cycle_change(&mut *tx, account_id).await?;
    let account = db::accounts::by_id(&mut *tx, account_id)
        .await?
        .ok_or_else(|| Error::NotFound("no such account".into()))?;
    if who == Chooser::Customer && plan.audience == Audience::Team && account.kind != "organization"
    {
        return Err(Error::invalid(
            "plan",
            format!(
                "{} is for organizations; choose a personal plan for this account.",
                plan.name
            ),
        ));
    }
    let trial_used = account.trial_used_at.is_some();
    let current = db::subscriptions::live_for_account(&mut *tx, account_id).await?;
    if applying == Applying::Scheduled
        && current.as_ref().and_then(|s| s.scheduled()) != Some((plan.key.as_str(), interval, now))
    {
        return Ok(None);
    }
    if current.as_ref().is_some_and(|s| s.provider == "stripe") {
        // Stripe bills it: a local change would leave Stripe charging the old plan.
        return Err(Error::Conflict("This account pays by card through Stripe; changing a card-paid plan in Tollgate is not available yet.".into()));
    }
    let seats = match account.kind.as_str() {
        // A seat for each member and pending invitation (see organizations::seats).
        "organization" => super::organizations::seats::demand(&mut tx, account_id, now).await?,
        _ => 1,
    };

    let mut proration = None;
    let (id, terms, from, old_cycle) = match &current {
        Some(sub) => {
            if sub.plan_key == plan.key.as_str() && sub.interval == interval.as_str() {
                return Err(Error::Conflict(format!(
                    "You are already on {} billed every {interval}.",
                    plan.name
                )));
            }
            let old = sub.terms();
            let terms = subscription::change(&old, plan, interval, now, trial_used);
            db::subscriptions::update_plan(&mut *tx, sub.id, plan.key.as_str(), seats, &terms)
                .await?;
            let from_interval = sub.interval.parse().unwrap_or(Interval::Month);
            if applying == Applying::Chosen {
                proration = change_proration(&catalog, sub, plan, interval, seats, &terms, now);
            }
            (
                sub.id,
                terms,
                Some((sub.plan_key.as_str(), from_interval, old.status)),
                Some(old.cycle),
            )
        }
        None => {
            let terms = subscription::start(plan, interval, now, trial_used);
            let id = Uuid::now_v7();
            db::subscriptions::insert(&mut *tx, id, account_id, plan.key.as_str(), seats, &terms)
                .await?;
            (id, terms, None, None)
        }
    };
    if terms.trial_end.is_some() {
        db::accounts::mark_trial_used(&mut *tx, account_id).await?;
    }
    db::subscriptions::record_change(
        &mut *tx,
        &db::subscriptions::Change {
            subscription_id: id,
            account_id,
            from,
            to: (plan.key.as_str(), interval, terms.status),
            changed_by: actor.user_id(),
            seats: Some((current.as_ref().map_or(seats, |s| s.seats), seats)),
            proration,
            at: now,
        },
    )
    .await?;
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor,
            action: if from.is_some() {
                "subscription.plan_changed"
            } else {
                "subscription.created"
            },
            target_kind: "subscription",
            target_id: id.to_string(),
            account_id: Some(account_id),
            ip: None,
            details: serde_json::json!({
                "from_plan": from.map(|f| f.0),
                "from_interval": from.map(|f| f.1.as_str()),
                "to_plan": plan.key.as_str(),
                "to_interval": interval.as_str(),
                "status": terms.status.as_str(),
                "trial_end": terms.trial_end,
                "provider": "manual",
                "scheduled": applying == Applying::Scheduled,
            }),
        },
    )
    .await?;
    if old_cycle != Some(terms.cycle) {
        rebuild_current_totals(&mut tx, &catalog, account_id, &terms, now).await?;
    }
    db::usage::notify_changed(&mut *tx, &[account_id]).await?;
    tx.commit().await?;
    t.cache.invalidate(&[account_id]);
    Ok(Some(
        db::subscriptions::live_for_account(&t.pool, account_id)
            .await?
            .ok_or_else(|| Error::Internal("subscription vanished after commit".into()))?,
    ))
}

/// What changing `sub` to `plan` on `interval` with `seats` at `now` owes for the
/// rest of the current period (Stripe's proration: credit for the unused time on the
/// old price, charge for the remaining time on the new one). Nothing while the
/// subscription is or stays on trial, since nothing was or will be paid for it.
/// Unrounded, in the catalog currency; the plan-change preview shows it rounded.
pub fn change_proration(
    catalog: &Catalog,
    sub: &SubscriptionRow,
    plan: &Plan,
    interval: Interval,
    seats: i32,
    terms: &PlanTerms,
    now: DateTime<Utc>,
) -> Option<rust_decimal::Decimal> {
    use crate::invoice::charges::period_amount;
    if sub.status() == subscription::Status::Trialing
        || terms.status == subscription::Status::Trialing
    {
        return None;
    }
    let old_interval = sub.interval.parse().unwrap_or(Interval::Month);
    let old = catalog
        .plan(&sub.plan_key)?
        .price_for(old_interval, sub.kept_price_at(now))
        .map_or(rust_decimal::Decimal::ZERO, |p| {
            period_amount(p, seat_count(sub.seats))
        });
    let new = plan
        .price(interval)
        .map_or(rust_decimal::Decimal::ZERO, |p| {
            period_amount(p, seat_count(seats))
        });
    let period = sub.cycle().period_containing(now);
    Some(crate::proration::prorate(old, new, period, now).net())
}

fn seat_count(seats: i32) -> u32 {
    u32::try_from(seats.max(1)).unwrap_or(1)
}

/// Recomputes each meter's total for the period containing `now` under the new
/// cycle, from the stored events.
pub(crate) async fn rebuild_current_totals(
    tx: &mut db::Tx<'_>,
    catalog: &Catalog,
    account_id: Uuid,
    terms: &PlanTerms,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let cycle: Cycle = terms.cycle;
    for meter in &catalog.meters {
        let period = crate::period::meter_period(meter.reset, Some(cycle), now);
        db::usage::rebuild_total(
            tx,
            account_id,
            meter.key.as_str(),
            meter.aggregation,
            period.start,
            period.end,
        )
        .await?;
    }
    Ok(())
}
