//! Voiding recorded usage (issue 13, "Corrections"; API.md
//! `POST /api/v1/events/void`): a super admin or a platform key voids an
//! account's stored events with a reason.
//!
//! In one transaction, under the account's cycle lock (no event, consuming check
//! or invoice of the account meanwhile): the events move to
//! `usage_voided_events`; the period totals they counted in and the daily rollup
//! of their days are recomputed from the events left; thresholds no longer
//! reached are forgotten (they notify again if usage reaches them); each issued
//! invoice whose period held a voided event is re-priced by the invoice run's
//! code, and the difference per meter becomes an adjustment billed on the next
//! invoice ([`crate::invoice::adjustment`]); the audit log records it all.

use super::accounts::Standing;
use super::invoices::period_charges;
use super::{Actor, Error, Tollgate};
use crate::catalog::Catalog;
use crate::correction::{Reason, Selection, MAX_EVENTS};
use crate::db::{self, invoice_adjustments::NewAdjustment, usage_corrections::Voided};
use crate::invoice::adjustment;
use crate::limits;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// What a correction did.
#[derive(Debug, Clone, PartialEq)]
pub struct Corrected {
    /// The correction's id; `None` when nothing was left to void (no correction
    /// is recorded then).
    pub correction_id: Option<Uuid>,
    /// The events voided now.
    pub voided: Vec<Voided>,
    /// Keys asked for whose events were voided before.
    pub already_voided: Vec<String>,
    /// Keys asked for with no stored event (never sent, or older than retention).
    pub not_found: Vec<String>,
    /// Quantity voided per meter, by meter.
    pub by_meter: BTreeMap<String, Decimal>,
    /// Adjustments of issued invoices, billed on the next invoice.
    pub adjustments: Vec<Adjustment>,
}

/// One invoice adjustment a correction made.
#[derive(Debug, Clone, PartialEq)]
pub struct Adjustment {
    /// The issued invoice's number.
    pub invoice_number: String,
    /// The meter.
    pub meter: String,
    /// Rounded; negative: a credit.
    pub amount: Decimal,
    /// The catalog's currency code.
    pub currency: String,
}

/// Voids `selection` of `account_id`'s stored events because of `reason`.
///
/// # Errors
/// [`Error::Invalid`] for a meter outside the catalog (`meter`), a range of more
/// than [`MAX_EVENTS`] events (`to`), or events already reported to a Stripe
/// billing meter (Stripe bills them); [`Error::NotFound`] for an unknown
/// account; [`Error::NoCatalog`]; database errors. Nothing changes on any error.
pub async fn void(
    t: &Tollgate,
    actor: &Actor,
    account_id: Uuid,
    selection: &Selection,
    reason: &Reason,
    now: DateTime<Utc>,
) -> Result<Corrected, Error> {
    let catalog = t.catalog.get()?;
    if let Selection::Range { meter, .. } = selection {
        if catalog.meter(meter).is_none() {
            return Err(Error::invalid("meter", format!("unknown meter `{meter}`")));
        }
    }
    let mut tx = t.pool.begin().await?;
    db::accounts::by_id(&mut *tx, account_id)
        .await?
        .ok_or_else(|| Error::NotFound("no such account".into()))?;
    db::accounts::lock_for_cycle_change(&mut *tx, account_id).await?;
    if let Selection::Range {
        meter, from, to, ..
    } = selection
    {
        let n = db::usage_corrections::count_in_range(&mut *tx, account_id, meter, *from, *to, MAX_EVENTS)
            .await?;
        if n > MAX_EVENTS {
            return Err(Error::invalid(
                "to",
                format!("the range holds more than {MAX_EVENTS} events: void it in shorter ranges"),
            ));
        }
    }
    let correction_id = Uuid::now_v7();
    db::usage_corrections::insert(&mut *tx, account_id, correction_id, reason.as_str()).await?;
    let voided = db::usage_corrections::void(&mut tx, account_id, correction_id, selection).await?;
    let (already_voided, not_found) = match selection {
        Selection::Keys(keys) => {
            let found: BTreeSet<&str> = voided.iter().map(|v| v.idempotency_key.as_str()).collect();
            let missing: Vec<String> =
                keys.iter().filter(|k| !found.contains(k.as_str())).cloned().collect();
            let before = db::usage_corrections::already_voided(&mut *tx, account_id, &missing).await?;
            let (already, never): (Vec<String>, Vec<String>) =
                missing.into_iter().partition(|k| before.contains(k));
            (already, never)
        }
        Selection::Range { .. } => (Vec::new(), Vec::new()),
    };
    if voided.is_empty() {
        // Nothing to correct: no correction is recorded.
        tx.rollback().await?;
        return Ok(Corrected {
            correction_id: None,
            voided,
            already_voided,
            not_found,
            by_meter: BTreeMap::new(),
            adjustments: Vec::new(),
        });
    }
    let ids: Vec<Uuid> = voided.iter().map(|v| v.event_id).collect();
    let reported = db::usage_corrections::reported_to_stripe(&mut *tx, account_id, &ids).await?;
    if reported > 0 {
        return Err(Error::invalid(
            "idempotency_keys",
            format!("{reported} of these events were reported to Stripe's billing meters: Stripe bills them, correct them there"),
        ));
    }

    let by_meter = quantity_by_meter(&voided);
    recompute_totals(&mut tx, &catalog, account_id, &voided, now).await?;
    if let (Some(first), Some(last)) = (
        voided.iter().map(|v| v.occurred_at.date_naive()).min(),
        voided.iter().map(|v| v.occurred_at.date_naive()).max(),
    ) {
        db::usage_rollups::rebuild(&mut tx, account_id, first, next_day(last)).await?;
    }
    let adjustments = adjust_invoices(&mut tx, &catalog, account_id, correction_id, &voided).await?;

    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor,
            action: "usage.voided",
            target_kind: "usage_correction",
            target_id: correction_id.to_string(),
            account_id: Some(account_id),
            ip: None,
            details: json!({
                "reason": reason.as_str(),
                "events": voided.len(),
                "quantity_by_meter": by_meter.iter().map(|(m, q)| (m.clone(), q.to_string())).collect::<BTreeMap<_, _>>(),
                "selection": match selection {
                    Selection::Keys(keys) => json!({ "idempotency_keys": keys.len() }),
                    Selection::Range { meter, from, to } => json!({ "meter": meter, "from": from, "to": to }),
                },
                "adjustments": adjustments.iter().map(|a| json!({
                    "invoice": a.invoice_number, "meter": a.meter, "amount": a.amount.to_string(), "currency": a.currency,
                })).collect::<Vec<_>>(),
            }),
        },
    )
    .await?;
    db::usage::notify_changed(&mut *tx, &[account_id]).await?;
    tx.commit().await?;
    t.cache.invalidate(&[account_id]);
    Ok(Corrected {
        correction_id: Some(correction_id),
        voided,
        already_voided,
        not_found,
        by_meter,
        adjustments,
    })
}

