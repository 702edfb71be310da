//! The invoice run of the manual provider: `tollgate invoices run [--period YYYY-MM]`
//! and the daily job.
//!
//! For each manual subscription, each billing period that closed in the month (see
//! [`crate::invoice::schedule`]) gets one invoice, in its own transaction: the plan
//! in effect at the period's start for the paid share of the period, the proration
//! of every change made during it, usage priced by the plan in effect at its end,
//! the account's coupon and credit balance. Numbers are gap-free per year. A second
//! run finds the invoices there (a unique index per subscription and period) and
//! issues nothing; a voided invoice is not re-issued.

use crate::catalog::{Catalog, Plan};
use crate::db;
use crate::db::subscriptions::{ChangeRecord, InvoicingRow};
use crate::invoice::charges::{plan_charges, usage_charge};
use crate::invoice::{assemble, number, schedule, Charge, InvoiceStatus, LineKind};
use crate::money::Money;
use crate::period::{meter_period, Interval, Period};
use crate::service::{Actor, Error, Tollgate};
use chrono::{DateTime, Datelike, Duration, Utc};
use futures::StreamExt;
use rust_decimal::Decimal;
use uuid::Uuid;

/// The issuer prefix of Tollgate's own invoice numbers (`TG-2026-000001`).
pub const NUMBER_PREFIX: &str = "TG";

/// One invoice a run issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The invoice id.
    pub id: Uuid,
    /// Its number.
    pub number: String,
    /// The account billed.
    pub account_id: Uuid,
    /// What is due (zero when credit paid it all: it is then `paid`).
    pub amount_due: Money,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Invoices issued, in order.
    pub issued: Vec<Issued>,
    /// Periods that already had an invoice.
    pub already_invoiced: usize,
    /// Periods with nothing to bill (free plans without usage prices, a trial).
    pub nothing_to_bill: usize,
}

