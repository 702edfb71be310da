//! The MRR movement waterfall of a month, and the churn and retention rates drawn
//! from it (definitions in [`super`]).

use super::month::Month;
use super::mrr::{paid_before, run_rate_before, Redemption};
use super::timeline::History;
use crate::catalog::Catalog;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// A month's MRR movements, exact, as yearly run rates (12 × MRR, major units of
/// the catalog currency; see [`super::mrr`]). Ratios need no conversion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Movements {
    /// Run rate just before the month started.
    pub opening: Decimal,
    /// Run rate just before it ended (for the current month: now).
    pub closing: Decimal,
    pub new: Decimal,
    pub reactivation: Decimal,
    pub expansion: Decimal,
    pub contraction: Decimal,
    pub churn: Decimal,
    /// Accounts with MRR > 0 at the opening and at the closing.
    pub customers_opening: u32,
    pub customers_closing: u32,
    /// Accounts that went from 0 to MRR > 0 for the first time, again, and that
    /// went to 0.
    pub new_customers: u32,
    pub reactivated_customers: u32,
    pub churned_customers: u32,
}

impl Movements {
    /// Accounts churned ÷ paying accounts at the opening, in percent (exact);
    /// `None` when none paid at the opening.
    pub fn logo_churn_rate(&self) -> Option<Decimal> {
        percent(
            Decimal::from(self.churned_customers),
            Decimal::from(self.customers_opening),
        )
    }

    /// (Churn + contraction) ÷ opening MRR, in percent (gross MRR churn); `None`
    /// when the opening MRR is zero.
    pub fn revenue_churn_rate(&self) -> Option<Decimal> {
        percent(self.churn + self.contraction, self.opening)
    }

    /// (Opening + expansion − contraction − churn) ÷ opening MRR, in percent;
    /// `None` when the opening MRR is zero.
    pub fn net_revenue_retention(&self) -> Option<Decimal> {
        percent(
            self.opening + self.expansion - self.contraction - self.churn,
            self.opening,
        )
    }

    /// Net new run rate: new + reactivation + expansion − contraction − churn, which
    /// equals closing − opening.
    pub fn net_new(&self) -> Decimal {
        self.new + self.reactivation + self.expansion - self.contraction - self.churn
    }
}

fn percent(part: Decimal, whole: Decimal) -> Option<Decimal> {
    (whole > Decimal::ZERO).then(|| part * Decimal::ONE_HUNDRED / whole)
}

/// The movements of `month` over every subscription in `histories` (`coupons`:
/// each account's redemption), netted per account.
pub fn of_month(
    catalog: &Catalog,
    histories: &[History],
    coupons: &HashMap<Uuid, Redemption>,
    month: &Month,
) -> Movements {
    // Per account: (opening, closing, paid before the month).
    let mut accounts: BTreeMap<Uuid, (Decimal, Decimal, bool)> = BTreeMap::new();
    for h in histories {
        let coupon = coupons.get(&h.account_id);
        let entry = accounts.entry(h.account_id).or_default();
        entry.0 += run_rate_before(catalog, h, coupon, month.start);
        entry.1 += run_rate_before(catalog, h, coupon, month.end);
        entry.2 |= paid_before(catalog, h, coupon, month.start);
    }
    let mut m = Movements::default();
    for (opening, closing, paid) in accounts.into_values() {
        m.opening += opening;
        m.closing += closing;
        let zero = Decimal::ZERO;
        if opening > zero {
            m.customers_opening += 1;
        }
        if closing > zero {
            m.customers_closing += 1;
        }
        match (opening > zero, closing > zero) {
            (false, true) if paid => {
                m.reactivation += closing;
                m.reactivated_customers += 1;
            }
            (false, true) => {
                m.new += closing;
                m.new_customers += 1;
            }
            (true, false) => {
                m.churn += opening;
                m.churned_customers += 1;
            }
            (true, true) if closing > opening => m.expansion += closing - opening,
            (true, true) => m.contraction += opening - closing,
            (false, false) => {}
        }
    }
    m
}
