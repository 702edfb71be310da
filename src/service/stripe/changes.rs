//! The `stripe` provider's changes to a live subscription
//! (<https://docs.stripe.com/billing/subscriptions/change-price>):
//!
//! - a plan change now is previewed with Stripe's invoice preview and made with
//!   `proration_behavior=always_invoice`, so the proration is invoiced and charged at
//!   once (during a trial nothing is prorated);
//! - a plan change at the period end switches Stripe's price with
//!   `proration_behavior=none` (Stripe bills the new price from the next renewal) while
//!   Tollgate keeps the paid-for plan until then (`subscriptions.scheduled_*`, applied
//!   by the mirror when Stripe reports the new period);
//! - cancel at period end and reactivate set `cancel_at_period_end`;
//! - seats are the plan item's quantity: more seats are invoiced at once, fewer are
//!   credited on the next invoice (`create_prorations`).
//!
//! Each call mirrors the subscription Stripe returns at once, so the pages show the
//! change before the webhooks arrive (they then find nothing to change).

use super::{failed, mirror, Stripe};
use crate::catalog::Catalog;
use crate::db::{self, subscriptions::SubscriptionRow};
use crate::money::{Currency, Money};
use crate::period::Interval;
use crate::service::provider::{
    audit, ChangePreview, Chosen, Collected, PaymentProvider, PlanChange, Timing,
};
use crate::service::{Actor, Error, Tollgate};
use crate::stripe_catalog;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use stripe_billing::invoice::{
    CreatePreviewInvoice, CreatePreviewInvoiceSubscriptionDetails,
    CreatePreviewInvoiceSubscriptionDetailsItems,
    CreatePreviewInvoiceSubscriptionDetailsProrationBehavior as PreviewProration,
};
use stripe_billing::subscription::{
    RetrieveSubscription, UpdateSubscription, UpdateSubscriptionItems,
    UpdateSubscriptionProrationBehavior as Proration,
};
use stripe_product::price::ListPrice;
use stripe_shared::{Subscription, SubscriptionItem};

/// The Stripe subscription billing `sub`, as Stripe reports it now.
async fn remote(stripe: &Stripe, sub: &SubscriptionRow) -> Result<Subscription, Error> {
    let id = sub
        .provider_subscription_id
        .as_deref()
        .ok_or_else(|| Error::Internal(format!("subscription {} has no Stripe id", sub.id)))?;
    RetrieveSubscription::new(id)
        .send(stripe.client())
        .await
        .map_err(|e| failed("retrieve subscription", e))
}

/// The item carrying the plan's price (lookup key `<plan>_<interval>`).
fn plan_item(remote: &Subscription) -> Result<&SubscriptionItem, Error> {
    super::plan_item(remote)
        .map(|(item, _, _)| item)
        .ok_or_else(|| {
            Error::Internal(format!(
                "Stripe subscription {} has no item with a Tollgate price",
                remote.id.as_str()
            ))
        })
}

/// The active Stripe price id of `plan_key` on `interval`, by its lookup key.
pub(crate) async fn price_id(
    stripe: &Stripe,
    plan_key: &str,
    interval: Interval,
) -> Result<String, Error> {
    current_price(stripe, plan_key, interval)
        .await
        .map(|p| p.id.as_str().to_owned())
}

/// The active Stripe price of `plan_key` on `interval`, by its lookup key.
async fn current_price(
    stripe: &Stripe,
    plan_key: &str,
    interval: Interval,
) -> Result<stripe_shared::Price, Error> {
    let key = stripe_catalog::price_lookup_key(plan_key, interval);
    let prices = ListPrice::new()
        .lookup_keys(vec![key.clone()])
        .active(true)
        .send(stripe.client())
        .await
        .map_err(|e| failed("find price", e))?;
    prices
        .data
        .into_iter()
        .find(|p| p.lookup_key.as_deref() == Some(key.as_str()))
        .ok_or_else(|| {
            Error::Internal(format!(
                "Stripe has no price `{key}`: run `tollgate stripe sync`"
            ))
        })
}

