//! Subscriptions: statuses, providers, and the rules for starting one and changing
//! its plan (issue "Tollgate runs end to end", point 8; Stripe's status names from
//! <https://docs.stripe.com/api/subscriptions/object#subscription_object-status>).

use crate::catalog::Plan;
use crate::period::{Cycle, Interval};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A subscription's status, named as Stripe names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// In a free trial.
    Trialing,
    /// Paid up (or free).
    Active,
    /// A payment failed; dunning is under way.
    PastDue,
    /// Ended. Not live: the account may start a new subscription.
    Canceled,
    /// Created, first payment not yet made.
    Incomplete,
    /// Dunning gave up without cancelling.
    Unpaid,
}

impl Status {
    /// Every status, for parsing and listing.
    pub const ALL: [Status; 6] = [
        Status::Trialing,
        Status::Active,
        Status::PastDue,
        Status::Canceled,
        Status::Incomplete,
        Status::Unpaid,
    ];

    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Trialing => "trialing",
            Status::Active => "active",
            Status::PastDue => "past_due",
            Status::Canceled => "canceled",
            Status::Incomplete => "incomplete",
            Status::Unpaid => "unpaid",
        }
    }

    /// Live subscriptions are every status but `canceled`; an account has at most one.
    pub fn is_live(self) -> bool {
        self != Status::Canceled
    }

    /// Whether the plan's entitlements apply: trialing and active do; past due,
    /// unpaid and incomplete answer with the paywall's renewal prompt.
    pub fn entitles(self) -> bool {
        matches!(self, Status::Trialing | Status::Active)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is not one of Stripe's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a subscription status")]
pub struct StatusError(pub String);

impl FromStr for Status {
    type Err = StatusError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| StatusError(s.into()))
    }
}

/// Who collects payment for a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// Tollgate itself: bank transfer / net terms, or free plans.
    Manual,
    /// Stripe Billing.
    Stripe,
}

impl Provider {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Manual => "manual",
            Provider::Stripe => "stripe",
        }
    }
}

/// The state a plan choice puts a subscription in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTerms {
    /// Trialing or active.
    pub status: Status,
    /// End of the trial, if trialing.
    pub trial_end: Option<DateTime<Utc>>,
    /// Billing cycle: usage periods and renewals step from its anchor.
    pub cycle: Cycle,
}

/// Terms of a new subscription to `plan` started at `now`: a free plan is active at
/// once; a paid plan with trial days starts `trialing` unless the account already
/// had a trial (`trial_used`); otherwise `active`.
pub fn start(plan: &Plan, interval: Interval, now: DateTime<Utc>, trial_used: bool) -> PlanTerms {
    let days = if trial_used {
        0
    } else {
        plan.trial_days_for_new_subscription()
    };
    let cycle = Cycle {
        anchor: now,
        interval,
    };
    if days > 0 {
        PlanTerms {
            status: Status::Trialing,
            trial_end: Some(now + Duration::days(i64::from(days))),
            cycle,
        }
    } else {
        PlanTerms {
            status: Status::Active,
            trial_end: None,
            cycle,
        }
    }
}

/// Terms after changing a live subscription to `plan` on `interval` at `now`. The
/// change takes effect at once. The billing cycle keeps its anchor, also when the
/// interval changes: usage so far carries over, and switching between monthly and
/// annual billing can never start a fresh period to escape a limit. (With the
/// manual provider the charge for the changed interval is settled by proration on
/// the invoice.) A running trial continues on another paid plan and ends on a free
/// one; moving from a free plan to a paid one starts a trial only if the account
/// never had one.
pub fn change(
    current: &PlanTerms,
    plan: &Plan,
    interval: Interval,
    now: DateTime<Utc>,
    trial_used: bool,
) -> PlanTerms {
    let cycle = Cycle {
        anchor: current.cycle.anchor,
        interval,
    };
    let running_trial = current
        .trial_end
        .filter(|end| current.status == Status::Trialing && *end > now);
    match running_trial {
        Some(end) if !plan.is_free() => PlanTerms {
            status: Status::Trialing,
            trial_end: Some(end),
            cycle,
        },
        _ => {
            let fresh = start(plan, interval, now, trial_used || running_trial.is_some());
            PlanTerms { cycle, ..fresh }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::file::parse;

    fn plan(key: &str) -> Plan {
        let c =
            parse("emtchat.toml", include_str!("../catalogs/emtchat.toml")).expect("test fixture");
        c.plan(key).expect("test fixture").clone()
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("test fixture")
    }

    #[test]
    fn free_is_active_and_paid_starts_a_trial_once() {
        let now = at("2026-11-22T10:00:00Z");
        assert_eq!(
            start(&plan("free"), Interval::Month, now, false).status,
            Status::Active
        );
        let t = start(&plan("starter"), Interval::Month, now, false);
        assert_eq!(
            (t.status, t.trial_end),
            (Status::Trialing, Some(at("2026-12-06T10:00:00Z")))
        );
        assert_eq!(
            start(&plan("starter"), Interval::Month, now, true).status,
            Status::Active
        );
    }

    #[test]
    fn changes_keep_the_anchor_and_the_trial() {
        let t0 = at("2026-11-01T00:00:00Z");
        let trial = start(&plan("starter"), Interval::Month, t0, false);
        let later = at("2026-11-05T00:00:00Z");
        let pro = change(&trial, &plan("pro"), Interval::Month, later, true);
        assert_eq!(
            (pro.status, pro.trial_end, pro.cycle.anchor),
            (Status::Trialing, trial.trial_end, t0)
        );
        let free = change(&pro, &plan("free"), Interval::Month, later, true);
        assert_eq!((free.status, free.trial_end), (Status::Active, None));
        let yearly = change(&free, &plan("pro"), Interval::Year, later, true);
        assert_eq!(
            (yearly.status, yearly.cycle.anchor),
            (Status::Active, t0),
            "an interval change keeps the anchor"
        );
        let fresh = change(
            &start(&plan("free"), Interval::Month, t0, false),
            &plan("starter"),
            Interval::Month,
            later,
            false,
        );
        assert_eq!(fresh.status, Status::Trialing);
        assert_eq!(fresh.cycle.anchor, t0);
    }

    #[test]
    fn statuses_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>().expect("test fixture"), s);
        }
        assert!("expired".parse::<Status>().is_err());
        assert!(!Status::Canceled.is_live() && Status::PastDue.is_live());
        assert!(!Status::PastDue.entitles());
    }
}
