//! Which billing periods an invoice run bills, and how much of each was paid for.
//!
//! The manual provider bills each billing period in arrears, once it has closed: a
//! run for the month `YYYY-MM` bills the periods whose end falls after the month's
//! start and no later than its end (a period of 1–31 October ends on 1 November at
//! 00:00 UTC and belongs to October's run). Annual plans are billed in the month
//! their year closes.

use crate::period::{Cycle, Period};
use chrono::{DateTime, Datelike, TimeZone, Utc};
use rust_decimal::Decimal;

/// Parses `YYYY-MM` into that calendar month (UTC).
///
/// # Errors
/// A sentence saying what is wrong, for a CLI or form error.
pub fn billing_month(s: &str) -> Result<Period, String> {
    let bad = || format!("`{s}` is not a month; write it as YYYY-MM (2026-10)");
    let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let (year, month): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    let start = Utc
        .with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .ok_or_else(bad)?;
    Ok(Period::calendar_month(start))
}

/// The month before the one containing `now`: what a run bills by default.
pub fn previous_month(now: DateTime<Utc>) -> Period {
    let this = Period::calendar_month(now);
    Period::calendar_month(this.start - chrono::Duration::seconds(1))
}

/// `YYYY-MM` of a month's start.
pub fn month_label(month: Period) -> String {
    format!("{:04}-{:02}", month.start.year(), month.start.month())
}

/// The periods of `cycle` that close within `month` and by `now`, and that the
/// subscription (created at `created_at`, canceled at `canceled_at`) was live in.
pub fn periods_closing_in(
    cycle: Cycle,
    month: Period,
    created_at: DateTime<Utc>,
    canceled_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<Period> {
    let mut out = Vec::new();
    let mut p = cycle.period_containing(month.end - chrono::Duration::seconds(1));
    while p.end > month.start {
        let live = p.end > created_at && canceled_at.is_none_or(|c| p.start < c);
        if p.end <= month.end && p.end <= now && live {
            out.push(p);
        }
        p = cycle.period_containing(p.start - chrono::Duration::seconds(1));
    }
    out.reverse();
    out
}

/// The share of `period` that was paid for (`0..=1`): from the latest of its start,
/// the subscription's creation and the end of its trial, to the earliest of its end
/// and the cancellation.
pub fn paid_share(
    period: Period,
    created_at: DateTime<Utc>,
    trial_end: Option<DateTime<Utc>>,
    canceled_at: Option<DateTime<Utc>>,
) -> Decimal {
    let from = [Some(period.start), Some(created_at), trial_end]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(period.start);
    let to = canceled_at.map_or(period.end, |c| c.min(period.end));
    let total = (period.end - period.start).num_seconds();
    let paid = (to - from).num_seconds();
    if total <= 0 || paid <= 0 {
        return Decimal::ZERO;
    }
    (Decimal::from(paid) / Decimal::from(total)).min(Decimal::ONE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::Interval;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("test timestamp")
    }

    #[test]
    fn months_parse_strictly() {
        let oct = billing_month("2026-10").expect("valid month");
        assert_eq!(
            (oct.start, oct.end),
            (at("2026-10-01T00:00:00Z"), at("2026-11-01T00:00:00Z"))
        );
        for bad in ["2026-13", "2026-1", "26-10", "2026/10", "", "2026-00"] {
            assert!(billing_month(bad).is_err(), "{bad}");
        }
        assert_eq!(
            month_label(previous_month(at("2026-01-15T00:00:00Z"))),
            "2025-12"
        );
    }

    #[test]
    fn a_run_bills_the_periods_that_close_in_its_month() {
        let now = at("2026-11-22T00:00:00Z");
        let oct = billing_month("2026-10").expect("valid month");
        let first = Cycle {
            anchor: at("2026-09-01T00:00:00Z"),
            interval: Interval::Month,
        };
        assert_eq!(
            periods_closing_in(first, oct, at("2026-09-01T00:00:00Z"), None, now),
            vec![Period {
                start: at("2026-10-01T00:00:00Z"),
                end: at("2026-11-01T00:00:00Z")
            }]
        );
        let mid = Cycle {
            anchor: at("2026-08-15T00:00:00Z"),
            interval: Interval::Month,
        };
        assert_eq!(
            periods_closing_in(mid, oct, at("2026-08-15T00:00:00Z"), None, now),
            vec![Period {
                start: at("2026-09-15T00:00:00Z"),
                end: at("2026-10-15T00:00:00Z")
            }]
        );
        let yearly = Cycle {
            anchor: at("2025-10-20T00:00:00Z"),
            interval: Interval::Year,
        };
        assert_eq!(
            periods_closing_in(yearly, oct, at("2025-10-20T00:00:00Z"), None, now).len(),
            1
        );
        assert!(periods_closing_in(
            yearly,
            billing_month("2026-09").expect("valid month"),
            at("2025-10-20T00:00:00Z"),
            None,
            now
        )
        .is_empty());
        // Not before it closed, not before the subscription existed, not after it was canceled.
        assert!(periods_closing_in(
            first,
            billing_month("2026-11").expect("valid month"),
            at("2026-09-01T00:00:00Z"),
            None,
            now
        )
        .is_empty());
        assert!(periods_closing_in(first, oct, at("2026-11-01T00:00:00Z"), None, now).is_empty());
        assert!(periods_closing_in(
            first,
            oct,
            at("2026-09-01T00:00:00Z"),
            Some(at("2026-09-20T00:00:00Z")),
            now
        )
        .is_empty());
    }

    #[test]
    fn the_paid_share_leaves_out_the_trial_and_the_time_after_cancelling() {
        let p = Period {
            start: at("2026-11-01T00:00:00Z"),
            end: at("2026-12-01T00:00:00Z"),
        };
        assert_eq!(
            paid_share(p, at("2026-10-01T00:00:00Z"), None, None),
            Decimal::ONE
        );
        assert_eq!(
            paid_share(
                p,
                at("2026-10-01T00:00:00Z"),
                Some(at("2026-11-16T00:00:00Z")),
                None
            ),
            Decimal::new(5, 1)
        );
        assert_eq!(
            paid_share(
                p,
                at("2026-10-01T00:00:00Z"),
                None,
                Some(at("2026-11-16T00:00:00Z"))
            ),
            Decimal::new(5, 1)
        );
        assert_eq!(
            paid_share(
                p,
                at("2026-10-01T00:00:00Z"),
                Some(at("2026-12-05T00:00:00Z")),
                None
            ),
            Decimal::ZERO
        );
    }
}