/// Checks that `change` can be billed by card: a Stripe price on the same interval, and
/// usage prices Stripe's meters can bill. Returns the item quantity: the seats for a
/// per-seat price, else 1.
fn card_quantity(
    catalog: &Catalog,
    sub: &SubscriptionRow,
    change: &PlanChange<'_>,
) -> Result<u64, Error> {
    if sub.interval != change.interval.as_str() {
        return Err(Error::invalid("interval", format!("A card-paid plan keeps its billing interval (every {}); switching between monthly and yearly is not available yet.", sub.interval)));
    }
    let price = change.plan.price(change.interval).ok_or_else(|| {
        Error::invalid(
            "interval",
            format!("{} has no {} price.", change.plan.name, change.interval),
        )
    })?;
    let shape = stripe_catalog::stripe_price(price).map_err(|e| {
        Error::Conflict(format!("{} cannot be paid by card ({e}). To move to it, cancel your subscription: it ends with the current period, then choose {}.", change.plan.name, change.plan.name))
    })?;
    stripe_catalog::plan_usage_prices(catalog, change.plan).map_err(|(meter, e)| {
        Error::Conflict(format!(
            "{} cannot be paid by card (usage of {meter}: {e}). To move to it, cancel your subscription: it ends with the current period, then choose {}.",
            change.plan.name, change.plan.name
        ))
    })?;
    Ok(if shape.per_seat {
        u64::try_from(change.seats.max(1)).unwrap_or(1)
    } else {
        1
    })
}

/// Replaces one item of `remote` (price, quantity) with `proration`.
async fn send_item(
    stripe: &Stripe,
    remote: &Subscription,
    update: UpdateSubscriptionItems,
    proration: Proration,
) -> Result<Subscription, stripe::StripeError> {
    UpdateSubscription::new(remote.id.clone())
        .items(vec![update])
        .proration_behavior(proration)
        .send(stripe.client())
        .await
}

/// Mirrors `updated` in one transaction, with the audit entry `(action, details)` by `actor`.
async fn mirror_now(
    t: &Tollgate,
    stripe: &Stripe,
    sub: &SubscriptionRow,
    updated: &Subscription,
    actor: &Actor,
    (action, details): (&str, serde_json::Value),
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let catalog = t.catalog.get()?;
    let mut tx = t.pool.begin().await?;
    audit(&mut *tx, actor, action, sub, details).await?;
    mirror::subscription(
        &mut tx,
        &catalog,
        &t.settings.public_url,
        stripe.grace,
        updated,
        now,
    )
    .await?;
    tx.commit().await?;
    t.cache.invalidate(&[sub.account_id]);
    Ok(())
}

fn money(minor: i64, currency: Currency) -> Money {
    Money::new(Decimal::new(minor, currency.minor_unit_scale()), currency)
}

