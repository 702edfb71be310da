//! One payment-provider interface (issue 4, "One provider trait, two providers"):
//! the rest of Tollgate changes, cancels and resizes a subscription through
//! [`PaymentProvider`] without knowing whether Tollgate invoices it (`manual`, the
//! default) or Stripe charges a card for it (`stripe`). Which one applies is the
//! subscription's `provider` column; a new paid subscription goes to Stripe Checkout
//! when Stripe is configured and the plan has a Stripe price, otherwise it starts on
//! the manual provider.

pub mod manual;

use super::plans::{self, Chooser};
use super::{Actor, Error, Tollgate};
use crate::catalog::{Audience, Plan};
use crate::db::{self, subscriptions::SubscriptionRow};
use crate::money::Money;
use crate::period::Interval;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// When a plan change takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// At once, with proration for the rest of the current period.
    Now,
    /// When the current billing period ends, without proration (a downgrade that
    /// keeps what was paid for until then).
    PeriodEnd,
}

impl std::str::FromStr for Timing {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "" | "now" => Ok(Timing::Now),
            "period_end" => Ok(Timing::PeriodEnd),
            other => Err(format!(
                "\"{other}\" is not a time for a change (now, period_end)."
            )),
        }
    }
}

/// A plan change asked for: the plan, its interval, the seats it will have, when.
#[derive(Debug, Clone, Copy)]
pub struct PlanChange<'a> {
    pub plan: &'a Plan,
    pub interval: Interval,
    pub seats: i32,
    pub timing: Timing,
}

/// When the amount of a [`ChangePreview`] is collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collected {
    /// Charged to the card at once (Stripe invoices the proration immediately).
    Now,
    /// Added to the next invoice (the manual provider's run).
    NextInvoice,
}

/// What a plan change would cost, before the customer confirms.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangePreview {
    /// The net proration, rounded to the currency's minor unit: positive is owed by
    /// the customer, negative is credited. `None` when nothing is prorated (a trial,
    /// or a change at the period end).
    pub amount: Option<Money>,
    pub collected: Collected,
    /// The proration's lines as the provider computes them (Stripe's invoice preview:
    /// "Unused time on …", "Remaining time on …"); empty for the manual provider,
    /// whose invoice shows one proration line per change.
    pub lines: Vec<(String, Money)>,
    /// When the new plan applies (UTC).
    pub effective_at: DateTime<Utc>,
}

/// The outcome of [`choose`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chosen {
    /// The plan applies now.
    Applied,
    /// The plan applies at this instant (UTC), the end of the current period.
    Scheduled(DateTime<Utc>),
    /// Pay first: send the customer to this Stripe Checkout page.
    Checkout(String),
}

/// A payment provider: how changes to a live subscription are made and charged.
/// Callers have checked who asks ([`choose`], [`cancel`], …); implementations check
/// what the subscription's state allows and write the audit log.
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// `manual` or `stripe`, as stored in `subscriptions.provider`.
    fn name(&self) -> &'static str;

    /// What `change` of `sub` would cost at `now`.
    ///
    /// # Errors
    /// [`Error::Conflict`] for a change this provider cannot make; provider failures.
    async fn preview(
        &self,
        t: &Tollgate,
        sub: &SubscriptionRow,
        change: &PlanChange<'_>,
        now: DateTime<Utc>,
    ) -> Result<ChangePreview, Error>;

    /// Makes `change` of `sub`, now (prorated) or at the period end.
    ///
    /// # Errors
    /// As [`PaymentProvider::preview`], and database errors.
    async fn change_plan(
        &self,
        t: &Tollgate,
        sub: &SubscriptionRow,
        change: &PlanChange<'_>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Chosen, Error>;

    /// Drops the plan change scheduled for the period end: `sub` stays on its plan.
    ///
    /// # Errors
    /// [`Error::Conflict`] when nothing is scheduled; provider and database errors.
    async fn keep_plan(
        &self,
        t: &Tollgate,
        sub: &SubscriptionRow,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), Error>;

    /// `cancel`: ends `sub` when its current period ends (dropping any scheduled
    /// change); `!cancel`: reactivates it (it renews as before).
    ///
    /// # Errors
    /// [`Error::Conflict`] when it is already so; provider and database errors.
    async fn set_cancel_at_period_end(
        &self,
        t: &Tollgate,
        sub: &SubscriptionRow,
        cancel: bool,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), Error>;

    /// Buys `seats` seats (the subscription's quantity), prorated.
    ///
    /// # Errors
    /// [`Error::Invalid`] (field `seats`) below the seats in use; provider and
    /// database errors.
    async fn set_seats(
        &self,
        t: &Tollgate,
        sub: &SubscriptionRow,
        seats: i32,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), Error>;

    /// Moves `sub` from its grandfathered price to its plan's current price for its
    /// interval (issue 11 §3): from the next renewal, or with `prorate` (outside a
    /// trial) also for the rest of the current period. Audited as
    /// `subscription.price_migrated` with both amounts.
    ///
    /// # Errors
    /// [`Error::Conflict`] when `sub` keeps no older price, changed meanwhile, or
    /// its plan has no current price the provider can bill; provider and database
    /// errors (nothing is changed then).
    async fn move_to_current_price(
        &self,
        t: &Tollgate,
        sub: &SubscriptionRow,
        prorate: bool,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), Error>;
}

