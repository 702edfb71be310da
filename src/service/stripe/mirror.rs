//! Stripe's subscriptions and invoices in Tollgate's tables. Each function takes the
//! object as Stripe reports it *now* (fetched by the webhook handler, never the
//! event's possibly stale copy) and writes the difference, so an event that arrives
//! twice, late or before its predecessor leaves the same result.
//!
//! Dunning (issue 4): when a subscription becomes `past_due`, the account gets an
//! in-app notification and the owner an e-mail (`payment_failed`); when it is paid
//! again the notification says so. Stripe retries the payment on its own schedule
//! (<https://docs.stripe.com/billing/revenue-recovery/smart-retries>).

use crate::catalog::Catalog;
use crate::db::{self, subscriptions::StripeState};
use crate::invoice::InvoiceStatus;
use crate::money::{Currency, Money};
use crate::period::{Cycle, Interval};
use crate::service::{Actor, Error};
use crate::stripe_catalog;
use crate::subscription::{PlanTerms, Status};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use stripe_shared::{Invoice, Subscription};
use uuid::Uuid;

/// What mirroring did, for the event ledger's `outcome`.
pub type Outcome = String;

fn at(ts: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(ts, 0)
}

/// Writes `sub`'s current state to the account billed as its customer.
///
/// # Errors
/// Database errors. Subscriptions Tollgate cannot place (unknown customer, a price
/// without Tollgate's lookup key, a plan missing from the catalog) are not errors:
/// the outcome says why they were ignored.
/// A subscription that becomes past due keeps its entitlements for `grace`.
pub async fn subscription(
    tx: &mut db::Tx<'_>,
    catalog: &Catalog,
    public_url: &str,
    grace: chrono::Duration,
    sub: &Subscription,
    now: DateTime<Utc>,
) -> Result<Outcome, Error> {
    let customer = sub.customer.id().as_str().to_owned();
    let Some(account_id) = db::stripe::account_of(&mut **tx, &customer).await? else {
        return Ok(format!(
            "ignored: customer {customer} is not one of Tollgate's"
        ));
    };
    let Some((item, plan_key, interval)) =
        super::plan_item(sub).map(|(i, plan, interval)| (i, plan.to_owned(), interval))
    else {
        return Ok("ignored: no item has a Tollgate price (lookup key <plan>_<interval>)".into());
    };
    let Some(plan) = catalog.plan(&plan_key) else {
        return Ok(format!("ignored: plan {plan_key} is not in the catalog"));
    };
    let Some(status) = stripe_catalog::subscription_status(sub.status.as_str()) else {
        return Ok(format!("ignored: unknown status {}", sub.status.as_str()));
    };
    let anchor = at(item.current_period_start).unwrap_or(now);
    db::accounts::lock_for_cycle_change(&mut **tx, account_id).await?;
    let existing = match db::subscriptions::by_provider_id(&mut **tx, sub.id.as_str()).await? {
        Some(row) => Some(row),
        None => {
            match db::subscriptions::live_for_account(&mut **tx, account_id).await? {
                Some(live) if live.provider == "stripe" && status.is_live() => {
                    return Ok(format!("ignored: the account already pays through another Stripe subscription ({})", live.id));
                }
                Some(live) if live.provider == "manual" => Some(live),
                _ => None,
            }
        }
    };
    // A change scheduled for the period end: Stripe already carries the new price,
    // the paid-for plan applies until Stripe's period reaches the scheduled instant.
    let pending = existing.as_ref().and_then(|row| {
        row.scheduled()
            .filter(|(p, i, _)| *p == plan.key.as_str() && *i == interval)
            .map(|(_, _, when)| (row, when))
    });
    let keep_schedule = pending.is_some_and(|(_, when)| anchor < when) && !sub.cancel_at_period_end;
    let (plan, interval) = match pending {
        Some((row, _)) if keep_schedule => match catalog.plan(&row.plan_key) {
            Some(kept) => (kept, row.interval.parse().unwrap_or(interval)),
            None => (plan, interval),
        },
        _ => (plan, interval),
    };
    let state = StripeState {
        provider_subscription_id: sub.id.as_str(),
        plan_key: plan.key.as_str(),
        interval,
        seats: item
            .quantity
            .and_then(|q| i32::try_from(q).ok())
            .unwrap_or(1)
            .max(1),
        status,
        cycle_anchor: anchor,
        trial_end: (status == Status::Trialing).then(|| {
            sub.trial_end
                .and_then(at)
                .or_else(|| at(item.current_period_end))
                .unwrap_or(now)
        }),
        cancel_at_period_end: sub.cancel_at_period_end,
        cancel_at: sub
            .cancel_at_period_end
            .then(|| {
                sub.cancel_at
                    .and_then(at)
                    .or_else(|| at(item.current_period_end))
            })
            .flatten(),
        canceled_at: (status == Status::Canceled)
            .then(|| sub.canceled_at.or(sub.ended_at).and_then(at).unwrap_or(now)),
        keep_schedule,
    };

    let before = existing.as_ref();
    if let Some(row) = before {
        let unchanged = row.provider == "stripe"
            && row.plan_key == state.plan_key
            && row.interval == interval.as_str()
            && row.seats == state.seats
            && row.status() == status
            && row.cycle_anchor == anchor
            && row.trial_end == state.trial_end
            && row.cancel_at_period_end == state.cancel_at_period_end
            && (keep_schedule || row.scheduled().is_none());
        if unchanged {
            return Ok(format!("subscription {} unchanged", row.id));
        }
    } else if !status.is_live() {
        return Ok("ignored: the subscription ended before Tollgate saw it".into());
    }
    let id = before.map_or_else(Uuid::now_v7, |row| row.id);
    db::subscriptions::save_stripe(&mut **tx, id, account_id, &state, now, now + grace).await?;
    if status == Status::Trialing {
        db::accounts::mark_trial_used(&mut **tx, account_id).await?;
    }
    let from = before.map(|b| {
        (
            b.plan_key.as_str(),
            b.interval.parse().unwrap_or(Interval::Month),
            b.status(),
        )
    });
    if from.is_none_or(|f| (f.0, f.1, f.2) != (state.plan_key, interval, status))
        || before.is_some_and(|b| b.seats != state.seats)
    {
        db::subscriptions::record_change(
            &mut **tx,
            &db::subscriptions::Change {
                subscription_id: id,
                account_id,
                from,
                to: (state.plan_key, interval, status),
                changed_by: None,
                seats: Some((before.map_or(state.seats, |b| b.seats), state.seats)),
                proration: None,
                at: now,
            },
        )
        .await?;
    }
    db::audit::record(
        &mut **tx,
        &db::audit::Entry {
            actor: &Actor::System,
            action: "subscription.synced_from_stripe",
            target_kind: "subscription",
            target_id: id.to_string(),
            account_id: Some(account_id),
            ip: None,
            details: serde_json::json!({
                "stripe_subscription": sub.id.as_str(),
                "from_plan": from.map(|f| f.0), "from_status": from.map(|f| f.2.as_str()),
                "plan": state.plan_key, "interval": interval.as_str(), "seats": state.seats, "status": status.as_str(),
                "cancel_at_period_end": state.cancel_at_period_end,
            }),
        },
    )
    .await?;
    let was = from.map(|f| f.2);
    if status == Status::PastDue && was != Some(Status::PastDue) {
        past_due(
            tx,
            catalog,
            public_url,
            (account_id, id),
            &plan.name,
            sub,
            now + grace,
        )
        .await?;
    } else if was == Some(Status::PastDue) && status.entitles() {
        db::notifications::insert(
            &mut **tx,
            account_id,
            "payment_recovered",
            "Payment received",
            &format!(
                "Thank you: your {} subscription is paid up again.",
                plan.name
            ),
            &serde_json::json!({ "subscription_id": id }),
        )
        .await?;
    }
    if before.is_none_or(|b| b.cycle_anchor != anchor || b.interval != interval.as_str())
        && status.is_live()
    {
        let terms = PlanTerms {
            status,
            trial_end: state.trial_end,
            cycle: Cycle { anchor, interval },
        };
        crate::service::plans::rebuild_current_totals(tx, catalog, account_id, &terms, now).await?;
    }
    db::usage::notify_changed(&mut **tx, &[account_id]).await?;
    Ok(format!(
        "subscription {id} {} ({})",
        if before.is_some() {
            "updated"
        } else {
            "created"
        },
        status.as_str()
    ))
}

