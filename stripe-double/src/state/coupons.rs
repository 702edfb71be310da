//! Coupons and the discounts they give a subscription
//! (<https://docs.stripe.com/api/coupons>, <https://docs.stripe.com/billing/subscriptions/coupons>):
//! a coupon is a percentage (up to two decimals) or an amount off, once, for some months,
//! or forever; `POST /v1/subscriptions/{id}` with `discounts[0][coupon]` applies it, and
//! every invoice of the subscription while the discount lasts is reduced by it.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{find, Store};
use crate::billing::Interval;
use crate::error::ApiError;
use crate::fixtures;
use crate::form::Params;
use crate::ids;

/// What a coupon takes off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Off {
    /// Hundredths of a percent (`25.5 %` is 2550), so no float is kept.
    Percent(i64),
    /// Minor units of `currency`.
    Amount { amount: i64, currency: String },
}

/// A coupon.
#[derive(Debug, Clone)]
pub struct Coupon {
    /// Chosen id, or a random one.
    pub id: String,
    pub name: Option<String>,
    pub off: Off,
    /// `once`, `repeating`, `forever`.
    pub duration: String,
    /// For `repeating`.
    pub duration_in_months: Option<i64>,
    pub metadata: BTreeMap<String, String>,
    pub created: i64,
    /// Subscriptions it was applied to.
    pub times_redeemed: i64,
}

/// A coupon applied to a subscription.
#[derive(Debug, Clone)]
pub struct Discount {
    /// `di_…`.
    pub id: String,
    pub coupon: String,
    /// When it was applied.
    pub start: i64,
    /// When a `repeating` coupon stops applying.
    pub end: Option<i64>,
}

impl Coupon {
    /// The coupon as Stripe's `coupon` object (`percent_off` is a JSON number there).
    pub fn render(&self) -> Value {
        let mut o = fixtures::object("coupon");
        let (percent, amount, currency) = match &self.off {
            Off::Percent(h) => (json!(*h as f64 / 100.0), Value::Null, Value::Null),
            Off::Amount { amount, currency } => (Value::Null, json!(amount), json!(currency)),
        };
        for (k, v) in [
            ("id", json!(self.id)),
            ("name", json!(self.name)),
            ("percent_off", percent),
            ("amount_off", amount),
            ("currency", currency),
            ("duration", json!(self.duration)),
            ("duration_in_months", json!(self.duration_in_months)),
            ("metadata", json!(self.metadata)),
            ("created", json!(self.created)),
            ("times_redeemed", json!(self.times_redeemed)),
            ("max_redemptions", Value::Null),
            ("redeem_by", Value::Null),
            ("valid", json!(true)),
            ("livemode", json!(false)),
        ] {
            o.insert(k.into(), v);
        }
        Value::Object(o)
    }

    /// What it takes off `subtotal` (minor units; nothing off a zero or negative
    /// subtotal): a percentage rounded half up to the minor unit, or the amount, never
    /// more than the subtotal.
    pub fn amount_off(&self, subtotal: i64) -> i64 {
        if subtotal <= 0 {
            return 0;
        }
        match &self.off {
            Off::Percent(h) => (subtotal * h + 5_000) / 10_000,
            Off::Amount { amount, .. } => (*amount).min(subtotal),
        }
    }
}

/// `percent_off` as hundredths of a percent: above 0, at most 100, two decimals.
fn hundredths(raw: &str) -> Result<i64, ApiError> {
    let bad = || ApiError::invalid("percent_off", format!("Invalid decimal: {raw}"));
    let (whole, frac) = raw.split_once('.').unwrap_or((raw, ""));
    if frac.len() > 2
        || whole.is_empty()
        || !whole
            .chars()
            .chain(frac.chars())
            .all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let value = whole.parse::<i64>().map_err(|_| bad())? * 100
        + format!("{frac:0<2}").parse::<i64>().map_err(|_| bad())?;
    if value <= 0 || value > 10_000 {
        return Err(ApiError::invalid(
            "percent_off",
            "percent_off must be greater than 0 and at most 100.",
        ));
    }
    Ok(value)
}

impl Store {
    /// `POST /v1/coupons`: `id`, `name`, `percent_off` or `amount_off` with `currency`,
    /// `duration` (`once`, `repeating` with `duration_in_months`, `forever`), `metadata`.
    pub fn create_coupon(&mut self, p: &Params) -> Result<Value, ApiError> {
        let off = match (p.str("percent_off"), p.int("amount_off")?) {
            (Some(percent), None) => Off::Percent(hundredths(percent)?),
            (None, Some(amount)) if amount > 0 => Off::Amount {
                amount,
                currency: p.require("currency")?.to_ascii_lowercase(),
            },
            (None, Some(_)) => {
                return Err(ApiError::invalid(
                    "amount_off",
                    "amount_off must be a positive integer.",
                ))
            }
            _ => {
                return Err(ApiError::invalid(
                    "percent_off",
                    "You must pass exactly one of percent_off or amount_off.",
                ))
            }
        };
        let duration = p.str("duration").unwrap_or("once").to_owned();
        let months = p.int("duration_in_months")?;
        match (duration.as_str(), months) {
            ("repeating", Some(m)) if m > 0 => {}
            ("repeating", _) => {
                return Err(ApiError::invalid(
                    "duration_in_months",
                    "A repeating coupon needs a positive duration_in_months.",
                ))
            }
            ("once" | "forever", None) => {}
            ("once" | "forever", Some(_)) => {
                return Err(ApiError::invalid(
                    "duration_in_months",
                    "duration_in_months is only for repeating coupons.",
                ))
            }
            _ => {
                return Err(ApiError::invalid(
                    "duration",
                    format!("Invalid duration: {duration}"),
                ))
            }
        }
        let id = p.str("id").map_or_else(|| ids::random(8), str::to_owned);
        if self.coupons.iter().any(|c| c.id == id) {
            return Err(ApiError::invalid(
                "id",
                format!("Coupon already exists: {id}"),
            ));
        }
        let coupon = Coupon {
            id,
            name: p.str("name").map(str::to_owned),
            off,
            duration,
            duration_in_months: months,
            metadata: p.map("metadata").unwrap_or_default(),
            created: super::wall_clock(),
            times_redeemed: 0,
        };
        let json = coupon.render();
        self.coupons.push(coupon);
        self.emit("coupon.created", json.clone(), None);
        Ok(json)
    }

