//! Products `prod_…` and prices `price_…` (<https://docs.stripe.com/api/products>,
//! <https://docs.stripe.com/api/prices>).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{find, find_mut, Store};
use crate::billing::{tiered_amount, Fine, Interval, Tier};
use crate::error::ApiError;
use crate::fixtures;
use crate::form::{merge_metadata, Params};
use crate::ids;

/// A product.
#[derive(Debug, Clone)]
pub struct Product {
    /// `prod_…` or the caller's own id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Whether it can be sold.
    pub active: bool,
    /// Metadata.
    pub metadata: BTreeMap<String, String>,
    /// Default price id.
    pub default_price: Option<String>,
    /// Unix creation time.
    pub created: i64,
    /// Unix time of the last update.
    pub updated: i64,
}

impl Product {
    /// The product as Stripe's `product` object.
    pub fn render(&self) -> Value {
        let mut o = fixtures::object("product");
        o.insert("id".into(), json!(self.id));
        o.insert("name".into(), json!(self.name));
        o.insert("description".into(), json!(self.description));
        o.insert("active".into(), json!(self.active));
        o.insert("metadata".into(), json!(self.metadata));
        o.insert("default_price".into(), json!(self.default_price));
        o.insert("created".into(), json!(self.created));
        o.insert("updated".into(), json!(self.updated));
        o.insert("package_dimensions".into(), Value::Null);
        o.insert("type".into(), json!("service"));
        Value::Object(o)
    }
}

/// The recurring part of a price.
#[derive(Debug, Clone)]
pub struct Recurring {
    /// Billing interval.
    pub interval: Interval,
    /// `licensed` (billed for the quantity, in advance) or `metered` (billed for usage, in arrears).
    pub usage_type: String,
    /// Meter `mtr_…` whose events measure the usage of a metered price.
    pub meter: Option<String>,
}

/// A price.
#[derive(Debug, Clone)]
pub struct Price {
    /// `price_…`.
    pub id: String,
    /// Product id.
    pub product: String,
    /// Whether new purchases may use it.
    pub active: bool,
    /// Three-letter ISO currency code, lower case.
    pub currency: String,
    /// Amount per unit in minor units, fractions allowed (`per_unit` prices).
    pub unit_amount: Option<Fine>,
    /// `transform_quantity`: usage divided by `divide_by` and rounded `up` or down before
    /// pricing (package pricing, <https://docs.stripe.com/products-prices/pricing-models#package-pricing>).
    pub transform_quantity: Option<(i64, bool)>,
    /// `per_unit` or `tiered`.
    pub billing_scheme: String,
    /// `graduated` or `volume` for tiered prices.
    pub tiers_mode: Option<String>,
    /// Tiers of a tiered price, in order.
    pub tiers: Vec<Tier>,
    /// Recurring settings; `None` for one-time prices.
    pub recurring: Option<Recurring>,
    /// Lookup key, unique among the account's prices.
    pub lookup_key: Option<String>,
    /// Nickname.
    pub nickname: Option<String>,
    /// Metadata.
    pub metadata: BTreeMap<String, String>,
    /// Unix creation time.
    pub created: i64,
}

impl Price {
    /// Whether usage, not quantity, is billed.
    pub fn metered(&self) -> bool {
        self.recurring
            .as_ref()
            .is_some_and(|r| r.usage_type == "metered")
    }

    /// The amount for `quantity` units in minor units, after `transform_quantity`, rounded once.
    pub fn amount(&self, quantity: i64) -> i64 {
        let quantity = match self.transform_quantity {
            Some((divide_by, up)) if divide_by > 0 => {
                let whole = quantity / divide_by;
                if up && quantity % divide_by != 0 {
                    whole + 1
                } else {
                    whole
                }
            }
            _ => quantity,
        };
        if self.billing_scheme == "tiered" {
            tiered_amount(
                &self.tiers,
                self.tiers_mode.as_deref().unwrap_or("graduated"),
                quantity,
            )
            .round()
        } else {
            self.unit_amount.unwrap_or_default().times(quantity).round()
        }
    }

