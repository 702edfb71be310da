//! The invoice run of the manual provider: `tollgate invoices run [--period YYYY-MM]`
//! and the daily job.
//!
//! For each manual subscription, each billing period that closed in the month (see
//! [`crate::invoice::schedule`]) gets one invoice: the plan in effect at the
//! period's start for the paid share of the period, the proration of every change
//! made during it, usage priced by the plan in effect at its end
//! ([`super::pricing`]), the account's coupon and credit balance
//! ([`super::issue`]). Numbers are gap-free per year. A second run finds the
//! invoices there (a unique index per subscription and period) and issues nothing;
//! a voided invoice is not re-issued.

use super::issue::{issue_batch, Outcome};
use super::pricing::{price_batch, Item};
use crate::catalog::Catalog;
use crate::db;
use crate::invoice::schedule;
use crate::money::Money;
use crate::period::Period;
use crate::service::{Actor, Error, Tollgate};
use chrono::{DateTime, Utc};
use futures::StreamExt;
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
    /// Periods of accounts whose usage was corrected while the run priced them:
    /// the next run bills them.
    pub deferred: usize,
}

/// Runs the invoice run for `month` (a calendar month, see
/// [`schedule::billing_month`]) at `now`. `actor` is the CLI or the job.
///
/// Periods are billed in batches of [`BATCH`], [`BATCHES_AT_ONCE`] at a time: each
/// batch is priced with a handful of statements ([`super::pricing`]) and issued in
/// one transaction ([`super::issue`]). While a batch issues, its accounts' cycle
/// locks are held: usage for them waits until it commits.
///
/// # Errors
/// [`Error::NoCatalog`]; database failures (the batches issued before a failure
/// stay issued, each was its own transaction; those in flight roll back).
pub async fn run(
    t: &Tollgate,
    month: Period,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Report, Error> {
    let catalog = t.catalog.get()?;
    let subs = db::subscriptions::manual_for_invoicing(&t.pool, month.end).await?;
    let mut items = Vec::new();
    for sub in &subs {
        for period in
            schedule::periods_closing_in(sub.cycle(), month, sub.created_at, sub.canceled_at, now)
        {
            items.push(Item { sub, period });
        }
    }
    // Results are taken in the subscriptions' order.
    let mut report = Report::default();
    let mut batches = Vec::new();
    for batch in items.chunks(BATCH) {
        batches.push(bill_batch(t, &catalog, batch, actor, now));
    }
    let mut batches = futures::stream::iter(batches).buffered(BATCHES_AT_ONCE);
    while let Some(billed) = batches.next().await {
        for b in billed? {
            match b {
                Billed::Issued(issued) => report.issued.push(issued),
                Billed::Already => report.already_invoiced += 1,
                Billed::Nothing => report.nothing_to_bill += 1,
                Billed::Deferred => report.deferred += 1,
            }
        }
    }
    Ok(report)
}

/// Periods per batch: one transaction, one number range.
pub const BATCH: usize = 500;

/// Batches in flight (each uses one connection at a time).
const BATCHES_AT_ONCE: usize = 3;

/// What became of one period.
enum Billed {
    Issued(Issued),
    Already,
    Nothing,
    Deferred,
}

/// Bills the periods of `batch` that have no invoice yet; answers in its order.
async fn bill_batch(
    t: &Tollgate,
    catalog: &Catalog,
    batch: &[Item<'_>],
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<Billed>, Error> {
    let invoiced = db::invoices::manual_existing(
        &t.pool,
        &batch.iter().map(|i| i.sub.account_id).collect::<Vec<_>>(),
        &batch.iter().map(|i| i.sub.id).collect::<Vec<_>>(),
        &batch.iter().map(|i| i.period.start).collect::<Vec<_>>(),
    )
    .await?;
    let todo: Vec<Item<'_>> = batch
        .iter()
        .filter(|i| !invoiced.contains(&(i.sub.id, i.period.start)))
        .copied()
        .collect();
    let mut conn = t.pool.acquire().await?;
    // What the pricing can see: a correction it cannot defers its period.
    let snapshot = db::usage_corrections::snapshot(&mut *conn).await?;
    let priced = price_batch(&mut conn, catalog, &todo).await?;
    drop(conn);
    let billable: Vec<bool> = priced.iter().map(Option::is_some).collect();
    let mut issued = issue_batch(
        t,
        catalog,
        priced.into_iter().flatten().collect(),
        &snapshot,
        actor,
        now,
    )
    .await?
    .into_iter();
    let mut billable = billable.into_iter();
    Ok(batch
        .iter()
        .map(|i| {
            if invoiced.contains(&(i.sub.id, i.period.start)) {
                return Billed::Already;
            }
            match billable.next() {
                Some(false) | None => Billed::Nothing,
                Some(true) => match issued.next() {
                    Some(Outcome::Issued(done)) => Billed::Issued(done),
                    Some(Outcome::Deferred) => Billed::Deferred,
                    Some(Outcome::Already) | None => Billed::Already,
                },
            }
        })
        .collect())
}
