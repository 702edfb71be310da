//! A period's usage of each meter, as the dashboard and `GET /api/v1/usage` show it:
//! used, limit, percent, state, and the projected end-of-period usage.

use crate::catalog::{Aggregation, Meter};
use crate::limits::{
    action_reached, evaluate, EffectiveLimit, Evaluation, LimitState, Threshold, ThresholdAction,
};
use crate::money::Money;
use crate::period::{Interval, Period};
use crate::subscription::Status;
use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Below this share of a period elapsed, a linear projection is too noisy to show
/// (the first ~7 hours of a month); the projection is then the usage itself.
pub fn min_share_for_projection() -> Decimal {
    Decimal::new(1, 2)
}

/// Linear end-of-period projection (API.md: "`projected` extrapolates the period's
/// usage linearly from its elapsed share"). Levels (max, last) are not extrapolated.
/// Count meters round half up to whole units; sums keep four decimals.
pub fn project(
    aggregation: Aggregation,
    usage: Decimal,
    period: &Period,
    now: DateTime<Utc>,
) -> Decimal {
    if !aggregation.accumulates() {
        return usage;
    }
    let share = period.elapsed_share(now);
    if share < min_share_for_projection() {
        return usage;
    }
    let dp = if aggregation == Aggregation::Count {
        0
    } else {
        4
    };
    (usage / share)
        .round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// One meter window's usage and cost as projected at `now` for an invoice that
/// closes after it (the projected invoice of `/billing`): a window already over
/// keeps its `actual` figures; the window holding `now` is projected linearly by
/// [`project`] to the end of `now`'s second (its cost scaled as its usage); a
/// window still to come is taken as
/// the current one's projection (`current`, else its actual figures, nothing).
pub fn project_window(
    aggregation: Aggregation,
    window: &Period,
    actual: (Decimal, Decimal),
    now: DateTime<Utc>,
    current: Option<(Decimal, Decimal)>,
) -> (Decimal, Decimal) {
    if window.end <= now {
        return actual;
    }
    if window.start > now {
        return current.unwrap_or(actual);
    }
    let (used, cost) = actual;
    // The current second counts as elapsed: at a window's last second nothing is
    // left to project, and the projection is the invoice the run will issue.
    let projected = project(aggregation, used, window, now + chrono::Duration::seconds(1));
    let cost = if used.is_zero() {
        cost
    } else {
        cost * projected / used
    };
    (projected, cost)
}

/// One meter's usage in its current period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterUsage {
    /// Meter key.
    pub meter: String,
    /// Display name.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Usage so far this period.
    pub usage: Decimal,
    /// Included quantity; `None` when unlimited.
    pub limit: Option<Decimal>,
    /// `usage / limit × 100` rounded to one decimal; `None` when unlimited.
    pub percent: Option<Decimal>,
    /// See [`LimitState`], for one more unit.
    pub state: LimitState,
    /// `soft` or `hard`.
    pub enforcement: crate::limits::Enforcement,
    /// For hard limits, the usage that may not be passed.
    pub blocks_at: Option<Decimal>,
    /// Projected usage at the end of the period.
    pub projected: Decimal,
    /// The projection passes the limit.
    pub projected_overage: bool,
    /// The meter's current period.
    pub period: Period,
    /// Days left in the period, rounded up.
    pub days_remaining: i64,
    /// A banner threshold is reached (seed 000: 90 %).
    pub banner: bool,
    /// An upgrade-prompt threshold is reached (100 %) or the meter is blocked.
    pub upgrade_prompt: bool,
}

/// The plan an account is on, for the plan card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanSummary {
    /// Plan key.
    pub key: String,
    /// Plan name.
    pub name: String,
    /// Subscription status.
    pub status: Status,
    /// Billing interval.
    pub interval: Interval,
    /// End of the trial, if trialing.
    pub trial_end: Option<DateTime<Utc>>,
    /// Price per interval (per seat when `per_seat`), if the plan has one.
    pub price: Option<Money>,
    /// Priced per seat.
    pub per_seat: bool,
    /// Seats on the subscription.
    pub seats: u32,
    /// Whether the plan's entitlements apply (false: the renewal prompt).
    pub entitled: bool,
    /// While past due and still entitled: when the dunning grace period ends.
    pub grace_until: Option<DateTime<Utc>>,
    /// Billed by invoice and bank transfer (the manual provider): past due means
    /// an invoice is unpaid, not that a card failed.
    #[serde(default)]
    pub by_invoice: bool,
}

/// An account's usage in its current period: what the dashboard shows and the live
/// stream sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The account.
    pub account_id: Uuid,
    /// The live subscription's plan, if any.
    pub plan: Option<PlanSummary>,
    /// The billing period (calendar month without a subscription).
    pub period: Period,
    /// Days left in the billing period, rounded up.
    pub days_remaining: i64,
    /// Every meter of the catalog, in catalog order.
    pub meters: Vec<MeterUsage>,
    /// When it was computed.
    pub generated_at: DateTime<Utc>,
}

