//! How Tollgate's catalog and subscriptions are named in Stripe, and how Stripe's
//! values read back. Pure: the Stripe service ([`crate::service::stripe`]) does the
//! I/O.
//!
//! - A plan is the product `tollgate_<plan>` (Stripe product ids may be chosen:
//!   <https://docs.stripe.com/api/products/create#create_product-id>).
//! - A plan's price per interval carries the lookup key `<plan>_<interval>`
//!   (`pro_month`, `team_year`), so Tollgate finds it without storing Stripe ids, and a
//!   changed amount moves the key to a new price (`transfer_lookup_key`,
//!   <https://docs.stripe.com/products-prices/manage-prices#lookup-keys>).
//! - Each plan price also carries its lookup key in the metadata
//!   ([`PRICE_KEY_METADATA`]): the lookup key moves on to the new price when the amount
//!   changes, and the metadata still tells which plan and interval a grandfathered
//!   subscriber's older price is.
//! - Amounts go to Stripe in the currency's minor unit (`unit_amount`, cents for USD;
//!   `unit_amount_decimal` when a usage price has fractions of a cent).
//! - A meter is the billing meter whose `event_name` is `tollgate_<meter>`; a plan's usage
//!   price on it is a metered price with the lookup key `<plan>_<interval>_usage_<meter>`
//!   (<https://docs.stripe.com/billing/subscriptions/usage-based/pricing-models>).

use crate::catalog::{Aggregation, Catalog, Meter, Plan, Price};
use crate::money::Money;
use crate::period::Interval;
use crate::rating::{Pricing, Tier};
use crate::subscription::Status;
use rust_decimal::Decimal;

/// The Stripe product id of `plan_key`.
pub fn product_id(plan_key: &str) -> String {
    format!("tollgate_{plan_key}")
}

/// The lookup key of the plan's price billed every `interval`: `<plan>_<interval>`.
pub fn price_lookup_key(plan_key: &str, interval: Interval) -> String {
    format!("{plan_key}_{}", interval.as_str())
}

/// The price metadata key holding the price's lookup key for good (see the module
/// documentation).
pub const PRICE_KEY_METADATA: &str = "tollgate_price";

/// The plan key and interval a lookup key names, `None` for a key that is not one of
/// [`price_lookup_key`]'s (a price made outside Tollgate).
pub fn parse_price_lookup_key(key: &str) -> Option<(&str, Interval)> {
    let (plan, interval) = key.rsplit_once('_')?;
    let interval = match interval {
        "month" => Interval::Month,
        "year" => Interval::Year,
        _ => return None,
    };
    (!plan.is_empty()).then_some((plan, interval))
}

/// What a catalog price becomes in Stripe: one recurring price per interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StripePrice {
    /// `unit_amount`, in the currency's minor unit.
    pub unit_amount: i64,
    /// Charged per seat: the subscription item's quantity is the seat count.
    pub per_seat: bool,
}

/// Why a catalog price has no Stripe form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsupportedPrice {
    /// Seats priced by tiers on top of a base fee (seed 002's enterprise plan): bill
    /// such a plan through the manual provider.
    #[error("seats are priced by tiers on top of a base fee; bill this plan through the manual provider")]
    SeatTiers,
    /// Free: Stripe is not involved.
    #[error("the price is zero; a free plan needs no Stripe price")]
    Free,
    /// The amount does not fit Stripe's integer minor units.
    #[error("the amount {0} cannot be sent to Stripe")]
    Amount(String),
}

/// What a catalog coupon becomes in Stripe: a coupon whose id names its terms, so a
/// coupon whose terms the catalog changes becomes a new Stripe coupon (Stripe
/// coupons cannot change their discount: <https://docs.stripe.com/api/coupons/update>).
#[derive(Debug, Clone, PartialEq)]
pub struct StripeCoupon {
    /// `tollgate_<code>_<terms>`, e.g. `tollgate_nonprofit_pct50_forever`.
    pub id: String,
    /// `percent_off`: Stripe's wire format is a JSON number with up to two decimals;
    /// the catalog's exact percentage (checked to fit) is converted only here.
    pub percent_off: Option<f64>,
    /// `amount_off` in the currency's minor unit.
    pub amount_off: Option<i64>,
    /// `once`, `repeating` or `forever`, and the months of a repeating one.
    pub duration: &'static str,
    pub duration_in_months: Option<i64>,
}