#[async_trait]
impl PaymentProvider for Stripe {
    fn name(&self) -> &'static str {
        "stripe"
    }

    async fn preview(
        &self,
        t: &Tollgate,
        sub: &SubscriptionRow,
        change: &PlanChange<'_>,
        _now: DateTime<Utc>,
    ) -> Result<ChangePreview, Error> {
        let quantity = card_quantity(&*t.catalog.get()?, sub, change)?;
        let remote = remote(self, sub).await?;
        let item = plan_item(&remote)?;
        let effective_at = DateTime::from_timestamp(item.current_period_end, 0).unwrap_or_default();
        if change.timing == Timing::PeriodEnd {
            return Ok(ChangePreview {
                amount: None,
                collected: Collected::Now,
                lines: Vec::new(),
                effective_at,
            });
        }
        if sub.status() == crate::subscription::Status::Trialing {
            return Ok(ChangePreview {
                amount: None,
                collected: Collected::Now,
                lines: Vec::new(),
                effective_at: Utc::now(),
            });
        }
        let price = price_id(self, change.plan.key.as_str(), change.interval).await?;
        let mut line = CreatePreviewInvoiceSubscriptionDetailsItems::new();
        line.id = Some(item.id.as_str().to_owned());
        line.price = Some(price);
        line.quantity = Some(quantity);
        let mut details = CreatePreviewInvoiceSubscriptionDetails::new();
        details.items = Some(vec![line]);
        details.proration_behavior = Some(PreviewProration::AlwaysInvoice);
        let invoice = CreatePreviewInvoice::new()
            .customer(remote.customer.id().as_str())
            .subscription(remote.id.as_str())
            .subscription_details(details)
            .send(self.client())
            .await
            .map_err(|e| failed("preview invoice", e))?;
        let currency = Currency::parse(&invoice.currency.to_string().to_ascii_uppercase())
            .unwrap_or(t.catalog.get()?.currency);
        let lines = invoice
            .lines
            .data
            .iter()
            .map(|l| {
                (
                    l.description.clone().unwrap_or_default(),
                    money(l.amount, currency),
                )
            })
            .collect();
        Ok(ChangePreview {
            amount: Some(money(invoice.total, currency)),
            collected: Collected::Now,
            lines,
            effective_at: Utc::now(),
        })
    }

    async fn change_plan(
        &self,
        t: &Tollgate,
        sub: &SubscriptionRow,
        change: &PlanChange<'_>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Chosen, Error> {
        let quantity = card_quantity(&*t.catalog.get()?, sub, change)?;
        if change.timing == Timing::PeriodEnd && sub.cancel_at_period_end {
            return Err(Error::Conflict("The subscription ends at its period end; reactivate it before scheduling a change.".into()));
        }
        let remote = remote(self, sub).await?;
        let item = plan_item(&remote)?;
        let price = price_id(self, change.plan.key.as_str(), change.interval).await?;
        let period_end = DateTime::from_timestamp(item.current_period_end, 0).unwrap_or(now);
        let details = serde_json::json!({
            "from_plan": sub.plan_key, "to_plan": change.plan.key.as_str(), "interval": change.interval.as_str(),
            "seats": quantity, "provider": "stripe", "stripe_subscription": remote.id.as_str(),
            "at": if change.timing == Timing::PeriodEnd { period_end } else { now },
        });
        // The local schedule is written before Stripe moves its price, so a webhook
        // arriving in between keeps the paid-for plan (and is undone if Stripe fails).
        let before = sub.scheduled().map(|(p, i, a)| (p.to_owned(), i, a));
        let schedule = (change.timing == Timing::PeriodEnd).then_some((
            change.plan.key.as_str(),
            change.interval,
            period_end,
        ));
        db::subscriptions::set_schedule(&t.pool, sub.id, schedule).await?;
        let mut update = UpdateSubscriptionItems::new();
        update.id = Some(item.id.as_str().to_owned());
        update.price = Some(price);
        update.quantity = Some(quantity);
        let proration = match change.timing {
            Timing::PeriodEnd => Proration::None,
            Timing::Now if sub.status() == crate::subscription::Status::Trialing => Proration::None,
            Timing::Now => Proration::AlwaysInvoice,
        };
        let updated = match send_item(self, &remote, update, proration).await {
            Ok(updated) => updated,
            Err(e) => {
                db::subscriptions::set_schedule(
                    &t.pool,
                    sub.id,
                    before.as_ref().map(|(p, i, a)| (p.as_str(), *i, *a)),
                )
                .await?;
                return Err(failed("update subscription", e));
            }
        };
        let action = if change.timing == Timing::PeriodEnd {
            "subscription.change_scheduled"
        } else {
            "subscription.plan_changed"
        };
        mirror_now(t, self, sub, &updated, actor, (action, details), now).await?;
        Ok(match change.timing {
            Timing::Now => Chosen::Applied,
            Timing::PeriodEnd => Chosen::Scheduled(period_end),
        })
    }

    async fn keep_plan(
        &self,
        t: &Tollgate,
        sub: &SubscriptionRow,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let Some((plan, interval, at)) = sub.scheduled() else {
            return Err(Error::Conflict("No plan change is scheduled.".into()));
        };
        let details = serde_json::json!({ "dropped_plan": plan, "dropped_interval": interval.as_str(), "was_at": at, "provider": "stripe" });
        let remote = remote(self, sub).await?;
        let item = plan_item(&remote)?;
        let current = sub.interval.parse().unwrap_or(Interval::Month);
        let mut update = UpdateSubscriptionItems::new();
        update.id = Some(item.id.as_str().to_owned());
        update.price = Some(price_id(self, &sub.plan_key, current).await?);
        update.quantity = item.quantity;
        let updated = send_item(self, &remote, update, Proration::None)
            .await
            .map_err(|e| failed("update subscription", e))?;
        db::subscriptions::set_schedule(&t.pool, sub.id, None).await?;
        mirror_now(
            t,
            self,
            sub,
            &updated,
            actor,
            ("subscription.change_unscheduled", details),
            now,
        )
        .await
    }

    async fn set_cancel_at_period_end(
        &self,
        t: &Tollgate,
        sub: &SubscriptionRow,
        cancel: bool,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        if sub.cancel_at_period_end == cancel {
            return Err(Error::Conflict(
                if cancel {
                    "The subscription already ends at its period end."
                } else {
                    "The subscription is not set to end."
                }
                .into(),
            ));
        }
        if cancel && sub.scheduled().is_some() {
            // Stripe already carries the scheduled plan's price: put the paid-for one back.
            self.keep_plan(t, sub, actor, now).await?;
        }
        let id = sub
            .provider_subscription_id
            .as_deref()
            .ok_or_else(|| Error::Internal(format!("subscription {} has no Stripe id", sub.id)))?;
        let updated = UpdateSubscription::new(id)
            .cancel_at_period_end(cancel)
            .send(self.client())
            .await
            .map_err(|e| failed("update subscription", e))?;
        let ends_at = updated
            .cancel_at
            .and_then(|t| DateTime::from_timestamp(t, 0));
        let action = if cancel {
            "subscription.cancel_scheduled"
        } else {
            "subscription.reactivated"
        };
        let details = serde_json::json!({ "plan": sub.plan_key, "ends_at": ends_at, "provider": "stripe", "stripe_subscription": id });
        mirror_now(t, self, sub, &updated, actor, (action, details), now).await
    }

    async fn set_seats(
        &self,
        t: &Tollgate,
        sub: &SubscriptionRow,
        seats: i32,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let catalog = t.catalog.get()?;
        let interval = sub.interval.parse().unwrap_or(Interval::Month);
        let per_seat = catalog
            .plan(&sub.plan_key)
            .and_then(|p| p.price_for(interval, sub.kept_price_at(now)))
            .is_some_and(|p| p.per_seat);
        if !per_seat {
            return Err(Error::Conflict(
                "This plan is not priced per seat; its price does not change with seats.".into(),
            ));
        }
        let remote = remote(self, sub).await?;
        let item = plan_item(&remote)?;
        let mut update = UpdateSubscriptionItems::new();
        update.id = Some(item.id.as_str().to_owned());
        update.quantity = Some(u64::try_from(seats.max(1)).unwrap_or(1));
        let proration = if sub.status() == crate::subscription::Status::Trialing {
            Proration::None
        } else if seats > sub.seats {
            Proration::AlwaysInvoice
        } else {
            Proration::CreateProrations
        };
        let updated = send_item(self, &remote, update, proration)
            .await
            .map_err(|e| failed("update subscription", e))?;
        let details = serde_json::json!({ "from": sub.seats, "to": seats, "provider": "stripe", "stripe_subscription": remote.id.as_str() });
        mirror_now(
            t,
            self,
            sub,
            &updated,
            actor,
            ("subscription.seats_changed", details),
            now,
        )
        .await
    }

    /// Switches the plan item to the price `tollgate stripe sync` made for the
    /// current amount, with `proration_behavior=none` (Stripe bills it from the next
    /// renewal) or, with `prorate`, `create_prorations` (the rest of the period is
    /// prorated on the next invoice):
    /// <https://docs.stripe.com/billing/subscriptions/change-price#changing>.
    async fn move_to_current_price(
        &self,
        t: &Tollgate,
        sub: &SubscriptionRow,
        prorate: bool,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let catalog = t.catalog.get()?;
        let (kept, current) = crate::service::provider::price_move(&catalog, sub, now)?;
        let shape = stripe_catalog::stripe_price(current).map_err(|e| {
            Error::Conflict(format!("The current price cannot be billed by card ({e})."))
        })?;
        let interval = sub.cycle().interval;
        let price = current_price(self, &sub.plan_key, interval).await?;
        if price.unit_amount != Some(shape.unit_amount) {
            return Err(Error::Conflict("Stripe's price for the plan is not the catalog's current amount yet: run `tollgate stripe sync` first.".into()));
        }
        let price = price.id.as_str().to_owned();
        let remote = remote(self, sub).await?;
        let item = plan_item(&remote)?;
        let mut update = UpdateSubscriptionItems::new();
        update.id = Some(item.id.as_str().to_owned());
        update.price = Some(price.clone());
        update.quantity = item.quantity;
        let proration = if prorate && sub.status() != crate::subscription::Status::Trialing {
            Proration::CreateProrations
        } else {
            Proration::None
        };
        let updated = send_item(self, &remote, update, proration)
            .await
            .map_err(|e| failed("update subscription", e))?;
        let details = serde_json::json!({
            "from": kept.amount.amount, "to": current.amount.amount, "currency": current.amount.currency.code(),
            "plan": sub.plan_key, "interval": sub.interval, "prorate": prorate, "provider": "stripe",
            "stripe_subscription": remote.id.as_str(), "stripe_price": price,
        });
        // Stripe bills the current period as it was; the kept price ends with it.
        let until = plan_item(&updated).map_or(now, |i| {
            DateTime::from_timestamp(i.current_period_end, 0).unwrap_or(now)
        });
        let mut tx = t.pool.begin().await?;
        audit(&mut *tx, actor, "subscription.price_migrated", sub, details).await?;
        mirror::subscription(
            &mut tx,
            &catalog,
            &t.settings.public_url,
            self.grace,
            &updated,
            now,
        )
        .await?;
        db::subscriptions::end_grandfathered(&mut *tx, sub.id, &sub.plan_key, interval, until)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