impl Snapshot {
    /// A meter is blocked by a hard limit (the paywall's upgrade prompt).
    pub fn hard_blocked(&self) -> bool {
        self.meters.iter().any(|m| m.state == LimitState::Blocked)
    }
}

/// Builds a meter's usage view.
pub fn meter_usage(
    meter: &Meter,
    limit: &EffectiveLimit,
    thresholds: &[Threshold],
    usage: Decimal,
    period: Period,
    now: DateTime<Utc>,
) -> MeterUsage {
    let e: Evaluation = evaluate(limit, thresholds, usage, Decimal::ZERO);
    let projected = project(meter.aggregation, usage, &period, now);
    MeterUsage {
        meter: meter.key.to_string(),
        name: meter.name.clone(),
        unit: meter.unit.clone(),
        usage,
        limit: e.limit,
        percent: e.percent.map(round_percent),
        state: e.state,
        enforcement: e.enforcement,
        blocks_at: e.blocks_at,
        projected,
        projected_overage: e.limit.is_some_and(|l| projected > l),
        period,
        days_remaining: period.days_remaining(now),
        banner: action_reached(thresholds, e.percent, ThresholdAction::Banner),
        upgrade_prompt: e.state == LimitState::Blocked
            || action_reached(thresholds, e.percent, ThresholdAction::UpgradePrompt),
    }
}

/// Percent rounded half up to one decimal, for display and the API.
pub fn round_percent(p: Decimal) -> Decimal {
    p.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Key;
    use crate::limits::{Enforcement, Limit};
    use crate::period::Reset;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("test timestamp")
    }

    fn queries() -> Meter {
        Meter {
            key: Key::parse("queries").expect("test fixture"),
            name: "Queries".into(),
            unit: "query".into(),
            aggregation: Aggregation::Count,
            reset: Reset::BillingPeriod,
            description: String::new(),
            group_by: Vec::new(),
            cost_property: None,
        }
    }

    #[test]
    fn windows_project_only_from_now_on() {
        let month = |m: u32| Period {
            start: at(&format!("2026-{m:02}-01T00:00:00Z")),
            end: at(&format!("2026-{:02}-01T00:00:00Z", m + 1)),
        };
        let now = at("2026-11-21T00:00:00Z"); // 20 of 30 days of November
        let d = |n: i64| Decimal::from(n);
        let actual = (d(420), d(21));
        assert_eq!(project_window(Aggregation::Count, &month(10), actual, now, None), actual);
        let current = project_window(Aggregation::Count, &month(11), actual, now, None);
        assert_eq!(current, (d(630), Decimal::new(315, 1)), "cost scales with usage");
        let december = Period {
            start: at("2026-12-01T00:00:00Z"),
            end: at("2027-01-01T00:00:00Z"),
        };
        assert_eq!(
            project_window(Aggregation::Count, &december, (d(0), d(0)), now, Some(current)),
            current,
            "a month to come goes as this one"
        );
        assert_eq!(
            project_window(Aggregation::Max, &month(11), actual, now, None),
            actual,
            "a peak is not extrapolated"
        );
    }

    #[test]
    fn projection_is_linear_for_sums_and_flat_for_levels() {
        let p = Period {
            start: at("2026-11-01T00:00:00Z"),
            end: at("2026-12-01T00:00:00Z"),
        };
        let now = at("2026-11-21T00:00:00Z"); // 20 of 30 days
        assert_eq!(
            project(Aggregation::Count, Decimal::from(420), &p, now),
            Decimal::from(630)
        );
        assert_eq!(
            project(Aggregation::Last, Decimal::from(7), &p, now),
            Decimal::from(7)
        );
        // too early to extrapolate
        assert_eq!(
            project(
                Aggregation::Count,
                Decimal::from(3),
                &p,
                at("2026-11-01T00:10:00Z")
            ),
            Decimal::from(3)
        );
    }

    #[test]
    fn meter_view_flags_banner_and_upgrade_prompt() {
        use crate::limits::ThresholdAction::*;
        let thresholds = vec![
            Threshold {
                percent: Decimal::from(90),
                actions: [InApp, Banner].into_iter().collect(),
            },
            Threshold {
                percent: Decimal::from(100),
                actions: [InApp, UpgradePrompt].into_iter().collect(),
            },
        ];
        let limit = Limit {
            included: Some(Decimal::from(500)),
            enforcement: Enforcement::Soft,
            grace_percent: Decimal::ZERO,
            per_seat: false,
        }
        .resolve(1);
        let p = Period {
            start: at("2026-11-01T00:00:00Z"),
            end: at("2026-12-01T00:00:00Z"),
        };
        let now = at("2026-11-22T00:00:00Z");
        let v = meter_usage(&queries(), &limit, &thresholds, Decimal::from(451), p, now);
        assert!(v.banner && !v.upgrade_prompt);
        assert_eq!(v.percent, Some("90.2".parse().expect("test fixture")));
        assert_eq!(v.days_remaining, 9);
        assert!(v.projected_overage);
        let v = meter_usage(&queries(), &limit, &thresholds, Decimal::from(500), p, now);
        assert!(v.banner && v.upgrade_prompt);
        assert_eq!(v.state, LimitState::LimitReached);
    }
}
