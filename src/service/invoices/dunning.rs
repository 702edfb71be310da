//! Invoices delivered and chased for bank-transfer customers (issue 14, "Invoices
//! delivered and chased (manual provider)"), run each minute by the upkeep job:
//!
//! 1. Each manual invoice issued is e-mailed to the account's billing address
//!    (the organization's billing e-mail, else the owner) with a signed PDF link
//!    ([`super::link`]) valid 30 days.
//!    Only invoices e-mailed so are chased below: ones issued before (an upgrade
//!    onto a database of old open invoices) are left to the operator.
//! 2. Reminders follow the schedule ([`Schedule::reminder_days`], days from the due
//!    date; negative: before it): at each offset reached, one reminder; offsets
//!    missed while the job did not run are not sent late (only the latest one).
//! 3. [`Schedule::past_due_after_days`] after the due date, still unpaid: the
//!    subscription becomes `past_due` with the Stripe path's grace period
//!    (`stripe_dunning_grace_days`), so the same banner, renewal prompt and loss
//!    of the plan after the grace apply; the owner is told in-app and by e-mail.
//! 4. Marking the invoice paid restores the subscription at once
//!    ([`restore_if_settled`], called by [`super::set_status`]).
//!
//! Each step is recorded once per invoice (`invoice_mailings`, migration 0028),
//! so several processes never send one twice, and audited.

use super::link;
use crate::db::{self, invoices::InvoiceRow};
use crate::money::Money;
use crate::service::{Actor, Error, Tollgate};
use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

/// When reminders go and when an unpaid invoice makes its subscription past due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Days from the due date a reminder goes, ascending (negative: before it).
    pub reminder_days: Vec<i32>,
    /// Days after the due date an unpaid invoice makes the subscription past due.
    pub past_due_after_days: u32,
    /// Days a past-due subscription keeps its plan (`stripe_dunning_grace_days`).
    pub grace_days: u32,
}

impl Default for Schedule {
    /// Reminders 3 days before the due date, and 1 and 7 days after it; past due
    /// 14 days after it, with 7 days of grace.
    fn default() -> Self {
        Schedule {
            reminder_days: vec![-3, 1, 7],
            past_due_after_days: 14,
            grace_days: 7,
        }
    }
}

impl Schedule {
    /// Parses `reminder_days` as comma-separated days (`-3,1,7`), each from -60 to
    /// 365, with the other two settings.
    ///
    /// # Errors
    /// A day that is not a whole number in range, named.
    pub fn parse(reminder_days: &str, past_due_after_days: u32, grace_days: u32) -> Result<Schedule, String> {
        let mut days = reminder_days
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<i32>().ok().filter(|d| (-60..=365).contains(d)).ok_or_else(|| format!("`{s}` is not a day from -60 to 365")))
            .collect::<Result<Vec<_>, _>>()?;
        days.sort_unstable();
        days.dedup();
        Ok(Schedule {
            reminder_days: days,
            past_due_after_days,
            grace_days,
        })
    }

    /// The latest reminder offset reached at `now` for an invoice issued at
    /// `issued` and due at `due` (before the past-due step), if any. An offset that
    /// falls before the invoice was issued (payment terms shorter than the
    /// reminder) does not count: the invoice's own e-mail says as much.
    pub fn reminder_due(&self, issued: DateTime<Utc>, due: DateTime<Utc>, now: DateTime<Utc>) -> Option<i32> {
        self.reminder_days
            .iter()
            .copied()
            .filter(|d| due + Duration::days(i64::from(*d)) > issued)
            .filter(|d| due + Duration::days(i64::from(*d)) <= now)
            .rfind(|d| *d < i32::try_from(self.past_due_after_days).unwrap_or(i32::MAX))
    }

    /// When an invoice due at `due` makes its subscription past due.
    pub fn past_due_at(&self, due: DateTime<Utc>) -> DateTime<Utc> {
        due + Duration::days(i64::from(self.past_due_after_days))
    }
}

/// What a pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Invoices e-mailed as issued.
    pub issued: usize,
    /// Reminders e-mailed.
    pub reminders: usize,
    /// Subscriptions made past due.
    pub past_due: usize,
}

/// Invoices looked at per batch (each batch is one transaction).
const BATCH: i64 = 200;

