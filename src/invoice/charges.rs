//! The charges of one billing period: the plan's base price and seats, and usage
//! priced by the plan's usage prices. Unrounded; [`super::assemble`] rounds.

use super::{Charge, LineKind};
use crate::catalog::{Meter, Price};
use crate::limits::Limit;
use crate::rating::Pricing;
use rust_decimal::Decimal;

/// The label of a plan's base line: `Team, yearly`.
pub fn plan_label(plan_name: &str, interval: crate::period::Interval) -> String {
    let every = match interval {
        crate::period::Interval::Month => "monthly",
        crate::period::Interval::Year => "yearly",
    };
    format!("{plan_name}, {every}")
}

/// The plan's charges for a period: a flat price is one `base` line; a per-seat
/// price one `seats` line (`seats × amount`); a price with seat tiers a `base` line
/// for its fee (when not zero) plus a `seats` line priced by the tiers. Everything
/// is multiplied by `share` (`0..=1`, the paid part of the period: less than 1 when
/// a trial ended inside it). `label` names the plan and interval
/// (`Team, yearly`). Free plans give no charges.
pub fn plan_charges(price: &Price, seats: u32, share: Decimal, label: &str) -> Vec<Charge> {
    let amount = price.amount.amount;
    let seats_d = Decimal::from(seats.max(1));
    let share = share.clamp(Decimal::ZERO, Decimal::ONE);
    let note = if share < Decimal::ONE {
        format!(
            " ({}% of the period)",
            (share * Decimal::ONE_HUNDRED).round_dp(1).normalize()
        )
    } else {
        String::new()
    };
    let mut out = Vec::new();
    match &price.seat_pricing {
        Some(pricing) => {
            if !amount.is_zero() {
                out.push(flat(format!("{label}: base fee{note}"), amount * share));
            }
            out.push(Charge {
                kind: LineKind::Seats,
                description: format!("{label}: seats{note}"),
                quantity: seats_d,
                unit_amount: unit_of(pricing),
                amount: pricing.charge(seats_d) * share,
                meter: None,
            });
        }
        None if price.per_seat => out.push(Charge {
            kind: LineKind::Seats,
            description: format!("{label}: seats{note}"),
            quantity: seats_d,
            unit_amount: Some(amount),
            amount: amount * seats_d * share,
            meter: None,
        }),
        None if !amount.is_zero() => out.push(flat(format!("{label}{note}"), amount * share)),
        None => {}
    }
    out
}

/// What `price` charges for a whole period with `seats` seats (base fee and seats,
/// unrounded): the amount prorations compare.
pub fn period_amount(price: &Price, seats: u32) -> Decimal {
    plan_charges(price, seats, Decimal::ONE, "")
        .iter()
        .map(|c| c.amount)
        .sum()
}

fn flat(description: String, amount: Decimal) -> Charge {
    Charge {
        kind: LineKind::Base,
        description,
        quantity: Decimal::ONE,
        unit_amount: None,
        amount,
        meter: None,
    }
}

/// The per-unit price of a model when it has a single one (for the line's "unit
/// price" column).
fn unit_of(pricing: &Pricing) -> Option<Decimal> {
    match pricing {
        Pricing::PerUnit { unit_amount } => Some(*unit_amount),
        Pricing::CostPlus { multiplier, .. } => Some(*multiplier),
        _ => None,
    }
}

/// A usage charge for `meter` under `pricing`: the billable quantity is the usage
/// above the limit's included quantity (per seat when the limit is; zero included
/// when unlimited), or for cost-plus the period's summed provider `cost`. `None`
/// when nothing is billable.
pub fn usage_charge(
    meter: &Meter,
    limit: &Limit,
    pricing: &Pricing,
    seats: u32,
    usage: Decimal,
    cost: Decimal,
) -> Option<Charge> {
    if let Pricing::CostPlus {
        multiplier,
        property,
    } = pricing
    {
        if cost <= Decimal::ZERO {
            return None;
        }
        return Some(Charge {
            kind: LineKind::Usage,
            description: format!(
                "{}: provider cost ({property}) × {}",
                meter.name,
                multiplier.normalize()
            ),
            quantity: cost,
            unit_amount: Some(*multiplier),
            amount: pricing.charge(cost),
            meter: Some(meter.key.to_string()),
        });
    }
    let included = limit.resolve(seats).included.unwrap_or(Decimal::ZERO);
    let billable = (usage - included).max(Decimal::ZERO);
    if billable.is_zero() {
        return None;
    }
    let description = if included.is_zero() {
        format!("{}: {} {}", meter.name, billable.normalize(), meter.unit)
    } else {
        format!(
            "{}: {} {} over {} included",
            meter.name,
            billable.normalize(),
            meter.unit,
            included.normalize()
        )
    };
    Some(Charge {
        kind: LineKind::Usage,
        description,
        quantity: billable,
        unit_amount: unit_of(pricing),
        amount: pricing.charge(billable),
        meter: Some(meter.key.to_string()),
    })
}
