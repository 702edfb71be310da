//! Rating: what a quantity costs under a pricing model.
//!
//! The models are the ones billing systems share (Stripe's "per unit", "package",
//! "graduated" and "volume" tiers, <https://docs.stripe.com/products-prices/pricing-models>)
//! plus seed 001's cost-plus ("base cost + provider cost × usage multiplier"). Amounts
//! are in the catalog's currency, major units (`0.01` is one cent), and are **not
//! rounded** here: the invoice rounds each line once ([`crate::money::Money::round`]).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One tier of a tiered price. Tiers are ordered; each covers quantities up to
/// `up_to` (inclusive), the last one has `up_to = None` (no ceiling).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    /// Highest quantity in this tier, inclusive; `None` for the last tier.
    pub up_to: Option<Decimal>,
    /// Price per unit in this tier.
    pub unit_amount: Decimal,
    /// A fixed fee for entering this tier (Stripe's `flat_amount`).
    pub flat_amount: Decimal,
}

/// How a quantity is priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum Pricing {
    /// `quantity × unit_amount` (seed 002: $0.01 per API call).
    PerUnit {
        /// Price of one unit.
        unit_amount: Decimal,
    },
    /// Whole packages of `size` units, a started package counts in full (seed 003:
    /// $0.10 per 1,000 calls; 1,001 calls are two packages).
    Package {
        /// Units per package (> 0).
        size: Decimal,
        /// Price of one package.
        amount: Decimal,
    },
    /// Each unit priced by the tier it falls in (the first 10 at one price, the
    /// next 40 at another…).
    Graduated {
        /// Ascending tiers; the last without a ceiling.
        tiers: Vec<Tier>,
    },
    /// Every unit priced by the tier the whole quantity falls in.
    Volume {
        /// Ascending tiers; the last without a ceiling.
        tiers: Vec<Tier>,
    },
    /// Cost-plus (seed 001): the sum of the events' `property` (the provider's cost,
    /// in the catalog currency) times `multiplier`.
    CostPlus {
        /// Event property holding the provider cost (`cost_usd`).
        property: String,
        /// Markup factor (1.5 charges $60 for $40 of cost).
        multiplier: Decimal,
    },
}

