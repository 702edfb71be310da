//! Subscriptions `sub_…` and their items `si_…` (<https://docs.stripe.com/api/subscriptions>):
//! creation, updates with prorations, trials and cancellation.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{find, find_mut, Store};
use crate::billing::{prorate, Interval, DAY};
use crate::error::ApiError;
use crate::fixtures;
use crate::form::{merge_metadata, Params};
use crate::ids;

/// One item of a subscription: a price and a quantity.
#[derive(Debug, Clone)]
pub struct SubItem {
    /// `si_…`.
    pub id: String,
    /// Price id.
    pub price: String,
    /// Quantity (ignored for metered prices, whose usage is billed).
    pub quantity: i64,
    /// Unix creation time.
    pub created: i64,
    /// Metadata.
    pub metadata: BTreeMap<String, String>,
}

/// A subscription.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// `sub_…`.
    pub id: String,
    /// Customer id.
    pub customer: String,
    /// `trialing`, `active`, `past_due`, `incomplete`, `canceled`.
    pub status: String,
    /// Items, in creation order.
    pub items: Vec<SubItem>,
    /// Currency of its prices.
    pub currency: String,
    /// Billing interval of its prices.
    pub interval: Interval,
    /// Billing cycle anchor: periods end at `interval` steps from it.
    pub anchor: i64,
    /// Start of the current period.
    pub period_start: i64,
    /// End of the current period.
    pub period_end: i64,
    /// Trial start, if it had a trial.
    pub trial_start: Option<i64>,
    /// Trial end, if it had a trial.
    pub trial_end: Option<i64>,
    /// Whether it ends at the end of the current period.
    pub cancel_at_period_end: bool,
    /// When it was asked to cancel.
    pub canceled_at: Option<i64>,
    /// When it ended.
    pub ended_at: Option<i64>,
    /// Metadata.
    pub metadata: BTreeMap<String, String>,
    /// Latest invoice id.
    pub latest_invoice: Option<String>,
    /// Whether `customer.subscription.trial_will_end` was sent for the current trial.
    pub trial_will_end_sent: bool,
    /// The coupon's discount applied to its invoices, if any.
    pub discount: Option<super::Discount>,
    /// Unix creation time.
    pub created: i64,
}

/// One wanted item change: keep/replace item `id` or add a new one.
struct ItemChange {
    id: Option<String>,
    price: Option<String>,
    quantity: Option<i64>,
    deleted: bool,
    metadata: Option<BTreeMap<String, String>>,
}

impl Subscription {
    /// Whether it still bills (not canceled, not incomplete_expired).
    pub fn live(&self) -> bool {
        matches!(
            self.status.as_str(),
            "trialing" | "active" | "past_due" | "incomplete" | "unpaid"
        )
    }

    /// The subscription as Stripe's `subscription` object.
    pub fn render(&self, store: &Store) -> Value {
        let mut o = fixtures::object("subscription");
        let items: Vec<Value> = self
            .items
            .iter()
            .map(|i| self.render_item(store, i))
            .collect();
        let cancel_at = self.cancel_at_period_end.then_some(self.period_end);
        let default_pm = store
            .customers
            .iter()
            .find(|c| c.id == self.customer)
            .and_then(|c| c.card.as_ref())
            .map(|c| c.id.clone());
        for (k, v) in [
            ("id", json!(self.id)),
            ("customer", json!(self.customer)),
            ("status", json!(self.status)),
            ("currency", json!(self.currency)),
            ("created", json!(self.created)),
            ("start_date", json!(self.created)),
            ("billing_cycle_anchor", json!(self.anchor)),
            ("billing_cycle_anchor_config", Value::Null),
            ("cancel_at", json!(cancel_at)),
            ("cancel_at_period_end", json!(self.cancel_at_period_end)),
            ("canceled_at", json!(self.canceled_at)),
            ("ended_at", json!(self.ended_at)),
            (
                "cancellation_details",
                json!({ "comment": null, "feedback": null, "reason": self.canceled_at.map(|_| "cancellation_requested") }),
            ),
            ("trial_start", json!(self.trial_start)),
            ("trial_end", json!(self.trial_end)),
            ("metadata", json!(self.metadata)),
            ("latest_invoice", json!(self.latest_invoice)),
            ("default_payment_method", json!(default_pm)),
            (
                "items",
                json!({ "object": "list", "data": items, "has_more": false, "url": format!("/v1/subscription_items?subscription={}", self.id) }),
            ),
            ("next_pending_invoice_item_invoice", Value::Null),
            ("pause_collection", Value::Null),
            ("pending_invoice_item_interval", Value::Null),
            ("pending_update", Value::Null),
            ("transfer_data", Value::Null),
            ("billing_thresholds", Value::Null),
            ("billing_schedules", json!([])),
            (
                "discounts",
                json!(self
                    .discount
                    .iter()
                    .map(|d| d.id.clone())
                    .collect::<Vec<_>>()),
            ),
            ("livemode", json!(false)),
        ] {
            o.insert(k.into(), v);
        }
        Value::Object(o)
    }