    /// The price as Stripe's `price` object.
    pub fn render(&self) -> Value {
        let mut o = fixtures::object("price");
        o.insert("id".into(), json!(self.id));
        o.insert("product".into(), json!(self.product));
        o.insert("active".into(), json!(self.active));
        o.insert("currency".into(), json!(self.currency));
        o.insert(
            "unit_amount".into(),
            json!(self.unit_amount.and_then(Fine::exact)),
        );
        o.insert(
            "unit_amount_decimal".into(),
            json!(self.unit_amount.map(Fine::render)),
        );
        o.insert("billing_scheme".into(), json!(self.billing_scheme));
        o.insert("tiers_mode".into(), json!(self.tiers_mode));
        o.insert("lookup_key".into(), json!(self.lookup_key));
        o.insert("nickname".into(), json!(self.nickname));
        o.insert("metadata".into(), json!(self.metadata));
        o.insert("created".into(), json!(self.created));
        o.insert("custom_unit_amount".into(), Value::Null);
        o.insert(
            "transform_quantity".into(),
            self.transform_quantity.map_or(
                Value::Null,
                |(d, up)| json!({ "divide_by": d, "round": if up { "up" } else { "down" } }),
            ),
        );
        if self.billing_scheme == "tiered" {
            let tiers: Vec<Value> = self
                .tiers
                .iter()
                .map(|t| {
                    json!({
                        "up_to": t.up_to, "unit_amount": t.unit_amount.exact(), "unit_amount_decimal": t.unit_amount.render(),
                        "flat_amount": t.flat_amount, "flat_amount_decimal": t.flat_amount.to_string(),
                    })
                })
                .collect();
            o.insert("tiers".into(), json!(tiers));
        }
        match &self.recurring {
            Some(r) => {
                o.insert("type".into(), json!("recurring"));
                o.insert(
                    "recurring".into(),
                    json!({
                        "interval": r.interval.unit, "interval_count": r.interval.count, "meter": r.meter,
                        "usage_type": r.usage_type, "trial_period_days": null,
                    }),
                );
            }
            None => {
                o.insert("type".into(), json!("one_time"));
                o.insert("recurring".into(), Value::Null);
            }
        }
        Value::Object(o)
    }

    /// The legacy `plan` object Stripe still puts on subscription items, derived from the price.
    pub fn render_plan(&self) -> Value {
        let mut plan = fixtures::object("subscription_item")
            .remove("plan")
            .unwrap_or_else(|| json!({}));
        let r = self.recurring.as_ref();
        for (k, v) in [
            ("id", json!(self.id)),
            ("active", json!(self.active)),
            ("amount", json!(self.unit_amount.and_then(Fine::exact))),
            ("amount_decimal", json!(self.unit_amount.map(Fine::render))),
            ("billing_scheme", json!(self.billing_scheme)),
            ("created", json!(self.created)),
            ("currency", json!(self.currency)),
            (
                "interval",
                json!(r.map_or("month", |r| r.interval.unit.as_str())),
            ),
            ("interval_count", json!(r.map_or(1, |r| r.interval.count))),
            ("livemode", json!(false)),
            ("metadata", json!(self.metadata)),
            ("meter", json!(r.and_then(|r| r.meter.clone()))),
            ("nickname", json!(self.nickname)),
            ("product", json!(self.product)),
            ("tiers_mode", json!(self.tiers_mode)),
            (
                "transform_usage",
                self.transform_quantity.map_or(
                    Value::Null,
                    |(d, up)| json!({ "divide_by": d, "round": if up { "up" } else { "down" } }),
                ),
            ),
            (
                "usage_type",
                json!(r.map_or("licensed", |r| r.usage_type.as_str())),
            ),
        ] {
            plan[k] = v;
        }
        plan
    }
}

