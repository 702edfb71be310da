//! Issuing priced periods as invoices, a batch per transaction.
//!
//! The batch's transaction takes the accounts' cycle locks (in a fixed order), finds
//! again which periods were invoiced meanwhile, defers the periods of accounts
//! whose usage was corrected after the pricing's snapshot (the pricing may not
//! have seen the correction: the next run bills them), adds each account's
//! pending usage-correction adjustments to its first invoice of the batch
//! ([`crate::invoice::adjustment`]), applies each account's coupon and
//! credit balance in the batch's order (an account billed twice in a batch sees its
//! first invoice's effect), then reserves the batch's numbers in one step and
//! writes invoices, lines, coupon uses, credit, audit entries and notifications
//! with one statement each. Numbers stay gap-free: they are reserved last, under
//! the sequence row's lock, and roll back with the batch.

use super::pricing::Priced;
use super::run::{Issued, NUMBER_PREFIX};
use crate::catalog::Catalog;
use crate::db;
use crate::db::credits::InvoiceCredit;
use crate::db::invoice_adjustments::Pending;
use crate::db::invoices::NewInvoice;
use crate::db::notifications::NewNotification;
use crate::invoice::{adjustment, assemble, number, Draft, InvoiceStatus};
use crate::service::{Actor, Error, Tollgate};
use chrono::{DateTime, Datelike, Duration, Utc};
use std::collections::HashMap;
use uuid::Uuid;

/// What became of one priced period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Invoiced now.
    Issued(Issued),
    /// Invoiced meanwhile (another run).
    Already,
    /// The account's usage was corrected after `snapshot`: billed by the next run.
    Deferred,
}

