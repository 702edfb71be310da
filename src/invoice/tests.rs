use super::*;
use crate::coupon::{Discount, Duration};
use crate::keys::Key;
use proptest::prelude::*;

fn d(s: &str) -> Decimal {
    s.parse().expect("test decimal")
}

fn charge(kind: LineKind, amount: &str) -> Charge {
    Charge {
        kind,
        description: kind.as_str().into(),
        quantity: Decimal::ONE,
        unit_amount: None,
        amount: d(amount),
        meter: None,
    }
}

fn coupon(discount: Discount) -> Coupon {
    Coupon {
        code: Key::parse("c").expect("test key"),
        name: "C".into(),
        discount,
        duration: Duration::Forever,
    }
}

#[test]
fn each_line_is_rounded_once_then_summed() {
    // Three lines of 0.005 round to 0.01 each: the invoice shows what its lines show.
    let draft = assemble(
        Currency::USD,
        vec![
            charge(LineKind::Usage, "0.005"),
            charge(LineKind::Usage, "0.005"),
            charge(LineKind::Usage, "0.005"),
        ],
        None,
        Decimal::ZERO,
    );
    assert_eq!(draft.subtotal.amount, d("0.03"));
    assert_eq!(draft.amount_due.amount, d("0.03"));
    assert_eq!(draft.tax.amount, Decimal::ZERO);
}

#[test]
fn discount_then_credit() {
    let half = coupon(Discount::PercentOff(d("50")));
    let draft = assemble(
        Currency::USD,
        vec![charge(LineKind::Seats, "804")],
        Some(&half),
        d("100"),
    );
    assert_eq!(
        (
            draft.subtotal.amount,
            draft.discount.amount,
            draft.total.amount
        ),
        (d("804"), d("402"), d("402"))
    );
    assert_eq!(
        (draft.credit_applied.amount, draft.amount_due.amount),
        (d("100"), d("302"))
    );
}

#[test]
fn a_net_credit_goes_to_the_balance() {
    let draft = assemble(
        Currency::USD,
        vec![
            charge(LineKind::Base, "10"),
            charge(LineKind::Proration, "-25"),
        ],
        Some(&coupon(Discount::AmountOff(d("5")))),
        d("50"),
    );
    assert_eq!(
        (
            draft.subtotal.amount,
            draft.discount.amount,
            draft.total.amount
        ),
        (d("-15"), Decimal::ZERO, Decimal::ZERO)
    );
    assert_eq!(
        (
            draft.credit_added.amount,
            draft.credit_applied.amount,
            draft.amount_due.amount
        ),
        (d("15"), Decimal::ZERO, Decimal::ZERO)
    );
}

proptest! {
    #[test]
    fn totals_hold_together(amounts in prop::collection::vec(-100_000i64..1_000_000, 0..8), percent in 0u32..=100, credit in 0i64..500_000) {
        let charges: Vec<Charge> = amounts.iter().map(|a| Charge { amount: Decimal::new(*a, 3), ..charge(LineKind::Usage, "0") }).collect();
        let c = coupon(Discount::PercentOff(Decimal::from(percent.max(1))));
        let draft = assemble(Currency::USD, charges, Some(&c), Decimal::new(credit, 2));
        let lines: Decimal = draft.lines.iter().map(|l| l.amount.amount).sum();
        prop_assert_eq!(draft.subtotal.amount, lines);
        prop_assert!(draft.lines.iter().all(|l| l.amount.amount.scale() <= 2));
        prop_assert!(draft.discount.amount >= Decimal::ZERO && draft.total.amount >= Decimal::ZERO);
        prop_assert_eq!(draft.total.amount - draft.credit_added.amount, draft.subtotal.amount - draft.discount.amount);
        prop_assert!(draft.credit_applied.amount <= draft.total.amount);
        prop_assert_eq!(draft.amount_due.amount, draft.total.amount - draft.credit_applied.amount);
        prop_assert!(draft.amount_due.amount >= Decimal::ZERO);
    }
}