impl Store {
    /// `POST /v1/products`: `name` (required), optional own `id`, `description`, `active`, `metadata`.
    pub fn create_product(&mut self, p: &Params) -> Result<Value, ApiError> {
        let name = p.require("name")?.to_owned();
        let id = p.str("id").map_or_else(|| ids::id("prod"), str::to_owned);
        if self.products.iter().any(|x| x.id == id) {
            return Err(ApiError::invalid(
                "id",
                format!("Product already exists: {id}"),
            ));
        }
        let now = super::wall_clock();
        let product = Product {
            id,
            name,
            description: p.str("description").map(str::to_owned),
            active: p.bool("active")?.unwrap_or(true),
            metadata: p.map("metadata").unwrap_or_default(),
            default_price: None,
            created: now,
            updated: now,
        };
        let json = product.render();
        self.products.push(product);
        self.emit("product.created", json.clone(), None);
        Ok(json)
    }

    /// `POST /v1/products/{id}`: `name`, `description`, `active`, `metadata`, `default_price`.
    pub fn update_product(&mut self, id: &str, p: &Params) -> Result<Value, ApiError> {
        if let Some(price) = p.str("default_price") {
            find(&self.prices, price, "price", "default_price", |x| &x.id)?;
        }
        let product = find_mut(&mut self.products, id, "product", "id", |x| &x.id)?;
        let before = product.render();
        if let Some(name) = p.str("name") {
            product.name = name.to_owned();
        }
        if let Some(d) = p.str("description") {
            product.description = Some(d.to_owned()).filter(|s| !s.is_empty());
        }
        if let Some(active) = p.bool("active")? {
            product.active = active;
        }
        if let Some(price) = p.str("default_price") {
            product.default_price = Some(price.to_owned());
        }
        merge_metadata(&mut product.metadata, p.map("metadata"));
        product.updated = super::wall_clock();
        let after = product.render();
        self.emit_changed("product.updated", &before, after.clone());
        Ok(after)
    }

    /// `GET /v1/products` filtered by `active` and `ids[]`.
    pub fn list_products(&self, p: &Params) -> Result<Value, ApiError> {
        let active = p.bool("active")?;
        let wanted = p.strings("ids");
        let items = self
            .products
            .iter()
            .rev()
            .filter(|x| active.is_none_or(|a| a == x.active))
            .filter(|x| wanted.is_empty() || wanted.contains(&x.id))
            .map(Product::render)
            .collect();
        super::list("/v1/products", items, p)
    }

    /// `POST /v1/prices`: `currency`, `product`, `unit_amount` or `billing_scheme=tiered` with
    /// `tiers[i][up_to|unit_amount|flat_amount]` and `tiers_mode`, `recurring[interval|interval_count|
    /// usage_type|meter]`, `lookup_key`, `transfer_lookup_key`, `nickname`, `metadata`, `active`.
    pub fn create_price(&mut self, p: &Params) -> Result<Value, ApiError> {
        let currency = p.require("currency")?.to_lowercase();
        let product = p.require("product")?.to_owned();
        find(&self.products, &product, "product", "product", |x| &x.id)?;
        let billing_scheme = p.str("billing_scheme").unwrap_or("per_unit").to_owned();
        let (unit_amount, tiers, tiers_mode) = match billing_scheme.as_str() {
            "per_unit" => (
                Some(unit_amount(p)?.ok_or_else(|| ApiError::missing("unit_amount"))?),
                Vec::new(),
                None,
            ),
            "tiered" => {
                let mode = p.require("tiers_mode")?.to_owned();
                if mode != "graduated" && mode != "volume" {
                    return Err(ApiError::invalid(
                        "tiers_mode",
                        format!("Invalid tiers_mode: {mode}"),
                    ));
                }
                (None, parse_tiers(p)?, Some(mode))
            }
            other => {
                return Err(ApiError::invalid(
                    "billing_scheme",
                    format!("Invalid billing_scheme: {other}"),
                ))
            }
        };
        if unit_amount.is_some_and(|a| a < Fine(0)) {
            return Err(ApiError::invalid(
                "unit_amount",
                "This value must be greater than or equal to 0.",
            ));
        }
        let transform_quantity = if p.has("transform_quantity") {
            let t = p.child("transform_quantity");
            let divide_by = t.int("divide_by")?.filter(|d| *d > 0).ok_or_else(|| {
                ApiError::invalid(
                    &t.name("divide_by"),
                    "divide_by must be a positive integer.",
                )
            })?;
            let up = match t.require("round")? {
                "up" => true,
                "down" => false,
                other => {
                    return Err(ApiError::invalid(
                        &t.name("round"),
                        format!("Invalid round: {other}"),
                    ))
                }
            };
            if billing_scheme == "tiered" {
                return Err(ApiError::invalid(
                    "transform_quantity",
                    "transform_quantity cannot be used with tiered prices.",
                ));
            }
            Some((divide_by, up))
        } else {
            None
        };
        let recurring = if p.has("recurring") {
            Some(self.parse_recurring(&p.child("recurring"))?)
        } else {
            None
        };
        let lookup_key = p.str("lookup_key").map(str::to_owned);
        self.claim_lookup_key(
            lookup_key.as_deref(),
            p.bool("transfer_lookup_key")?.unwrap_or(false),
            None,
        )?;
        let price = Price {
            id: ids::id("price"),
            product,
            active: p.bool("active")?.unwrap_or(true),
            currency,
            unit_amount,
            transform_quantity,
            billing_scheme,
            tiers_mode,
            tiers,
            recurring,
            lookup_key,
            nickname: p.str("nickname").map(str::to_owned),
            metadata: p.map("metadata").unwrap_or_default(),
            created: super::wall_clock(),
        };
        let json = price.render();
        self.prices.push(price);
        self.emit("price.created", json.clone(), None);
        Ok(json)
    }

