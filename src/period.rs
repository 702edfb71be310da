//! Billing periods: the half-open UTC intervals `[start, end)` over which usage is
//! counted and plans are charged.
//!
//! A subscription's periods are anchored at its billing-cycle anchor and step by its
//! interval. A boundary that falls on a day the month lacks is clamped to the
//! month's last day, and every boundary is computed from the anchor itself (not from
//! the previous boundary), so an anchor on 31 January gives 28/29 February, then 31
//! March: Stripe's rule (<https://docs.stripe.com/billing/subscriptions/billing-cycle>).
//! A meter can instead reset on calendar months (UTC).

use chrono::{DateTime, Datelike, Months, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How often a plan is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    /// Every calendar month from the anchor.
    Month,
    /// Every twelve months from the anchor.
    Year,
}

impl Interval {
    /// The interval's length in months.
    pub fn months(self) -> u32 {
        match self {
            Interval::Month => 1,
            Interval::Year => 12,
        }
    }

    /// `"month"` or `"year"`, as stored and sent over the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Month => "month",
            Interval::Year => "year",
        }
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An interval name that is neither `month` nor `year`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a billing interval (use `month` or `year`)")]
pub struct IntervalError(pub String);

impl FromStr for Interval {
    type Err = IntervalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "month" | "monthly" => Ok(Interval::Month),
            "year" | "yearly" | "annual" => Ok(Interval::Year),
            _ => Err(IntervalError(s.to_string())),
        }
    }
}

/// When a meter's count starts again from zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reset {
    /// With the subscription's billing period (a year on annual plans).
    BillingPeriod,
    /// Every month from the subscription's anchor, whatever the billing interval:
    /// monthly allowances that annual plans keep ("500 queries a month, billed
    /// yearly"). Equal to `BillingPeriod` on monthly plans.
    Monthly,
    /// On the first of each calendar month, 00:00 UTC.
    CalendarMonth,
}

impl Reset {
    /// `"billing_period"`, `"monthly"` or `"calendar_month"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reset::BillingPeriod => "billing_period",
            Reset::Monthly => "monthly",
            Reset::CalendarMonth => "calendar_month",
        }
    }
}

/// A billing-cycle anchor and the interval its periods step by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cycle {
    /// The instant the first period starts (UTC).
    pub anchor: DateTime<Utc>,
    /// The period length.
    pub interval: Interval,
}

/// A half-open period `[start, end)` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    /// First instant inside the period.
    pub start: DateTime<Utc>,
    /// First instant after the period.
    pub end: DateTime<Utc>,
}

impl Period {
    /// Whether `t` falls inside `[start, end)`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }

    /// Whole or partial days from `now` to the end, rounded up (so the last day of a
    /// period shows 1); 0 once the period is over.
    pub fn days_remaining(&self, now: DateTime<Utc>) -> i64 {
        let secs = (self.end - now).num_seconds();
        if secs <= 0 {
            0
        } else {
            (secs + 86_399) / 86_400
        }
    }

    /// The share of the period elapsed at `now`, clamped to `[0, 1]`.
    pub fn elapsed_share(&self, now: DateTime<Utc>) -> Decimal {
        let total = (self.end - self.start).num_seconds();
        if total <= 0 {
            return Decimal::ONE;
        }
        let elapsed = (now - self.start).num_seconds().clamp(0, total);
        Decimal::from(elapsed) / Decimal::from(total)
    }

    /// The calendar month (UTC) containing `t`.
    pub fn calendar_month(t: DateTime<Utc>) -> Period {
        let start = Utc
            .with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0)
            .single()
            .unwrap_or(t);
        let end = start.checked_add_months(Months::new(1)).unwrap_or(start);
        Period { start, end }
    }
}

impl Cycle {
    /// The `n`-th boundary after (or, for negative `n`, before) the anchor.
    fn boundary(&self, n: i64) -> DateTime<Utc> {
        let months = n
            .unsigned_abs()
            .saturating_mul(u64::from(self.interval.months()));
        let months = Months::new(u32::try_from(months).unwrap_or(u32::MAX));
        let moved = if n >= 0 {
            self.anchor.checked_add_months(months)
        } else {
            self.anchor.checked_sub_months(months)
        };
        moved.unwrap_or(self.anchor)
    }

    /// The period of this cycle that contains `t` (also before the anchor).
    pub fn period_containing(&self, t: DateTime<Utc>) -> Period {
        let step = i64::from(self.interval.months());
        let months_apart = (i64::from(t.year()) - i64::from(self.anchor.year())) * 12
            + (i64::from(t.month()) - i64::from(self.anchor.month()));
        let mut n = months_apart.div_euclid(step);
        while self.boundary(n) > t {
            n -= 1;
        }
        while self.boundary(n + 1) <= t {
            n += 1;
        }
        Period {
            start: self.boundary(n),
            end: self.boundary(n + 1),
        }
    }
}