/// Issues `priced` in one transaction; per period, in their order, what became
/// of it. `snapshot` is the database snapshot taken before the pricing
/// ([`db::usage_corrections::snapshot`]).
///
/// # Errors
/// Database failures: nothing of the batch is stored, no number is taken.
pub(super) async fn issue_batch(
    t: &Tollgate,
    catalog: &Catalog,
    priced: Vec<Priced<'_>>,
    snapshot: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<Outcome>, Error> {
    if priced.is_empty() {
        return Ok(Vec::new());
    }
    let currency = catalog.currency;
    let accounts: Vec<Uuid> = priced.iter().map(|p| p.sub.account_id).collect();
    let mut tx = t.pool.begin().await?;
    db::accounts::lock_for_cycle_change_many(&mut *tx, &accounts).await?;
    let existing = db::invoices::manual_existing(
        &mut *tx,
        &accounts,
        &priced.iter().map(|p| p.sub.id).collect::<Vec<_>>(),
        &priced.iter().map(|p| p.period.start).collect::<Vec<_>>(),
    )
    .await?;
    let corrected = db::usage_corrections::corrected_since(&mut *tx, &accounts, snapshot).await?;
    let mut adjustments: HashMap<Uuid, Vec<Pending>> = HashMap::new();
    for a in db::invoice_adjustments::pending(&mut *tx, &accounts, true).await? {
        if a.currency == currency.code() {
            adjustments.entry(a.account_id).or_default().push(a);
        }
    }
    let redemptions = db::coupons::for_accounts(&mut *tx, &accounts).await?;
    let mut credit = db::credits::balances_in(&mut *tx, &accounts, currency.code()).await?;
    let net_terms = db::accounts::net_terms_days_many(&mut *tx, &accounts).await?;

    let mut coupon_uses: HashMap<Uuid, u32> = HashMap::new();
    let mut drafted = Vec::with_capacity(priced.len());
    let mut out = Vec::with_capacity(priced.len());
    // (account, adjustment, index of the invoice in `drafted`)
    let mut applied: Vec<(Uuid, Uuid, usize)> = Vec::new();
    for mut p in priced {
        if existing.contains(&(p.sub.id, p.period.start)) {
            out.push(Slot::Already);
            continue;
        }
        let account = p.sub.account_id;
        if corrected.contains(&account) {
            out.push(Slot::Deferred);
            continue;
        }
        for a in adjustments.remove(&account).unwrap_or_default() {
            p.charges.push(adjustment::charge(&a.meter, a.amount, &a.description));
            applied.push((account, a.id, drafted.len()));
        }
        let uses = coupon_uses.entry(account).or_default();
        let coupon = coupon_for(catalog, redemptions.get(&account), *uses, p.period.start);
        let balance = credit.entry(account).or_default();
        let draft = assemble(currency, std::mem::take(&mut p.charges), coupon, *balance);
        *balance += draft.credit_added.amount - draft.credit_applied.amount;
        if coupon.is_some() {
            *uses += 1;
        }
        let terms = net_terms.get(&account).copied().unwrap_or(14);
        out.push(Slot::Drafted(drafted.len()));
        drafted.push((p, draft, coupon.map(|c| c.code.as_str()), terms));
    }
    if drafted.is_empty() {
        return Ok(out.into_iter().map(Slot::undrafted).collect());
    }

    let count = i64::try_from(drafted.len()).unwrap_or(i64::MAX);
    let first = db::invoices::reserve_numbers(&mut tx, NUMBER_PREFIX, now.year(), count).await?;
    let invoices: Vec<NewInvoice<'_>> = drafted
        .into_iter()
        .zip(first..)
        .map(|((p, draft, coupon_code, terms), sequence)| NewInvoice {
            id: Uuid::now_v7(),
            account_id: p.sub.account_id,
            subscription_id: p.sub.id,
            number: number::format(NUMBER_PREFIX, now.year(), sequence),
            status: if draft.amount_due.amount.is_zero() {
                InvoiceStatus::Paid
            } else {
                InvoiceStatus::Open
            },
            period_start: p.period.start,
            period_end: p.period.end,
            plan_key: p.plan.key.as_str(),
            coupon_code,
            issued_at: now,
            due_at: now + Duration::days(i64::from(terms)),
            draft,
        })
        .collect();
    db::invoices::insert_manual_many(&mut tx, &invoices).await?;
    let couponed: Vec<Uuid> = invoices
        .iter()
        .filter(|i| i.coupon_code.is_some())
        .map(|i| i.account_id)
        .collect();
    db::coupons::mark_applied_many(&mut *tx, &couponed).await?;
    db::credits::insert_for_invoices(&mut *tx, &credit_rows(&invoices)).await?;
    db::audit::record_many(&mut *tx, &audit_entries(&invoices, actor)).await?;
    db::notifications::insert_many(&mut *tx, &notifications(&invoices)).await?;
    let ids: Vec<Uuid> = invoices.iter().map(|i| i.id).collect();
    db::webhook_events::emit_cycles_ended(&mut *tx, &ids).await?;
    db::notifications::insert_cycles_ended(&mut *tx, &ids).await?;
    let applied: Vec<(Uuid, Uuid, Uuid)> = applied
        .into_iter()
        .map(|(account, adjustment, k)| (account, adjustment, invoices[k].id))
        .collect();
    db::invoice_adjustments::mark_applied(&mut *tx, &applied).await?;
    tx.commit().await?;

    Ok(out
        .into_iter()
        .map(|slot| match slot {
            Slot::Drafted(k) => {
                let i = &invoices[k];
                Outcome::Issued(Issued {
                    id: i.id,
                    number: i.number.clone(),
                    account_id: i.account_id,
                    amount_due: i.draft.amount_due,
                })
            }
            other => other.undrafted(),
        })
        .collect())
}

/// A period's place while a batch is drafted.
enum Slot {
    Drafted(usize),
    Already,
    Deferred,
}

impl Slot {
    /// The outcome of a period that got no invoice.
    fn undrafted(self) -> Outcome {
        match self {
            Slot::Deferred => Outcome::Deferred,
            Slot::Already | Slot::Drafted(_) => Outcome::Already,
        }
    }
}

/// The account's coupon if it applies to an invoice for the period starting at
/// `period_start`, with `uses` more invoices of this batch before it.
pub(super) fn coupon_for<'c>(
    catalog: &'c Catalog,
    redemption: Option<&db::coupons::Redemption>,
    uses: u32,
    period_start: DateTime<Utc>,
) -> Option<&'c crate::coupon::Coupon> {
    let r = redemption?;
    let c = catalog.coupon(&r.coupon_code)?;
    let applied = u32::try_from(r.invoices_applied)
        .unwrap_or(u32::MAX)
        .saturating_add(uses);
    c.applies(r.redeemed_at, applied, period_start).then_some(c)
}