fn quantity_by_meter(voided: &[Voided]) -> BTreeMap<String, Decimal> {
    let mut out: BTreeMap<String, Decimal> = BTreeMap::new();
    for v in voided {
        *out.entry(v.meter.clone()).or_default() += v.quantity;
    }
    out
}

fn next_day(d: NaiveDate) -> NaiveDate {
    d.succ_opt().unwrap_or(d)
}

/// Recomputes every period total a voided event counted in from the events left,
/// and forgets the thresholds of the current periods no longer reached.
async fn recompute_totals(
    tx: &mut db::Tx<'_>,
    catalog: &Catalog,
    account_id: Uuid,
    voided: &[Voided],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut times: BTreeMap<&str, Vec<DateTime<Utc>>> = BTreeMap::new();
    for v in voided {
        times.entry(v.meter.as_str()).or_default().push(v.occurred_at);
    }
    let subscription = db::subscriptions::live_for_account(&mut **tx, account_id).await?;
    let overrides = db::overrides::active_for(&mut **tx, &[account_id], now).await?;
    let standing = Standing {
        subscription: subscription.as_ref(),
        overrides: overrides.get(&account_id).unwrap_or(&crate::overrides::NONE),
    };
    for (meter_key, times) in times {
        let Some(meter) = catalog.meter(meter_key) else {
            continue;
        };
        for (start, end) in db::usage::totals_covering(&mut **tx, account_id, meter_key, &times).await? {
            let value =
                db::usage::rebuild_total(tx, account_id, meter_key, meter.aggregation, start, end).await?;
            let limit = standing.limit(catalog, meter_key);
            let percent = limits::percent_of(value, limit.included);
            db::usage::forget_crossings_above(&mut **tx, account_id, meter_key, start, percent).await?;
        }
    }
    Ok(())
}

/// Re-prices each issued invoice whose period held a voided event and records
/// the differences as adjustments.
async fn adjust_invoices(
    tx: &mut db::Tx<'_>,
    catalog: &Catalog,
    account_id: Uuid,
    correction_id: Uuid,
    voided: &[Voided],
) -> Result<Vec<Adjustment>, Error> {
    let times: Vec<DateTime<Utc>> = voided.iter().map(|v| v.occurred_at).collect();
    let invoices = db::invoice_adjustments::invoices_covering(&mut **tx, account_id, &times).await?;
    let currency = catalog.currency;
    let mut rows = Vec::new();
    let mut out = Vec::new();
    for invoice in invoices {
        let Some(sub) =
            db::subscriptions::for_invoicing_by_id(&mut **tx, account_id, invoice.subscription_id).await?
        else {
            continue;
        };
        let period = crate::period::Period {
            start: invoice.period_start,
            end: invoice.period_end,
        };
        let repriced = period_charges(tx, catalog, &sub, period).await?;
        let billed = db::invoice_adjustments::billed_by_meter(&mut **tx, account_id, invoice.id).await?;
        for (meter, amount) in adjustment::differences(currency, &repriced, &billed) {
            let name = catalog.meter(&meter).map_or(meter.clone(), |m| m.name.clone());
            rows.push(NewAdjustment {
                id: Uuid::now_v7(),
                invoice_id: invoice.id,
                meter: meter.clone(),
                amount,
                description: format!(
                    "Usage correction to invoice {}: {name}, {} to {}",
                    invoice.number,
                    period.start.format("%Y-%m-%d"),
                    period.end.format("%Y-%m-%d"),
                ),
            });
            out.push(Adjustment {
                invoice_number: invoice.number.clone(),
                meter,
                amount,
                currency: currency.code().to_string(),
            });
        }
    }
    db::invoice_adjustments::insert_many(&mut **tx, account_id, correction_id, currency.code(), &rows)
        .await?;
    Ok(out)
}
