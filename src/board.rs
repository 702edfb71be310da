//! The operator's view of usage across every subscribed account (`/admin/usage`,
//! issue 11 §2): each account's meters, as lines of one account and one meter,
//! filtered by plan, meter and state, sorted by percent used and paged, with totals
//! per meter and per plan and the lines nearest their limits.
//!
//! Pure: the service keeps the accounts current
//! (`crate::service::admin::usage_board`) and this module only reads them.

use crate::limits::LimitState;
use crate::subscription::Status;
use crate::usage::MeterUsage;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use uuid::Uuid;

/// How many lines "near the limit" lists at most.
pub const NEAR_LIMIT_LINES: usize = 10;

/// One subscribed account and its meters now, as the dashboard computes them
/// (effective limits: the plan's with the account's overrides).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountMeters {
    /// The account.
    pub account_id: Uuid,
    /// Its name (a person's or an organization's).
    pub name: String,
    /// Its page in the admin panel (`/admin/users/{user}` or
    /// `/admin/organizations/{account}`).
    pub admin_path: String,
    /// The live subscription's plan key and display name.
    pub plan_key: String,
    pub plan_name: String,
    /// The subscription's status.
    pub status: Status,
    /// Every meter of the catalog, in the catalog's order.
    pub meters: Vec<MeterUsage>,
}

/// Which lines to show; `None` shows all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// A plan key.
    pub plan: Option<String>,
    /// A meter key.
    pub meter: Option<String>,
    /// A meter state.
    pub state: Option<LimitState>,
}

impl Filter {
    fn keeps(&self, a: &AccountMeters, m: &MeterUsage) -> bool {
        self.plan.as_deref().is_none_or(|p| p == a.plan_key)
            && self.meter.as_deref().is_none_or(|k| k == m.meter)
            && self.state.is_none_or(|s| s == m.state)
    }
}

/// The order of lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Highest percent used first; unlimited meters last.
    #[default]
    PercentDesc,
    /// Lowest percent used first; unlimited meters last.
    PercentAsc,
    /// By account name, then meter.
    Name,
}

impl Sort {
    /// Reads `percent_desc`, `percent_asc` or `name`.
    pub fn parse(s: &str) -> Option<Sort> {
        match s {
            "percent_desc" => Some(Sort::PercentDesc),
            "percent_asc" => Some(Sort::PercentAsc),
            "name" => Some(Sort::Name),
            _ => None,
        }
    }

    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::PercentDesc => "percent_desc",
            Sort::PercentAsc => "percent_asc",
            Sort::Name => "name",
        }
    }
}

/// Reads a state's API name (`ok`, `warning`, `limit_reached`, `blocked`).
pub fn parse_state(s: &str) -> Option<LimitState> {
    [
        LimitState::Ok,
        LimitState::Warning,
        LimitState::LimitReached,
        LimitState::Blocked,
    ]
    .into_iter()
    .find(|st| st.as_str() == s)
}

/// One account's one meter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub account_id: Uuid,
    pub account_name: String,
    pub admin_path: String,
    pub plan_key: String,
    pub plan_name: String,
    pub meter: MeterUsage,
}

impl Line {
    fn of(a: &AccountMeters, m: &MeterUsage) -> Line {
        Line {
            account_id: a.account_id,
            account_name: a.name.clone(),
            admin_path: a.admin_path.clone(),
            plan_key: a.plan_key.clone(),
            plan_name: a.plan_name.clone(),
            meter: m.clone(),
        }
    }
}

/// Compares percents with unlimited (`None`) last whatever the direction.
fn by_percent(a: Option<Decimal>, b: Option<Decimal>, descending: bool) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) if descending => y.cmp(&x),
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Every line the filter keeps, in `sort`'s order; ties by account name, account
/// id, then meter, so paging is stable.
pub fn lines<'a>(
    accounts: impl IntoIterator<Item = &'a AccountMeters>,
    filter: &Filter,
    sort: Sort,
) -> Vec<Line> {
    let mut out: Vec<Line> = accounts
        .into_iter()
        .flat_map(|a| {
            a.meters
                .iter()
                .filter(move |m| filter.keeps(a, m))
                .map(move |m| Line::of(a, m))
        })
        .collect();
    let tie = |a: &Line, b: &Line| {
        a.account_name
            .cmp(&b.account_name)
            .then(a.account_id.cmp(&b.account_id))
            .then(a.meter.meter.cmp(&b.meter.meter))
    };
    out.sort_by(|a, b| match sort {
        Sort::PercentDesc => {
            by_percent(a.meter.percent, b.meter.percent, true).then_with(|| tie(a, b))
        }
        Sort::PercentAsc => {
            by_percent(a.meter.percent, b.meter.percent, false).then_with(|| tie(a, b))
        }
        Sort::Name => tie(a, b),
    });
    out
}

/// Accounts per state of one meter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCounts {
    pub ok: u32,
    pub warning: u32,
    pub limit_reached: u32,
    pub blocked: u32,
}