/// The kept and the current price of `sub`'s plan and interval, for
/// [`PaymentProvider::move_to_current_price`].
///
/// # Errors
/// [`Error::Conflict`] when `sub` keeps no older price (or is being moved off it)
/// or its plan has no current price on its interval.
pub(crate) fn price_move<'c>(
    catalog: &'c crate::catalog::Catalog,
    sub: &'c SubscriptionRow,
    now: DateTime<Utc>,
) -> Result<(&'c crate::catalog::Price, &'c crate::catalog::Price), Error> {
    let kept = sub
        .kept_price_at(now)
        .filter(|_| sub.grandfathered_until.is_none())
        .ok_or_else(|| {
            Error::Conflict(
                "This subscription already pays, or is moving to, the plan's current price.".into(),
            )
        })?;
    let current = catalog
        .plan(&sub.plan_key)
        .and_then(|p| p.price(sub.cycle().interval))
        .ok_or_else(|| {
            Error::Conflict(format!(
                "The plan `{}` has no current {} price to move to.",
                sub.plan_key, sub.interval
            ))
        })?;
    Ok((kept, current))
}

/// The provider that bills `sub`.
///
/// # Errors
/// [`Error::Conflict`] for a Stripe subscription while Stripe is not configured.
pub fn for_subscription<'t>(
    t: &'t Tollgate,
    sub: &SubscriptionRow,
) -> Result<&'t dyn PaymentProvider, Error> {
    match sub.provider.as_str() {
        "stripe" => match t.stripe.as_deref() {
            Some(stripe) => Ok(stripe),
            None => Err(Error::Conflict(
                "This subscription is billed by Stripe, which is not configured on this server."
                    .into(),
            )),
        },
        _ => Ok(&manual::Manual),
    }
}

/// The live subscription of `account_id`, for a change asked by `actor`: the
/// account's owner when a user asks (operators may act on any account).
async fn live_for_change(
    t: &Tollgate,
    account_id: Uuid,
    actor: &Actor,
) -> Result<(SubscriptionRow, Chooser), Error> {
    let who = who_changes(t, account_id, actor).await?;
    let sub = db::subscriptions::live_for_account(&t.pool, account_id)
        .await?
        .ok_or_else(|| {
            Error::Conflict("There is no subscription to change; choose a plan first.".into())
        })?;
    Ok((sub, who))
}

/// Who `actor` is to `account_id`'s subscription: its owner is a customer; the CLI,
/// the system and a super admin acting as themself (issue 11 §5: account actions
/// in the panel) are operators, who may also pick plans that are not self-serve.
///
/// # Errors
/// [`Error::Forbidden`] for any other user (an impersonating admin has the
/// impersonated user's rights only).
async fn who_changes(t: &Tollgate, account_id: Uuid, actor: &Actor) -> Result<Chooser, Error> {
    let Some(user) = actor.user_id() else {
        return Ok(Chooser::Operator);
    };
    match super::accounts::require_role(&t.pool, account_id, user, super::accounts::Role::Owner)
        .await
    {
        Ok(_) => Ok(Chooser::Customer),
        Err(refused) => match super::admin::require_super_admin(&t.pool, actor).await {
            Ok(_) => Ok(Chooser::Operator),
            Err(_) => Err(refused),
        },
    }
}