/// The Stripe form of `coupon` in `currency`.
///
/// # Errors
/// A sentence when the percentage has more than two decimals or the amount does not
/// fit Stripe's integer minor units.
pub fn stripe_coupon(
    coupon: &crate::coupon::Coupon,
    currency: crate::money::Currency,
) -> Result<StripeCoupon, String> {
    use crate::coupon::{Discount, Duration};
    let (terms, percent_off, amount_off) = match coupon.discount {
        Discount::PercentOff(p) => {
            let p = p.normalize();
            if p.scale() > 2 {
                return Err(format!(
                    "Stripe takes percentages with at most two decimals, not {p} %"
                ));
            }
            let f = p
                .to_string()
                .parse::<f64>()
                .map_err(|_| format!("{p} % cannot be sent to Stripe"))?;
            (
                format!("pct{}", p.to_string().replace('.', "p")),
                Some(f),
                None,
            )
        }
        Discount::AmountOff(a) => {
            let minor = minor_units(Money::new(a, currency))
                .ok_or_else(|| format!("{a} cannot be sent to Stripe"))?;
            (
                format!("amt{minor}{}", currency.code().to_ascii_lowercase()),
                None,
                Some(minor),
            )
        }
    };
    let (duration, months, how_long) = match coupon.duration {
        Duration::Once => ("once", None, "once".to_string()),
        Duration::Repeating { months } => {
            ("repeating", Some(i64::from(months)), format!("rep{months}"))
        }
        Duration::Forever => ("forever", None, "forever".to_string()),
    };
    Ok(StripeCoupon {
        id: format!("tollgate_{}_{terms}_{how_long}", coupon.code),
        percent_off,
        amount_off,
        duration,
        duration_in_months: months,
    })
}

/// The Stripe form of `price`: its amount in minor units, per seat or flat.
///
/// # Errors
/// [`UnsupportedPrice`] for tiered seat pricing, zero prices and amounts beyond `i64`.
pub fn stripe_price(price: &Price) -> Result<StripePrice, UnsupportedPrice> {
    if price.seat_pricing.is_some() {
        return Err(UnsupportedPrice::SeatTiers);
    }
    if price.amount.amount.is_zero() {
        return Err(UnsupportedPrice::Free);
    }
    let unit_amount = minor_units(price.amount)
        .ok_or_else(|| UnsupportedPrice::Amount(price.amount.display()))?;
    Ok(StripePrice {
        unit_amount,
        per_seat: price.per_seat,
    })
}

fn minor_units(m: Money) -> Option<i64> {
    m.minor_units().filter(|u| *u > 0)
}

/// The lookup key of the plan's metered price for `meter` billed every `interval`:
/// `<plan>_<interval>_usage_<meter>`. [`parse_price_lookup_key`] never reads it as a plan price,
/// since the plan item is told apart by its `licensed` usage type as well.
pub fn usage_lookup_key(plan_key: &str, interval: Interval, meter: &str) -> String {
    format!("{plan_key}_{}_usage_{meter}", interval.as_str())
}

/// The `event_name` of the billing meter measuring `meter`: `tollgate_<meter>`.
pub fn meter_event_name(meter: &str) -> String {
    format!("tollgate_{meter}")
}

/// How a billing meter aggregates the values Tollgate sends
/// (<https://docs.stripe.com/api/billing/meter/create#create_billing_meter-default_aggregation-formula>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeterFormula {
    /// Adds the values: count and sum meters, whose excess Tollgate sends event by event.
    Sum,
    /// The last value of the period: last meters, whose level above the included quantity
    /// Tollgate sends with each event.
    Last,
}

impl MeterFormula {
    /// Stripe's name (`sum`, `last`).
    pub fn as_str(self) -> &'static str {
        match self {
            MeterFormula::Sum => "sum",
            MeterFormula::Last => "last",
        }
    }
}

/// What a catalog usage price becomes in Stripe: a metered price on the meter, amounts in
/// minor units (fractions allowed, sent as `unit_amount_decimal`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeUsagePrice {
    /// The meter's aggregation.
    pub formula: MeterFormula,
    /// The pricing model.
    pub scheme: UsageScheme,
}

