//! One subscription's recurring revenue: its plan's price less a recurring coupon
//! (definitions in [`super`]).
//!
//! Kept as an exact **yearly run rate** (12 × MRR: a monthly price × 12, an annual
//! price as it is), so sums and differences never carry a division's remainder;
//! MRR is the run rate ÷ 12, divided and rounded once when shown.

use super::timeline::{History, Terms};
use crate::catalog::Catalog;
use crate::coupon::{Coupon, Duration};
use crate::invoice::charges::period_amount;
use crate::subscription::Status;
use chrono::{DateTime, Months, Utc};
use rust_decimal::Decimal;

/// How a subscription's terms count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// `active` or `past_due`: counts in MRR.
    Paying,
    /// `trialing`: counts in trial MRR only.
    Trial,
    /// Canceled, incomplete or unpaid: counts nowhere.
    Out,
}

/// How `status` counts.
pub fn standing(status: Status) -> Standing {
    match status {
        Status::Active | Status::PastDue => Standing::Paying,
        Status::Trialing => Standing::Trial,
        Status::Canceled | Status::Incomplete | Status::Unpaid => Standing::Out,
    }
}

/// An account's coupon: the coupon and when it was redeemed (UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redemption {
    pub coupon: Coupon,
    pub redeemed_at: DateTime<Utc>,
}

impl Redemption {
    /// Whether the coupon lowers recurring revenue at `t`: a `forever` coupon from
    /// its redemption on, a `repeating` one for its months after redemption; a
    /// `once` coupon never (it is a one-off).
    pub fn recurring_at(&self, t: DateTime<Utc>) -> bool {
        if t < self.redeemed_at {
            return false;
        }
        match self.coupon.duration {
            Duration::Once => false,
            Duration::Forever => true,
            Duration::Repeating { months } => self
                .redeemed_at
                .checked_add_months(Months::new(months))
                .is_some_and(|until| t < until),
        }
    }
}

/// The yearly run rate of `terms` (12 × its MRR; major units of the catalog
/// currency, exact): the plan's price for its interval with its seats, less the
/// share of `coupon` that recurs at `at` (an amount-off coupon is per invoice and
/// never more than the price), × 12 when billed monthly. A grandfathered price
/// in `terms` is used in place of the catalog's. Zero for a plan or an
/// interval the catalog no longer prices. The status is not looked at: see
/// [`standing`].
pub fn run_rate(
    catalog: &Catalog,
    terms: &Terms,
    coupon: Option<&Redemption>,
    at: DateTime<Utc>,
) -> Decimal {
    let Some(price) = catalog
        .plan(&terms.plan)
        .and_then(|p| p.price_for(terms.interval, terms.price.as_ref()))
    else {
        return Decimal::ZERO;
    };
    let per_period = period_amount(price, terms.seats);
    let discounted = match coupon.filter(|c| c.recurring_at(at)) {
        Some(c) => per_period - c.coupon.amount_off(per_period),
        None => per_period,
    };
    discounted * Decimal::from(12 / terms.interval.months())
}

/// A subscription's run rate just before `t`: [`run_rate`] when it was paying
/// then, else zero.
pub fn run_rate_before(
    catalog: &Catalog,
    history: &History,
    coupon: Option<&Redemption>,
    t: DateTime<Utc>,
) -> Decimal {
    match history.before(t) {
        Some(terms) if standing(terms.status) == Standing::Paying => {
            run_rate(catalog, terms, coupon, t)
        }
        _ => Decimal::ZERO,
    }
}

/// Whether the subscription was paying at any time before `t` (for telling new
/// revenue from reactivation).
pub fn paid_before(
    catalog: &Catalog,
    history: &History,
    coupon: Option<&Redemption>,
    t: DateTime<Utc>,
) -> bool {
    history.segments.iter().take_while(|s| s.from < t).any(|s| {
        s.terms.as_ref().is_some_and(|terms| {
            standing(terms.status) == Standing::Paying
                && run_rate(catalog, terms, coupon, s.from) > Decimal::ZERO
        })
    })
}