    /// One item as Stripe's `subscription_item` object.
    pub fn render_item(&self, store: &Store, item: &SubItem) -> Value {
        let mut o = fixtures::object("subscription_item");
        let price = store.prices.iter().find(|p| p.id == item.price);
        let metered = price.is_some_and(super::Price::metered);
        o.insert("id".into(), json!(item.id));
        o.insert("created".into(), json!(item.created));
        o.insert("metadata".into(), json!(item.metadata));
        o.insert(
            "price".into(),
            price.map_or(Value::Null, super::Price::render),
        );
        o.insert(
            "plan".into(),
            price.map_or(Value::Null, super::Price::render_plan),
        );
        o.insert(
            "quantity".into(),
            if metered {
                Value::Null
            } else {
                json!(item.quantity)
            },
        );
        o.insert("subscription".into(), json!(self.id));
        o.insert("current_period_start".into(), json!(self.period_start));
        o.insert("current_period_end".into(), json!(self.period_end));
        o.insert("billing_thresholds".into(), Value::Null);
        Value::Object(o)
    }
}

impl Store {
    /// The subscription's JSON, or 404.
    pub fn render_subscription(&self, id: &str) -> Result<Value, ApiError> {
        find(&self.subscriptions, id, "subscription", "id", |s| &s.id).map(|s| s.render(self))
    }

    /// `GET /v1/subscriptions` filtered by `customer`, `price` and `status` (default: all but
    /// canceled; `all` includes canceled ones), as Stripe lists them.
    pub fn list_subscriptions(&self, p: &Params) -> Result<Value, ApiError> {
        let customer = p.str("customer");
        let price = p.str("price");
        let status = p.str("status");
        let items = self
            .subscriptions
            .iter()
            .rev()
            .filter(|s| customer.is_none_or(|c| c == s.customer))
            .filter(|s| price.is_none_or(|pr| s.items.iter().any(|i| i.price == pr)))
            .filter(|s| match status {
                None => s.status != "canceled" && s.status != "incomplete_expired",
                Some("all") => true,
                Some(st) => st == s.status,
            })
            .map(|s| s.render(self))
            .collect();
        super::list("/v1/subscriptions", items, p)
    }

    /// Checks the prices of new items: they exist, are active and recurring, and share one
    /// currency and interval. Returns that currency and interval.
    pub fn check_item_prices(
        &self,
        prices: &[(String, String)],
    ) -> Result<(String, Interval), ApiError> {
        let mut shared: Option<(String, Interval)> = None;
        for (param, id) in prices {
            let price = find(&self.prices, id, "price", param, |p| &p.id)?;
            let recurring = price.recurring.as_ref().ok_or_else(|| {
                ApiError::invalid(param, format!("The price specified ({id}) is not a recurring price; subscriptions need recurring prices."))
            })?;
            if !price.active {
                return Err(ApiError::invalid(param, format!("The price specified ({id}) is inactive. This field only accepts active prices.")));
            }
            match &shared {
                None => shared = Some((price.currency.clone(), recurring.interval.clone())),
                Some((currency, interval)) => {
                    if *currency != price.currency || *interval != recurring.interval {
                        return Err(ApiError::invalid(param, "All prices on a subscription must have the same `currency` and recurring `interval`."));
                    }
                }
            }
        }
        shared.ok_or_else(|| ApiError::missing("items"))
    }