/// A metered price's model in Stripe's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageScheme {
    /// `billing_scheme=per_unit`: minor units per unit.
    PerUnit { unit_amount: Decimal },
    /// Per unit with `transform_quantity[divide_by]=size`, `[round]=up`: minor units per package.
    Package { size: i64, amount: Decimal },
    /// `billing_scheme=tiered`, `tiers_mode=graduated` or `volume`.
    Tiered {
        volume: bool,
        tiers: Vec<StripeTier>,
    },
}

/// One tier of a tiered metered price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeTier {
    /// Inclusive upper bound in whole units; `None` is `inf`.
    pub up_to: Option<i64>,
    /// Minor units per unit.
    pub unit_amount: Decimal,
    /// Flat fee in minor units.
    pub flat_amount: Decimal,
}

impl StripeUsagePrice {
    /// A canonical description of the price, kept in its metadata (`tollgate_shape`) so that
    /// `stripe sync` can tell an unchanged price from one to replace.
    pub fn fingerprint(&self) -> String {
        let scheme = match &self.scheme {
            UsageScheme::PerUnit { unit_amount } => format!("per_unit:{}", unit_amount.normalize()),
            UsageScheme::Package { size, amount } => {
                format!("package:{size}:{}", amount.normalize())
            }
            UsageScheme::Tiered { volume, tiers } => {
                let tiers: Vec<String> = tiers
                    .iter()
                    .map(|t| {
                        format!(
                            "{}@{}+{}",
                            t.up_to.map_or("inf".to_owned(), |u| u.to_string()),
                            t.unit_amount.normalize(),
                            t.flat_amount.normalize()
                        )
                    })
                    .collect();
                format!(
                    "{}:{}",
                    if *volume { "volume" } else { "graduated" },
                    tiers.join(",")
                )
            }
        };
        format!("{}|{scheme}", self.formula.as_str())
    }
}

/// Why a usage price is not billed through Stripe meters (such plans are billed by
/// Tollgate's own invoices: the manual provider).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsupportedUsage {
    /// Cost-plus (seed 001) prices the provider's cost, not a quantity a meter counts.
    #[error(
        "cost-plus usage is priced from the provider's cost, which Stripe meters do not carry"
    )]
    CostPlus,
    /// Stripe meters have no `max` formula.
    #[error("the meter keeps its peak (max), which Stripe meters cannot aggregate")]
    Peak,
    /// A package size or tier bound that is not a whole number of units.
    #[error("package sizes and tier bounds must be whole units in Stripe")]
    Fractional,
    /// An amount with more than 12 decimal places in minor units.
    #[error("an amount has more decimal places than Stripe accepts")]
    Precision,
}

/// The Stripe form of `pricing` on `meter`, in a currency whose minor unit has `scale`
/// decimal places (2 for USD).
///
/// # Errors
/// [`UnsupportedUsage`] for cost-plus, peak meters, fractional package sizes or tier bounds,
/// and amounts beyond Stripe's 12 decimal places.
pub fn stripe_usage_price(
    meter: &Meter,
    pricing: &Pricing,
    scale: u32,
) -> Result<StripeUsagePrice, UnsupportedUsage> {
    let formula = match meter.aggregation {
        Aggregation::Count | Aggregation::Sum => MeterFormula::Sum,
        Aggregation::Last => MeterFormula::Last,
        Aggregation::Max => return Err(UnsupportedUsage::Peak),
    };
    let minor = |amount: Decimal| -> Result<Decimal, UnsupportedUsage> {
        let m = (amount * Decimal::from(10_i64.pow(scale))).normalize();
        if m.scale() > 12 {
            Err(UnsupportedUsage::Precision)
        } else {
            Ok(m)
        }
    };
    let whole = |q: Decimal| -> Result<i64, UnsupportedUsage> {
        if q.fract().is_zero() && q > Decimal::ZERO {
            i64::try_from(q).map_err(|_| UnsupportedUsage::Fractional)
        } else {
            Err(UnsupportedUsage::Fractional)
        }
    };
    let tiers = |tiers: &[Tier]| -> Result<Vec<StripeTier>, UnsupportedUsage> {
        tiers
            .iter()
            .map(|t| {
                Ok(StripeTier {
                    up_to: t.up_to.map(whole).transpose()?,
                    unit_amount: minor(t.unit_amount)?,
                    flat_amount: minor(t.flat_amount)?,
                })
            })
            .collect()
    };
    let scheme = match pricing {
        Pricing::CostPlus { .. } => return Err(UnsupportedUsage::CostPlus),
        Pricing::PerUnit { unit_amount } => UsageScheme::PerUnit {
            unit_amount: minor(*unit_amount)?,
        },
        Pricing::Package { size, amount } => UsageScheme::Package {
            size: whole(*size)?,
            amount: minor(*amount)?,
        },
        Pricing::Graduated { tiers: t } => UsageScheme::Tiered {
            volume: false,
            tiers: tiers(t)?,
        },
        Pricing::Volume { tiers: t } => UsageScheme::Tiered {
            volume: true,
            tiers: tiers(t)?,
        },
    };
    Ok(StripeUsagePrice { formula, scheme })
}

