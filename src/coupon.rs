//! Coupons: a discount an operator grants an account (seed 004's 50 % non-profit
//! discount). The field's terms, as Stripe uses them
//! (<https://docs.stripe.com/billing/subscriptions/coupons>): `percent_off` or
//! `amount_off`, for `once`, `repeating` (N months) or `forever`.

use crate::keys::Key;
use chrono::{DateTime, Months, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How much a coupon takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Discount {
    /// A percentage of the invoice subtotal, `0 < p ≤ 100` (50 means half).
    PercentOff(Decimal),
    /// A fixed amount in the catalog currency (major units), never more than the
    /// subtotal.
    AmountOff(Decimal),
}

/// How long a redeemed coupon keeps applying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "duration", rename_all = "snake_case")]
pub enum Duration {
    /// The first invoice after redemption only.
    Once,
    /// Invoices whose billing period starts within `months` months of redemption.
    Repeating {
        /// Number of months, ≥ 1.
        months: u32,
    },
    /// Every invoice.
    Forever,
}

/// A coupon of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coupon {
    /// Stable code (`nonprofit`).
    pub code: Key,
    /// Display name (`Non-profit discount`).
    pub name: String,
    /// What it takes off.
    pub discount: Discount,
    /// How long it applies.
    pub duration: Duration,
}

impl Coupon {
    /// Whether a coupon redeemed at `redeemed_at`, already applied to
    /// `invoices_applied` invoices, applies to an invoice for a period starting at
    /// `period_start`.
    pub fn applies(
        &self,
        redeemed_at: DateTime<Utc>,
        invoices_applied: u32,
        period_start: DateTime<Utc>,
    ) -> bool {
        match self.duration {
            Duration::Once => invoices_applied == 0,
            Duration::Forever => true,
            Duration::Repeating { months } => redeemed_at
                .checked_add_months(Months::new(months))
                .is_some_and(|until| period_start < until),
        }
    }

    /// The discount on a `subtotal` (major units, unrounded; ≥ 0): a share of it, or
    /// the fixed amount capped at the subtotal. Nothing off a zero or negative
    /// subtotal.
    pub fn amount_off(&self, subtotal: Decimal) -> Decimal {
        if subtotal <= Decimal::ZERO {
            return Decimal::ZERO;
        }
        match self.discount {
            Discount::PercentOff(p) => subtotal * p / Decimal::ONE_HUNDRED,
            Discount::AmountOff(a) => a.min(subtotal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("test timestamp")
    }

    fn coupon(discount: Discount, duration: Duration) -> Coupon {
        Coupon {
            code: Key::parse("c").expect("test key"),
            name: "C".into(),
            discount,
            duration,
        }
    }

    #[test]
    fn durations() {
        let r = at("2026-01-15T00:00:00Z");
        let once = coupon(Discount::PercentOff(Decimal::from(50)), Duration::Once);
        assert!(once.applies(r, 0, at("2026-02-01T00:00:00Z")));
        assert!(!once.applies(r, 1, at("2026-02-01T00:00:00Z")));
        let three = coupon(
            Discount::PercentOff(Decimal::from(50)),
            Duration::Repeating { months: 3 },
        );
        assert!(three.applies(r, 5, at("2026-04-14T00:00:00Z")));
        assert!(
            !three.applies(r, 5, at("2026-04-15T00:00:00Z")),
            "three months after redemption it ends"
        );
        assert!(
            coupon(Discount::PercentOff(Decimal::ONE), Duration::Forever).applies(
                r,
                99,
                at("2030-01-01T00:00:00Z")
            )
        );
    }

    #[test]
    fn amounts_off() {
        let half = coupon(Discount::PercentOff(Decimal::from(50)), Duration::Forever);
        assert_eq!(half.amount_off(Decimal::from(804)), Decimal::from(402));
        let ten = coupon(Discount::AmountOff(Decimal::from(10)), Duration::Forever);
        assert_eq!(
            ten.amount_off(Decimal::from(4)),
            Decimal::from(4),
            "never more than the subtotal"
        );
        assert_eq!(ten.amount_off(Decimal::from(-4)), Decimal::ZERO);
    }
}