/// The change `sub` → `plan_key` on `interval` at `timing`, checked: a known plan
/// the chooser may pick, not the current plan and interval, a team plan only for an
/// organization, a period-end change only for an active subscription.
async fn planned<'c>(
    t: &Tollgate,
    catalog: &'c crate::catalog::Catalog,
    sub: &SubscriptionRow,
    (plan_key, interval, timing): (&str, Interval, Timing),
    who: Chooser,
    now: DateTime<Utc>,
) -> Result<PlanChange<'c>, Error> {
    let plan = plans::choosable(catalog, plan_key, interval, who)?;
    if sub.plan_key == plan.key.as_str() && sub.interval == interval.as_str() {
        return Err(Error::Conflict(format!(
            "You are already on {} billed every {interval}.",
            plan.name
        )));
    }
    let mut conn = t.pool.acquire().await?;
    let account = db::accounts::by_id(&mut *conn, sub.account_id)
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
    if timing == Timing::PeriodEnd && sub.status() != crate::subscription::Status::Active {
        return Err(Error::invalid("timing", "Only an active subscription changes at its period end; during a trial the change applies at once, free of charge."));
    }
    let seats = match account.kind.as_str() {
        "organization" => super::organizations::seats::demand(&mut conn, sub.account_id, now)
            .await?
            .max(sub.seats),
        _ => 1,
    };
    Ok(PlanChange {
        plan,
        interval,
        seats,
        timing,
    })
}

