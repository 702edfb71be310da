//! What was billed and collected in a month, what stayed outstanding and overdue
//! at its end, usage revenue and failed payments (definitions in [`super`]).

use super::month::Month;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// An invoice as the figures need it (amounts exact, major units of the catalog
/// currency; instants UTC). Drafts have no `issued_at` and count nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceFacts {
    pub issued_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
    pub uncollectible_at: Option<DateTime<Utc>>,
    /// Invoice total (after discount, before credit).
    pub total: Decimal,
    /// What the customer owes: total − credit applied.
    pub amount_due: Decimal,
    pub amount_paid: Decimal,
    /// The sum of its usage lines.
    pub usage: Decimal,
}

/// A month's cash figures, exact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cash {
    /// Totals of invoices issued in the month and not voided since.
    pub billed: Decimal,
    /// Amounts paid in the month.
    pub collected: Decimal,
    /// Amounts due at the month's end on invoices issued by then and not paid,
    /// voided or marked uncollectible by then.
    pub outstanding: Decimal,
    /// The part of `outstanding` past its due date at the month's end.
    pub overdue: Decimal,
    /// Usage lines of the invoices counted in `billed`.
    pub usage_revenue: Decimal,
    /// Card payments that failed in the month.
    pub failed_payments: u32,
}

/// The cash figures of `month` from `invoices` and the instants of failed
/// payments.
pub fn of_month(
    invoices: &[InvoiceFacts],
    failed_payments: &[DateTime<Utc>],
    month: &Month,
) -> Cash {
    let end = month.end;
    let by_end = |t: Option<DateTime<Utc>>| t.is_some_and(|t| t < end);
    let mut c = Cash::default();
    for i in invoices {
        let Some(issued) = i.issued_at else { continue };
        if month.contains(issued) && i.voided_at.is_none() {
            c.billed += i.total;
            c.usage_revenue += i.usage;
        }
        if i.paid_at.is_some_and(|p| month.contains(p)) {
            c.collected += i.amount_paid;
        }
        let open_at_end = issued < end
            && !by_end(i.paid_at)
            && !by_end(i.voided_at)
            && !by_end(i.uncollectible_at);
        if open_at_end {
            c.outstanding += i.amount_due;
            if by_end(i.due_at) {
                c.overdue += i.amount_due;
            }
        }
    }
    c.failed_payments = u32::try_from(
        failed_payments
            .iter()
            .filter(|t| month.contains(**t))
            .count(),
    )
    .unwrap_or(u32::MAX);
    c
}
