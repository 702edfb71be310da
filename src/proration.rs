//! Proration: what a mid-period change of plan or seats costs.
//!
//! As Stripe prorates (<https://docs.stripe.com/billing/subscriptions/prorations>):
//! by the second, a credit for the unused share of what was paid for the period and
//! a charge for the remaining share at the new price. Amounts are per period, in
//! major units, unrounded (the invoice rounds each line once).

use crate::period::Period;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The two sides of a proration and their net.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proration {
    /// Share of the period left at the change, `0..=1`.
    pub remaining_share: Decimal,
    /// Credit for the unused time on the old price (≤ 0).
    pub credit: Decimal,
    /// Charge for the remaining time on the new price (≥ 0).
    pub charge: Decimal,
}

impl Proration {
    /// `charge + credit`: positive for an upgrade, negative for a downgrade.
    pub fn net(&self) -> Decimal {
        self.charge + self.credit
    }
}

/// Prorates a change at `at` from a period price `old` to `new` (both ≥ 0, for the
/// whole `period`). A change at or after the period's end prorates nothing; one at
/// or before its start swaps the whole period.
pub fn prorate(old: Decimal, new: Decimal, period: Period, at: DateTime<Utc>) -> Proration {
    let remaining_share = Decimal::ONE - period.elapsed_share(at);
    Proration {
        remaining_share,
        credit: -(old * remaining_share),
        charge: new * remaining_share,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("test timestamp")
    }

    #[test]
    fn crm_upgrade_halfway_through_a_30_day_period_is_plus_25() {
        // CATALOGS.md, crm: starter $29 → professional $79 half way through 30 days.
        let period = Period {
            start: at("2026-11-01T00:00:00Z"),
            end: at("2026-12-01T00:00:00Z"),
        };
        let p = prorate(
            Decimal::from(29),
            Decimal::from(79),
            period,
            at("2026-11-16T00:00:00Z"),
        );
        assert_eq!(p.remaining_share, Decimal::new(5, 1));
        assert_eq!(
            (p.credit, p.charge, p.net()),
            (
                Decimal::new(-145, 1),
                Decimal::new(395, 1),
                Decimal::from(25)
            )
        );
    }

    #[test]
    fn outside_the_period() {
        let period = Period {
            start: at("2026-11-01T00:00:00Z"),
            end: at("2026-12-01T00:00:00Z"),
        };
        assert_eq!(
            prorate(
                Decimal::from(10),
                Decimal::from(20),
                period,
                at("2026-12-05T00:00:00Z")
            )
            .net(),
            Decimal::ZERO
        );
        assert_eq!(
            prorate(
                Decimal::from(10),
                Decimal::from(20),
                period,
                at("2026-10-05T00:00:00Z")
            )
            .net(),
            Decimal::from(10)
        );
    }

    proptest! {
        /// Issue 4: "prorations of a period's plan changes add up to what the plans
        /// cost for the time each was held". The period's first price plus every
        /// change's net proration equals each price times the share of the period it
        /// was held (to far below a cent: shares are 28-digit decimals).
        #[test]
        fn a_periods_prorations_add_up_to_the_time_each_plan_was_held(
            first in 0u32..100_000,
            changes in prop::collection::vec((0u32..100_000, 0i64..2_592_000), 0..6),
        ) {
            let period = Period { start: at("2026-11-01T00:00:00Z"), end: at("2026-12-01T00:00:00Z") };
            let mut changes: Vec<(Decimal, DateTime<Utc>)> =
                changes.into_iter().map(|(p, s)| (Decimal::new(i64::from(p), 2), period.start + chrono::Duration::seconds(s))).collect();
            changes.sort_by_key(|c| c.1);
            let first = Decimal::new(i64::from(first), 2);

            let mut billed = first;
            let mut price = first;
            for (new, when) in &changes {
                billed += prorate(price, *new, period, *when).net();
                price = *new;
            }

            let mut held = Decimal::ZERO;
            let mut price = first;
            let mut since = period.start;
            for (new, when) in changes.iter().chain(std::iter::once(&(Decimal::ZERO, period.end))) {
                held += price * (period.elapsed_share(*when) - period.elapsed_share(since));
                price = *new;
                since = *when;
            }
            prop_assert!((billed - held).abs() < Decimal::new(1, 18), "billed {billed}, held {held}");
        }

        #[test]
        fn a_change_back_and_forth_nets_to_zero(old in 0u32..100_000, new in 0u32..100_000, secs in 0i64..2_592_000) {
            let period = Period { start: at("2026-11-01T00:00:00Z"), end: at("2026-12-01T00:00:00Z") };
            let t = period.start + chrono::Duration::seconds(secs);
            let (old, new) = (Decimal::new(i64::from(old), 2), Decimal::new(i64::from(new), 2));
            let there = prorate(old, new, period, t);
            let back = prorate(new, old, period, t);
            prop_assert_eq!(there.net() + back.net(), Decimal::ZERO);
            prop_assert!(there.net().abs() <= (new - old).abs());
        }
    }
}
