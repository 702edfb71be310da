//! The catalog: meters (what is measured), features (what a plan grants) and plans
//! (prices, feature values and limits), plus the usage thresholds that notify.
//!
//! The catalog is data (PRODUCT.md "Domain"): it is read from a TOML file by
//! [`file::parse`], stored in PostgreSQL, and never written into Rust code.

#[cfg(feature = "ssr")]
pub mod edit;
pub mod file;
pub mod theme;
pub mod value;

pub use theme::Theme;
pub use value::FeatureValue;

use crate::coupon::Coupon;
use crate::keys::Key;
use crate::limits::{Limit, Threshold};
use crate::money::{Currency, Money};
use crate::period::{Interval, Reset};
use crate::rating::Pricing;
use serde::{Deserialize, Serialize};

/// How a meter turns events into a period's usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Adds whole-unit quantities (each query counts 1).
    Count,
    /// Adds decimal quantities (tokens, dollars of provider cost).
    Sum,
    /// The largest reported value (peak documents).
    Max,
    /// The most recent reported value by event time (current storage).
    Last,
}

impl Aggregation {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregation::Count => "count",
            Aggregation::Sum => "sum",
            Aggregation::Max => "max",
            Aggregation::Last => "last",
        }
    }

    /// Count and sum accumulate, so usage can be consumed and projected; max and
    /// last report a level.
    pub fn accumulates(self) -> bool {
        matches!(self, Aggregation::Count | Aggregation::Sum)
    }
}

/// A billable metric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meter {
    /// Stable key used by events and checks (`queries`).
    pub key: Key,
    /// Display name (`Queries`).
    pub name: String,
    /// Unit, singular (`query`, `GB`).
    pub unit: String,
    /// How events aggregate.
    pub aggregation: Aggregation,
    /// When usage starts again from zero.
    pub reset: Reset,
    /// One sentence for the pricing page.
    pub description: String,
    /// Event properties the usage history is broken down by (at most
    /// [`MAX_GROUP_BY`], each a property name such as `model` or `provider`;
    /// issue 13, seed 001's cost per provider and model). Empty: none.
    #[serde(default)]
    pub group_by: Vec<String>,
    /// A numeric event property the usage history sums beside the quantity
    /// (`cost_usd`: seed 001's provider cost, a plain decimal string or number).
    #[serde(default)]
    pub cost_property: Option<String>,
}

/// The most event properties a meter's history may be broken down by.
pub const MAX_GROUP_BY: usize = 3;

/// Whether `s` may name an event property in the catalog: 1 to 64 ASCII letters,
/// digits, `_`, `-` or `.`.
pub fn is_property_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// The time window of a rate feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateWindow {
    /// A calendar minute (UTC), `hh:mm:00` to `hh:mm+1:00`.
    Minute,
}

impl RateWindow {
    /// The window's length in seconds.
    pub fn seconds(self) -> i64 {
        match self {
            RateWindow::Minute => 60,
        }
    }
}

/// What kind of value a feature takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FeatureKind {
    /// On or off (`sso_enabled`).
    Boolean,
    /// A number or unlimited (`storage_limit_gb`).
    Numeric {
        /// Unit for display, if any.
        unit: Option<String>,
    },
    /// One of a fixed list (`support_level`: community, email, priority).
    Enum {
        /// The allowed values, lowest first.
        values: Vec<String>,
    },
    /// A rate limit: at most the plan's value of calls per window
    /// (`api_calls_per_minute`), enforced by `/api/v1/check`.
    Rate {
        /// The window.
        per: RateWindow,
    },
}

/// A capability a plan grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feature {
    /// Stable key (`sso_enabled`).
    pub key: Key,
    /// Display name.
    pub name: String,
    /// Value kind.
    pub kind: FeatureKind,
    /// One sentence for the pricing page.
    pub description: String,
}

/// Who a plan is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// One person's account.
    Individual,
    /// An organization with members and seats.
    Team,
}

/// A plan's price for one interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    /// Billing interval.
    pub interval: Interval,
    /// Amount per interval (per seat when `per_seat`), in major units.
    pub amount: Money,
    /// Charged per seat.
    pub per_seat: bool,
    /// Seats priced by a model (graduated per-seat tiers of seed 002's enterprise
    /// plan); `amount` is then a flat base fee on top. `None`: `per_seat` decides.
    pub seat_pricing: Option<Pricing>,
}

/// A plan of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Stable key (`starter`).
    pub key: Key,
    /// Display name.
    pub name: String,
    /// One sentence for the pricing page.
    pub description: String,
    /// Individual or team.
    pub audience: Audience,
    /// Chosen on the pricing page; otherwise "contact sales".
    pub self_serve: bool,
    /// Shown on the pricing page.
    pub public: bool,
    /// Trial length for new paid subscriptions, in days.
    pub trial_days: u32,
    /// Short selling points for the plan's card.
    pub highlights: Vec<String>,
    /// Prices per interval (none for a custom-priced plan).
    pub prices: Vec<Price>,
    /// Feature values; a feature missing here is not granted.
    pub features: Vec<(Key, FeatureValue)>,
    /// Limits per meter; a meter missing here is unlimited.
    pub limits: Vec<(Key, Limit)>,
    /// Usage prices per meter: usage above the limit's included quantity (all usage
    /// when unlimited; the provider cost for cost-plus) is charged by the model.
    pub usage_prices: Vec<(Key, Pricing)>,
}

impl Plan {
    /// The price for `interval`, if the plan has one.
    pub fn price(&self, interval: Interval) -> Option<&Price> {
        self.prices.iter().find(|p| p.interval == interval)
    }

