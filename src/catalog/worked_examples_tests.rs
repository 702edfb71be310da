//! CATALOGS.md's worked examples, computed from the shipped preset files with the
//! domain's rating, invoice and proration functions. Every price, allowance and
//! multiplier comes from the file; only the usage of each example is given here.

use super::presets_tests::{d, plan, preset};
use super::*;
use crate::invoice::charges::{plan_charges, usage_charge};
use crate::invoice::{assemble, Charge, LineKind};
use crate::period::Period;
use crate::proration::prorate;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

fn price(plan: &Plan, interval: Interval) -> &Price {
    plan.price(interval)
        .unwrap_or_else(|| panic!("{} has a {interval} price", plan.key.as_str()))
}

/// The usage charge of `meter` on `plan` for one seat: `usage` of the meter, or for a
/// cost-plus price the period's summed provider `cost`.
fn usage(catalog: &Catalog, plan: &Plan, meter: &str, usage: Decimal, cost: Decimal) -> Charge {
    let m = catalog
        .meter(meter)
        .unwrap_or_else(|| panic!("a meter {meter}"));
    let pricing = plan
        .usage_price(meter)
        .unwrap_or_else(|| panic!("{} prices {meter}", plan.key.as_str()));
    usage_charge(m, &plan.limit(meter), pricing, 1, usage, cost)
        .unwrap_or_else(|| panic!("{meter} is billable"))
}

fn line_amounts(draft: &crate::invoice::Draft) -> Vec<Decimal> {
    draft.lines.iter().map(|l| l.amount.amount).collect()
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("test timestamp")
}

#[test]
fn digital_twin_standard_ai_at_62_gb_and_1200_calls_over_is_63_19() {
    let c = preset("digital-twin");
    let p = plan(&c, "standard-ai");
    let allowance = p
        .limit("api_calls")
        .resolve(1)
        .included
        .expect("standard-ai has a call allowance");
    let mut charges = plan_charges(
        price(p, Interval::Month),
        1,
        Decimal::ONE,
        "Standard AI, monthly",
    );
    charges.push(usage(&c, p, "storage", d("62"), Decimal::ZERO));
    charges.push(usage(
        &c,
        p,
        "api_calls",
        allowance + d("1200"),
        Decimal::ZERO,
    ));
    assert_eq!(charges[1].quantity, d("12"), "12 GB over the 50 included");
    assert_eq!(charges[2].quantity, d("1200"));
    let draft = assemble(c.currency, charges, None, Decimal::ZERO);
    assert_eq!(line_amounts(&draft), [d("49.99"), d("1.20"), d("12.00")]);
    assert_eq!(
        draft.lines.iter().map(|l| l.kind).collect::<Vec<_>>(),
        [LineKind::Base, LineKind::Usage, LineKind::Usage]
    );
    assert_eq!(
        (
            draft.subtotal.amount,
            draft.total.amount,
            draft.amount_due.amount
        ),
        (d("63.19"), d("63.19"), d("63.19"))
    );
}

#[test]
fn digital_twin_within_the_allowance_pays_the_base_price_only() {
    let c = preset("digital-twin");
    let p = plan(&c, "standard-ai");
    let m = c.meter("storage").expect("digital-twin storage");
    let pricing = p
        .usage_price("storage")
        .expect("standard-ai prices storage");
    assert_eq!(
        usage_charge(m, &p.limit("storage"), pricing, 1, d("50"), Decimal::ZERO),
        None,
        "50 GB are included"
    );
}

#[test]
fn digital_twin_enterprise_with_120_seats_is_priced_by_the_graduated_tiers() {
    let c = preset("digital-twin");
    let p = plan(&c, "enterprise");
    // Monthly: base fee $10,000; seats 1-50 at $50 = $2,500, 51-100 at $40 = $2,000,
    // 101-120 at $25 = $500; seats $5,000; total $15,000.
    let draft = assemble(
        c.currency,
        plan_charges(
            price(p, Interval::Month),
            120,
            Decimal::ONE,
            "Enterprise, monthly",
        ),
        None,
        Decimal::ZERO,
    );
    assert_eq!(
        draft
            .lines
            .iter()
            .map(|l| (l.kind, l.amount.amount))
            .collect::<Vec<_>>(),
        [(LineKind::Base, d("10000")), (LineKind::Seats, d("5000"))]
    );
    assert_eq!(draft.lines[1].quantity, d("120"));
    assert_eq!(draft.total.amount, d("15000"));
    let seats = price(p, Interval::Month)
        .seat_pricing
        .as_ref()
        .expect("enterprise seat tiers");
    assert_eq!(
        seats.charge(d("50")),
        d("2500"),
        "the first 50 seats at $50"
    );
    assert_eq!(seats.charge(d("100")), d("4500"), "seats 51-100 at $40");
    // Yearly, ten times: $100,000 + 50 × $500 + 50 × $400 + 20 × $250 = $150,000.
    let yearly = assemble(
        c.currency,
        plan_charges(
            price(p, Interval::Year),
            120,
            Decimal::ONE,
            "Enterprise, yearly",
        ),
        None,
        Decimal::ZERO,
    );
    assert_eq!(yearly.total.amount, d("150000"));
}

