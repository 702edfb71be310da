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
//! - Amounts go to Stripe in the currency's minor unit (`unit_amount`, cents for USD).

use crate::catalog::Price;
use crate::money::Money;
use crate::period::Interval;
use crate::subscription::Status;

/// The Stripe product id of `plan_key`.
pub fn product_id(plan_key: &str) -> String {
    format!("tollgate_{plan_key}")
}

/// The lookup key of the plan's price billed every `interval`: `<plan>_<interval>`.
pub fn price_lookup_key(plan_key: &str, interval: Interval) -> String {
    format!("{plan_key}_{}", interval.as_str())
}

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
    let unit_amount = minor_units(price.amount).ok_or_else(|| UnsupportedPrice::Amount(price.amount.display()))?;
    Ok(StripePrice { unit_amount, per_seat: price.per_seat })
}

fn minor_units(m: Money) -> Option<i64> {
    m.minor_units().filter(|u| *u > 0)
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

    fn price(amount: Decimal, per_seat: bool) -> Price {
        Price { interval: Interval::Month, amount: Money::new(amount, Currency::parse("USD").unwrap()), per_seat, seat_pricing: None }
    }

    #[test]
    fn lookup_keys_round_trip_even_with_underscores_in_the_plan() {
        for (plan, interval) in [("pro", Interval::Month), ("standard_ai", Interval::Year), ("team", Interval::Year)] {
            let key = price_lookup_key(plan, interval);
            assert_eq!(parse_price_lookup_key(&key), Some((plan, interval)), "{key}");
        }
        assert_eq!(price_lookup_key("pro", Interval::Month), "pro_month");
        assert_eq!(product_id("pro"), "tollgate_pro");
        for foreign in ["pro", "pro_monthly", "_month", "pro-month", ""] {
            assert_eq!(parse_price_lookup_key(foreign), None, "{foreign}");
        }
    }

    #[test]
    fn prices_go_to_stripe_in_cents() {
        assert_eq!(stripe_price(&price(dec("49.99"), false)), Ok(StripePrice { unit_amount: 4999, per_seat: false }));
        assert_eq!(stripe_price(&price(dec("12"), true)), Ok(StripePrice { unit_amount: 1200, per_seat: true }));
        assert_eq!(stripe_price(&price(dec("0"), false)), Err(UnsupportedPrice::Free));
        let mut tiered = price(dec("10000"), false);
        tiered.seat_pricing = Some(Pricing::PerUnit { unit_amount: Decimal::ONE });
        assert_eq!(stripe_price(&tiered), Err(UnsupportedPrice::SeatTiers));
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
