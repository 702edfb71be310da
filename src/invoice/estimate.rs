//! What a plan would cost for a given usage (`POST /api/v1/estimate`, seed 003's
//! cost estimator), priced by the invoice run's own functions
//! ([`super::charges::plan_charges`], [`super::charges::usage_charge`],
//! [`super::assemble`]): one whole billing period, no proration, coupon or credit.
//!
//! Usage is the quantity over the whole billing period, or the level for a meter
//! that reads a level (max, last). A counted or summed meter that resets more often
//! than the plan bills (a monthly allowance on a yearly plan) is taken as used
//! evenly: each month gets a twelfth, priced against its own allowance, as the
//! invoice run prices each month of an annual period; a level is the same in every
//! month. For a cost-plus price the
//! meter's value is the provider cost in the catalog's currency (what the invoice
//! run sums from the events' cost property).

use super::charges::{plan_charges, plan_label, usage_charge};
use super::{assemble, Draft};
use crate::catalog::{Aggregation, Catalog, Meter, Plan};
use crate::period::{Interval, Reset};
use crate::rating::Pricing;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The largest usage per meter an estimate accepts (10¹²): far above any real
/// period, and small enough that no price overflows a decimal.
pub const MAX_USAGE: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);

/// The largest seat count an estimate accepts.
pub const MAX_SEATS: u32 = 100_000;

/// Why no estimate can be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EstimateError {
    /// The plan has no price for the interval.
    #[error("{plan} has no {interval} price")]
    NoPrice {
        plan: String,
        interval: &'static str,
    },
    /// A usage key that is not a meter of the catalog.
    #[error("{0} is not a meter")]
    UnknownMeter(String),
    /// Usage below zero or above [`MAX_USAGE`].
    #[error("usage of {0} must be between 0 and 1000000000000")]
    BadUsage(String),
    /// Seats outside `1..=MAX_SEATS`.
    #[error("seats must be between 1 and 100000")]
    BadSeats,
}

/// The invoice `plan` would issue for one `interval` with `seats` and `usage`
/// (meter key → quantity over the period; meters left out used nothing).
///
/// # Errors
/// See [`EstimateError`].
pub fn estimate(
    catalog: &Catalog,
    plan: &Plan,
    interval: Interval,
    seats: u32,
    usage: &BTreeMap<String, Decimal>,
) -> Result<Draft, EstimateError> {
    validate(catalog, seats, usage)?;
    let price = plan.price(interval).ok_or_else(|| EstimateError::NoPrice {
        plan: plan.name.clone(),
        interval: interval.as_str(),
    })?;
    let mut charges = plan_charges(
        price,
        seats,
        Decimal::ONE,
        &plan_label(&plan.name, interval),
    );
    for (meter_key, pricing) in &plan.usage_prices {
        let Some(meter) = catalog.meter(meter_key.as_str()) else {
            continue;
        };
        let used = usage
            .get(meter_key.as_str())
            .copied()
            .unwrap_or(Decimal::ZERO);
        let limit = plan.limit(meter_key.as_str());
        let slices = meter_periods(meter, interval);
        let per_slice = per_meter_period(meter, interval, used);
        for _ in 0..slices {
            let (quantity, cost) = match pricing {
                Pricing::CostPlus { .. } => (Decimal::ZERO, per_slice),
                _ => (per_slice, Decimal::ZERO),
            };
            charges.extend(usage_charge(meter, &limit, pricing, seats, quantity, cost));
        }
    }
    Ok(assemble(catalog.currency, charges, None, Decimal::ZERO))
}

/// Checks what any estimate is asked with: seats in `1..=MAX_SEATS`, usage keys
/// that are meters, quantities in `0..=MAX_USAGE`.
///
/// # Errors
/// [`EstimateError::BadSeats`], [`EstimateError::UnknownMeter`],
/// [`EstimateError::BadUsage`].
pub fn validate(
    catalog: &Catalog,
    seats: u32,
    usage: &BTreeMap<String, Decimal>,
) -> Result<(), EstimateError> {
    if !(1..=MAX_SEATS).contains(&seats) {
        return Err(EstimateError::BadSeats);
    }
    for (meter, quantity) in usage {
        if catalog.meter(meter).is_none() {
            return Err(EstimateError::UnknownMeter(meter.clone()));
        }
        if *quantity < Decimal::ZERO || *quantity > MAX_USAGE {
            return Err(EstimateError::BadUsage(meter.clone()));
        }
    }
    Ok(())
}

/// Meter periods in one billing period: twelve for a monthly allowance on a yearly
/// plan, else one.
fn meter_periods(meter: &Meter, interval: Interval) -> u32 {
    match (meter.reset, interval) {
        (Reset::Monthly | Reset::CalendarMonth, Interval::Year) => 12,
        _ => 1,
    }
}

/// What one meter period sees of `used`: a twelfth of a yearly quantity on a
/// monthly allowance (count and sum meters); a level (max and last meters) is the
/// level in every month.
fn per_meter_period(meter: &Meter, interval: Interval, used: Decimal) -> Decimal {
    match meter.aggregation {
        Aggregation::Count | Aggregation::Sum => {
            used / Decimal::from(meter_periods(meter, interval))
        }
        Aggregation::Max | Aggregation::Last => used,
    }
}

