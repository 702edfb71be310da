//! What a usage correction changes on an invoice already issued (issue 13,
//! "Corrections"): the invoice is never rewritten; per meter, the difference
//! between the usage charges its period now prices at and what it billed
//! (its usage lines and the adjustments made to it before) becomes an adjustment,
//! billed as a line of the account's next invoice.
//!
//! Comparing with everything billed so far, not with the last correction, makes
//! adjustments converge: however corrections interleave, the invoice's usage
//! plus its adjustments end equal to the price of its period's stored usage.

use super::{Charge, LineKind};
use crate::money::{Currency, Money};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

/// Per meter, `repriced` usage charges minus `billed` (what the invoice's usage
/// lines and earlier adjustments hold), rounded once to the currency's minor unit
/// (half away from zero); meters whose difference rounds to zero are left out.
/// Sorted by meter. Negative: a credit.
pub fn differences(
    currency: Currency,
    repriced: &[Charge],
    billed: &HashMap<String, Decimal>,
) -> Vec<(String, Decimal)> {
    let mut by_meter: BTreeMap<&str, Decimal> = BTreeMap::new();
    for c in repriced.iter().filter(|c| c.kind == LineKind::Usage) {
        if let Some(m) = &c.meter {
            *by_meter.entry(m.as_str()).or_default() += c.amount;
        }
    }
    for m in billed.keys() {
        by_meter.entry(m.as_str()).or_default();
    }
    by_meter
        .into_iter()
        .filter_map(|(meter, now)| {
            let was = billed.get(meter).copied().unwrap_or_default();
            let diff = Money::new(now - was, currency).round().amount;
            (!diff.is_zero()).then(|| (meter.to_string(), diff))
        })
        .collect()
}

/// The line an adjustment is billed as on the next invoice.
pub fn charge(meter: &str, amount: Decimal, description: &str) -> Charge {
    Charge {
        kind: LineKind::Adjustment,
        description: description.to_string(),
        quantity: Decimal::ONE,
        unit_amount: None,
        amount,
        meter: Some(meter.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("test decimal")
    }

    fn usage(meter: &str, amount: &str) -> Charge {
        Charge {
            kind: LineKind::Usage,
            description: meter.into(),
            quantity: Decimal::ONE,
            unit_amount: None,
            amount: d(amount),
            meter: Some(meter.into()),
        }
    }

    #[test]
    fn a_credit_for_usage_voided_and_nothing_for_meters_unchanged() {
        let billed: HashMap<String, Decimal> =
            [("queries".to_string(), d("12.00")), ("tokens".to_string(), d("3.00"))].into();
        let repriced = [usage("queries", "4.004"), usage("tokens", "3.001")];
        assert_eq!(
            differences(Currency::USD, &repriced, &billed),
            vec![("queries".to_string(), d("-8.00"))]
        );
    }

    #[test]
    fn a_meter_no_longer_over_its_allowance_is_credited_whole() {
        let billed: HashMap<String, Decimal> = [("queries".to_string(), d("5.00"))].into();
        let base = Charge {
            kind: LineKind::Base,
            meter: None,
            ..usage("x", "29")
        };
        assert_eq!(
            differences(Currency::USD, &[base], &billed),
            vec![("queries".to_string(), d("-5.00"))]
        );
    }

    #[test]
    fn earlier_adjustments_count_as_billed_so_corrections_converge() {
        // Billed 10, a first correction credited 4: the invoice stands at 6.
        let billed: HashMap<String, Decimal> = [("queries".to_string(), d("6"))].into();
        assert!(differences(Currency::USD, &[usage("queries", "6")], &billed).is_empty());
        assert_eq!(
            differences(Currency::USD, &[usage("queries", "5.011")], &billed),
            vec![("queries".to_string(), d("-0.99"))]
        );
    }
}