/// The period over which a meter with the given reset counts at instant `t`.
/// An account without a subscription (no cycle) counts by calendar month.
pub fn meter_period(reset: Reset, cycle: Option<Cycle>, t: DateTime<Utc>) -> Period {
    match (reset, cycle) {
        (Reset::BillingPeriod, Some(cycle)) => cycle.period_containing(t),
        (Reset::Monthly, Some(cycle)) => Cycle {
            interval: Interval::Month,
            ..cycle
        }
        .period_containing(t),
        _ => Period::calendar_month(t),
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
    fn month_end_anchor_clamps_each_boundary_from_the_anchor() {
        let cycle = Cycle {
            anchor: at("2026-01-31T12:00:00Z"),
            interval: Interval::Month,
        };
        let feb = cycle.period_containing(at("2026-03-01T00:00:00Z"));
        assert_eq!(feb.start, at("2026-02-28T12:00:00Z"));
        assert_eq!(feb.end, at("2026-03-31T12:00:00Z"));
        let apr = cycle.period_containing(at("2026-04-30T12:00:00Z"));
        assert_eq!(apr.start, at("2026-04-30T12:00:00Z"));
        assert_eq!(apr.end, at("2026-05-31T12:00:00Z"));
    }

    #[test]
    fn a_boundary_instant_starts_the_next_period() {
        let cycle = Cycle {
            anchor: at("2026-11-01T00:00:00Z"),
            interval: Interval::Month,
        };
        let p = cycle.period_containing(at("2026-12-01T00:00:00Z"));
        assert_eq!(p.start, at("2026-12-01T00:00:00Z"));
        assert_eq!(p.end, at("2027-01-01T00:00:00Z"));
    }

    #[test]
    fn periods_before_the_anchor_exist() {
        let cycle = Cycle {
            anchor: at("2026-11-15T08:00:00Z"),
            interval: Interval::Month,
        };
        let p = cycle.period_containing(at("2026-11-01T00:00:00Z"));
        assert_eq!(
            p,
            Period {
                start: at("2026-10-15T08:00:00Z"),
                end: at("2026-11-15T08:00:00Z")
            }
        );
    }

    #[test]
    fn yearly_cycle_from_leap_day() {
        let cycle = Cycle {
            anchor: at("2028-02-29T00:00:00Z"),
            interval: Interval::Year,
        };
        let p = cycle.period_containing(at("2029-06-01T00:00:00Z"));
        assert_eq!(p.start, at("2029-02-28T00:00:00Z"));
        assert_eq!(p.end, at("2030-02-28T00:00:00Z"));
    }

    #[test]
    fn calendar_month_and_days_remaining() {
        let p = Period::calendar_month(at("2026-11-22T10:30:00Z"));
        assert_eq!(p.start, at("2026-11-01T00:00:00Z"));
        assert_eq!(p.end, at("2026-12-01T00:00:00Z"));
        assert_eq!(p.days_remaining(at("2026-11-22T10:30:00Z")), 9);
        assert_eq!(p.days_remaining(at("2026-11-30T23:00:00Z")), 1);
        assert_eq!(p.days_remaining(at("2026-12-01T00:00:00Z")), 0);
        assert_eq!(
            meter_period(Reset::BillingPeriod, None, at("2026-11-22T00:00:00Z")),
            p
        );
    }

    #[test]
    fn monthly_reset_counts_months_on_annual_plans() {
        let cycle = Cycle {
            anchor: at("2026-03-15T09:00:00Z"),
            interval: Interval::Year,
        };
        let t = at("2026-11-22T00:00:00Z");
        assert_eq!(
            meter_period(Reset::BillingPeriod, Some(cycle), t).end,
            at("2027-03-15T09:00:00Z")
        );
        let monthly = meter_period(Reset::Monthly, Some(cycle), t);
        assert_eq!(
            monthly,
            Period {
                start: at("2026-11-15T09:00:00Z"),
                end: at("2026-12-15T09:00:00Z")
            }
        );
        let on_monthly_plan = Cycle {
            interval: Interval::Month,
            ..cycle
        };
        assert_eq!(
            meter_period(Reset::Monthly, Some(on_monthly_plan), t),
            meter_period(Reset::BillingPeriod, Some(on_monthly_plan), t)
        );
    }

    #[test]
    fn interval_parses_common_spellings_only() {
        assert_eq!(
            "Monthly".parse::<Interval>().expect("test fixture"),
            Interval::Month
        );
        assert_eq!(
            "annual".parse::<Interval>().expect("test fixture"),
            Interval::Year
        );
        assert!("weekly".parse::<Interval>().is_err());
    }

    fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
        // 2000-01-01 .. 2100-01-01
        (946_684_800i64..4_102_444_800i64)
            .prop_map(|s| DateTime::from_timestamp(s, 0).expect("in range"))
    }

    proptest! {
        #[test]
        fn the_containing_period_contains_and_the_next_one_follows(
            anchor in any_instant(), t in any_instant(), yearly in any::<bool>()
        ) {
            let interval = if yearly { Interval::Year } else { Interval::Month };
            let cycle = Cycle { anchor, interval };
            let p = cycle.period_containing(t);
            prop_assert!(p.contains(t));
            prop_assert!(p.end > p.start);
            // contiguous: the instant at the end starts the next period
            let next = cycle.period_containing(p.end);
            prop_assert_eq!(next.start, p.end);
            let days = (p.end - p.start).num_days();
            if yearly { prop_assert!((365..=366).contains(&days)); } else { prop_assert!((28..=31).contains(&days)); }
        }

        #[test]
        fn elapsed_share_is_between_zero_and_one(anchor in any_instant(), t in any_instant()) {
            let p = Cycle { anchor, interval: Interval::Month }.period_containing(anchor);
            let share = p.elapsed_share(t);
            prop_assert!(share >= Decimal::ZERO && share <= Decimal::ONE);
        }
    }
}