/// The Stripe form of every usage price of `plan`, with its meter, in `catalog`'s currency.
///
/// # Errors
/// The first usage price Stripe cannot bill: its meter key and why. Such a plan is billed by
/// Tollgate's invoices (the manual provider), never partly through Stripe.
pub fn plan_usage_prices<'c>(
    catalog: &'c Catalog,
    plan: &Plan,
) -> Result<Vec<(&'c Meter, StripeUsagePrice)>, (String, UnsupportedUsage)> {
    let scale = catalog.currency.minor_unit_scale();
    let mut out = Vec::new();
    for (key, pricing) in &plan.usage_prices {
        let Some(meter) = catalog.meters.iter().find(|m| m.key == *key) else {
            continue;
        };
        out.push((
            meter,
            stripe_usage_price(meter, pricing, scale).map_err(|e| (key.as_str().to_owned(), e))?,
        ));
    }
    Ok(out)
}

/// Whole units of a count or sum meter to send for one event: the event takes the meter's
/// period usage from `before` to `after`, and only usage above `included` is billed. Units are
/// whole because meter values are; the fraction below one unit of the period's excess is
/// never billed. Summed over a period's events in any order, this is
/// `floor(max(0, total − included))`: no unit is sent twice or lost.
pub fn excess_units(before: Decimal, after: Decimal, included: Decimal) -> i64 {
    let billed = |usage: Decimal| (usage - included).max(Decimal::ZERO).floor();
    i64::try_from(billed(after) - billed(before)).unwrap_or(i64::MAX)
}

/// Whole units a last meter reports for a level: the part above `included`, rounded down.
pub fn level_units(level: Decimal, included: Decimal) -> i64 {
    i64::try_from((level - included).max(Decimal::ZERO).floor()).unwrap_or(i64::MAX)
}