    fn parse_recurring(&self, r: &Params) -> Result<Recurring, ApiError> {
        let unit = r.require("interval")?.to_owned();
        if !Interval::valid_unit(&unit) {
            return Err(ApiError::invalid(
                &r.name("interval"),
                format!("Invalid interval: {unit}"),
            ));
        }
        let count = r.int("interval_count")?.unwrap_or(1);
        let count = u32::try_from(count)
            .ok()
            .filter(|c| *c >= 1)
            .ok_or_else(|| {
                ApiError::invalid(
                    &r.name("interval_count"),
                    "interval_count must be at least 1.",
                )
            })?;
        let usage_type = r.str("usage_type").unwrap_or("licensed").to_owned();
        let meter = r.str("meter").map(str::to_owned);
        match usage_type.as_str() {
            "licensed" => {}
            "metered" => {
                let id = meter
                    .as_deref()
                    .ok_or_else(|| ApiError::missing(&r.name("meter")))?;
                find(&self.meters, id, "billing meter", &r.name("meter"), |m| {
                    &m.id
                })?;
            }
            other => {
                return Err(ApiError::invalid(
                    &r.name("usage_type"),
                    format!("Invalid usage_type: {other}"),
                ))
            }
        }
        Ok(Recurring {
            interval: Interval { unit, count },
            usage_type,
            meter,
        })
    }

    /// Makes `key` free for price `owner`: with `transfer`, takes it from the price holding it;
    /// without, refuses a key already in use (Stripe's rule for `lookup_key`).
    fn claim_lookup_key(
        &mut self,
        key: Option<&str>,
        transfer: bool,
        owner: Option<&str>,
    ) -> Result<(), ApiError> {
        let Some(key) = key.filter(|k| !k.is_empty()) else {
            return Ok(());
        };
        if let Some(holder) = self
            .prices
            .iter_mut()
            .find(|x| x.lookup_key.as_deref() == Some(key) && Some(x.id.as_str()) != owner)
        {
            if !transfer {
                return Err(ApiError::invalid(
                    "lookup_key",
                    format!("A price (`{}`) already uses that lookup key. Pass `transfer_lookup_key=true` to move it.", holder.id),
                ));
            }
            holder.lookup_key = None;
        }
        Ok(())
    }

