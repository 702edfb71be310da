//! The whole `/admin` report: MRR now, and a row per month with its movements,
//! rates and cash figures, each rounded once for display and export.

use super::cash::{self, InvoiceFacts};
use super::month::{last_months, Month};
use super::movements;
use super::mrr::{run_rate, standing, Redemption, Standing};
use super::timeline::History;
use crate::catalog::Catalog;
use crate::money::{Currency, Money};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// Months the report covers, the current one included.
pub const MONTHS: u32 = 12;

/// Everything the report is computed from.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// Every subscription ever made (canceled ones too), with its history.
    pub histories: Vec<History>,
    /// Each account's coupon, by account id.
    pub coupons: HashMap<Uuid, Redemption>,
    /// Invoices of both providers in the catalog currency.
    pub invoices: Vec<InvoiceFacts>,
    /// When card payments failed.
    pub failed_payments: Vec<DateTime<Utc>>,
}

/// Recurring revenue of one plan or one provider now (rounded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slice {
    /// Plan key, or provider name.
    pub key: String,
    /// Plan name, or provider name.
    pub name: String,
    /// MRR of its paying subscriptions.
    pub mrr: Decimal,
    /// Paying (active or past-due) subscriptions.
    pub paying: u32,
    /// Trialing subscriptions.
    pub trialing: u32,
}

/// The figures at the report's instant (money rounded to the currency's minor
/// unit, major units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Now {
    pub mrr: Decimal,
    /// MRR × 12.
    pub arr: Decimal,
    /// What trialing subscriptions would bring a month once they pay.
    pub trial_mrr: Decimal,
    /// MRR ÷ paying accounts; `None` with none.
    pub arpa: Option<Decimal>,
    /// Accounts with MRR > 0.
    pub paying_accounts: u32,
    /// Subscriptions by status now.
    pub active: u32,
    pub trialing: u32,
    pub past_due: u32,
    /// Subscriptions that have ended (all time).
    pub canceled: u32,
    /// By plan, in catalog order (plans with no subscription left out).
    pub by_plan: Vec<Slice>,
    /// By payment provider (`manual`, `stripe`).
    pub by_provider: Vec<Slice>,
}

/// One month's row (money rounded to the currency's minor unit, major units;
/// rates in percent to two places).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthRow {
    /// `YYYY-MM`.
    pub label: String,
    pub start: DateTime<Utc>,
    /// Exclusive end (for the current month: just after the report's instant).
    pub end: DateTime<Utc>,
    pub partial: bool,
    pub opening_mrr: Decimal,
    pub closing_mrr: Decimal,
    pub new_mrr: Decimal,
    pub reactivation_mrr: Decimal,
    pub expansion_mrr: Decimal,
    pub contraction_mrr: Decimal,
    pub churned_mrr: Decimal,
    pub net_new_mrr: Decimal,
    pub customers_opening: u32,
    pub customers_closing: u32,
    pub new_customers: u32,
    pub reactivated_customers: u32,
    pub churned_customers: u32,
    pub logo_churn_rate: Option<Decimal>,
    pub revenue_churn_rate: Option<Decimal>,
    pub net_revenue_retention: Option<Decimal>,
    pub billed: Decimal,
    pub collected: Decimal,
    pub outstanding: Decimal,
    pub overdue: Decimal,
    pub usage_revenue: Decimal,
    pub failed_payments: u32,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Currency of every amount.
    pub currency: Currency,
    /// The instant the figures are for (UTC).
    pub as_of: DateTime<Utc>,
    pub now: Now,
    /// The last [`MONTHS`] calendar months, oldest first; the last is partial.
    pub months: Vec<MonthRow>,
}

/// Computes the report at `now` over `months` calendar months.
pub fn build(catalog: &Catalog, input: &Input, now: DateTime<Utc>, months: u32) -> Report {
    let currency = catalog.currency;
    // Run rates (12 × MRR) become MRR here: divided once, rounded once.
    let money = |d: Decimal| Money::new(d, currency).round().amount;
    let mrr = |run_rate: Decimal| money(run_rate / Decimal::from(12));
    let rows = last_months(now, months)
        .iter()
        .map(|m| month_row(catalog, input, m, &money, &mrr))
        .collect();
    Report {
        currency,
        as_of: now,
        now: now_figures(catalog, input, now, &money, &mrr),
        months: rows,
    }
}