/// Tollgate's status for a Stripe subscription status
/// (<https://docs.stripe.com/api/subscriptions/object#subscription_object-status>).
/// Stripe's `incomplete_expired` ended the subscription before it started
/// (`canceled`); `paused` (a trial ended without a payment method) entitles to
/// nothing, as `unpaid` does. `None` for a name Stripe does not document.
pub fn subscription_status(stripe: &str) -> Option<Status> {
    Some(match stripe {
        "trialing" => Status::Trialing,
        "active" => Status::Active,
        "past_due" => Status::PastDue,
        "canceled" | "incomplete_expired" => Status::Canceled,
        "incomplete" => Status::Incomplete,
        "unpaid" | "paused" => Status::Unpaid,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use crate::rating::Pricing;
    use rust_decimal::Decimal;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn coupons_are_named_by_their_terms_and_sent_exactly() {
        use crate::coupon::{Coupon, Discount, Duration};
        use crate::keys::Key;
        let usd = Currency::parse("USD").unwrap();
        let c = |discount, duration| Coupon {
            code: Key::parse("nonprofit").unwrap(),
            name: "Non-profit".into(),
            discount,
            duration,
        };
        let half =
            stripe_coupon(&c(Discount::PercentOff(dec("50")), Duration::Forever), usd).unwrap();
        assert_eq!(
            (
                half.id.as_str(),
                half.percent_off,
                half.amount_off,
                half.duration
            ),
            (
                "tollgate_nonprofit_pct50_forever",
                Some(50.0),
                None,
                "forever"
            )
        );
        let odd = stripe_coupon(
            &c(
                Discount::PercentOff(dec("12.50")),
                Duration::Repeating { months: 3 },
            ),
            usd,
        )
        .unwrap();
        assert_eq!(
            (odd.id.as_str(), odd.percent_off, odd.duration_in_months),
            ("tollgate_nonprofit_pct12p5_rep3", Some(12.5), Some(3))
        );
        let five = stripe_coupon(&c(Discount::AmountOff(dec("5")), Duration::Once), usd).unwrap();
        assert_eq!(
            (five.id.as_str(), five.amount_off),
            ("tollgate_nonprofit_amt500usd_once", Some(500))
        );
        assert!(
            stripe_coupon(&c(Discount::PercentOff(dec("33.333")), Duration::Once), usd).is_err(),
            "more decimals than Stripe takes"
        );
    }

    fn price(amount: Decimal, per_seat: bool) -> Price {
        Price {
            interval: Interval::Month,
            amount: Money::new(amount, Currency::parse("USD").unwrap()),
            per_seat,
            seat_pricing: None,
        }
    }

    #[test]
    fn lookup_keys_round_trip_even_with_underscores_in_the_plan() {
        for (plan, interval) in [
            ("pro", Interval::Month),
            ("standard_ai", Interval::Year),
            ("team", Interval::Year),
        ] {
            let key = price_lookup_key(plan, interval);
            assert_eq!(
                parse_price_lookup_key(&key),
                Some((plan, interval)),
                "{key}"
            );
        }
        assert_eq!(price_lookup_key("pro", Interval::Month), "pro_month");
        assert_eq!(product_id("pro"), "tollgate_pro");
        for foreign in ["pro", "pro_monthly", "_month", "pro-month", ""] {
            assert_eq!(parse_price_lookup_key(foreign), None, "{foreign}");
        }
    }

    #[test]
    fn prices_go_to_stripe_in_cents() {
        assert_eq!(
            stripe_price(&price(dec("49.99"), false)),
            Ok(StripePrice {
                unit_amount: 4999,
                per_seat: false
            })
        );
        assert_eq!(
            stripe_price(&price(dec("12"), true)),
            Ok(StripePrice {
                unit_amount: 1200,
                per_seat: true
            })
        );
        assert_eq!(
            stripe_price(&price(dec("0"), false)),
            Err(UnsupportedPrice::Free)
        );
        let mut tiered = price(dec("10000"), false);
        tiered.seat_pricing = Some(Pricing::PerUnit {
            unit_amount: Decimal::ONE,
        });
        assert_eq!(stripe_price(&tiered), Err(UnsupportedPrice::SeatTiers));
    }

    fn meter(aggregation: Aggregation) -> Meter {
        Meter {
            key: crate::keys::Key::parse("ai_tokens").unwrap(),
            name: "AI tokens".into(),
            unit: "token".into(),
            aggregation,
            reset: crate::period::Reset::BillingPeriod,
            description: String::new(),
            group_by: Vec::new(),
            cost_property: None,
        }
    }

    #[test]
    fn usage_prices_go_to_stripe_as_metered_prices() {
        let count = meter(Aggregation::Count);
        // digital-twin: $0.01 per API call is 1 cent.
        let per_unit = stripe_usage_price(
            &count,
            &Pricing::PerUnit {
                unit_amount: dec("0.01"),
            },
            2,
        )
        .unwrap();
        assert_eq!(
            per_unit,
            StripeUsagePrice {
                formula: MeterFormula::Sum,
                scheme: UsageScheme::PerUnit {
                    unit_amount: dec("1")
                }
            }
        );
        // crm: $0.10 per started 1,000 calls.
        let package = stripe_usage_price(
            &count,
            &Pricing::Package {
                size: dec("1000"),
                amount: dec("0.10"),
            },
            2,
        )
        .unwrap();
        assert_eq!(
            package.scheme,
            UsageScheme::Package {
                size: 1000,
                amount: dec("10")
            }
        );
        // crm: tokens at $0.002 are 0.2 cents each.
        let tiers = vec![
            Tier {
                up_to: Some(dec("1000000")),
                unit_amount: dec("0.002"),
                flat_amount: Decimal::ZERO,
            },
            Tier {
                up_to: None,
                unit_amount: dec("0.001"),
                flat_amount: dec("5"),
            },
        ];
        let graduated = stripe_usage_price(
            &meter(Aggregation::Sum),
            &Pricing::Graduated {
                tiers: tiers.clone(),
            },
            2,
        )
        .unwrap();
        assert_eq!(
            graduated.scheme,
            UsageScheme::Tiered {
                volume: false,
                tiers: vec![
                    StripeTier {
                        up_to: Some(1_000_000),
                        unit_amount: dec("0.2"),
                        flat_amount: Decimal::ZERO
                    },
                    StripeTier {
                        up_to: None,
                        unit_amount: dec("0.1"),
                        flat_amount: dec("500")
                    },
                ],
            }
        );
        assert_eq!(
            graduated.fingerprint(),
            "sum|graduated:1000000@0.2+0,inf@0.1+500"
        );
        let volume =
            stripe_usage_price(&meter(Aggregation::Last), &Pricing::Volume { tiers }, 2).unwrap();
        assert_eq!(volume.formula, MeterFormula::Last);
        assert!(volume.fingerprint().starts_with("last|volume:"));
    }

    #[test]
    fn usage_prices_stripe_cannot_bill_are_refused() {
        let cost_plus = Pricing::CostPlus {
            property: "cost_usd".into(),
            multiplier: dec("1.5"),
        };
        assert_eq!(
            stripe_usage_price(&meter(Aggregation::Sum), &cost_plus, 2),
            Err(UnsupportedUsage::CostPlus)
        );
        let per_unit = Pricing::PerUnit {
            unit_amount: dec("0.01"),
        };
        assert_eq!(
            stripe_usage_price(&meter(Aggregation::Max), &per_unit, 2),
            Err(UnsupportedUsage::Peak)
        );
        let half_package = Pricing::Package {
            size: dec("2.5"),
            amount: dec("1"),
        };
        assert_eq!(
            stripe_usage_price(&meter(Aggregation::Count), &half_package, 2),
            Err(UnsupportedUsage::Fractional)
        );
        let tiny = Pricing::PerUnit {
            unit_amount: dec("0.0000000000000001"),
        };
        assert_eq!(
            stripe_usage_price(&meter(Aggregation::Count), &tiny, 2),
            Err(UnsupportedUsage::Precision)
        );
    }

    #[test]
    fn usage_keys_are_not_plan_keys() {
        assert_eq!(
            usage_lookup_key("standard-ai", Interval::Month, "api_calls"),
            "standard-ai_month_usage_api_calls"
        );
        assert_eq!(
            parse_price_lookup_key(&usage_lookup_key("pro", Interval::Year, "api_calls")),
            None
        );
        assert_eq!(meter_event_name("api_calls"), "tollgate_api_calls");
    }

    #[test]
    fn excess_is_sent_in_whole_units_above_the_included_quantity() {
        let included = dec("100");
        assert_eq!(excess_units(dec("0"), dec("60"), included), 0);
        assert_eq!(excess_units(dec("60"), dec("130"), included), 30);
        assert_eq!(excess_units(dec("130"), dec("131"), included), 1);
        assert_eq!(excess_units(dec("100.4"), dec("100.9"), included), 0);
        assert_eq!(excess_units(dec("100.9"), dec("101.2"), included), 1);
        assert_eq!(level_units(dec("12.7"), dec("10")), 2);
        assert_eq!(level_units(dec("8"), dec("10")), 0);
    }

    proptest::proptest! {
        /// Whatever the events and their order, the units sent for a period add up to the
        /// whole units of its usage above the included quantity.
        #[test]
        fn excess_units_add_up_to_the_period_excess(
            quantities in proptest::collection::vec(1u32..5_000, 0..40),
            tenths in proptest::collection::vec(0u32..10, 40),
            included in 0u32..20_000,
        ) {
            let included = Decimal::from(included);
            let mut usage = Decimal::ZERO;
            let mut sent = 0_i64;
            for (q, t) in quantities.iter().zip(&tenths) {
                let after = usage + Decimal::from(*q) + Decimal::new(i64::from(*t), 1);
                sent += excess_units(usage, after, included);
                usage = after;
            }
            proptest::prop_assert_eq!(Decimal::from(sent), (usage - included).max(Decimal::ZERO).floor());
        }
    }

    #[test]
    fn every_stripe_status_has_a_tollgate_status() {
        let cases = [
            ("trialing", Status::Trialing),
            ("active", Status::Active),
            ("past_due", Status::PastDue),
            ("canceled", Status::Canceled),
            ("incomplete_expired", Status::Canceled),
            ("incomplete", Status::Incomplete),
            ("unpaid", Status::Unpaid),
            ("paused", Status::Unpaid),
        ];
        for (stripe, ours) in cases {
            assert_eq!(subscription_status(stripe), Some(ours), "{stripe}");
        }
        assert_eq!(subscription_status("bogus"), None);
    }
}