/// Runs the invoice run for `month` (a calendar month, see
/// [`schedule::billing_month`]) at `now`. `actor` is the CLI or the job.
///
/// # Errors
/// [`Error::NoCatalog`]; database failures (the invoices issued before a failure
/// stay issued, each was its own transaction; those in flight roll back).
pub async fn run(
    t: &Tollgate,
    month: Period,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Report, Error> {
    let catalog = t.catalog.get()?;
    let mut report = Report::default();
    let subs = db::subscriptions::manual_for_invoicing(&t.pool, month.end).await?;
    let mut periods = Vec::new();
    for sub in &subs {
        for period in
            schedule::periods_closing_in(sub.cycle(), month, sub.created_at, sub.canceled_at, now)
        {
            periods.push(bill_one(t, &catalog, sub, period, actor, now));
        }
    }
    // Each period is billed in its own transaction, PARALLEL at once; results are
    // taken in the subscriptions' order. Invoice numbers stay gap-free: each
    // transaction takes its number under the sequence's row lock.
    let mut billed = futures::stream::iter(periods).buffered(PARALLEL);
    while let Some(billed) = billed.next().await {
        match billed? {
            Billed::Issued(issued) => report.issued.push(issued),
            Billed::Already => report.already_invoiced += 1,
            Billed::Nothing => report.nothing_to_bill += 1,
        }
    }
    Ok(report)
}

/// Bills one closed period of `sub`, unless it already has an invoice.
async fn bill_one(
    t: &Tollgate,
    catalog: &Catalog,
    sub: &InvoicingRow,
    period: Period,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Billed, Error> {
    if db::invoices::manual_exists(&t.pool, sub.id, period.start).await? {
        return Ok(Billed::Already);
    }
    let trial_end = sub.trial_ended_at.or(sub.trial_end);
    Ok(
        match bill_period(t, catalog, sub, period, trial_end, actor, now).await? {
            Some(issued) => Billed::Issued(issued),
            None => Billed::Nothing,
        },
    )
}

/// Periods billed at once by [`run`] (each holds a connection; the pool has 20).
const PARALLEL: usize = 6;

/// What became of one period.
enum Billed {
    Issued(Issued),
    Already,
    Nothing,
}

/// The plan, interval and seats in effect at `at`, from the change history (the
/// subscription's current values when the history says nothing).
fn terms_at<'c>(
    catalog: &'c Catalog,
    sub: &InvoicingRow,
    changes: &[ChangeRecord],
    at: DateTime<Utc>,
) -> Option<(&'c Plan, Interval, u32)> {
    let last = changes
        .iter()
        .rev()
        .find(|c| c.effective_at <= at)
        .or_else(|| changes.first());
    let (plan, interval) = match last {
        Some(c) => (
            c.to_plan.as_str(),
            c.to_interval.parse().unwrap_or(Interval::Month),
        ),
        None => (sub.plan_key.as_str(), sub.cycle().interval),
    };
    let seats = changes
        .iter()
        .rev()
        .filter(|c| c.effective_at <= at)
        .find_map(|c| c.to_seats)
        .unwrap_or(sub.seats);
    Some((
        catalog.plan(plan)?,
        interval,
        u32::try_from(seats.max(1)).unwrap_or(1),
    ))
}

async fn bill_period(
    t: &Tollgate,
    catalog: &Catalog,
    sub: &InvoicingRow,
    period: Period,
    trial_end: Option<DateTime<Utc>>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Option<Issued>, Error> {
    let changes = db::subscriptions::changes_until(&t.pool, sub.id, period.end).await?;
    let Some((plan, interval, seats)) = terms_at(catalog, sub, &changes, period.start) else {
        return Err(Error::Internal(format!(
            "subscription {} is on a plan the catalog no longer has",
            sub.id
        )));
    };
    let mut charges = Vec::new();
    let share = schedule::paid_share(period, sub.created_at, trial_end, sub.canceled_at);
    // A grandfathered price is the subscriber's price on their current plan and interval.
    let kept = sub
        .kept_price_at(period.start)
        .filter(|_| plan.key.as_str() == sub.plan_key && interval.as_str() == sub.interval);
    if let (Some(price), true) = (plan.price_for(interval, kept), share > Decimal::ZERO) {
        charges.extend(plan_charges(
            price,
            seats,
            share,
            &format!("{}, {}", plan.name, interval_label(interval)),
        ));
    }
    for c in changes.iter().filter(|c| period.contains(c.effective_at)) {
        if let Some(amount) = c.proration.filter(|p| !p.is_zero()) {
            charges.push(proration_charge(catalog, c, amount));
        }
    }
    let (end_plan, _, end_seats) =
        terms_at(catalog, sub, &changes, period.end - Duration::seconds(1))
            .unwrap_or((plan, interval, seats));
    // Usage is billed above the allowance in force at the period's end: the plan's
    // limit with the account's override then.
    let overrides =
        db::overrides::active(&t.pool, sub.account_id, period.end - Duration::seconds(1)).await?;
    for (meter_key, pricing) in &end_plan.usage_prices {
        let Some(meter) = catalog.meter(meter_key.as_str()) else {
            continue;
        };
        let limit = overrides.limit(meter_key.as_str(), &end_plan.limit(meter_key.as_str()));
        let cost_property = match pricing {
            crate::rating::Pricing::CostPlus { property, .. } => Some(property.as_str()),
            _ => None,
        };
        for slice in meter_slices(meter.reset, sub, period) {
            let (usage, cost) = db::usage::period_usage(
                &t.pool,
                sub.account_id,
                meter_key.as_str(),
                meter.aggregation,
                slice.start,
                slice.end,
                cost_property,
            )
            .await?;
            charges.extend(usage_charge(meter, &limit, pricing, end_seats, usage, cost));
        }
    }
    if charges.is_empty() {
        return Ok(None);
    }
    issue(t, catalog, sub, period, end_plan, charges, actor, now).await
}

/// The meter periods inside an invoice period: one for a monthly plan, twelve for an
/// annual plan whose meters reset monthly (each month's allowance is its own).
fn meter_slices(reset: crate::period::Reset, sub: &InvoicingRow, period: Period) -> Vec<Period> {
    let mut out = Vec::new();
    let mut t = period.start;
    while t < period.end && out.len() < 400 {
        let p = meter_period(reset, Some(sub.cycle()), t);
        let slice = Period {
            start: p.start.max(period.start),
            end: p.end.min(period.end),
        };
        if slice.end <= t {
            break;
        }
        out.push(slice);
        t = slice.end;
    }
    out
}

fn interval_label(i: Interval) -> &'static str {
    match i {
        Interval::Month => "monthly",
        Interval::Year => "yearly",
    }
}

fn proration_charge(catalog: &Catalog, c: &ChangeRecord, amount: Decimal) -> Charge {
    let name = |key: &str| {
        catalog
            .plan(key)
            .map_or_else(|| key.to_string(), |p| p.name.clone())
    };
    let what = match c.from_plan.as_deref() {
        Some(from) if from != c.to_plan => {
            format!("Change from {} to {}", name(from), name(&c.to_plan))
        }
        // Same plan, same seats: the move from a grandfathered price.
        Some(_) if c.from_seats == c.to_seats => {
            format!("Move to the current price of {}", name(&c.to_plan))
        }
        _ => format!("Seats changed to {}", c.to_seats.unwrap_or(1)),
    };
    Charge {
        kind: LineKind::Proration,
        description: format!(
            "{what} on {} (rest of the period)",
            c.effective_at.format("%Y-%m-%d")
        ),
        quantity: Decimal::ONE,
        unit_amount: None,
        amount,
        meter: None,
    }
}

#[allow(clippy::too_many_arguments)]
async fn issue(
    t: &Tollgate,
    catalog: &Catalog,
    sub: &InvoicingRow,
    period: Period,
    plan: &Plan,
    charges: Vec<Charge>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Option<Issued>, Error> {
    let currency = catalog.currency;
    let mut tx = t.pool.begin().await?;
    db::accounts::lock_for_cycle_change(&mut *tx, sub.account_id).await?;
    let redemption = db::coupons::for_account(&mut *tx, sub.account_id).await?;
    let coupon = redemption.as_ref().and_then(|r| {
        let c = catalog.coupon(&r.coupon_code)?;
        c.applies(
            r.redeemed_at,
            u32::try_from(r.invoices_applied).unwrap_or(u32::MAX),
            period.start,
        )
        .then_some(c)
    });
    let credit = db::credits::balances(&mut *tx, sub.account_id)
        .await?
        .into_iter()
        .find(|b| b.currency == currency.code())
        .map_or(Decimal::ZERO, |b| b.balance);
    let draft = assemble(currency, charges, coupon, credit);
    let net_terms: i32 = db::accounts::net_terms_days(&mut *tx, sub.account_id).await?;
    let sequence = db::invoices::next_sequence(&mut tx, NUMBER_PREFIX, now.year()).await?;
    let number = number::format(NUMBER_PREFIX, now.year(), sequence);
    let id = Uuid::now_v7();
    let status = if draft.amount_due.amount.is_zero() {
        InvoiceStatus::Paid
    } else {
        InvoiceStatus::Open
    };
    let due_at = now + Duration::days(i64::from(net_terms));
    let stored = db::invoices::insert_manual(
        &mut tx,
        &db::invoices::NewInvoice {
            id,
            account_id: sub.account_id,
            subscription_id: sub.id,
            number: &number,
            status,
            period_start: period.start,
            period_end: period.end,
            plan_key: plan.key.as_str(),
            coupon_code: coupon.map(|c| c.code.as_str()),
            issued_at: now,
            due_at,
            draft: &draft,
        },
    )
    .await?;
    if !stored {
        // Another run issued it meanwhile; this transaction (and its number) rolls back.
        return Ok(None);
    }
    if coupon.is_some() {
        db::coupons::mark_applied(&mut *tx, sub.account_id).await?;
    }
    if !draft.credit_applied.amount.is_zero() {
        db::credits::insert_for_invoice(
            &mut *tx,
            sub.account_id,
            -draft.credit_applied.amount,
            currency.code(),
            &format!("Applied to invoice {number}"),
            id,
        )
        .await?;
    }
    if !draft.credit_added.amount.is_zero() {
        db::credits::insert_for_invoice(
            &mut *tx,
            sub.account_id,
            draft.credit_added.amount,
            currency.code(),
            &format!("Credit from invoice {number}"),
            id,
        )
        .await?;
    }
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor,
            action: "invoice.issued",
            target_kind: "invoice",
            target_id: id.to_string(),
            account_id: Some(sub.account_id),
            ip: None,
            details: serde_json::json!({
                "number": number, "period_start": period.start, "period_end": period.end, "status": status.as_str(),
                "total": draft.total.amount, "amount_due": draft.amount_due.amount, "currency": currency.code(),
            }),
        },
    )
    .await?;
    let due = draft.amount_due.display();
    db::notifications::insert(
        &mut *tx,
        sub.account_id,
        "invoice_issued",
        &format!("Invoice {number}"),
        &if status == InvoiceStatus::Paid {
            format!(
                "Invoice {number} for {} was paid from your credit balance.",
                draft.total.display()
            )
        } else {
            format!(
                "Invoice {number} for {due} is due on {}.",
                due_at.format("%Y-%m-%d")
            )
        },
        &serde_json::json!({ "invoice_id": id, "number": number }),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(Issued {
        id,
        number,
        account_id: sub.account_id,
        amount_due: draft.amount_due,
    }))
}