fn rate(d: Option<Decimal>) -> Option<Decimal> {
    d.map(|d| d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
}

fn month_row(
    catalog: &Catalog,
    input: &Input,
    m: &Month,
    money: &impl Fn(Decimal) -> Decimal,
    mrr: &impl Fn(Decimal) -> Decimal,
) -> MonthRow {
    let mv = movements::of_month(catalog, &input.histories, &input.coupons, m);
    let cash = cash::of_month(&input.invoices, &input.failed_payments, m);
    MonthRow {
        label: m.label(),
        start: m.start,
        end: m.end,
        partial: m.partial,
        opening_mrr: mrr(mv.opening),
        closing_mrr: mrr(mv.closing),
        new_mrr: mrr(mv.new),
        reactivation_mrr: mrr(mv.reactivation),
        expansion_mrr: mrr(mv.expansion),
        contraction_mrr: mrr(mv.contraction),
        churned_mrr: mrr(mv.churn),
        net_new_mrr: mrr(mv.net_new()),
        customers_opening: mv.customers_opening,
        customers_closing: mv.customers_closing,
        new_customers: mv.new_customers,
        reactivated_customers: mv.reactivated_customers,
        churned_customers: mv.churned_customers,
        logo_churn_rate: rate(mv.logo_churn_rate()),
        revenue_churn_rate: rate(mv.revenue_churn_rate()),
        net_revenue_retention: rate(mv.net_revenue_retention()),
        billed: money(cash.billed),
        collected: money(cash.collected),
        outstanding: money(cash.outstanding),
        overdue: money(cash.overdue),
        usage_revenue: money(cash.usage_revenue),
        failed_payments: cash.failed_payments,
    }
}

/// Exact figures now, before rounding; amounts are yearly run rates (12 × MRR,
/// see [`super::mrr`]).
#[derive(Debug, Clone, Default)]
pub struct ExactNow {
    /// ARR: the paying subscriptions' run rate.
    pub run_rate: Decimal,
    /// The trialing subscriptions' run rate.
    pub trial_run_rate: Decimal,
    /// Per account with MRR > 0.
    pub paying_accounts: u32,
    /// `(plan, run rate, paying, trialing)` and `(provider, …)`.
    pub by_plan: HashMap<String, (Decimal, u32, u32)>,
    pub by_provider: HashMap<String, (Decimal, u32, u32)>,
    pub active: u32,
    pub trialing: u32,
    pub past_due: u32,
    pub canceled: u32,
}

/// The exact figures at `now` (terms in force at `now` included).
pub fn exact_now(catalog: &Catalog, input: &Input, now: DateTime<Utc>) -> ExactNow {
    let horizon = now + Duration::microseconds(1);
    let mut e = ExactNow::default();
    let mut per_account: HashMap<Uuid, Decimal> = HashMap::new();
    for h in &input.histories {
        let Some(terms) = h.before(horizon) else {
            e.canceled += u32::from(h.segments.last().is_some_and(|s| s.terms.is_none()));
            continue;
        };
        let amount = run_rate(catalog, terms, input.coupons.get(&h.account_id), now);
        let plan = e.by_plan.entry(terms.plan.clone()).or_default();
        let provider = e.by_provider.entry(h.provider.clone()).or_default();
        match (standing(terms.status), terms.status) {
            (Standing::Paying, status) => {
                e.run_rate += amount;
                *per_account.entry(h.account_id).or_default() += amount;
                for slice in [plan, provider] {
                    slice.0 += amount;
                    slice.1 += 1;
                }
                if status == crate::subscription::Status::PastDue {
                    e.past_due += 1;
                } else {
                    e.active += 1;
                }
            }
            (Standing::Trial, _) => {
                e.trial_run_rate += amount;
                e.trialing += 1;
                plan.2 += 1;
                provider.2 += 1;
            }
            (Standing::Out, _) => {}
        }
    }
    e.paying_accounts = u32::try_from(per_account.values().filter(|m| **m > Decimal::ZERO).count())
        .unwrap_or(u32::MAX);
    e
}

/// A payment provider's display name.
fn provider_name(key: &str) -> &str {
    match key {
        "manual" => "Manual (invoice, bank transfer)",
        "stripe" => "Stripe (card)",
        other => other,
    }
}

fn now_figures(
    catalog: &Catalog,
    input: &Input,
    now: DateTime<Utc>,
    money: &impl Fn(Decimal) -> Decimal,
    to_mrr: &impl Fn(Decimal) -> Decimal,
) -> Now {
    let e = exact_now(catalog, input, now);
    let slice = |key: &str, name: &str, (run_rate, paying, trialing): (Decimal, u32, u32)| Slice {
        key: key.to_string(),
        name: name.to_string(),
        mrr: to_mrr(run_rate),
        paying,
        trialing,
    };
    let mut by_plan: Vec<Slice> = catalog
        .plans
        .iter()
        .filter_map(|p| {
            e.by_plan
                .get(p.key.as_str())
                .map(|v| slice(p.key.as_str(), &p.name, *v))
        })
        .collect();
    // Plans no longer in the catalog, after those it has, by key.
    let mut gone: Vec<_> = e
        .by_plan
        .iter()
        .filter(|(k, _)| catalog.plan(k).is_none())
        .collect();
    gone.sort_by(|a, b| a.0.cmp(b.0));
    by_plan.extend(gone.into_iter().map(|(k, v)| slice(k, k, *v)));
    let mut by_provider: Vec<Slice> = e
        .by_provider
        .iter()
        .map(|(k, v)| slice(k, provider_name(k), *v))
        .collect();
    by_provider.sort_by(|a, b| a.key.cmp(&b.key));
    Now {
        mrr: to_mrr(e.run_rate),
        arr: money(e.run_rate),
        trial_mrr: to_mrr(e.trial_run_rate),
        arpa: (e.paying_accounts > 0)
            .then(|| to_mrr(e.run_rate / Decimal::from(e.paying_accounts))),
        paying_accounts: e.paying_accounts,
        active: e.active,
        trialing: e.trialing,
        past_due: e.past_due,
        canceled: e.canceled,
        by_plan,
        by_provider,
    }
}