/// The dunning notice: notification, and the owner's e-mail once per failed invoice.
async fn past_due(
    tx: &mut db::Tx<'_>,
    catalog: &Catalog,
    public_url: &str,
    (account_id, subscription_id): (Uuid, Uuid),
    plan_name: &str,
    sub: &Subscription,
    grace_until: DateTime<Utc>,
) -> Result<(), Error> {
    let invoice_id = sub
        .latest_invoice
        .as_ref()
        .and_then(|i| i.id().as_ref().map(|id| id.as_str().to_owned()));
    let invoice = match &invoice_id {
        Some(pid) => db::invoices::by_provider_id(&mut **tx, pid).await?,
        None => None,
    };
    let amount = invoice.as_ref().map(|i| {
        Currency::parse(&i.currency).map_or_else(
            |_| i.amount_due.to_string(),
            |c| Money::new(i.amount_due - i.amount_paid, c).display(),
        )
    });
    db::webhook_events::emit_payment_failed(&mut **tx, account_id, subscription_id, invoice.as_ref().map(|i| i.id)).await?;
    db::notifications::insert(
        &mut **tx,
        account_id,
        "payment_failed",
        "Payment failed",
        &format!(
            "We could not collect {} for your {plan_name} subscription. Update your payment method on the billing page by {} to keep your access.",
            amount.as_deref().unwrap_or("the latest invoice"),
            grace_until.format("%Y-%m-%d")
        ),
        &serde_json::json!({ "invoice": invoice_id }),
    )
    .await?;
    let Some(to) = db::accounts::mail_recipient(&mut **tx, account_id).await? else {
        return Ok(());
    };
    let context = serde_json::json!({
        "product": catalog.title,
        "user": { "name": to.owner_name, "email": to.owner_email },
        "account": { "name": to.account_name },
        "plan": { "name": plan_name },
        "amount": amount.as_deref().unwrap_or("the amount due"),
        "invoice": {
            "number": invoice.as_ref().and_then(|i| i.number.clone()).unwrap_or_else(|| "(pending)".into()),
            "hosted_url": invoice.as_ref().and_then(|i| i.hosted_url.clone()),
        },
        "billing_link": format!("{public_url}/billing"),
        "grace_until": grace_until.format("%Y-%m-%d").to_string(),
    });
    let dedup = format!(
        "payment_failed:{}:{}",
        sub.id.as_str(),
        invoice_id.as_deref().unwrap_or("none")
    );
    crate::service::mail::enqueue(
        &mut **tx,
        &to.email,
        "payment_failed",
        &context,
        Some(&dedup),
        Some(account_id),
    )
    .await?;
    Ok(())
}

