//! Pure billing arithmetic: billing periods, tiered amounts and prorations, in integer minor units
//! (cents for USD), the unit of Stripe's wire format.

use chrono::{DateTime, Months};

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// A price's recurring interval (`recurring[interval]`): `day`, `week`, `month` or `year`,
/// repeated `count` times (`recurring[interval_count]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interval {
    /// `day`, `week`, `month` or `year`.
    pub unit: String,
    /// How many units one period spans (1 or more).
    pub count: u32,
}

impl Interval {
    /// Whether `unit` is one Stripe accepts.
    pub fn valid_unit(unit: &str) -> bool {
        matches!(unit, "day" | "week" | "month" | "year")
    }

    /// The end of the `n`-th period after `anchor` (`n = 1` is the end of the first period).
    /// Months keep the anchor's day of month, clamped to shorter months, and are counted from the
    /// anchor each time so that a period starting on the 31st comes back to the 31st, as Stripe's
    /// billing cycle anchor does (<https://docs.stripe.com/billing/subscriptions/billing-cycle>).
    pub fn boundary(&self, anchor: i64, n: u32) -> i64 {
        let steps = self.count.saturating_mul(n);
        match self.unit.as_str() {
            "day" => anchor + DAY * i64::from(steps),
            "week" => anchor + 7 * DAY * i64::from(steps),
            unit => {
                let months = if unit == "year" {
                    steps.saturating_mul(12)
                } else {
                    steps
                };
                DateTime::from_timestamp(anchor, 0)
                    .and_then(|t| t.checked_add_months(Months::new(months)))
                    .map_or(anchor + 30 * DAY * i64::from(months), |t| t.timestamp())
            }
        }
    }

    /// The first period boundary after `t` counted from `anchor` (the end of the period holding `t`).
    pub fn next_boundary(&self, anchor: i64, t: i64) -> i64 {
        let mut n = 1;
        loop {
            let b = self.boundary(anchor, n);
            if b > t || n > 100_000 {
                return b;
            }
            n += 1;
        }
    }
}

/// `amount × numerator ÷ denominator` rounded to the nearest minor unit, halves away from zero.
/// Stripe rounds each proration line to the currency's minor unit
/// (<https://docs.stripe.com/billing/subscriptions/prorations>).
pub fn prorate(amount: i64, numerator: i64, denominator: i64) -> i64 {
    if denominator <= 0 {
        return 0;
    }
    let product = i128::from(amount) * i128::from(numerator);
    let d = i128::from(denominator);
    let rounded = if product >= 0 {
        (2 * product + d) / (2 * d)
    } else {
        -((-2 * product + d) / (2 * d))
    };
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

/// An amount in minor units with up to 12 decimal places, as Stripe's `unit_amount_decimal`
/// allows (0.2 cents per token), held as an integer count of 10⁻¹² minor units so sums stay exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Fine(pub i128);

impl Fine {
    /// 10⁻¹² minor units per minor unit.
    pub const SCALE: i128 = 1_000_000_000_000;

    /// A whole number of minor units.
    pub fn whole(minor: i64) -> Self {
        Fine(i128::from(minor) * Self::SCALE)
    }

    /// Parses a decimal string (`"12"`, `"0.2"`, `"-1.5"`); `None` for anything else or more than
    /// 12 decimal places.
    pub fn parse(s: &str) -> Option<Self> {
        let (negative, digits) = s.strip_prefix('-').map_or((false, s), |d| (true, d));
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty()
            || !all_digits(int)
            || !all_digits(frac)
            || frac.len() > 12
            || int.len() > 18
        {
            return None;
        }
        let whole: i128 = int.parse().ok()?;
        let frac_value: i128 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<12}").parse().ok()?
        };
        let value = whole * Self::SCALE + frac_value;
        Some(Fine(if negative { -value } else { value }))
    }

    /// The amount of `quantity` units at this unit amount.
    pub fn times(self, quantity: i64) -> Self {
        Fine(self.0.saturating_mul(i128::from(quantity)))
    }

    /// Rounded to whole minor units, halves away from zero (Stripe rounds a line's amount once).
    pub fn round(self) -> i64 {
        let half = Self::SCALE / 2;
        let rounded = if self.0 >= 0 {
            (self.0 + half) / Self::SCALE
        } else {
            -((-self.0 + half) / Self::SCALE)
        };
        i64::try_from(rounded).unwrap_or(i64::MAX)
    }

    /// The whole minor units, `None` when there is a fraction (Stripe's `unit_amount` is then null).
    pub fn exact(self) -> Option<i64> {
        (self.0 % Self::SCALE == 0)
            .then(|| i64::try_from(self.0 / Self::SCALE).ok())
            .flatten()
    }

    /// The decimal string (`"0.2"`, `"12"`), as `unit_amount_decimal` renders it.
    pub fn render(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let v = self.0.unsigned_abs();
        let scale = Self::SCALE.unsigned_abs();
        let frac = format!("{:012}", v % scale);
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            format!("{sign}{}", v / scale)
        } else {
            format!("{sign}{}.{frac}", v / scale)
        }
    }
}