/// How far back an issued invoice is still e-mailed (a job down for a day
/// catches up; invoices from before this feature are not e-mailed).
const ISSUED_LOOKBACK_DAYS: i64 = 3;

/// One pass at `now`.
///
/// # Errors
/// A database error (what was recorded before it stays; the rest goes next pass).
pub async fn run(t: &Tollgate, schedule: &Schedule, now: DateTime<Utc>) -> Result<Report, Error> {
    let key = crate::service::embed::key(t).await?.to_vec();
    let ctx = Ctx {
        t,
        schedule,
        key: &key,
        now,
        product: t.product_name(),
    };
    let mut report = Report::default();
    let mut after = None;
    loop {
        let batch = db::invoice_mailings::unmailed(&t.pool, now - Duration::days(ISSUED_LOOKBACK_DAYS), after, BATCH).await?;
        let Some(last) = batch.last() else {
            break;
        };
        after = last.issued_at.map(|d| (d, last.id));
        let mut tx = t.pool.begin().await?;
        for invoice in &batch {
            report.issued += usize::from(ctx.mail_issued(&mut tx, invoice).await?);
        }
        tx.commit().await?;
        if batch.len() < BATCH as usize {
            break;
        }
    }
    // Everything due before the furthest reminder or the past-due step.
    let furthest = schedule
        .reminder_days
        .iter()
        .copied()
        .map(i64::from)
        .min()
        .unwrap_or(0)
        .min(0);
    let until = now - Duration::days(furthest) + Duration::seconds(1);
    let mut after = None;
    loop {
        let batch = db::invoice_mailings::open_due_before(&t.pool, until, after, BATCH).await?;
        let Some(last) = batch.last() else {
            break;
        };
        after = last.due_at.map(|d| (d, last.id));
        let mut tx = t.pool.begin().await?;
        for invoice in &batch {
            let (reminded, past_due) = ctx.chase(&mut tx, invoice).await?;
            report.reminders += usize::from(reminded);
            report.past_due += usize::from(past_due);
        }
        tx.commit().await?;
        if batch.len() < BATCH as usize {
            break;
        }
    }
    Ok(report)
}

struct Ctx<'a> {
    t: &'a Tollgate,
    schedule: &'a Schedule,
    key: &'a [u8],
    now: DateTime<Utc>,
    product: String,
}