impl StateCounts {
    fn add(&mut self, s: LimitState) {
        match s {
            LimitState::Ok => self.ok += 1,
            LimitState::Warning => self.warning += 1,
            LimitState::LimitReached => self.limit_reached += 1,
            LimitState::Blocked => self.blocked += 1,
        }
    }
}

/// One meter over every account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterTotal {
    pub meter: String,
    pub name: String,
    pub unit: String,
    /// Sum of every account's usage this period (each account's own period).
    pub usage: Decimal,
    /// Accounts per state.
    pub states: StateCounts,
}

/// One plan over its accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanTotal {
    pub plan_key: String,
    pub plan_name: String,
    /// Subscribed accounts.
    pub accounts: u32,
    /// Sum of usage per meter, in the catalog's meter order.
    pub usage: Vec<Decimal>,
    /// Accounts with at least one meter at or past its limit (limit reached or blocked).
    pub at_limit: u32,
}

/// Totals over every account, whatever the filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Subscribed accounts.
    pub accounts: u32,
    /// Per meter, in the catalog's order (`meters`).
    pub meters: Vec<MeterTotal>,
    /// Per plan, by plan key.
    pub plans: Vec<PlanTotal>,
    /// The [`NEAR_LIMIT_LINES`] lines with the highest percent among those at a
    /// warning or worse.
    pub near_limit: Vec<Line>,
}

/// The totals of `accounts`. `meters` gives the catalog's meters `(key, name, unit)`
/// in order; usage of meters not in it is left out.
pub fn summarize<'a>(
    accounts: impl IntoIterator<Item = &'a AccountMeters> + Clone,
    meters: &[(String, String, String)],
) -> Summary {
    let mut totals: Vec<MeterTotal> = meters
        .iter()
        .map(|(k, n, u)| MeterTotal {
            meter: k.clone(),
            name: n.clone(),
            unit: u.clone(),
            usage: Decimal::ZERO,
            states: StateCounts::default(),
        })
        .collect();
    let mut plans: BTreeMap<String, PlanTotal> = BTreeMap::new();
    let mut count = 0;
    for a in accounts.clone() {
        count += 1;
        let plan = plans
            .entry(a.plan_key.clone())
            .or_insert_with(|| PlanTotal {
                plan_key: a.plan_key.clone(),
                plan_name: a.plan_name.clone(),
                accounts: 0,
                usage: vec![Decimal::ZERO; meters.len()],
                at_limit: 0,
            });
        plan.accounts += 1;
        if a.meters.iter().any(|m| m.state >= LimitState::LimitReached) {
            plan.at_limit += 1;
        }
        for m in &a.meters {
            if let Some(i) = meters.iter().position(|(k, _, _)| *k == m.meter) {
                totals[i].usage += m.usage;
                totals[i].states.add(m.state);
                plan.usage[i] += m.usage;
            }
        }
    }
    let mut near = lines(accounts, &Filter::default(), Sort::PercentDesc);
    near.retain(|l| l.meter.state >= LimitState::Warning);
    near.truncate(NEAR_LIMIT_LINES);
    Summary {
        accounts: count,
        meters: totals,
        plans: plans.into_values().collect(),
        near_limit: near,
    }
}