    /// `GET /v1/coupons/{id}`.
    pub fn render_coupon(&self, id: &str) -> Result<Value, ApiError> {
        find(&self.coupons, id, "coupon", "id", |c| &c.id).map(Coupon::render)
    }

    /// A discount of `coupon` starting at `now` (for `discounts[0][coupon]`).
    pub fn new_discount(
        &mut self,
        coupon: &str,
        now: i64,
        param: &str,
    ) -> Result<Discount, ApiError> {
        let c = self
            .coupons
            .iter_mut()
            .find(|c| c.id == coupon)
            .ok_or_else(|| ApiError::no_such("coupon", coupon, param))?;
        c.times_redeemed += 1;
        let end = match (c.duration.as_str(), c.duration_in_months) {
            ("repeating", Some(m)) => Some(
                Interval {
                    unit: "month".into(),
                    count: 1,
                }
                .boundary(now, u32::try_from(m).unwrap_or(u32::MAX)),
            ),
            _ => None,
        };
        Ok(Discount {
            id: ids::id("di"),
            coupon: coupon.to_owned(),
            start: now,
            end,
        })
    }

    /// `DELETE /v1/subscriptions/{id}/discount`: removes the subscription's discount
    /// (later invoices are at full price); emits `customer.subscription.updated`.
    pub fn delete_subscription_discount(&mut self, sub_id: &str) -> Result<Value, ApiError> {
        let before = self.render_subscription(sub_id)?;
        let sub = self
            .subscriptions
            .iter_mut()
            .find(|s| s.id == sub_id)
            .ok_or_else(|| ApiError::no_such("subscription", sub_id, "subscription_exposed_id"))?;
        let d = sub
            .discount
            .take()
            .ok_or_else(|| ApiError::no_such("discount", sub_id, "subscription_exposed_id"))?;
        let after = self.render_subscription(sub_id)?;
        self.emit_changed("customer.subscription.updated", &before, after);
        let mut o = fixtures::object("deleted_discount");
        for (k, v) in [
            ("id", json!(d.id)),
            ("object", json!("discount")),
            ("deleted", json!(true)),
            ("source", json!({ "type": "coupon", "coupon": d.coupon })),
            ("start", json!(d.start)),
            ("subscription", json!(sub_id)),
            ("customer", Value::Null),
        ] {
            o.insert(k.into(), v);
        }
        Ok(Value::Object(o))
    }

    /// The discount subscription `sub_id` gives an invoice of `subtotal` made at
    /// `at`: its id and the amount off, if it has one that applies then.
    pub fn discount_for(&self, sub_id: &str, subtotal: i64, at: i64) -> Option<(String, i64)> {
        let sub = self.subscriptions.iter().find(|s| s.id == sub_id)?;
        let d = sub
            .discount
            .as_ref()
            .filter(|d| d.start <= at && d.end.is_none_or(|e| at < e))?;
        let coupon = self.coupons.iter().find(|c| c.id == d.coupon)?;
        Some((d.id.clone(), coupon.amount_off(subtotal))).filter(|(_, off)| *off > 0)
    }

    /// After an invoice used subscription `sub_id`'s discount: a `once` coupon's
    /// discount ends.
    pub fn discount_used(&mut self, sub_id: &str) {
        let coupons = &self.coupons;
        if let Some(sub) = self.subscriptions.iter_mut().find(|s| s.id == sub_id) {
            let once = sub
                .discount
                .as_ref()
                .and_then(|d| coupons.iter().find(|c| c.id == d.coupon))
                .is_some_and(|c| c.duration == "once");
            if once {
                sub.discount = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_read_exactly_and_round_half_up() {
        assert_eq!(hundredths("25.5").unwrap(), 2550);
        assert_eq!(hundredths("50").unwrap(), 5000);
        assert!(
            hundredths("0").is_err()
                && hundredths("100.01").is_err()
                && hundredths("1.234").is_err()
                && hundredths("x").is_err()
        );
        let c = |off| Coupon {
            id: "c".into(),
            name: None,
            off,
            duration: "forever".into(),
            duration_in_months: None,
            metadata: BTreeMap::new(),
            created: 0,
            times_redeemed: 0,
        };
        assert_eq!(c(Off::Percent(5000)).amount_off(1900), 950);
        assert_eq!(
            c(Off::Percent(2550)).amount_off(1900),
            485,
            "484.5 rounds up"
        );
        assert_eq!(
            c(Off::Amount {
                amount: 2500,
                currency: "usd".into()
            })
            .amount_off(1900),
            1900,
            "never more than the subtotal"
        );
        assert_eq!(
            c(Off::Percent(5000)).amount_off(-300),
            0,
            "a credit is not discounted"
        );
    }
}