    /// Starts a subscription for `customer` with `(price, quantity)` items, an optional trial of
    /// `trial_days` and `metadata`, emitting `customer.subscription.created`, then bills its first
    /// invoice (`$0` during a trial). Returns the subscription id. Callers check the card first when
    /// a failed first payment must be refused (Checkout).
    pub fn start_subscription(
        &mut self,
        customer: &str,
        items: &[(String, i64)],
        trial_days: Option<i64>,
        metadata: BTreeMap<String, String>,
    ) -> Result<String, ApiError> {
        find(&self.customers, customer, "customer", "customer", |c| &c.id)?;
        let params: Vec<(String, String)> = items
            .iter()
            .enumerate()
            .map(|(i, (price, _))| (format!("items[{i}][price]"), price.clone()))
            .collect();
        let (currency, interval) = self.check_item_prices(&params)?;
        let now = self.now_for(Some(customer));
        let trial_end = trial_days.filter(|d| *d > 0).map(|d| now + d * DAY);
        let anchor = trial_end.unwrap_or(now);
        let sub = Subscription {
            id: ids::id("sub"),
            customer: customer.to_owned(),
            status: if trial_end.is_some() {
                "trialing"
            } else {
                "incomplete"
            }
            .to_owned(),
            items: items
                .iter()
                .map(|(price, quantity)| SubItem {
                    id: ids::id("si"),
                    price: price.clone(),
                    quantity: *quantity,
                    created: now,
                    metadata: BTreeMap::new(),
                })
                .collect(),
            currency,
            period_start: now,
            period_end: trial_end.unwrap_or_else(|| interval.boundary(anchor, 1)),
            interval,
            anchor,
            trial_start: trial_end.map(|_| now),
            trial_end,
            cancel_at_period_end: false,
            canceled_at: None,
            ended_at: None,
            metadata,
            latest_invoice: None,
            trial_will_end_sent: false,
            discount: None,
            created: now,
        };
        let id = sub.id.clone();
        let trialing = trial_end.is_some();
        self.subscriptions.push(sub);
        let created = self.render_subscription(&id)?;
        self.emit("customer.subscription.created", created, None);
        let lines = self.period_lines(&id, now, self.sub(&id)?.period_end, trialing)?;
        let invoice = self.create_invoice(
            customer,
            Some(&id),
            "subscription_create",
            lines,
            (now, now),
        )?;
        self.finalize_and_charge(&invoice)?;
        Ok(id)
    }

    /// `POST /v1/subscriptions`: `customer`, `items[i][price|quantity]`, `trial_period_days`,
    /// `metadata`. A failed first payment leaves the subscription `incomplete` with an open invoice.
    pub fn create_subscription(&mut self, p: &Params) -> Result<Value, ApiError> {
        let customer = p.require("customer")?.to_owned();
        let mut items = Vec::new();
        for item in p.list("items") {
            items.push((
                item.require("price")?.to_owned(),
                item.int("quantity")?.unwrap_or(1),
            ));
        }
        let id = self.start_subscription(
            &customer,
            &items,
            p.int("trial_period_days")?,
            p.map("metadata").unwrap_or_default(),
        )?;
        self.render_subscription(&id)
    }

    /// A subscription by id, or 404.
    pub fn sub(&self, id: &str) -> Result<&Subscription, ApiError> {
        find(
            &self.subscriptions,
            id,
            "subscription",
            "subscription",
            |s| &s.id,
        )
    }

