//! Limits, their states and thresholds: the rules behind `/api/v1/check`, the
//! dashboard meters and the paywall's upgrade prompt.
//!
//! Rules (API.md "POST /api/v1/check", PRODUCT.md "Domain", seed 000 phase 2):
//! - a meter with no included quantity is unlimited and always `ok`;
//! - a soft limit never blocks; past 100 % it is `limit_reached`, still allowed;
//! - a hard limit blocks once usage plus the asked quantity would pass
//!   `blocks_at = included × (1 + grace %)` (50 with 10 % grace blocks at 55);
//! - `warning` starts at the lowest threshold below 100 %.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Whether a limit refuses usage past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enforcement {
    /// Warns and prompts, never refuses.
    Soft,
    /// Refuses past `blocks_at`.
    Hard,
}

impl Enforcement {
    /// `"soft"` or `"hard"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Enforcement::Soft => "soft",
            Enforcement::Hard => "hard",
        }
    }
}

/// A plan's limit on one meter, as the catalog states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    /// Included quantity per period; `None` is unlimited.
    pub included: Option<Decimal>,
    /// Soft or hard.
    pub enforcement: Enforcement,
    /// Extra allowance past `included` before a hard limit blocks, in percent
    /// (10 means 10 %). Ignored for soft limits.
    pub grace_percent: Decimal,
    /// When true the included quantity is per seat (a team plan).
    pub per_seat: bool,
}

impl Limit {
    /// An unlimited, soft limit: what a plan that does not mention a meter gets.
    pub fn unlimited() -> Self {
        Limit {
            included: None,
            enforcement: Enforcement::Soft,
            grace_percent: Decimal::ZERO,
            per_seat: false,
        }
    }

    /// The limit for an account with `seats` seats.
    pub fn resolve(&self, seats: u32) -> EffectiveLimit {
        let included = self.included.map(|q| {
            if self.per_seat {
                q * Decimal::from(seats.max(1))
            } else {
                q
            }
        });
        let blocks_at = match (self.enforcement, included) {
            (Enforcement::Hard, Some(q)) => Some(q + q * self.grace_percent / Decimal::ONE_HUNDRED),
            _ => None,
        };
        EffectiveLimit {
            included,
            enforcement: self.enforcement,
            blocks_at,
        }
    }
}

/// A limit resolved for one account (seats applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveLimit {
    /// Included quantity; `None` is unlimited.
    pub included: Option<Decimal>,
    /// Soft or hard.
    pub enforcement: Enforcement,
    /// For a hard limit, the usage that may not be passed.
    pub blocks_at: Option<Decimal>,
}

/// What a crossed threshold does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdAction {
    /// A notification in the app (every threshold also does this).
    InApp,
    /// An e-mail through the outbox.
    Email,
    /// A prominent banner on the dashboard.
    Banner,
    /// The upgrade prompt.
    UpgradePrompt,
    /// Marks the point where a hard limit with grace blocks (informational).
    Block,
}

/// A usage threshold in percent of a limit, with what crossing it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threshold {
    /// Percent of the included quantity (50 = 50 %).
    pub percent: Decimal,
    /// What happens once usage reaches it.
    pub actions: BTreeSet<ThresholdAction>,
}

/// The state of a meter against its limit. Ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitState {
    /// Below the first warning threshold (or unlimited).
    Ok,
    /// At or above a warning threshold, below 100 %.
    Warning,
    /// At or above 100 %, still allowed.
    LimitReached,
    /// A hard limit refuses the asked quantity.
    Blocked,
}

impl LimitState {
    /// The API name (`ok`, `warning`, `limit_reached`, `blocked`).
    pub fn as_str(self) -> &'static str {
        match self {
            LimitState::Ok => "ok",
            LimitState::Warning => "warning",
            LimitState::LimitReached => "limit_reached",
            LimitState::Blocked => "blocked",
        }
    }
}

/// The answer to "may `quantity` more be used, given `usage`?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// False only when a hard limit blocks.
    pub allowed: bool,
    /// See [`LimitState`].
    pub state: LimitState,
    /// Usage so far in the period.
    pub usage: Decimal,
    /// Included quantity; `None` when unlimited.
    pub limit: Option<Decimal>,
    /// `max(limit − usage, 0)`; `None` when unlimited.
    pub remaining: Option<Decimal>,
    /// `usage / limit × 100`, unrounded; `None` when unlimited. A limit of 0 counts
    /// as 100 %.
    pub percent: Option<Decimal>,
    /// Soft or hard.
    pub enforcement: Enforcement,
    /// For hard limits, the usage that may not be passed.
    pub blocks_at: Option<Decimal>,
}

impl Evaluation {
    /// True when the meter has no limit.
    pub fn unlimited(&self) -> bool {
        self.limit.is_none()
    }
}

