//! Invoices: lines, totals and statuses, computed the same way for every provider.
//!
//! An invoice is assembled from unrounded [`Charge`]s (the plan's base and seats,
//! usage, prorations); each becomes a [`Line`] rounded **once** to the currency's
//! minor unit (half away from zero, as Stripe rounds). Then, in this order
//! (PRODUCT.md "Payments": base + seats + usage overage + proration − credits −
//! discounts; Stripe's invoice fields <https://docs.stripe.com/api/invoices/object>):
//! `subtotal` = Σ lines; `discount` = the coupon's share of a positive subtotal;
//! `total` = subtotal − discount, never below zero (a net credit goes to the credit
//! balance instead); `credit_applied` = what the account's credit balance covers;
//! `amount_due` = total − credit_applied. Tollgate computes no tax: `tax` is zero
//! and shown as such.

pub mod adjustment;
pub mod charges;
pub mod estimate;
pub mod number;
pub mod schedule;
pub mod status;

pub use status::InvoiceStatus;

use crate::coupon::Coupon;
use crate::money::{Currency, Money};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What an invoice line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// The plan's flat price for the period.
    Base,
    /// Seats of a per-seat plan.
    Seats,
    /// Usage above the included quantity (or all usage of a pay-as-you-go or
    /// cost-plus price).
    Usage,
    /// A mid-period change of plan or seats.
    Proration,
    /// The difference a usage correction made to an invoice already issued
    /// (negative: a credit), billed on the next one (issue 13, "Corrections").
    Adjustment,
}

impl LineKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Base => "base",
            LineKind::Seats => "seats",
            LineKind::Usage => "usage",
            LineKind::Proration => "proration",
            LineKind::Adjustment => "adjustment",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            LineKind::Base,
            LineKind::Seats,
            LineKind::Usage,
            LineKind::Proration,
            LineKind::Adjustment,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// An unrounded amount to put on an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    /// What it is for.
    pub kind: LineKind,
    /// One line of text (`Standard AI, monthly`).
    pub description: String,
    /// Quantity billed (seats, units over the allowance, 1 for a flat fee).
    pub quantity: Decimal,
    /// Price per unit when one applies (a flat or tiered charge has none).
    pub unit_amount: Option<Decimal>,
    /// The amount in major units, unrounded; negative for credits.
    pub amount: Decimal,
    /// The meter of a usage line.
    pub meter: Option<String>,
}

/// A rounded invoice line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// What it is for.
    pub kind: LineKind,
    /// One line of text.
    pub description: String,
    /// Quantity billed.
    pub quantity: Decimal,
    /// Price per unit, if any.
    pub unit_amount: Option<Decimal>,
    /// The amount, rounded to the currency's minor unit.
    pub amount: Money,
    /// The meter of a usage line.
    pub meter: Option<String>,
}

/// An invoice's computed lines and totals, all in one currency, rounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// The lines, in the order the charges were given.
    pub lines: Vec<Line>,
    /// Σ lines.
    pub subtotal: Money,
    /// Taken off by a coupon (≥ 0).
    pub discount: Money,
    /// Always zero: Tollgate computes no tax.
    pub tax: Money,
    /// subtotal − discount, at least zero.
    pub total: Money,
    /// Paid from the account's credit balance (≥ 0, ≤ total).
    pub credit_applied: Money,
    /// What a negative subtotal leaves to add to the credit balance (≥ 0).
    pub credit_added: Money,
    /// total − credit_applied: what the customer pays.
    pub amount_due: Money,
}

/// Assembles an invoice from `charges`, an optional `coupon` and the account's
/// `credit_available` in `currency` (major units, ≥ 0; more than the total is left
/// on the balance).
pub fn assemble(
    currency: Currency,
    charges: Vec<Charge>,
    coupon: Option<&Coupon>,
    credit_available: Decimal,
) -> Draft {
    let money = |amount: Decimal| Money::new(amount, currency).round();
    let lines: Vec<Line> = charges
        .into_iter()
        .map(|c| Line {
            kind: c.kind,
            description: c.description,
            quantity: c.quantity,
            unit_amount: c.unit_amount,
            amount: money(c.amount),
            meter: c.meter,
        })
        .collect();
    let subtotal: Decimal = lines.iter().map(|l| l.amount.amount).sum();
    let discount = money(coupon.map_or(Decimal::ZERO, |c| c.amount_off(subtotal))).amount;
    let net = subtotal - discount;
    let total = net.max(Decimal::ZERO);
    let credit_added = (-net).max(Decimal::ZERO);
    let credit_applied = credit_available.max(Decimal::ZERO).min(total);
    Draft {
        lines,
        subtotal: money(subtotal),
        discount: money(discount),
        tax: money(Decimal::ZERO),
        total: money(total),
        credit_applied: money(credit_applied),
        credit_added: money(credit_added),
        amount_due: money(total - credit_applied),
    }
}

#[cfg(test)]
mod tests;