    /// `POST /v1/subscriptions/{id}`: `items[i][id|price|quantity|deleted|metadata]`,
    /// `proration_behavior` (`create_prorations` default, `none`, `always_invoice`),
    /// `proration_date`, `cancel_at_period_end`, `trial_end` (`now` or a time), `metadata`.
    /// Emits `customer.subscription.updated` with `previous_attributes`, then, for
    /// `always_invoice` or an ended trial, the invoice's events.
    pub fn update_subscription(&mut self, id: &str, p: &Params) -> Result<Value, ApiError> {
        let sub = self.sub(id)?.clone();
        if sub.status == "canceled"
            && (p.has("items") || p.has("cancel_at_period_end") || p.has("trial_end"))
        {
            return Err(ApiError::invalid(
                "subscription",
                "A canceled subscription can only update its cancellation_details and metadata.",
            ));
        }
        let behaviour = p
            .str("proration_behavior")
            .unwrap_or("create_prorations")
            .to_owned();
        if !matches!(
            behaviour.as_str(),
            "create_prorations" | "none" | "always_invoice"
        ) {
            return Err(ApiError::invalid(
                "proration_behavior",
                format!("Invalid proration_behavior: {behaviour}"),
            ));
        }
        let now = self.now_for(Some(&sub.customer));
        let proration_date = p.int("proration_date")?.unwrap_or(now);
        let changes = parse_item_changes(p)?;
        let before = sub.render(self);
        let new_items = self.apply_item_changes(&sub, &changes)?;
        let items_changed = !changes.is_empty();

        let mut updated = sub.clone();
        updated.items = new_items;
        if let Some(flag) = p.bool("cancel_at_period_end")? {
            updated.cancel_at_period_end = flag;
            updated.canceled_at = flag.then_some(now);
        }
        merge_metadata(&mut updated.metadata, p.map("metadata"));
        // `discounts=` (empty) removes the discount; `discounts[0][coupon]` replaces it.
        if p.str("discounts") == Some("") {
            updated.discount = None;
        } else if let Some(first) = p.list("discounts").first() {
            let coupon = first.require("coupon").map_err(|_| {
                ApiError::invalid("discounts[0][coupon]", "Pass a coupon to apply.")
            })?;
            updated.discount = Some(self.new_discount(coupon, now, "discounts[0][coupon]")?);
        }
        let mut trial_ended = false;
        match p.str("trial_end") {
            None => {}
            Some("now") if updated.status == "trialing" => {
                updated.trial_end = Some(now);
                updated.anchor = now;
                updated.period_start = now;
                updated.period_end = updated.interval.boundary(now, 1);
                updated.status = "active".into();
                trial_ended = true;
            }
            Some("now") => {}
            Some(_) => {
                let end = p.int("trial_end")?.unwrap_or(now);
                if end <= now {
                    return Err(ApiError::invalid(
                        "trial_end",
                        "Invalid timestamp: must be an integer Unix timestamp in the future.",
                    ));
                }
                updated.trial_end = Some(end);
                updated.trial_start = updated.trial_start.or(Some(now));
                updated.anchor = end;
                updated.period_end = end;
                updated.status = "trialing".into();
                updated.trial_will_end_sent = false;
            }
        }
        let prorate_now = items_changed
            && behaviour != "none"
            && matches!(sub.status.as_str(), "active" | "past_due")
            && !trial_ended;
        if prorate_now {
            self.add_prorations(&sub, &updated, proration_date)?;
        }
        let index = self
            .subscriptions
            .iter()
            .position(|s| s.id == id)
            .ok_or_else(|| ApiError::no_such("subscription", id, "id"))?;
        self.subscriptions[index] = updated;
        let after = self.render_subscription(id)?;
        self.emit_changed("customer.subscription.updated", &before, after);
        if trial_ended {
            let sub = self.sub(id)?.clone();
            let lines = self.period_lines(id, sub.period_start, sub.period_end, false)?;
            let invoice = self.create_invoice(
                &sub.customer,
                Some(id),
                "subscription_update",
                lines,
                (now, now),
            )?;
            self.finalize_and_charge(&invoice)?;
        } else if prorate_now && behaviour == "always_invoice" {
            let lines = self.take_pending_lines(id);
            let invoice = self.create_invoice(
                &sub.customer,
                Some(id),
                "subscription_update",
                lines,
                (proration_date, proration_date),
            )?;
            self.finalize_and_charge(&invoice)?;
        }
        self.render_subscription(id)
    }

    fn apply_item_changes(
        &self,
        sub: &Subscription,
        changes: &[ItemChange],
    ) -> Result<Vec<SubItem>, ApiError> {
        let mut items = sub.items.clone();
        let now = self.now_for(Some(&sub.customer));
        let mut prices = Vec::new();
        for (i, change) in changes.iter().enumerate() {
            match &change.id {
                Some(item_id) => {
                    let position =
                        items.iter().position(|x| &x.id == item_id).ok_or_else(|| {
                            ApiError::no_such(
                                "subscription item",
                                item_id,
                                &format!("items[{i}][id]"),
                            )
                        })?;
                    if change.deleted {
                        items.remove(position);
                        continue;
                    }
                    let item = &mut items[position];
                    if let Some(price) = &change.price {
                        item.price = price.clone();
                        prices.push((format!("items[{i}][price]"), price.clone()));
                    }
                    if let Some(q) = change.quantity {
                        item.quantity = q;
                    }
                    merge_metadata(&mut item.metadata, change.metadata.clone());
                }
                None => {
                    let price = change
                        .price
                        .clone()
                        .ok_or_else(|| ApiError::missing(&format!("items[{i}][price]")))?;
                    prices.push((format!("items[{i}][price]"), price.clone()));
                    items.push(SubItem {
                        id: ids::id("si"),
                        price,
                        quantity: change.quantity.unwrap_or(1),
                        created: now,
                        metadata: change.metadata.clone().unwrap_or_default(),
                    });
                }
            }
        }
        if items.is_empty() {
            return Err(ApiError::invalid(
                "items",
                "A subscription must keep at least one item.",
            ));
        }
        if !prices.is_empty() {
            let (currency, interval) = self.check_item_prices(&prices)?;
            if currency != sub.currency || interval != sub.interval {
                return Err(ApiError::invalid(&prices[0].0, "All prices on a subscription must have the same `currency` and recurring `interval`."));
            }
        }
        Ok(items)
    }