/// The Stripe subscription an invoice bills: its parent's subscription details, or
/// the older top-level `subscription` field.
pub(super) fn subscription_of(invoice: &Invoice) -> Option<String> {
    invoice
        .parent
        .as_ref()
        .and_then(|p| p.subscription_details.as_ref())
        .map(|d| d.subscription.id().as_str().to_owned())
        .or_else(|| {
            invoice
                .subscription
                .as_ref()
                .map(|s| s.id().as_str().to_owned())
        })
}

/// Writes `invoice`'s current state (number, lines, amounts, status, hosted page and
/// PDF) for the account billed as its customer.
///
/// # Errors
/// Database errors; invoices of customers Tollgate does not know are ignored.
pub async fn invoice(tx: &mut db::Tx<'_>, invoice: &Invoice) -> Result<Outcome, Error> {
    let Some(provider_id) = invoice.id.as_ref().map(|i| i.as_str().to_owned()) else {
        return Ok("ignored: an invoice preview has no id".into());
    };
    let Some(customer) = invoice
        .customer
        .as_ref()
        .map(|c| c.id().as_str().to_owned())
    else {
        return Ok("ignored: the invoice has no customer".into());
    };
    let Some(account_id) = db::stripe::account_of(&mut **tx, &customer).await? else {
        return Ok(format!(
            "ignored: customer {customer} is not one of Tollgate's"
        ));
    };
    let currency_code = invoice.currency.to_string().to_ascii_uppercase();
    let Ok(currency) = Currency::parse(&currency_code) else {
        return Ok(format!("ignored: unknown currency {currency_code}"));
    };
    let money = |minor: i64| Decimal::new(minor, currency.minor_unit_scale());
    let status = match invoice.status.as_ref().map(|s| s.as_str()) {
        Some("open") => InvoiceStatus::Open,
        Some("paid") => InvoiceStatus::Paid,
        Some("void") => InvoiceStatus::Void,
        Some("uncollectible") => InvoiceStatus::Uncollectible,
        _ => InvoiceStatus::Draft,
    };
    let subscription = match &subscription_of(invoice) {
        Some(sid) => db::subscriptions::by_provider_id(&mut **tx, sid).await?,
        None => None,
    };
    let (start, end) = invoice
        .lines
        .data
        .iter()
        .fold((invoice.period_start, invoice.period_end), |(s, e), l| {
            (s.min(l.period.start), e.max(l.period.end))
        });
    let period_start = at(start).unwrap_or_default();
    // Stripe reports a zero-length period for an invoice billed at the instant it
    // starts (a subscription's first invoice with no line periods): kept as 1 second.
    let period_end = at(end)
        .filter(|e| *e > period_start)
        .unwrap_or(period_start + chrono::Duration::seconds(1));
    let total = money(invoice.total.max(0));
    let amount_due = money(invoice.amount_due.clamp(0, invoice.total.max(0)));
    let transitions = &invoice.status_transitions;
    let stamp = |t: Option<i64>| t.and_then(at).or(Some(period_start));
    let lines: Vec<db::invoices::StripeLine> = invoice
        .lines
        .data
        .iter()
        .map(|l| {
            let proration = l
                .parent
                .as_ref()
                .and_then(|p| p.subscription_item_details.as_ref())
                .is_some_and(|d| d.proration);
            db::invoices::StripeLine {
                kind: if proration { "proration" } else { "base" },
                description: l.description.clone().unwrap_or_default(),
                quantity: Decimal::from(l.quantity.unwrap_or(1)),
                amount: money(l.amount),
            }
        })
        .collect();
    let row = db::invoices::StripeInvoice {
        provider_invoice_id: &provider_id,
        account_id,
        subscription_id: subscription.as_ref().map(|s| s.id),
        number: invoice.number.as_deref(),
        status,
        currency: &currency_code,
        period_start,
        period_end,
        plan_key: subscription.as_ref().map(|s| s.plan_key.as_str()),
        subtotal: money(invoice.subtotal),
        discount: money((invoice.subtotal - invoice.total).max(0)),
        total,
        credit_applied: total - amount_due,
        amount_due,
        amount_paid: money(invoice.amount_paid.max(0)),
        issued_at: transitions.finalized_at.and_then(at),
        due_at: invoice.due_date.and_then(at),
        paid_at: (status == InvoiceStatus::Paid)
            .then(|| stamp(transitions.paid_at))
            .flatten(),
        voided_at: (status == InvoiceStatus::Void)
            .then(|| stamp(transitions.voided_at))
            .flatten(),
        uncollectible_at: (status == InvoiceStatus::Uncollectible)
            .then(|| stamp(transitions.marked_uncollectible_at))
            .flatten(),
        hosted_url: invoice.hosted_invoice_url.as_deref(),
        pdf_url: invoice.invoice_pdf.as_deref(),
    };
    let (id, before) = db::invoices::upsert_stripe(tx, &row, &lines).await?;
    if before.as_deref() != Some(status.as_str()) {
        db::audit::record(
            &mut **tx,
            &db::audit::Entry {
                actor: &Actor::System,
                action: "invoice.synced_from_stripe",
                target_kind: "invoice",
                target_id: id.to_string(),
                account_id: Some(account_id),
                ip: None,
                details: serde_json::json!({
                    "stripe_invoice": provider_id, "number": invoice.number, "from_status": before, "status": status.as_str(),
                    "total": total, "amount_paid": row.amount_paid, "currency": currency_code,
                }),
            },
        )
        .await?;
    }
    Ok(format!("invoice {id} {}", status.as_str()))
}