/// The lowest threshold below 100 %, where `warning` starts.
pub fn warning_start(thresholds: &[Threshold]) -> Option<Decimal> {
    thresholds
        .iter()
        .map(|t| t.percent)
        .filter(|p| *p < Decimal::ONE_HUNDRED)
        .min()
}

/// `usage / included × 100`, or `None` for an unlimited limit.
pub fn percent_of(usage: Decimal, included: Option<Decimal>) -> Option<Decimal> {
    included.map(|q| {
        if q.is_zero() {
            Decimal::ONE_HUNDRED
        } else {
            usage * Decimal::ONE_HUNDRED / q
        }
    })
}

/// Evaluates `quantity` more on top of `usage` against `limit`.
///
/// With `quantity` zero the question is "would any more be refused?", which is
/// how the dashboard shows a meter: a hard limit at exactly `blocks_at` is
/// `blocked`.
pub fn evaluate(
    limit: &EffectiveLimit,
    thresholds: &[Threshold],
    usage: Decimal,
    quantity: Decimal,
) -> Evaluation {
    let percent = percent_of(usage, limit.included);
    let blocked = match limit.blocks_at {
        Some(at) if quantity.is_zero() => usage >= at,
        Some(at) => usage + quantity > at,
        None => false,
    };
    let state = if blocked {
        LimitState::Blocked
    } else {
        match percent {
            None => LimitState::Ok,
            Some(p) if p >= Decimal::ONE_HUNDRED => LimitState::LimitReached,
            Some(p) if warning_start(thresholds).is_some_and(|w| p >= w) => LimitState::Warning,
            Some(_) => LimitState::Ok,
        }
    };
    Evaluation {
        allowed: !blocked,
        state,
        usage,
        limit: limit.included,
        remaining: limit.included.map(|q| (q - usage).max(Decimal::ZERO)),
        percent,
        enforcement: limit.enforcement,
        blocks_at: limit.blocks_at,
    }
}

/// The thresholds that usage at `percent` has reached, lowest first.
pub fn reached<'a>(
    thresholds: &'a [Threshold],
    percent: Decimal,
) -> impl Iterator<Item = &'a Threshold> + 'a {
    let mut sorted: Vec<&Threshold> = thresholds
        .iter()
        .filter(move |t| t.percent <= percent)
        .collect();
    sorted.sort_by_key(|t| t.percent);
    sorted.into_iter()
}

