//! The pricing parts of a catalog file: usage prices, seat tiers and coupons.
//!
//! ```toml
//! [plans.standard-ai.usage_prices]
//! api_calls = { model = "per_unit", unit_amount = "0.01" }
//! [plans.enterprise.prices.month]
//! amount = "10000"
//! seats = { model = "graduated", tiers = [{ up_to = 50, unit_amount = "50" }, { unit_amount = "25" }] }
//! [coupons.nonprofit]
//! name = "Non-profit"
//! percent_off = 50
//! duration = "forever"   # once | repeating (with duration_months) | forever
//! ```

use super::Validator;
use crate::coupon::{Coupon, Discount, Duration};
use crate::money::Currency;
use crate::rating::{Pricing, Tier};
use rust_decimal::Decimal;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPricing {
    model: String,
    #[serde(default)]
    unit_amount: Option<toml::Value>,
    #[serde(default)]
    size: Option<toml::Value>,
    #[serde(default)]
    amount: Option<toml::Value>,
    #[serde(default)]
    tiers: Vec<RawTier>,
    #[serde(default)]
    property: Option<String>,
    #[serde(default)]
    multiplier: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTier {
    #[serde(default)]
    up_to: Option<toml::Value>,
    #[serde(default)]
    unit_amount: Option<toml::Value>,
    #[serde(default)]
    flat_amount: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCoupon {
    name: String,
    #[serde(default)]
    percent_off: Option<toml::Value>,
    #[serde(default)]
    amount_off: Option<toml::Value>,
    duration: String,
    #[serde(default)]
    duration_months: Option<u32>,
}

impl Validator {
    fn required(&mut self, entry: &str, v: Option<&toml::Value>) -> Option<Decimal> {
        match v {
            Some(v) => self.number(entry, v),
            None => {
                self.issue(entry, "is required for this model");
                None
            }
        }
    }

    fn optional_zero(&mut self, entry: &str, v: Option<&toml::Value>) -> Option<Decimal> {
        match v {
            Some(v) => self.number(entry, v),
            None => Some(Decimal::ZERO),
        }
    }

    /// A pricing model, validated; `None` when refused (issues recorded).
    pub(super) fn pricing(&mut self, entry: &str, raw: RawPricing) -> Option<Pricing> {
        let pricing = match raw.model.as_str() {
            "per_unit" => Pricing::PerUnit {
                unit_amount: self
                    .required(&format!("{entry}.unit_amount"), raw.unit_amount.as_ref())?,
            },
            "package" => Pricing::Package {
                size: self.required(&format!("{entry}.size"), raw.size.as_ref())?,
                amount: self.required(&format!("{entry}.amount"), raw.amount.as_ref())?,
            },
            "graduated" | "volume" => {
                let mut tiers = Vec::with_capacity(raw.tiers.len());
                for (i, t) in raw.tiers.into_iter().enumerate() {
                    let te = format!("{entry}.tiers[{i}]");
                    let up_to = match &t.up_to {
                        Some(v) => Some(self.number(&format!("{te}.up_to"), v)?),
                        None => None,
                    };
                    let unit_amount =
                        self.optional_zero(&format!("{te}.unit_amount"), t.unit_amount.as_ref())?;
                    let flat_amount =
                        self.optional_zero(&format!("{te}.flat_amount"), t.flat_amount.as_ref())?;
                    tiers.push(Tier {
                        up_to,
                        unit_amount,
                        flat_amount,
                    });
                }
                if raw.model == "graduated" {
                    Pricing::Graduated { tiers }
                } else {
                    Pricing::Volume { tiers }
                }
            }
            "cost_plus" => Pricing::CostPlus {
                property: raw.property.clone().unwrap_or_default(),
                multiplier: self
                    .required(&format!("{entry}.multiplier"), raw.multiplier.as_ref())?,
            },
            other => {
                self.issue(format!("{entry}.model"), format!("`{other}` is not a pricing model (per_unit, package, graduated, volume, cost_plus)"));
                return None;
            }
        };
        match pricing.validate() {
            Ok(()) => Some(pricing),
            Err(e) => {
                self.issue(entry, e.to_string());
                None
            }
        }
    }

    /// A coupon, validated; `None` when refused.
    pub(super) fn coupon(
        &mut self,
        code: String,
        raw: RawCoupon,
        currency: Currency,
    ) -> Option<Coupon> {
        let entry = format!("coupons.{code}");
        let discount = match (&raw.percent_off, &raw.amount_off) {
            (Some(p), None) => {
                let p = self.number(&format!("{entry}.percent_off"), p)?;
                if p <= Decimal::ZERO || p > Decimal::ONE_HUNDRED {
                    self.issue(
                        format!("{entry}.percent_off"),
                        "must be above 0 and at most 100",
                    );
                }
                Discount::PercentOff(p)
            }
            (None, Some(a)) => {
                let a = self.number(&format!("{entry}.amount_off"), a)?;
                if a <= Decimal::ZERO || a.scale() > currency.minor_unit_scale() {
                    self.issue(
                        format!("{entry}.amount_off"),
                        format!("must be a positive {currency} amount"),
                    );
                }
                Discount::AmountOff(a)
            }
            _ => {
                self.issue(&entry, "give exactly one of percent_off and amount_off");
                return None;
            }
        };
        let duration = match (raw.duration.as_str(), raw.duration_months) {
            ("once", None) => Duration::Once,
            ("forever", None) => Duration::Forever,
            ("repeating", Some(months)) if months > 0 => Duration::Repeating { months },
            ("repeating", _) => {
                self.issue(
                    format!("{entry}.duration_months"),
                    "a repeating coupon needs duration_months of at least 1",
                );
                return None;
            }
            ("once" | "forever", Some(_)) => {
                self.issue(
                    format!("{entry}.duration_months"),
                    "only repeating coupons take duration_months",
                );
                return None;
            }
            (other, _) => {
                self.issue(
                    format!("{entry}.duration"),
                    format!("`{other}` is not a duration (once, repeating, forever)"),
                );
                return None;
            }
        };
        Some(Coupon {
            code: self.key(&entry, &code),
            name: self.text(&format!("{entry}.name"), raw.name),
            discount,
            duration,
        })
    }
}