impl Ctx<'_> {
    /// The invoice's part of an e-mail's context.
    fn invoice_context(&self, i: &InvoiceRow) -> serde_json::Value {
        let money = |amount| Money::display_in(amount, &i.currency);
        serde_json::json!({
            "number": i.number.clone().unwrap_or_default(),
            "total": money(i.total),
            "amount_due": money(i.amount_due - i.amount_paid),
            "due_date": i.due_at.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
            "period": format!("{} to {}", i.period_start.format("%Y-%m-%d"), i.period_end.format("%Y-%m-%d")),
            "pdf_link": link::url(&self.t.settings.public_url, self.key, i.id, self.now),
        })
    }

    fn audit<'e>(&self, i: &InvoiceRow, action: &'e str, details: serde_json::Value) -> db::audit::Entry<'e> {
        db::audit::Entry {
            actor: &Actor::System,
            action,
            target_kind: "invoice",
            target_id: i.id.to_string(),
            account_id: Some(i.account_id),
            ip: None,
            details,
        }
    }

    /// E-mails an issued invoice once; whether it did.
    async fn mail_issued(&self, tx: &mut db::Tx<'_>, i: &InvoiceRow) -> Result<bool, Error> {
        let Some(to) = db::accounts::mail_recipient(&mut **tx, i.account_id).await? else {
            return Ok(false);
        };
        if !db::invoice_mailings::claim(&mut **tx, i, "issued", 0, &to.email, self.now).await? {
            return Ok(false);
        }
        let context = serde_json::json!({
            "product": self.product,
            "user": { "name": to.owner_name, "email": to.email },
            "account": { "name": to.account_name },
            "invoice": self.invoice_context(i),
            "link_days": link::TTL_DAYS,
            "billing_link": format!("{}/billing", self.t.settings.public_url),
        });
        crate::service::mail::enqueue(&mut **tx, &to.email, "invoice_issued", &context, Some(&format!("invoice_issued:{}", i.id)), Some(i.account_id)).await?;
        db::audit::record(&mut **tx, &self.audit(i, "invoice.mailed", serde_json::json!({ "number": i.number, "to": to.email }))).await?;
        Ok(true)
    }

    /// The reminder due for an open invoice, and the past-due step; whether each
    /// happened now.
    async fn chase(&self, tx: &mut db::Tx<'_>, listed: &InvoiceRow) -> Result<(bool, bool), Error> {
        // Most open invoices have nothing due this minute: decide that from the
        // listed row before any query.
        let due_now = listed.due_at.is_some_and(|due| {
            self.schedule.reminder_due(listed.issued_at.unwrap_or(due), due, self.now).is_some()
                || self.schedule.past_due_at(due) <= self.now
        });
        if !due_now {
            return Ok((false, false));
        }
        // Read again under its lock: marking it paid meanwhile (which takes the same
        // lock) ends the chase.
        let Some(i) = db::invoices::lock(tx, listed.id).await?.filter(|i| i.status == "open") else {
            return Ok((false, false));
        };
        let i = &i;
        let Some(due) = i.due_at else {
            return Ok((false, false));
        };
        let Some(to) = db::accounts::mail_recipient(&mut **tx, i.account_id).await? else {
            return Ok((false, false));
        };
        let past_due_on = self.schedule.past_due_at(due);
        let mut reminded = false;
        if let Some(offset) = self.schedule.reminder_due(i.issued_at.unwrap_or(due), due, self.now) {
            if db::invoice_mailings::claim(&mut **tx, i, "reminder", offset, &to.email, self.now).await? {
                let days_overdue = (self.now - due).num_days().max(0);
                let context = serde_json::json!({
                    "product": self.product,
                    "user": { "name": to.owner_name, "email": to.email },
                    "account": { "name": to.account_name },
                    "invoice": self.invoice_context(i),
                    "days_overdue": days_overdue,
                    "past_due_on": (days_overdue > 0).then(|| past_due_on.format("%Y-%m-%d").to_string()),
                    "billing_link": format!("{}/billing", self.t.settings.public_url),
                });
                let dedup = format!("invoice_reminder:{}:{offset}", i.id);
                crate::service::mail::enqueue(&mut **tx, &to.email, "invoice_reminder", &context, Some(&dedup), Some(i.account_id)).await?;
                db::audit::record(
                    &mut **tx,
                    &self.audit(i, "invoice.reminder_sent", serde_json::json!({ "number": i.number, "to": to.email, "offset_days": offset })),
                )
                .await?;
                reminded = true;
            }
        }
        let past_due = past_due_on <= self.now && self.make_past_due(tx, i, &to).await?;
        Ok((reminded, past_due))
    }

    /// Makes the invoice's subscription past due once, with the grace period.
    async fn make_past_due(&self, tx: &mut db::Tx<'_>, i: &InvoiceRow, to: &db::accounts::MailRecipient) -> Result<bool, Error> {
        let Some(subscription_id) = i.subscription_id else {
            return Ok(false);
        };
        if !db::invoice_mailings::claim(&mut **tx, i, "past_due", 0, &to.email, self.now).await? {
            return Ok(false);
        }
        let grace_until = self.now + Duration::days(i64::from(self.schedule.grace_days));
        let Some(sub) = db::subscriptions::mark_manual_past_due(&mut **tx, subscription_id, grace_until).await? else {
            // Ended, or already past due for another invoice: nothing to escalate.
            return Ok(false);
        };
        db::audit::record(
            &mut **tx,
            &db::audit::Entry {
                actor: &Actor::System,
                action: "subscription.past_due",
                target_kind: "subscription",
                target_id: subscription_id.to_string(),
                account_id: Some(i.account_id),
                ip: None,
                details: serde_json::json!({ "invoice": i.id, "number": i.number, "grace_until": grace_until, "provider": "manual", "from_status": sub }),
            },
        )
        .await?;
        let invoice = self.invoice_context(i);
        let plan_name = i
            .plan_key
            .as_deref()
            .and_then(|k| self.t.catalog.get().ok().and_then(|c| c.plan(k).map(|p| p.name.clone())))
            .unwrap_or_else(|| "current".to_owned());
        db::notifications::insert(
            &mut **tx,
            i.account_id,
            "payment_overdue",
            "Invoice overdue: subscription past due",
            &format!(
                "Invoice {} ({}) is unpaid since {}. Your {plan_name} plan stays until {}; pay the invoice to keep it.",
                invoice["number"].as_str().unwrap_or_default(),
                invoice["amount_due"].as_str().unwrap_or_default(),
                invoice["due_date"].as_str().unwrap_or_default(),
                grace_until.format("%Y-%m-%d")
            ),
            &serde_json::json!({ "invoice_id": i.id, "grace_until": grace_until }),
        )
        .await?;
        let context = serde_json::json!({
            "product": self.product,
            "user": { "name": to.owner_name, "email": to.email },
            "account": { "name": to.account_name },
            "plan": { "name": plan_name },
            "invoice": invoice,
            "grace_until": grace_until.format("%Y-%m-%d").to_string(),
            "billing_link": format!("{}/billing", self.t.settings.public_url),
        });
        crate::service::mail::enqueue(&mut **tx, &to.email, "invoice_past_due", &context, Some(&format!("invoice_past_due:{}", i.id)), Some(i.account_id)).await?;
        db::usage::notify_changed(&mut **tx, &[i.account_id]).await?;
        Ok(true)
    }
}