/// Puts `account_id` on `plan_key` billed every `interval`: a live subscription
/// changes through its provider (now or at the period end); otherwise a paid plan
/// goes to Stripe Checkout when Stripe is configured and a customer chooses, and
/// anything else starts at once on the manual provider ([`plans::choose`]).
///
/// # Errors
/// [`Error::Forbidden`] for a user who is not the account's owner;
/// [`Error::Invalid`] for an unknown or sales-only plan, a team plan on a personal
/// account, a period-end change of a subscription that is not active, or (Stripe
/// configured, a customer choosing) a paid plan Stripe cannot bill;
/// [`Error::Conflict`] for the current plan again; provider failures.
#[allow(clippy::too_many_arguments)]
pub async fn choose(
    t: &Tollgate,
    account_id: Uuid,
    plan_key: &str,
    interval: Interval,
    timing: Timing,
    who: Chooser,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Chosen, Error> {
    if let Some(user) = actor.user_id().filter(|_| who == Chooser::Customer) {
        super::accounts::require_role(&t.pool, account_id, user, super::accounts::Role::Owner)
            .await?;
    }
    let live = db::subscriptions::live_for_account(&t.pool, account_id).await?;
    let stripe_billed = live.as_ref().is_some_and(|s| s.provider == "stripe");
    if who == Chooser::Customer && t.stripe.is_some() && !stripe_billed {
        refuse_unpaid(t, live.as_ref(), plan_key, interval, timing)?;
    }
    if let Some(sub) = live
        .as_ref()
        .filter(|_| stripe_billed || timing == Timing::PeriodEnd)
    {
        let catalog = t.catalog.get()?;
        let change = planned(t, &catalog, sub, (plan_key, interval, timing), who, now).await?;
        return for_subscription(t, sub)?
            .change_plan(t, sub, &change, actor, now)
            .await;
    }
    if timing == Timing::PeriodEnd {
        return Err(Error::invalid(
            "timing",
            "There is no current period to wait for: the plan applies at once.",
        ));
    }
    if who == Chooser::Customer
        && super::stripe::checkout::paid_through_stripe(t, plan_key, interval)
    {
        let user = actor.user_id().ok_or(Error::Unauthorized)?;
        let started =
            super::stripe::checkout::start(t, account_id, user, actor, plan_key, interval, now)
                .await?;
        return Ok(Chosen::Checkout(started.url));
    }
    plans::choose(t, account_id, plan_key, interval, who, actor, now).await?;
    Ok(Chosen::Applied)
}

/// With Stripe configured, a customer who does not pay by invoice already (no
/// subscription, or a free one on the manual provider) never gets a paid plan
/// without paying for it (issue 12): a plan Stripe cannot bill is refused (an
/// operator sets it up, billed by invoice), and a plan paid by card cannot be
/// scheduled for the period end, where the manual provider would apply it
/// without Checkout. A customer already invoiced for a paid plan keeps changing
/// plans on the invoice.
///
/// # Errors
/// [`Error::Invalid`] for `plan` or `timing`, as above.
fn refuse_unpaid(
    t: &Tollgate,
    live: Option<&SubscriptionRow>,
    plan_key: &str,
    interval: Interval,
    timing: Timing,
) -> Result<(), Error> {
    use super::stripe::checkout::{card_billing, CardBilling};
    let invoiced = live.is_some_and(|s| {
        s.interval
            .parse::<Interval>()
            .ok()
            .and_then(|i| card_billing(t, &s.plan_key, i))
            != Some(CardBilling::Free)
    });
    if invoiced {
        return Ok(());
    }
    match card_billing(t, plan_key, interval) {
        Some(CardBilling::Unsupported(why)) => {
            tracing::info!(plan = plan_key, %why, "a customer chose a plan Stripe cannot bill");
            Err(Error::invalid(
                "plan",
                format!(
                    "The {plan_key} plan cannot be bought online: its pricing is billed by invoice, which we set up with you. Contact us at {}.",
                    t.settings.sales_email
                ),
            ))
        }
        Some(CardBilling::Checkout) if timing == Timing::PeriodEnd => Err(Error::invalid(
            "timing",
            "A paid plan starts when it is paid by card: choose it to start now.",
        )),
        _ => Ok(()),
    }
}

/// What changing `account_id`'s live subscription to `plan_key` on `interval` at
/// `timing` would cost, for the confirmation page (the account's owner, or an
/// operator: the CLI or a super admin acting as themself).
///
/// # Errors
/// As [`choose`]; [`Error::Conflict`] without a live subscription.
pub async fn preview(
    t: &Tollgate,
    account_id: Uuid,
    plan_key: &str,
    interval: Interval,
    timing: Timing,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<ChangePreview, Error> {
    let (sub, who) = live_for_change(t, account_id, actor).await?;
    let catalog = t.catalog.get()?;
    let change = planned(t, &catalog, &sub, (plan_key, interval, timing), who, now).await?;
    for_subscription(t, &sub)?
        .preview(t, &sub, &change, now)
        .await
}

/// Ends `account_id`'s subscription when its current period ends.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but the owner; [`Error::Conflict`] without a
/// live subscription or when it already ends; provider failures.
pub async fn cancel(
    t: &Tollgate,
    account_id: Uuid,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let (sub, _) = live_for_change(t, account_id, actor).await?;
    for_subscription(t, &sub)?
        .set_cancel_at_period_end(t, &sub, true, actor, now)
        .await
}

/// Keeps `account_id`'s subscription going after a cancellation at the period end.
///
/// # Errors
/// As [`cancel`]; [`Error::Conflict`] when it was not set to end.
pub async fn reactivate(
    t: &Tollgate,
    account_id: Uuid,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let (sub, _) = live_for_change(t, account_id, actor).await?;
    for_subscription(t, &sub)?
        .set_cancel_at_period_end(t, &sub, false, actor, now)
        .await
}

/// Drops the plan change scheduled for `account_id`'s period end.
///
/// # Errors
/// As [`cancel`]; [`Error::Conflict`] when nothing is scheduled.
pub async fn keep_plan(
    t: &Tollgate,
    account_id: Uuid,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let (sub, _) = live_for_change(t, account_id, actor).await?;
    for_subscription(t, &sub)?
        .keep_plan(t, &sub, actor, now)
        .await
}

/// The end of `sub`'s current billing period at `now` (UTC, exclusive).
pub fn period_end(sub: &SubscriptionRow, now: DateTime<Utc>) -> DateTime<Utc> {
    match (sub.status(), sub.trial_end) {
        (crate::subscription::Status::Trialing, Some(end)) => end,
        _ => sub.cycle().period_containing(now).end,
    }
}

/// Audits a provider's change of `sub`.
pub(crate) async fn audit(
    db: impl sqlx::PgExecutor<'_>,
    actor: &Actor,
    action: &str,
    sub: &SubscriptionRow,
    details: serde_json::Value,
) -> Result<(), Error> {
    db::audit::record(
        db,
        &db::audit::Entry {
            actor,
            action,
            target_kind: "subscription",
            target_id: sub.id.to_string(),
            account_id: Some(sub.account_id),
            ip: None,
            details,
        },
    )
    .await?;
    Ok(())
}