/// The first meter (in the catalog's order) whose `usage`, spread over its meter
/// periods as [`estimate`] spreads it, passes the plan's hard limit for `seats`:
/// the plan cannot serve that usage. `None` when it can.
pub fn blocked_by<'c>(
    catalog: &'c Catalog,
    plan: &Plan,
    interval: Interval,
    seats: u32,
    usage: &BTreeMap<String, Decimal>,
) -> Option<&'c Meter> {
    catalog.meters.iter().find(|meter| {
        let used = usage
            .get(meter.key.as_str())
            .copied()
            .unwrap_or(Decimal::ZERO);
        let per_period = per_meter_period(meter, interval, used);
        plan.limit(meter.key.as_str())
            .resolve(seats)
            .blocks_at
            .is_some_and(|at| per_period > at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::file;

    /// The shipped catalog of seed 002: Standard AI ($49.99 a month, $499.90 a year)
    /// with 10,000 API calls and 50 GB a month included, $0.01 a call and $0.10 a
    /// GB beyond; Free with hard limits of 1,000 calls and 5 GB.
    const DIGITAL_TWIN: &str = include_str!("../../catalogs/digital-twin.toml");

    fn catalog(text: &str) -> Catalog {
        file::parse("digital-twin.toml", text).unwrap()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn usage(pairs: &[(&str, &str)]) -> BTreeMap<String, Decimal> {
        pairs.iter().map(|(k, v)| (k.to_string(), d(v))).collect()
    }

    #[test]
    fn standard_ai_at_62_gb_and_1200_calls_over_is_63_19() {
        let catalog = catalog(DIGITAL_TWIN);
        let plan = catalog.plan("standard-ai").unwrap();
        let draft = estimate(
            &catalog,
            plan,
            Interval::Month,
            1,
            &usage(&[("api_calls", "11200"), ("storage", "62")]),
        )
        .unwrap();
        let lines: Vec<(&str, Decimal)> = draft
            .lines
            .iter()
            .map(|l| (l.description.as_str(), l.amount.amount))
            .collect();
        assert_eq!(
            lines,
            vec![
                ("Standard AI, monthly", d("49.99")),
                ("API calls: 1200 call over 10000 included", d("12.00")),
                ("Storage: 12 GB over 50 included", d("1.20")),
            ]
        );
        assert_eq!(draft.total.amount, d("63.19"));
    }

    #[test]
    fn within_the_allowance_only_the_base_price_is_due() {
        let catalog = catalog(DIGITAL_TWIN);
        let plan = catalog.plan("standard-ai").unwrap();
        let draft = estimate(&catalog, plan, Interval::Month, 1, &BTreeMap::new()).unwrap();
        assert_eq!((draft.lines.len(), draft.total.amount), (1, d("49.99")));
    }

    #[test]
    fn bad_input_is_refused() {
        let catalog = catalog(&DIGITAL_TWIN.replace("year = { amount = \"499.90\" }\n", ""));
        let plan = catalog.plan("standard-ai").unwrap();
        let none = BTreeMap::new();
        assert_eq!(
            estimate(&catalog, plan, Interval::Year, 1, &none),
            Err(EstimateError::NoPrice {
                plan: "Standard AI".into(),
                interval: "year"
            })
        );
        assert_eq!(
            estimate(&catalog, plan, Interval::Month, 0, &none),
            Err(EstimateError::BadSeats)
        );
        assert_eq!(
            estimate(
                &catalog,
                plan,
                Interval::Month,
                1,
                &usage(&[("tokens", "1")])
            ),
            Err(EstimateError::UnknownMeter("tokens".into()))
        );
        for bad in ["-1", "1000000000001"] {
            assert_eq!(
                estimate(
                    &catalog,
                    plan,
                    Interval::Month,
                    1,
                    &usage(&[("storage", bad)])
                ),
                Err(EstimateError::BadUsage("storage".into()))
            );
        }
    }

    #[test]
    fn a_hard_limit_blocks_usage_past_it_and_a_soft_one_never_does() {
        let catalog = catalog(DIGITAL_TWIN);
        let free = catalog.plan("free").unwrap();
        let at = |gb: &str| {
            blocked_by(
                &catalog,
                free,
                Interval::Month,
                1,
                &usage(&[("storage", gb)]),
            )
            .map(|m| m.key.to_string())
        };
        assert_eq!(at("5"), None);
        assert_eq!(at("6"), Some("storage".into()));
        let standard = catalog.plan("standard-ai").unwrap();
        assert_eq!(
            blocked_by(
                &catalog,
                standard,
                Interval::Month,
                1,
                &usage(&[("api_calls", "1000000")])
            ),
            None
        );
    }

    #[test]
    fn on_a_yearly_plan_a_monthly_count_is_spread_and_a_level_is_not() {
        let catalog = catalog(DIGITAL_TWIN);
        let standard = catalog.plan("standard-ai").unwrap();
        // 132,000 calls a year are 11,000 a month: 1,000 over each month's 10,000.
        let draft = estimate(
            &catalog,
            standard,
            Interval::Year,
            1,
            &usage(&[("api_calls", "132000")]),
        )
        .unwrap();
        assert_eq!(draft.total.amount, d("499.90") + d("120.00"));
        // 6 GB stored is 6 GB in every month: past Free's hard 5 GB.
        let free = catalog.plan("free").unwrap();
        assert_eq!(
            blocked_by(
                &catalog,
                free,
                Interval::Year,
                1,
                &usage(&[("storage", "6")])
            )
            .map(|m| m.key.to_string()),
            Some("storage".into())
        );
    }

    #[test]
    fn the_usage_bound_is_ten_to_the_twelfth() {
        assert_eq!(MAX_USAGE, d("1000000000000"));
    }
}
