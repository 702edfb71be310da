//! The `manual` provider: Tollgate applies changes itself and bills them on its own
//! invoices (the invoice run adds each change's stored proration to the next
//! invoice). Changes at the period end are kept on the subscription and applied by
//! [`apply_due`], which the background upkeep runs every minute.

use super::{
    audit, period_end, ChangePreview, Chosen, Collected, PaymentProvider, PlanChange, Timing,
};
use crate::db::{self, subscriptions::SubscriptionRow};
use crate::money::Money;
use crate::service::plans::{self, Applying, Chooser};
use crate::service::{Actor, Error, Tollgate};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Tollgate's own invoicing (bank transfer against invoices).
#[derive(Debug, Clone, Copy)]
pub struct Manual;

/// Re-reads `sub` under its account's lock, for a change in `tx`.
async fn locked(tx: &mut db::Tx<'_>, sub: &SubscriptionRow) -> Result<SubscriptionRow, Error> {
    db::accounts::lock_for_cycle_change(&mut **tx, sub.account_id).await?;
    db::subscriptions::live_for_account(&mut **tx, sub.account_id)
        .await?
        .filter(|s| s.id == sub.id)
        .ok_or_else(|| {
            Error::Conflict("The subscription changed meanwhile; reload and try again.".into())
        })
}