/// Why a pricing was refused (catalog validation).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    /// A price, size or multiplier was negative or zero where it must not be.
    #[error("{0}")]
    Amount(&'static str),
    /// Tiers missing, out of order, or without a last open-ended tier.
    #[error("{0}")]
    Tiers(&'static str),
}

impl Pricing {
    /// Checks the model's numbers: amounts ≥ 0, package size > 0, multiplier > 0,
    /// tiers non-empty, strictly ascending `up_to`, only the last one open-ended.
    ///
    /// # Errors
    /// [`PricingError`] naming the problem.
    pub fn validate(&self) -> Result<(), PricingError> {
        match self {
            Pricing::PerUnit { unit_amount } if unit_amount.is_sign_negative() => {
                Err(PricingError::Amount("unit_amount must not be negative"))
            }
            Pricing::PerUnit { .. } => Ok(()),
            Pricing::Package { size, .. } if *size <= Decimal::ZERO => {
                Err(PricingError::Amount("package size must be more than 0"))
            }
            Pricing::Package { amount, .. } if amount.is_sign_negative() => {
                Err(PricingError::Amount("amount must not be negative"))
            }
            Pricing::Package { .. } => Ok(()),
            Pricing::CostPlus { multiplier, .. } if *multiplier <= Decimal::ZERO => {
                Err(PricingError::Amount("multiplier must be more than 0"))
            }
            Pricing::CostPlus { property, .. } if property.trim().is_empty() => {
                Err(PricingError::Amount("property must name an event property"))
            }
            Pricing::CostPlus { .. } => Ok(()),
            Pricing::Graduated { tiers } | Pricing::Volume { tiers } => validate_tiers(tiers),
        }
    }

    /// The charge for `quantity` (≥ 0), unrounded. For [`Pricing::CostPlus`] the
    /// quantity is the summed provider cost.
    pub fn charge(&self, quantity: Decimal) -> Decimal {
        let q = quantity.max(Decimal::ZERO);
        match self {
            Pricing::PerUnit { unit_amount } => q * unit_amount,
            Pricing::Package { size, amount } => (q / size).ceil() * amount,
            Pricing::CostPlus { multiplier, .. } => q * multiplier,
            Pricing::Graduated { tiers } => graduated(tiers, q),
            Pricing::Volume { tiers } => volume(tiers, q),
        }
    }

    /// True for the models whose quantity is an event property, not the meter.
    pub fn is_cost_plus(&self) -> bool {
        matches!(self, Pricing::CostPlus { .. })
    }
}

fn validate_tiers(tiers: &[Tier]) -> Result<(), PricingError> {
    let Some((last, rest)) = tiers.split_last() else {
        return Err(PricingError::Tiers("at least one tier is needed"));
    };
    if last.up_to.is_some() {
        return Err(PricingError::Tiers(
            "the last tier must have no up_to (no ceiling)",
        ));
    }
    let mut previous = Decimal::ZERO;
    for t in rest {
        let Some(up_to) = t.up_to else {
            return Err(PricingError::Tiers("only the last tier may have no up_to"));
        };
        if up_to <= previous {
            return Err(PricingError::Tiers("up_to must be positive and ascending"));
        }
        previous = up_to;
    }
    if tiers
        .iter()
        .any(|t| t.unit_amount.is_sign_negative() || t.flat_amount.is_sign_negative())
    {
        return Err(PricingError::Amount("tier amounts must not be negative"));
    }
    Ok(())
}

fn graduated(tiers: &[Tier], q: Decimal) -> Decimal {
    let mut total = Decimal::ZERO;
    let mut floor = Decimal::ZERO;
    for t in tiers {
        if q <= floor {
            break;
        }
        let ceiling = t.up_to.map_or(q, |u| u.min(q));
        total += (ceiling - floor) * t.unit_amount + t.flat_amount;
        floor = ceiling;
    }
    total
}

fn volume(tiers: &[Tier], q: Decimal) -> Decimal {
    if q.is_zero() {
        return Decimal::ZERO;
    }
    tiers
        .iter()
        .find(|t| t.up_to.is_none_or(|u| q <= u))
        .map_or(Decimal::ZERO, |t| q * t.unit_amount + t.flat_amount)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("test decimal")
    }

    fn tier(up_to: Option<Decimal>, unit: Decimal) -> Tier {
        Tier {
            up_to,
            unit_amount: unit,
            flat_amount: Decimal::ZERO,
        }
    }

    fn seat_tiers() -> Vec<Tier> {
        vec![
            tier(Some(d("50")), d("50")),
            tier(Some(d("100")), d("40")),
            tier(None, d("25")),
        ]
    }

    #[test]
    fn per_unit_and_package() {
        assert_eq!(
            Pricing::PerUnit {
                unit_amount: d("0.01")
            }
            .charge(d("1200")),
            d("12.00")
        );
        let package = Pricing::Package {
            size: d("1000"),
            amount: d("0.10"),
        };
        assert_eq!(package.charge(d("25000")), d("2.50"));
        assert_eq!(
            package.charge(d("25001")),
            d("2.60"),
            "a started package counts in full"
        );
        assert_eq!(package.charge(Decimal::ZERO), Decimal::ZERO);
    }

    #[test]
    fn graduated_prices_each_unit_in_its_tier() {
        let g = Pricing::Graduated {
            tiers: seat_tiers(),
        };
        assert_eq!(
            g.charge(d("120")),
            d("50") * d("50") + d("50") * d("40") + d("20") * d("25")
        );
        assert_eq!(g.charge(d("50")), d("2500"));
        let with_flat = Pricing::Graduated {
            tiers: vec![
                Tier {
                    up_to: Some(d("5")),
                    unit_amount: d("0"),
                    flat_amount: d("10"),
                },
                tier(None, d("1")),
            ],
        };
        assert_eq!(with_flat.charge(d("7")), d("12"));
        assert_eq!(
            with_flat.charge(Decimal::ZERO),
            Decimal::ZERO,
            "no tier is entered at zero"
        );
    }

    #[test]
    fn volume_prices_every_unit_at_the_reached_tier() {
        let v = Pricing::Volume {
            tiers: seat_tiers(),
        };
        assert_eq!(v.charge(d("120")), d("120") * d("25"));
        assert_eq!(v.charge(d("100")), d("100") * d("40"), "up_to is inclusive");
        assert_eq!(v.charge(d("100.5")), d("100.5") * d("25"));
    }

    #[test]
    fn cost_plus_marks_up_the_provider_cost() {
        let c = Pricing::CostPlus {
            property: "cost_usd".into(),
            multiplier: d("1.5"),
        };
        assert_eq!(c.charge(d("40")), d("60.0"));
        assert!(c.is_cost_plus());
    }

    #[test]
    fn bad_models_are_refused() {
        assert!(Pricing::Package {
            size: Decimal::ZERO,
            amount: d("1")
        }
        .validate()
        .is_err());
        assert!(Pricing::PerUnit {
            unit_amount: d("-1")
        }
        .validate()
        .is_err());
        assert!(Pricing::Graduated { tiers: vec![] }.validate().is_err());
        assert!(
            Pricing::Volume {
                tiers: vec![tier(Some(d("10")), d("1"))]
            }
            .validate()
            .is_err(),
            "last tier needs no ceiling"
        );
        assert!(Pricing::Volume {
            tiers: vec![
                tier(Some(d("10")), d("1")),
                tier(Some(d("5")), d("1")),
                tier(None, d("1"))
            ]
        }
        .validate()
        .is_err());
        assert!(Pricing::CostPlus {
            property: "cost_usd".into(),
            multiplier: Decimal::ZERO
        }
        .validate()
        .is_err());
        assert!(Pricing::Graduated {
            tiers: seat_tiers()
        }
        .validate()
        .is_ok());
    }

    fn arb_tiers() -> impl Strategy<Value = Vec<Tier>> {
        prop::collection::vec((1u32..500, 0u32..10_000, 0u32..1_000), 1..5).prop_map(|steps| {
            let mut up = Decimal::ZERO;
            let n = steps.len();
            steps
                .into_iter()
                .enumerate()
                .map(|(i, (step, unit, flat))| {
                    up += Decimal::from(step);
                    Tier {
                        up_to: (i + 1 < n).then_some(up),
                        unit_amount: Decimal::new(i64::from(unit), 4),
                        flat_amount: Decimal::new(i64::from(flat), 2),
                    }
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn charges_never_decrease_as_quantity_grows(tiers in arb_tiers(), a in 0u32..3_000, b in 0u32..3_000) {
            let (lo, hi) = (Decimal::from(a.min(b)), Decimal::from(a.max(b)));
            let g = Pricing::Graduated { tiers };
            prop_assert!(g.validate().is_ok());
            prop_assert!(g.charge(lo) <= g.charge(hi));
            let p = Pricing::Package { size: Decimal::from(a % 97 + 1), amount: Decimal::new(i64::from(b), 2) };
            prop_assert!(p.charge(lo) <= p.charge(hi));
        }

        /// Issue 4: "rating never loses or invents a cent under any tier layout".
        /// Graduated: the charge is exactly what pricing every unit one by one by
        /// its tier costs, plus each entered tier's flat fee; volume: every unit at
        /// the one tier the whole quantity falls in. Both exact in Decimal, and
        /// splitting a quantity across tiers never drops or adds a unit.
        #[test]
        fn tiers_price_every_unit_exactly_once(tiers in arb_tiers(), q in 0u32..2_500) {
            let tier_of = |k: Decimal| tiers.iter().position(|t| t.up_to.is_none_or(|u| k <= u)).expect("the last tier is open");
            let mut by_unit = Decimal::ZERO;
            let mut entered = std::collections::BTreeSet::new();
            for k in 1..=q {
                let i = tier_of(Decimal::from(k));
                by_unit += tiers[i].unit_amount;
                entered.insert(i);
            }
            by_unit += entered.iter().map(|i| tiers[*i].flat_amount).sum::<Decimal>();
            let quantity = Decimal::from(q);
            prop_assert_eq!(Pricing::Graduated { tiers: tiers.clone() }.charge(quantity), by_unit);
            let volume = if q == 0 { Decimal::ZERO } else { let t = &tiers[tier_of(quantity)]; t.unit_amount * quantity + t.flat_amount };
            prop_assert_eq!(Pricing::Volume { tiers: tiers.clone() }.charge(quantity), volume);
        }

        #[test]
        fn graduated_with_one_open_tier_is_per_unit(unit in 0u32..100_000, q in 0u32..100_000) {
            let unit = Decimal::new(i64::from(unit), 4);
            let q = Decimal::from(q);
            prop_assert_eq!(Pricing::Graduated { tiers: vec![tier(None, unit)] }.charge(q), Pricing::PerUnit { unit_amount: unit }.charge(q));
            prop_assert_eq!(Pricing::Volume { tiers: vec![tier(None, unit)] }.charge(q), q * unit);
        }
    }
}