    /// `POST /v1/prices/{id}`: `active`, `lookup_key`, `transfer_lookup_key`, `nickname`, `metadata`.
    pub fn update_price(&mut self, id: &str, p: &Params) -> Result<Value, ApiError> {
        find(&self.prices, id, "price", "price", |x| &x.id)?;
        if let Some(key) = p.str("lookup_key") {
            self.claim_lookup_key(
                Some(key),
                p.bool("transfer_lookup_key")?.unwrap_or(false),
                Some(id),
            )?;
        }
        let price = find_mut(&mut self.prices, id, "price", "price", |x| &x.id)?;
        let before = price.render();
        if let Some(active) = p.bool("active")? {
            price.active = active;
        }
        if let Some(key) = p.str("lookup_key") {
            price.lookup_key = Some(key.to_owned()).filter(|k| !k.is_empty());
        }
        if let Some(n) = p.str("nickname") {
            price.nickname = Some(n.to_owned()).filter(|k| !k.is_empty());
        }
        merge_metadata(&mut price.metadata, p.map("metadata"));
        let after = price.render();
        self.emit_changed("price.updated", &before, after.clone());
        Ok(after)
    }

    /// `GET /v1/prices` filtered by `active`, `product`, `currency`, `type`, `lookup_keys[]`.
    pub fn list_prices(&self, p: &Params) -> Result<Value, ApiError> {
        let active = p.bool("active")?;
        let product = p.str("product");
        let currency = p.str("currency");
        let kind = p.str("type");
        let keys = p.strings("lookup_keys");
        let items = self
            .prices
            .iter()
            .rev()
            .filter(|x| active.is_none_or(|a| a == x.active))
            .filter(|x| product.is_none_or(|id| id == x.product))
            .filter(|x| currency.is_none_or(|c| c == x.currency))
            .filter(|x| kind.is_none_or(|k| (k == "recurring") == x.recurring.is_some()))
            .filter(|x| keys.is_empty() || x.lookup_key.as_ref().is_some_and(|k| keys.contains(k)))
            .map(Price::render)
            .collect();
        super::list("/v1/prices", items, p)
    }
}

fn parse_tiers(p: &Params) -> Result<Vec<Tier>, ApiError> {
    let tiers = p.list("tiers");
    if tiers.is_empty() {
        return Err(ApiError::missing("tiers"));
    }
    let mut out = Vec::new();
    for (i, t) in tiers.iter().enumerate() {
        let up_to = match t.require("up_to")? {
            "inf" => None,
            s => Some(s.parse().map_err(|_| {
                ApiError::invalid(&t.name("up_to"), format!("Invalid integer: {s}"))
            })?),
        };
        if up_to.is_none() && i + 1 != tiers.len() {
            return Err(ApiError::invalid(
                &t.name("up_to"),
                "Only the last tier may have `up_to=inf`.",
            ));
        }
        out.push(Tier {
            up_to,
            unit_amount: unit_amount(t)?.unwrap_or_default(),
            flat_amount: t.int("flat_amount")?.unwrap_or(0),
        });
    }
    if out.last().is_some_and(|t| t.up_to.is_some()) {
        return Err(ApiError::invalid(
            "tiers",
            "The last tier must have `up_to=inf`.",
        ));
    }
    Ok(out)
}

/// `unit_amount` (whole minor units) or `unit_amount_decimal` (up to 12 decimal places) of `p`;
/// both at once is refused, as Stripe does.
fn unit_amount(p: &Params) -> Result<Option<Fine>, ApiError> {
    let whole = p.int("unit_amount")?.map(Fine::whole);
    let decimal = match p.str("unit_amount_decimal") {
        Some(s) => Some(Fine::parse(s).ok_or_else(|| {
            ApiError::invalid(
                &p.name("unit_amount_decimal"),
                format!("Invalid decimal: {s}"),
            )
        })?),
        None => None,
    };
    match (whole, decimal) {
        (Some(_), Some(_)) => Err(ApiError::invalid(
            &p.name("unit_amount"),
            "You may only specify one of these parameters: unit_amount, unit_amount_decimal.",
        )),
        (w, d) => Ok(w.or(d)),
    }
}