#[async_trait]
impl PaymentProvider for Manual {
    fn name(&self) -> &'static str {
        "manual"
    }

    async fn preview(
        &self,
        t: &Tollgate,
        sub: &SubscriptionRow,
        change: &PlanChange<'_>,
        now: DateTime<Utc>,
    ) -> Result<ChangePreview, Error> {
        let catalog = t.catalog.get()?;
        if change.timing == Timing::PeriodEnd {
            return Ok(ChangePreview {
                amount: None,
                collected: Collected::NextInvoice,
                lines: Vec::new(),
                effective_at: period_end(sub, now),
            });
        }
        let mut conn = t.pool.acquire().await?;
        let trial_used = db::accounts::by_id(&mut *conn, sub.account_id)
            .await?
            .is_some_and(|a| a.trial_used_at.is_some());
        let after = crate::subscription::change(
            &sub.terms(),
            change.plan,
            change.interval,
            now,
            trial_used,
        );
        let amount = plans::change_proration(
            &catalog,
            sub,
            change.plan,
            change.interval,
            change.seats,
            &after,
            now,
        )
        .map(|p| Money::new(p, catalog.currency).round());
        Ok(ChangePreview {
            amount,
            collected: Collected::NextInvoice,
            lines: Vec::new(),
            effective_at: now,
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
        if change.timing == Timing::Now {
            plans::choose(
                t,
                sub.account_id,
                change.plan.key.as_str(),
                change.interval,
                Chooser::Operator,
                actor,
                now,
            )
            .await?;
            return Ok(Chosen::Applied);
        }
        let mut tx = t.pool.begin().await?;
        let sub = locked(&mut tx, sub).await?;
        if sub.cancel_at_period_end {
            return Err(Error::Conflict("The subscription ends at its period end; reactivate it before scheduling a change.".into()));
        }
        let at = period_end(&sub, now);
        db::subscriptions::set_schedule(
            &mut *tx,
            sub.id,
            Some((change.plan.key.as_str(), change.interval, at)),
        )
        .await?;
        audit(
            &mut *tx,
            actor,
            "subscription.change_scheduled",
            &sub,
            serde_json::json!({
                "from_plan": sub.plan_key, "from_interval": sub.interval,
                "to_plan": change.plan.key.as_str(), "to_interval": change.interval.as_str(), "at": at, "provider": "manual",
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(Chosen::Scheduled(at))
    }

    async fn keep_plan(
        &self,
        t: &Tollgate,
        sub: &SubscriptionRow,
        actor: &Actor,
        _now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let mut tx = t.pool.begin().await?;
        let sub = locked(&mut tx, sub).await?;
        let Some((plan, interval, at)) = sub.scheduled() else {
            return Err(Error::Conflict("No plan change is scheduled.".into()));
        };
        let details = serde_json::json!({ "dropped_plan": plan, "dropped_interval": interval.as_str(), "was_at": at, "provider": "manual" });
        db::subscriptions::set_schedule(&mut *tx, sub.id, None).await?;
        audit(
            &mut *tx,
            actor,
            "subscription.change_unscheduled",
            &sub,
            details,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_cancel_at_period_end(
        &self,
        t: &Tollgate,
        sub: &SubscriptionRow,
        cancel: bool,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let mut tx = t.pool.begin().await?;
        let sub = locked(&mut tx, sub).await?;
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
        let at = cancel.then(|| period_end(&sub, now));
        db::subscriptions::set_cancel_at(&mut *tx, sub.id, at).await?;
        let action = if cancel {
            "subscription.cancel_scheduled"
        } else {
            "subscription.reactivated"
        };
        audit(
            &mut *tx,
            actor,
            action,
            &sub,
            serde_json::json!({ "plan": sub.plan_key, "ends_at": at, "provider": "manual" }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_seats(
        &self,
        t: &Tollgate,
        sub: &SubscriptionRow,
        seats: i32,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let account_id = sub.account_id;
        let mut tx = t.pool.begin().await?;
        db::memberships::lock_account(&mut *tx, account_id).await?;
        crate::service::organizations::seats::check_seats(&mut tx, account_id, seats, now).await?;
        let sub = db::subscriptions::live_for_account(&mut *tx, account_id)
            .await?
            .filter(|s| s.id == sub.id)
            .ok_or_else(|| {
                Error::Conflict("The subscription changed meanwhile; reload and try again.".into())
            })?;
        if sub.seats == seats {
            return Ok(());
        }
        db::memberships::set_seats(&mut *tx, account_id, seats).await?;
        let catalog = t.catalog.get()?;
        let interval = sub
            .interval
            .parse()
            .unwrap_or(crate::period::Interval::Month);
        let status = sub.status();
        let proration = (status != crate::subscription::Status::Trialing)
            .then(|| {
                catalog
                    .plan(&sub.plan_key)
                    .and_then(|p| p.price_for(interval, sub.kept_price_at(now)))
            })
            .flatten()
            .map(|price| {
                let amount = |n: i32| {
                    crate::invoice::charges::period_amount(
                        price,
                        u32::try_from(n.max(1)).unwrap_or(1),
                    )
                };
                crate::proration::prorate(
                    amount(sub.seats),
                    amount(seats),
                    sub.cycle().period_containing(now),
                    now,
                )
                .net()
            });
        db::subscriptions::record_change(
            &mut *tx,
            &db::subscriptions::Change {
                subscription_id: sub.id,
                account_id,
                from: Some((sub.plan_key.as_str(), interval, status)),
                to: (sub.plan_key.as_str(), interval, status),
                changed_by: actor.user_id(),
                seats: Some((sub.seats, seats)),
                proration,
                at: now,
            },
        )
        .await?;
        audit(
            &mut *tx,
            actor,
            "subscription.seats_changed",
            &sub,
            serde_json::json!({ "from": sub.seats, "to": seats, "provider": "manual" }),
        )
        .await?;
        db::usage::notify_changed(&mut *tx, &[account_id]).await?;
        tx.commit().await?;
        t.cache.invalidate(&[account_id]);
        Ok(())
    }

    async fn move_to_current_price(
        &self,
        t: &Tollgate,
        sub: &SubscriptionRow,
        prorate: bool,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let catalog = t.catalog.get()?;
        let mut tx = t.pool.begin().await?;
        let sub = locked(&mut tx, sub).await?;
        let (kept, current) = super::price_move(&catalog, &sub, now)?;
        let interval = sub.cycle().interval;
        let status = sub.status();
        let seats = u32::try_from(sub.seats.max(1)).unwrap_or(1);
        // The current period was invoiced in advance at the kept price: with
        // `prorate`, the difference for its rest goes on the next invoice.
        let proration = (prorate && status != crate::subscription::Status::Trialing).then(|| {
            let amount = |p| crate::invoice::charges::period_amount(p, seats);
            crate::proration::prorate(
                amount(kept),
                amount(current),
                sub.cycle().period_containing(now),
                now,
            )
            .net()
        });
        if let Some(amount) = proration {
            db::subscriptions::record_change(
                &mut *tx,
                &db::subscriptions::Change {
                    subscription_id: sub.id,
                    account_id: sub.account_id,
                    from: Some((sub.plan_key.as_str(), interval, status)),
                    to: (sub.plan_key.as_str(), interval, status),
                    changed_by: actor.user_id(),
                    seats: Some((sub.seats, sub.seats)),
                    proration: Some(amount),
                    at: now,
                },
            )
            .await?;
        }
        // The period under way bills the kept price (and the proration, if asked);
        // the next one the current price.
        let until = sub.cycle().period_containing(now).end;
        if !db::subscriptions::end_grandfathered(&mut *tx, sub.id, &sub.plan_key, interval, until)
            .await?
        {
            return Err(Error::Conflict(
                "The subscription changed meanwhile; reload and try again.".into(),
            ));
        }
        let details = serde_json::json!({
            "from": kept.amount.amount, "to": current.amount.amount, "currency": current.amount.currency.code(),
            "plan": sub.plan_key, "interval": sub.interval, "prorate": prorate, "proration": proration, "from_period_starting": until, "provider": "manual",
        });
        audit(
            &mut *tx,
            actor,
            "subscription.price_migrated",
            &sub,
            details,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// What [`apply_due`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Scheduled plan changes applied.
    pub changed: usize,
    /// Subscriptions ended at their period end.
    pub ended: usize,
}

/// Applies the manual provider's period-end work due by `now`: scheduled plan
/// changes (each at its own instant, without proration, recorded in the plan
/// history) and cancellations (the subscription ends at its period end). Safe to run
/// in several processes at once: a change applies only while it is still scheduled.
///
/// # Errors
/// Database errors; a change that fails is logged and retried on the next pass.
pub async fn apply_due(t: &Tollgate, now: DateTime<Utc>) -> Result<Applied, Error> {
    let mut done = Applied::default();
    let due = db::subscriptions::due_schedules(&t.pool, now).await?;
    for sub in due {
        let Some((plan, interval, at)) = sub.scheduled() else {
            continue;
        };
        match plans::apply(
            t,
            sub.account_id,
            plan,
            interval,
            Chooser::Operator,
            &Actor::System,
            at,
            Applying::Scheduled,
        )
        .await
        {
            Ok(Some(_)) => done.changed += 1,
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(subscription = %sub.id, error = %e, "scheduled plan change failed; retrying next pass")
            }
        }
    }
    let mut tx = t.pool.begin().await?;
    let ended = db::subscriptions::end_canceled(&mut *tx, now).await?;
    for (id, account_id, plan, at) in &ended {
        db::audit::record(
            &mut *tx,
            &db::audit::Entry {
                actor: &Actor::System,
                action: "subscription.canceled",
                target_kind: "subscription",
                target_id: id.to_string(),
                account_id: Some(*account_id),
                ip: None,
                details: serde_json::json!({ "plan": plan, "ended_at": at, "reason": "canceled at period end", "provider": "manual" }),
            },
        )
        .await?;
        db::notifications::insert(
            &mut *tx,
            *account_id,
            "subscription_ended",
            "Subscription ended",
            "Your subscription ended at the end of its billing period, as you asked. Choose a plan to continue.",
            &serde_json::json!({ "subscription_id": id }),
        )
        .await?;
    }
    let accounts: Vec<_> = ended.iter().map(|e| e.1).collect();
    if !accounts.is_empty() {
        db::usage::notify_changed(&mut *tx, &accounts).await?;
    }
    tx.commit().await?;
    t.cache.invalidate(&accounts);
    done.ended = ended.len();
    Ok(done)
}