/// What changed on the board, sent to every open admin usage stream: the changed
/// accounts' meters (whole), the accounts no longer subscribed, and the new totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Update {
    /// Increases by one per update of this server process's board.
    pub version: u64,
    /// Accounts whose meters changed, as they are now.
    pub accounts: Vec<AccountMeters>,
    /// Accounts that left the board (no live subscription any more).
    pub removed: Vec<Uuid>,
    /// Totals over every account after the change.
    pub summary: Summary,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Enforcement;
    use crate::period::Period;
    use chrono::{TimeZone, Utc};

    fn meter(key: &str, usage: i64, limit: Option<i64>, state: LimitState) -> MeterUsage {
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        MeterUsage {
            meter: key.into(),
            name: key.to_uppercase(),
            unit: "unit".into(),
            usage: Decimal::from(usage),
            limit: limit.map(Decimal::from),
            percent: limit.map(|l| Decimal::from(usage * 100) / Decimal::from(l)),
            state,
            enforcement: Enforcement::Soft,
            blocks_at: None,
            projected: Decimal::from(usage),
            projected_overage: false,
            period: Period {
                start,
                end: Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
            },
            days_remaining: 26,
            banner: false,
            upgrade_prompt: false,
        }
    }

    fn account(n: u128, name: &str, plan: &str, meters: Vec<MeterUsage>) -> AccountMeters {
        AccountMeters {
            account_id: Uuid::from_u128(n),
            name: name.into(),
            admin_path: format!("/admin/users/{n}"),
            plan_key: plan.into(),
            plan_name: plan.to_uppercase(),
            status: Status::Active,
            meters,
        }
    }

    fn sample() -> Vec<AccountMeters> {
        vec![
            account(
                1,
                "Ada",
                "starter",
                vec![
                    meter("queries", 450, Some(500), LimitState::Warning),
                    meter("seats", 1, None, LimitState::Ok),
                ],
            ),
            account(
                2,
                "Bob",
                "starter",
                vec![
                    meter("queries", 10, Some(500), LimitState::Ok),
                    meter("seats", 1, None, LimitState::Ok),
                ],
            ),
            account(
                3,
                "Cy",
                "pro",
                vec![
                    meter("queries", 5000, Some(5000), LimitState::LimitReached),
                    meter("seats", 3, Some(3), LimitState::Blocked),
                ],
            ),
        ]
    }

    fn keys(ls: &[Line]) -> Vec<(String, String)> {
        ls.iter()
            .map(|l| (l.account_name.clone(), l.meter.meter.clone()))
            .collect()
    }

    fn pair(a: &str, m: &str) -> (String, String) {
        (a.to_string(), m.to_string())
    }

    #[test]
    fn lines_sort_by_percent_with_unlimited_last_in_both_directions() {
        let s = sample();
        let desc = lines(&s, &Filter::default(), Sort::PercentDesc);
        assert_eq!(
            keys(&desc),
            vec![
                pair("Cy", "queries"),
                pair("Cy", "seats"),
                pair("Ada", "queries"),
                pair("Bob", "queries"),
                pair("Ada", "seats"),
                pair("Bob", "seats")
            ]
        );
        let asc = lines(&s, &Filter::default(), Sort::PercentAsc);
        assert_eq!(
            keys(&asc),
            vec![
                pair("Bob", "queries"),
                pair("Ada", "queries"),
                pair("Cy", "queries"),
                pair("Cy", "seats"),
                pair("Ada", "seats"),
                pair("Bob", "seats")
            ]
        );
        let by_name = lines(&s, &Filter::default(), Sort::Name);
        assert_eq!(
            keys(&by_name)[..2],
            [pair("Ada", "queries"), pair("Ada", "seats")]
        );
    }

    #[test]
    fn filters_combine() {
        let s = sample();
        let f = Filter {
            plan: Some("starter".into()),
            meter: Some("queries".into()),
            state: None,
        };
        assert_eq!(
            keys(&lines(&s, &f, Sort::PercentDesc)),
            vec![pair("Ada", "queries"), pair("Bob", "queries")]
        );
        let f = Filter {
            state: Some(LimitState::Blocked),
            ..Filter::default()
        };
        assert_eq!(
            keys(&lines(&s, &f, Sort::PercentDesc)),
            vec![pair("Cy", "seats")]
        );
        let f = Filter {
            plan: Some("team".into()),
            ..Filter::default()
        };
        assert!(lines(&s, &f, Sort::PercentDesc).is_empty());
    }

    #[test]
    fn summary_totals_per_meter_and_plan_and_the_near_limit_list() {
        let s = sample();
        let meters = vec![
            ("queries".into(), "Queries".into(), "query".into()),
            ("seats".into(), "Seats".into(), "seat".into()),
        ];
        let sum = summarize(&s, &meters);
        assert_eq!(sum.accounts, 3);
        assert_eq!(sum.meters[0].usage, Decimal::from(5460));
        assert_eq!(
            sum.meters[0].states,
            StateCounts {
                ok: 1,
                warning: 1,
                limit_reached: 1,
                blocked: 0
            }
        );
        assert_eq!(sum.meters[1].usage, Decimal::from(5));
        assert_eq!(
            sum.meters[1].states,
            StateCounts {
                ok: 2,
                warning: 0,
                limit_reached: 0,
                blocked: 1
            }
        );
        assert_eq!(
            sum.plans
                .iter()
                .map(|p| (p.plan_key.as_str(), p.accounts, p.at_limit))
                .collect::<Vec<_>>(),
            vec![("pro", 1, 1), ("starter", 2, 0)]
        );
        assert_eq!(
            sum.plans[1].usage,
            vec![Decimal::from(460), Decimal::from(2)]
        );
        assert_eq!(
            keys(&sum.near_limit),
            vec![
                pair("Cy", "queries"),
                pair("Cy", "seats"),
                pair("Ada", "queries")
            ]
        );
    }

    #[test]
    fn the_near_limit_list_is_bounded() {
        let many: Vec<AccountMeters> = (0..25)
            .map(|i| {
                account(
                    i,
                    &format!("A{i:02}"),
                    "starter",
                    vec![meter(
                        "queries",
                        460 + i as i64,
                        Some(500),
                        LimitState::Warning,
                    )],
                )
            })
            .collect();
        let sum = summarize(
            &many,
            &[("queries".into(), "Queries".into(), "query".into())],
        );
        assert_eq!(sum.near_limit.len(), NEAR_LIMIT_LINES);
        assert_eq!(sum.near_limit[0].account_name, "A24");
    }

    #[test]
    fn query_values_round_trip() {
        for s in [Sort::PercentDesc, Sort::PercentAsc, Sort::Name] {
            assert_eq!(Sort::parse(s.as_str()), Some(s));
        }
        for st in [
            LimitState::Ok,
            LimitState::Warning,
            LimitState::LimitReached,
            LimitState::Blocked,
        ] {
            assert_eq!(parse_state(st.as_str()), Some(st));
        }
        assert_eq!(parse_state("nearly"), None);
        assert_eq!(Sort::parse("random"), None);
    }
}