/// After `invoice` was paid or voided: its subscription, made past due by the
/// manual dunning, is restored at once (trialing while its trial lasts, else
/// active) when no other invoice that made it past due is still open. Audited as
/// `subscription.restored`. Returns whether it was restored.
///
/// # Errors
/// A database error.
pub async fn restore_if_settled(conn: &mut PgConnection, invoice: &InvoiceRow, actor: &Actor, now: DateTime<Utc>) -> Result<bool, Error> {
    let Some(subscription_id) = invoice.subscription_id else {
        return Ok(false);
    };
    if invoice.provider != "manual" || !db::subscriptions::restore_manual_if_settled(&mut *conn, subscription_id).await? {
        return Ok(false);
    }
    db::audit::record(
        &mut *conn,
        &db::audit::Entry {
            actor,
            action: "subscription.restored",
            target_kind: "subscription",
            target_id: subscription_id.to_string(),
            account_id: Some(invoice.account_id),
            ip: None,
            details: serde_json::json!({ "invoice": invoice.id, "number": invoice.number, "status": invoice.status, "at": now, "provider": "manual" }),
        },
    )
    .await?;
    db::usage::notify_changed(&mut *conn, &[invoice.account_id]).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("test time")
    }

    #[test]
    fn the_latest_reminder_reached_goes_and_none_after_the_past_due_step() {
        let s = Schedule::default();
        let (issued, due) = (at("2026-10-02T09:00:00Z"), at("2026-10-16T09:00:00Z"));
        assert_eq!(s.reminder_due(issued, due, at("2026-10-12T09:00:00Z")), None);
        assert_eq!(s.reminder_due(issued, due, at("2026-10-13T09:00:00Z")), Some(-3));
        assert_eq!(s.reminder_due(issued, due, at("2026-10-16T09:00:00Z")), Some(-3));
        assert_eq!(s.reminder_due(issued, due, at("2026-10-17T09:00:00Z")), Some(1));
        assert_eq!(s.reminder_due(issued, due, at("2026-10-29T09:00:00Z")), Some(7));
        assert_eq!(s.past_due_at(due), at("2026-10-30T09:00:00Z"));
        let late = Schedule::parse("30, -1", 14, 7).unwrap();
        assert_eq!(late.reminder_days, [-1, 30]);
        assert_eq!(late.reminder_due(issued, due, at("2026-12-01T00:00:00Z")), Some(-1), "not after the past-due step");
        // Due 2 days after issue: the reminder 3 days before would precede the invoice.
        let soon = at("2026-10-04T09:00:00Z");
        assert_eq!(s.reminder_due(issued, soon, at("2026-10-02T09:01:00Z")), None);
        assert_eq!(s.reminder_due(issued, soon, at("2026-10-05T09:00:00Z")), Some(1));
    }

    #[test]
    fn schedules_parse_strictly() {
        assert_eq!(Schedule::parse("-3,1,7", 14, 7), Ok(Schedule::default()));
        assert_eq!(Schedule::parse("", 14, 7).map(|s| s.reminder_days), Ok(vec![]));
        assert!(Schedule::parse("1,x", 14, 7).is_err());
        assert!(Schedule::parse("400", 14, 7).is_err());
    }
}