/// The credit ledger rows of the invoices: credit taken, credit left by a negative
/// subtotal.
fn credit_rows<'a>(invoices: &'a [NewInvoice<'_>]) -> Vec<InvoiceCredit<'a>> {
    let mut rows = Vec::new();
    for i in invoices {
        let d: &Draft = &i.draft;
        let currency = d.total.currency.code();
        if !d.credit_applied.amount.is_zero() {
            rows.push(InvoiceCredit {
                account_id: i.account_id,
                amount: -d.credit_applied.amount,
                currency,
                reason: format!("Applied to invoice {}", i.number),
                invoice_id: i.id,
            });
        }
        if !d.credit_added.amount.is_zero() {
            rows.push(InvoiceCredit {
                account_id: i.account_id,
                amount: d.credit_added.amount,
                currency,
                reason: format!("Credit from invoice {}", i.number),
                invoice_id: i.id,
            });
        }
    }
    rows
}

fn audit_entries<'a>(invoices: &[NewInvoice<'_>], actor: &'a Actor) -> Vec<db::audit::Entry<'a>> {
    invoices
        .iter()
        .map(|i| db::audit::Entry {
            actor,
            action: "invoice.issued",
            target_kind: "invoice",
            target_id: i.id.to_string(),
            account_id: Some(i.account_id),
            ip: None,
            details: serde_json::json!({
                "number": i.number, "period_start": i.period_start, "period_end": i.period_end,
                "status": i.status.as_str(), "total": i.draft.total.amount,
                "amount_due": i.draft.amount_due.amount, "currency": i.draft.total.currency.code(),
            }),
        })
        .collect()
}

fn notifications(invoices: &[NewInvoice<'_>]) -> Vec<NewNotification<'static>> {
    invoices
        .iter()
        .map(|i| {
            let number = &i.number;
            let body = if i.status == InvoiceStatus::Paid {
                format!(
                    "Invoice {number} for {} was paid from your credit balance.",
                    i.draft.total.display()
                )
            } else {
                format!(
                    "Invoice {number} for {} is due on {}.",
                    i.draft.amount_due.display(),
                    i.due_at.format("%Y-%m-%d")
                )
            };
            NewNotification {
                account_id: i.account_id,
                kind: "invoice_issued",
                title: format!("Invoice {number}"),
                body,
                data: serde_json::json!({ "invoice_id": i.id, "number": number }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Currency, Money};
    use rust_decimal::Decimal;

    #[test]
    fn credit_rows_take_and_leave_credit_per_invoice() {
        let usd = Currency::USD;
        let zero = Money::new(Decimal::ZERO, usd);
        let draft = |applied: i64, added: i64| Draft {
            lines: Vec::new(),
            subtotal: zero,
            discount: zero,
            tax: zero,
            total: zero,
            credit_applied: Money::new(Decimal::from(applied), usd),
            credit_added: Money::new(Decimal::from(added), usd),
            amount_due: zero,
        };
        let at = Utc::now();
        let invoice = |n: &str, d: Draft| NewInvoice {
            id: Uuid::now_v7(),
            account_id: Uuid::nil(),
            subscription_id: Uuid::nil(),
            number: n.to_string(),
            status: InvoiceStatus::Paid,
            period_start: at,
            period_end: at,
            plan_key: "pro",
            coupon_code: None,
            issued_at: at,
            due_at: at,
            draft: d,
        };
        let invoices = [
            invoice("TG-1", draft(5, 0)),
            invoice("TG-2", draft(0, 3)),
            invoice("TG-3", draft(0, 0)),
        ];
        let rows = credit_rows(&invoices);
        let got: Vec<(Decimal, &str)> =
            rows.iter().map(|r| (r.amount, r.reason.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (Decimal::from(-5), "Applied to invoice TG-1"),
                (Decimal::from(3), "Credit from invoice TG-2")
            ]
        );
    }
}