/// One tier of a tiered price (`tiers[i][up_to|unit_amount|unit_amount_decimal|flat_amount]`);
/// `up_to = None` is `inf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    /// Inclusive upper bound of the tier in units, `None` for the last (`inf`) tier.
    pub up_to: Option<i64>,
    /// Amount per unit in minor units (fractions allowed).
    pub unit_amount: Fine,
    /// Flat fee of the tier in minor units.
    pub flat_amount: i64,
}

/// The amount for `quantity` units of a tiered price, unrounded. `graduated`: each unit is priced
/// by the tier it falls in, plus the flat fee of every tier reached; `volume`: all units at the
/// tier the total falls in (<https://docs.stripe.com/products-prices/pricing-models#tiered-pricing>).
pub fn tiered_amount(tiers: &[Tier], mode: &str, quantity: i64) -> Fine {
    if mode == "volume" {
        let tier = tiers
            .iter()
            .find(|t| t.up_to.is_none_or(|u| quantity <= u))
            .or(tiers.last());
        return tier.map_or(Fine(0), |t| {
            if quantity > 0 {
                Fine(t.unit_amount.times(quantity).0 + Fine::whole(t.flat_amount).0)
            } else {
                Fine(0)
            }
        });
    }
    let mut total = 0;
    let mut below = 0;
    for tier in tiers {
        if quantity <= below {
            break;
        }
        let top = tier.up_to.map_or(quantity, |u| u.min(quantity));
        total += tier.unit_amount.times(top - below).0 + Fine::whole(tier.flat_amount).0;
        below = top;
    }
    Fine(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monthly_periods_keep_the_anchor_day() {
        let month = Interval {
            unit: "month".into(),
            count: 1,
        };
        // 2026-01-31T00:00:00Z
        let jan31 = 1_769_817_600;
        let feb28 = month.boundary(jan31, 1);
        let mar31 = month.boundary(jan31, 2);
        assert_eq!((feb28 - jan31) / DAY, 28);
        assert_eq!((mar31 - feb28) / DAY, 31);
        assert_eq!(month.next_boundary(jan31, feb28), mar31);
        let year = Interval {
            unit: "year".into(),
            count: 1,
        };
        assert_eq!((year.boundary(jan31, 1) - jan31) / DAY, 365);
    }

    #[test]
    fn prorations_round_to_minor_units() {
        // $29 → $79 half way through a 30-day period: -14.50 + 39.50 = +25.00.
        let total = 30 * DAY;
        assert_eq!(prorate(-2900, 15 * DAY, total), -1450);
        assert_eq!(prorate(7900, 15 * DAY, total), 3950);
        assert_eq!(prorate(1000, 1, 3), 333);
        assert_eq!(prorate(1000, 2, 3), 667);
        assert_eq!(prorate(-1000, 2, 3), -667);
        assert_eq!(prorate(5, 1, 2), 3);
    }

    #[test]
    fn graduated_and_volume_tiers() {
        let tiers = [
            Tier {
                up_to: Some(10),
                unit_amount: Fine::whole(100),
                flat_amount: 0,
            },
            Tier {
                up_to: None,
                unit_amount: Fine::whole(50),
                flat_amount: 200,
            },
        ];
        let cents = |mode, q| tiered_amount(&tiers, mode, q).round();
        assert_eq!(cents("graduated", 5), 500);
        assert_eq!(cents("graduated", 12), 1000 + 100 + 200);
        assert_eq!(cents("volume", 12), 600 + 200);
        assert_eq!(cents("volume", 10), 1000);
        assert_eq!(cents("graduated", 0), 0);
    }

    #[test]
    fn decimal_unit_amounts_round_once_per_line() {
        let fifth = Fine::parse("0.2").unwrap();
        assert_eq!(fifth.render(), "0.2");
        assert_eq!(fifth.exact(), None);
        assert_eq!(Fine::parse("12").unwrap().exact(), Some(12));
        assert_eq!(Fine::parse("12.50").unwrap().render(), "12.5");
        // 1,234 tokens at 0.2 cents: 246.8 cents, rounded once to $2.47.
        assert_eq!(fifth.times(1234).round(), 247);
        assert_eq!(fifth.times(2).round(), 0);
        assert_eq!(Fine::parse("0.5").unwrap().round(), 1);
        assert_eq!(Fine::parse("-0.5").unwrap().round(), -1);
        for bad in ["", ".5", "1.2.3", "abc", "1.0000000000001", "1e3"] {
            assert_eq!(Fine::parse(bad), None, "{bad}");
        }
    }
}