#[test]
fn crm_pay_per_use_with_25000_calls_and_1000_tokens_is_4_50() {
    let c = preset("crm");
    let p = plan(&c, "pay-per-use");
    let mut charges = plan_charges(
        price(p, Interval::Month),
        1,
        Decimal::ONE,
        "Pay per use, monthly",
    );
    assert!(charges.is_empty(), "$0 base: no base line");
    charges.push(usage(&c, p, "api_calls", d("25000"), Decimal::ZERO));
    charges.push(usage(&c, p, "ai_tokens", d("1000"), Decimal::ZERO));
    let draft = assemble(c.currency, charges, None, Decimal::ZERO);
    assert_eq!(line_amounts(&draft), [d("2.50"), d("2.00")]);
    assert_eq!(draft.total.amount, d("4.50"));
    let tokens = p
        .usage_price("ai_tokens")
        .expect("pay-per-use prices tokens");
    assert_eq!(
        tokens.charge(d("2000000")),
        d("3500"),
        "1M at $0.002 + 1M at $0.0015: a volume discount"
    );
}

#[test]
fn crm_upgrade_from_starter_to_professional_half_way_is_plus_25() {
    let c = preset("crm");
    let old = price(plan(&c, "starter"), Interval::Month).amount.amount;
    let new = price(plan(&c, "professional"), Interval::Month)
        .amount
        .amount;
    let period = Period {
        start: at("2026-11-01T00:00:00Z"),
        end: at("2026-12-01T00:00:00Z"),
    };
    let p = prorate(old, new, period, at("2026-11-16T00:00:00Z"));
    assert_eq!(p.remaining_share, d("0.5"), "15 of 30 days left");
    let line = |amount: Decimal, description: &str| Charge {
        kind: LineKind::Proration,
        description: description.into(),
        quantity: Decimal::ONE,
        unit_amount: None,
        amount,
        meter: None,
    };
    let draft = assemble(
        c.currency,
        vec![
            line(p.credit, "Unused Starter"),
            line(p.charge, "Remaining Professional"),
        ],
        None,
        Decimal::ZERO,
    );
    assert_eq!(line_amounts(&draft), [d("-14.50"), d("39.50")]);
    assert_eq!(
        (draft.subtotal.amount, draft.tax.amount),
        (d("25.00"), Decimal::ZERO),
        "+$25.00 before tax"
    );
}

#[test]
fn chatbot_platform_base_100_times_1_5_on_40_of_provider_cost_is_160() {
    let c = preset("chatbot-platform");
    // The seed's client has a base cost of $100: the plan whose monthly price is $100.
    let p = c
        .plans
        .iter()
        .find(|p| {
            p.price(Interval::Month)
                .is_some_and(|price| price.amount.amount == d("100"))
        })
        .expect("a plan with a $100 base");
    assert_eq!(p.key.as_str(), "pro");
    // Three message events whose `cost_usd` properties sum to $40.
    let cost: Decimal = ["12.50", "17.25", "10.25"].into_iter().map(d).sum();
    let mut charges = plan_charges(price(p, Interval::Month), 1, Decimal::ONE, "Pro, monthly");
    charges.push(usage(&c, p, "messages", d("3"), cost));
    assert_eq!(
        (charges[1].quantity, charges[1].unit_amount),
        (d("40"), Some(d("1.5")))
    );
    let draft = assemble(c.currency, charges, None, Decimal::ZERO);
    assert_eq!(line_amounts(&draft), [d("100"), d("60")]);
    assert_eq!(draft.total.amount, d("160"));
}

#[test]
fn exprsn_team_growing_with_12_seats_yearly_is_12_times_67_and_half_for_non_profits() {
    let c = preset("exprsn");
    let p = plan(&c, "team-growing");
    let year = price(p, Interval::Year);
    let charges = plan_charges(year, 12, Decimal::ONE, "Team Growing, yearly");
    assert_eq!(charges.len(), 1);
    assert_eq!(
        (charges[0].kind, charges[0].quantity, charges[0].unit_amount),
        (LineKind::Seats, d("12"), Some(d("67")))
    );
    let draft = assemble(c.currency, charges.clone(), None, Decimal::ZERO);
    assert_eq!(draft.total.amount, d("804"));
    let nonprofit = c.coupon("nonprofit").expect("exprsn non-profit coupon");
    let discounted = assemble(c.currency, charges, Some(nonprofit), Decimal::ZERO);
    assert_eq!(
        (
            discounted.subtotal.amount,
            discounted.discount.amount,
            discounted.total.amount
        ),
        (d("804"), d("402"), d("402"))
    );
}