/// Whether any reached threshold carries `action`.
pub fn action_reached(
    thresholds: &[Threshold],
    percent: Option<Decimal>,
    action: ThresholdAction,
) -> bool {
    percent.is_some_and(|p| reached(thresholds, p).any(|t| t.actions.contains(&action)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("test literal")
    }

    fn emtchat_thresholds() -> Vec<Threshold> {
        use ThresholdAction::*;
        [
            (50, vec![InApp]),
            (75, vec![InApp, Email]),
            (90, vec![InApp, Email, Banner]),
            (100, vec![InApp, UpgradePrompt]),
            (110, vec![InApp, Block]),
        ]
        .into_iter()
        .map(|(p, a)| Threshold {
            percent: Decimal::from(p),
            actions: a.into_iter().collect(),
        })
        .collect()
    }

    fn free_queries() -> EffectiveLimit {
        Limit {
            included: Some(d("50")),
            enforcement: Enforcement::Hard,
            grace_percent: d("10"),
            per_seat: false,
        }
        .resolve(1)
    }

    #[test]
    fn free_plan_blocks_at_fifty_five_per_catalog_scenario() {
        let t = emtchat_thresholds();
        let at50 = evaluate(&free_queries(), &t, d("50"), d("1"));
        assert_eq!((at50.state, at50.allowed), (LimitState::LimitReached, true));
        // the 55th query: usage 54, asking 1
        assert!(evaluate(&free_queries(), &t, d("54"), d("1")).allowed);
        // the 56th: usage 55, asking 1
        let at55 = evaluate(&free_queries(), &t, d("55"), d("1"));
        assert_eq!((at55.state, at55.allowed), (LimitState::Blocked, false));
        assert_eq!(at55.blocks_at, Some(d("55")));
        // the dashboard view at 55 is blocked, at 54 it is not
        assert_eq!(
            evaluate(&free_queries(), &t, d("55"), Decimal::ZERO).state,
            LimitState::Blocked
        );
        assert_eq!(
            evaluate(&free_queries(), &t, d("54"), Decimal::ZERO).state,
            LimitState::LimitReached
        );
    }

    #[test]
    fn api_example_is_warning_at_eighty_percent() {
        let e = evaluate(&free_queries(), &emtchat_thresholds(), d("40"), d("1"));
        assert_eq!(e.state, LimitState::Warning);
        assert_eq!(e.remaining, Some(d("10")));
        assert_eq!(e.percent, Some(d("80")));
    }

    #[test]
    fn soft_limit_past_one_hundred_is_reached_but_allowed() {
        let starter = Limit {
            included: Some(d("500")),
            enforcement: Enforcement::Soft,
            grace_percent: Decimal::ZERO,
            per_seat: false,
        }
        .resolve(1);
        let e = evaluate(&starter, &emtchat_thresholds(), d("501"), d("1"));
        assert_eq!(
            (e.state, e.allowed, e.remaining),
            (LimitState::LimitReached, true, Some(Decimal::ZERO))
        );
    }

    #[test]
    fn unlimited_is_ok_and_has_no_percent() {
        let e = evaluate(
            &Limit::unlimited().resolve(1),
            &emtchat_thresholds(),
            d("1000000"),
            d("5"),
        );
        assert_eq!(
            (e.state, e.allowed, e.unlimited(), e.percent),
            (LimitState::Ok, true, true, None)
        );
    }

    #[test]
    fn per_seat_limits_scale_with_seats() {
        let docs = Limit {
            included: Some(d("100")),
            enforcement: Enforcement::Hard,
            grace_percent: Decimal::ZERO,
            per_seat: true,
        };
        assert_eq!(docs.resolve(3).included, Some(d("300")));
        assert_eq!(
            docs.resolve(0).included,
            Some(d("100")),
            "zero seats counts as one"
        );
    }

    #[test]
    fn zero_included_counts_as_full() {
        let none = Limit {
            included: Some(Decimal::ZERO),
            enforcement: Enforcement::Hard,
            grace_percent: Decimal::ZERO,
            per_seat: false,
        }
        .resolve(1);
        let e = evaluate(&none, &[], Decimal::ZERO, d("1"));
        assert_eq!((e.state, e.allowed), (LimitState::Blocked, false));
    }

    #[test]
    fn reached_thresholds_and_actions() {
        let t = emtchat_thresholds();
        let got: Vec<Decimal> = reached(&t, d("92")).map(|t| t.percent).collect();
        assert_eq!(got, vec![d("50"), d("75"), d("90")]);
        assert!(action_reached(&t, Some(d("90")), ThresholdAction::Banner));
        assert!(!action_reached(
            &t,
            Some(d("89.9")),
            ThresholdAction::Banner
        ));
        assert!(!action_reached(&t, None, ThresholdAction::Banner));
    }

    fn any_limit() -> impl Strategy<Value = EffectiveLimit> {
        (
            proptest::option::of(0u32..10_000),
            any::<bool>(),
            0u32..200,
            1u32..20,
            any::<bool>(),
        )
            .prop_map(|(included, hard, grace, seats, per_seat)| {
                Limit {
                    included: included.map(Decimal::from),
                    enforcement: if hard {
                        Enforcement::Hard
                    } else {
                        Enforcement::Soft
                    },
                    grace_percent: Decimal::from(grace),
                    per_seat,
                }
                .resolve(seats)
            })
    }

    proptest! {
        #[test]
        fn a_hard_limit_is_never_passed_by_an_allowed_quantity(
            limit in any_limit(), usage in 0u32..20_000, quantity in 1u32..500
        ) {
            let e = evaluate(&limit, &emtchat_thresholds(), Decimal::from(usage), Decimal::from(quantity));
            if let (true, Some(at)) = (e.allowed, limit.blocks_at) {
                prop_assert!(Decimal::from(usage) + Decimal::from(quantity) <= at);
            }
            if limit.enforcement == Enforcement::Soft {
                prop_assert!(e.allowed);
            }
        }

        #[test]
        fn state_is_monotone_in_usage(
            limit in any_limit(), a in 0u32..20_000, b in 0u32..20_000, quantity in 0u32..50
        ) {
            let (lo, hi) = (a.min(b), a.max(b));
            let t = emtchat_thresholds();
            let q = Decimal::from(quantity);
            let s_lo = evaluate(&limit, &t, Decimal::from(lo), q).state;
            let s_hi = evaluate(&limit, &t, Decimal::from(hi), q).state;
            prop_assert!(s_lo <= s_hi, "{:?} at {} > {:?} at {}", s_lo, lo, s_hi, hi);
        }

        #[test]
        fn consuming_one_by_one_stops_exactly_at_blocks_at(included in 0u32..300, grace in 0u32..50) {
            let limit = Limit { included: Some(Decimal::from(included)), enforcement: Enforcement::Hard, grace_percent: Decimal::from(grace), per_seat: false }.resolve(1);
            let mut usage = Decimal::ZERO;
            while evaluate(&limit, &[], usage, Decimal::ONE).allowed {
                usage += Decimal::ONE;
                prop_assert!(usage <= limit.blocks_at.unwrap_or_default());
            }
            prop_assert_eq!(usage, limit.blocks_at.unwrap_or_default().floor());
        }
    }
}