    /// Pending invoice items for a change at time `at`: a credit for the unused time of every old
    /// licensed item that changed or went, a charge for the remaining time of every new or changed
    /// one, each `amount × (period_end − at) ÷ (period_end − period_start)` rounded to the minor unit
    /// (<https://docs.stripe.com/billing/subscriptions/prorations>).
    fn add_prorations(
        &mut self,
        old: &Subscription,
        new: &Subscription,
        at: i64,
    ) -> Result<(), ApiError> {
        let (start, end) = (old.period_start, old.period_end);
        if at < start || at >= end {
            return Err(ApiError::invalid(
                "proration_date",
                "The proration date must lie within the current billing period.",
            ));
        }
        let remaining = end - at;
        let total = end - start;
        let mut items = Vec::new();
        for item in &old.items {
            let kept = new.items.iter().find(|n| n.id == item.id);
            if kept.is_some_and(|n| n.price == item.price && n.quantity == item.quantity) {
                continue;
            }
            let Some(price) = self
                .prices
                .iter()
                .find(|p| p.id == item.price)
                .filter(|p| !p.metered())
            else {
                continue;
            };
            let amount = prorate(-price.amount(item.quantity), remaining, total);
            let description = format!(
                "Unused time on {} × {} after {}",
                item.quantity,
                self.product_name(&price.product),
                day(at)
            );
            items.push((
                item.id.clone(),
                price.id.clone(),
                item.quantity,
                amount,
                description,
            ));
        }
        for item in &new.items {
            let old_item = old.items.iter().find(|o| o.id == item.id);
            if old_item.is_some_and(|o| o.price == item.price && o.quantity == item.quantity) {
                continue;
            }
            let Some(price) = self
                .prices
                .iter()
                .find(|p| p.id == item.price)
                .filter(|p| !p.metered())
            else {
                continue;
            };
            let amount = prorate(price.amount(item.quantity), remaining, total);
            let description = format!(
                "Remaining time on {} × {} after {}",
                item.quantity,
                self.product_name(&price.product),
                day(at)
            );
            items.push((
                item.id.clone(),
                price.id.clone(),
                item.quantity,
                amount,
                description,
            ));
        }
        for (sub_item, price, quantity, amount, description) in items {
            self.pending_items.push(super::PendingItem {
                id: ids::id("ii"),
                customer: old.customer.clone(),
                subscription: old.id.clone(),
                sub_item,
                price,
                quantity,
                amount,
                currency: old.currency.clone(),
                description,
                period_start: at,
                period_end: end,
                proration_date: at,
            });
        }
        Ok(())
    }

    /// `DELETE /v1/subscriptions/{id}`: cancels at once; emits `customer.subscription.deleted`.
    pub fn cancel_subscription(&mut self, id: &str) -> Result<Value, ApiError> {
        let customer = self.sub(id)?.customer.clone();
        let now = self.now_for(Some(&customer));
        self.end_subscription(id, now)
    }

    /// Ends a subscription at `at` (immediate cancel or period end of `cancel_at_period_end`).
    pub fn end_subscription(&mut self, id: &str, at: i64) -> Result<Value, ApiError> {
        let sub = find_mut(&mut self.subscriptions, id, "subscription", "id", |s| &s.id)?;
        if sub.status == "canceled" {
            return Err(ApiError::invalid(
                "subscription",
                format!("This subscription is already canceled: {id}"),
            ));
        }
        sub.status = "canceled".into();
        sub.ended_at = Some(at);
        sub.canceled_at = sub.canceled_at.or(Some(at));
        sub.cancel_at_period_end = false;
        if sub.trial_end.is_some_and(|t| t > at) {
            sub.trial_end = Some(at);
        }
        let json = self.render_subscription(id)?;
        self.emit("customer.subscription.deleted", json.clone(), None);
        Ok(json)
    }

    /// A product's name, or its id when unknown.
    pub fn product_name(&self, id: &str) -> String {
        self.products
            .iter()
            .find(|p| p.id == id)
            .map_or_else(|| id.to_owned(), |p| p.name.clone())
    }
}

fn parse_item_changes(p: &Params) -> Result<Vec<ItemChange>, ApiError> {
    let mut out = Vec::new();
    for item in p.list("items") {
        out.push(ItemChange {
            id: item.str("id").map(str::to_owned),
            price: item.str("price").map(str::to_owned),
            quantity: item.int("quantity")?,
            deleted: item.bool("deleted")?.unwrap_or(false),
            metadata: item.map("metadata"),
        });
    }
    Ok(out)
}

/// `15 Mar 2026`, the date format of Stripe's proration descriptions.
fn day(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map_or_else(|| t.to_string(), |d| d.format("%-d %b %Y").to_string())
}