    /// The price a subscriber on `interval` pays: the grandfathered price `kept`
    /// for them when a catalog version changed the plan's price after they
    /// subscribed (issue 11 §3), else the plan's current price for `interval`.
    pub fn price_for<'a>(
        &'a self,
        interval: Interval,
        kept: Option<&'a Price>,
    ) -> Option<&'a Price> {
        kept.or_else(|| self.price(interval))
    }

    /// Every price whose amount, seat pricing or presence differs between `self`
    /// (the plan in an older catalog) and `newer`: the older price, per interval.
    /// These are the prices the plan's subscribers keep when `newer` is published.
    pub fn changed_prices<'a>(&'a self, newer: &Plan) -> Vec<&'a Price> {
        self.prices
            .iter()
            .filter(|p| newer.price(p.interval) != Some(*p))
            .collect()
    }

    /// The limit on `meter` (unlimited when the plan does not name it).
    pub fn limit(&self, meter: &str) -> Limit {
        self.limits
            .iter()
            .find(|(k, _)| k.as_str() == meter)
            .map(|(_, l)| l.clone())
            .unwrap_or_else(Limit::unlimited)
    }

    /// The usage price of `meter`, if the plan charges for its usage.
    pub fn usage_price(&self, meter: &str) -> Option<&Pricing> {
        self.usage_prices
            .iter()
            .find(|(k, _)| k.as_str() == meter)
            .map(|(_, p)| p)
    }

    /// The plan's value of `feature`, if granted.
    pub fn feature(&self, feature: &str) -> Option<&FeatureValue> {
        self.features
            .iter()
            .find(|(k, _)| k.as_str() == feature)
            .map(|(_, v)| v)
    }

    /// True when every price is zero and no usage is charged (a free plan has no
    /// trial and no payment; a $0 pay-as-you-go plan is not free).
    pub fn is_free(&self) -> bool {
        !self.prices.is_empty()
            && self
                .prices
                .iter()
                .all(|p| p.amount.amount.is_zero() && p.seat_pricing.is_none())
            && self.usage_prices.is_empty()
    }

    /// Trial days a new subscription on `interval` gets: none for free plans.
    pub fn trial_days_for_new_subscription(&self) -> u32 {
        if self.is_free() {
            0
        } else {
            self.trial_days
        }
    }
}

/// A question and answer for the pricing page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faq {
    /// The question.
    pub question: String,
    /// The answer.
    pub answer: String,
}

/// A whole catalog, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// Catalog key (`emtchat`).
    pub name: Key,
    /// Product name shown on pages (`EMTChat`).
    pub title: String,
    /// Currency of every price.
    pub currency: Currency,
    /// The embeddable widgets' colors and font (`[catalog.theme]`).
    pub theme: Theme,
    /// Usage thresholds, ascending by percent.
    pub thresholds: Vec<Threshold>,
    /// Meters in display order.
    pub meters: Vec<Meter>,
    /// Features in display order.
    pub features: Vec<Feature>,
    /// Plans in display order.
    pub plans: Vec<Plan>,
    /// Pricing-page questions.
    pub faq: Vec<Faq>,
    /// Coupons an operator may apply to accounts.
    pub coupons: Vec<Coupon>,
}

/// What a name given to `/api/v1/check` refers to.
#[derive(Debug, Clone, Copy)]
pub enum Entitlement<'a> {
    /// A meter, checked against the plan's limit.
    Meter(&'a Meter),
    /// A feature, checked against the plan's value.
    Feature(&'a Feature),
}

impl Catalog {
    /// The plan with `key`.
    pub fn plan(&self, key: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.key.as_str() == key)
    }

    /// The coupon with `code`.
    pub fn coupon(&self, code: &str) -> Option<&Coupon> {
        self.coupons.iter().find(|c| c.code.as_str() == code)
    }

    /// The meter with `key`.
    pub fn meter(&self, key: &str) -> Option<&Meter> {
        self.meters.iter().find(|m| m.key.as_str() == key)
    }

    /// The feature with `key`.
    pub fn feature(&self, key: &str) -> Option<&Feature> {
        self.features.iter().find(|f| f.key.as_str() == key)
    }

    /// Resolves a check's `feature` name: meters and features share one namespace.
    pub fn entitlement(&self, name: &str) -> Option<Entitlement<'_>> {
        self.meter(name)
            .map(Entitlement::Meter)
            .or_else(|| self.feature(name).map(Entitlement::Feature))
    }

    /// Public plans in display order, for the pricing page.
    pub fn public_plans(&self) -> impl Iterator<Item = &Plan> {
        self.plans.iter().filter(|p| p.public)
    }

    /// The cheapest public self-serve plan, other than `current`, whose limit on
    /// `meter` is larger (or unlimited): what an upgrade prompt suggests.
    pub fn upgrade_for(&self, current: &str, meter: &str, interval: Interval) -> Option<&Plan> {
        let current_included = self.plan(current).map(|p| p.limit(meter).included);
        self.public_plans()
            .filter(|p| {
                p.self_serve && p.key.as_str() != current && p.audience == Audience::Individual
            })
            .filter(|p| match (current_included, p.limit(meter).included) {
                (Some(Some(have)), Some(offer)) => offer > have,
                (Some(Some(_)), None) => true,
                _ => false,
            })
            .filter_map(|p| p.price(interval).map(|price| (p, price.amount.amount)))
            .min_by(|a, b| a.1.cmp(&b.1))
            .map(|(p, _)| p)
    }
}

#[cfg(test)]
mod presets_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod worked_examples_tests;
