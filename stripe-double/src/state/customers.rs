//! Customers `cus_…` and the card attached to each (<https://docs.stripe.com/api/customers>).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{find_mut, Store};
use crate::cards::{self, Card};
use crate::error::ApiError;
use crate::fixtures;
use crate::form::{merge_metadata, Params};
use crate::ids;

/// A customer.
#[derive(Debug, Clone)]
pub struct Customer {
    /// `cus_…`.
    pub id: String,
    /// Unix creation time.
    pub created: i64,
    /// E-mail address.
    pub email: Option<String>,
    /// Full name.
    pub name: Option<String>,
    /// Free-form description.
    pub description: Option<String>,
    /// Metadata.
    pub metadata: BTreeMap<String, String>,
    /// Prefix of invoice numbers (`7FE1103` → `7FE1103-0001`).
    pub invoice_prefix: String,
    /// Sequence number of the customer's next invoice.
    pub next_invoice_sequence: u32,
    /// The default card (`invoice_settings.default_payment_method`).
    pub card: Option<Card>,
    /// Frozen time of this customer's test clock, once advanced; `None` follows the wall clock.
    pub clock: Option<i64>,
}

impl Customer {
    /// The customer as Stripe's `customer` object.
    pub fn render(&self, store: &Store) -> Value {
        let mut o = fixtures::object("customer");
        let currency = store
            .subscriptions
            .iter()
            .find(|s| s.customer == self.id)
            .map(|s| s.currency.clone());
        let delinquent = store
            .invoices
            .iter()
            .any(|i| i.customer == self.id && i.status == "open" && i.attempt_count > 0);
        o.insert("id".into(), json!(self.id));
        o.insert("created".into(), json!(self.created));
        o.insert("email".into(), json!(self.email));
        o.insert("name".into(), json!(self.name));
        o.insert("description".into(), json!(self.description));
        o.insert("metadata".into(), json!(self.metadata));
        o.insert("invoice_prefix".into(), json!(self.invoice_prefix));
        o.insert(
            "next_invoice_sequence".into(),
            json!(self.next_invoice_sequence),
        );
        o.insert("currency".into(), json!(currency));
        o.insert("delinquent".into(), json!(delinquent));
        o.insert("discount".into(), Value::Null);
        o.insert("shipping".into(), Value::Null);
        o.insert("balance".into(), json!(0));
        if let Some(settings) = o.get_mut("invoice_settings") {
            settings["default_payment_method"] = json!(self.card.as_ref().map(|c| c.id.clone()));
        }
        Value::Object(o)
    }

    /// The customer's card as Stripe's `payment_method` object.
    pub fn render_card(&self, card: &Card) -> Value {
        let mut o = fixtures::object("payment_method");
        o.insert("id".into(), json!(card.id));
        o.insert("created".into(), json!(card.created));
        o.insert("customer".into(), json!(self.id));
        o.insert("metadata".into(), json!({}));
        o.insert("allow_redisplay".into(), json!("always"));
        if let Some(details) = o.get_mut("billing_details") {
            details["email"] = json!(self.email);
            details["name"] = json!(self.name);
        }
        if let Some(c) = o.get_mut("card") {
            c["brand"] = json!(card.brand);
            c["display_brand"] = json!(card.brand);
            c["last4"] = json!(card.last4);
            c["networks"]["available"] = json!([card.brand]);
            c["fingerprint"] = json!(format!("fp{}", card.last4));
            c["wallet"] = Value::Null;
            c["generated_from"] = Value::Null;
        }
        Value::Object(o)
    }
}

impl Store {
    /// `POST /v1/customers`: `email`, `name`, `description`, `metadata[…]`.
    pub fn create_customer(&mut self, p: &Params) -> Result<Value, ApiError> {
        let customer = Customer {
            id: ids::id("cus"),
            created: super::wall_clock(),
            email: p.str("email").map(str::to_owned),
            name: p.str("name").map(str::to_owned),
            description: p.str("description").map(str::to_owned),
            metadata: p.map("metadata").unwrap_or_default(),
            invoice_prefix: ids::random(8).to_uppercase(),
            next_invoice_sequence: 1,
            card: None,
            clock: None,
        };
        let json = customer.render(self);
        self.customers.push(customer);
        self.emit("customer.created", json.clone(), None);
        Ok(json)
    }

    /// `POST /v1/customers/{id}`: `email`, `name`, `description`, `metadata[…]`.
    pub fn update_customer(&mut self, id: &str, p: &Params) -> Result<Value, ApiError> {
        let before = self.render_customer(id)?;
        let customer = find_mut(&mut self.customers, id, "customer", "id", |c| &c.id)?;
        if let Some(email) = p.get("email") {
            customer.email = email.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
        }
        if let Some(name) = p.get("name") {
            customer.name = name.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
        }
        if let Some(d) = p.get("description") {
            customer.description = d.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
        }
        merge_metadata(&mut customer.metadata, p.map("metadata"));
        let after = self.render_customer(id)?;
        self.emit_changed("customer.updated", &before, after.clone());
        Ok(after)
    }

    /// The customer's JSON, or 404.
    pub fn render_customer(&self, id: &str) -> Result<Value, ApiError> {
        super::find(&self.customers, id, "customer", "id", |c| &c.id).map(|c| c.render(self))
    }

    /// `GET /v1/customers` filtered by `email` (exact, case-sensitive as Stripe's filter is).
    pub fn list_customers(&self, p: &Params) -> Result<Value, ApiError> {
        let email = p.str("email");
        let items = self
            .customers
            .iter()
            .rev()
            .filter(|c| email.is_none_or(|e| c.email.as_deref() == Some(e)))
            .map(|c| c.render(self))
            .collect();
        super::list("/v1/customers", items, p)
    }

    /// Attaches the card `number` as the customer's default payment method. Declined numbers
    /// (`4000000000000002`, …) are refused with Stripe's 402 card error and change nothing.
    /// Emits `payment_method.attached` and `customer.updated`.
    pub fn set_card(&mut self, customer_id: &str, number: &str) -> Result<Value, ApiError> {
        let (brand, behaviour) = cards::classify(number)?;
        let before = self.render_customer(customer_id)?;
        let now = self.now_for(Some(customer_id));
        let customer = find_mut(
            &mut self.customers,
            customer_id,
            "customer",
            "customer",
            |c| &c.id,
        )?;
        let card = Card {
            id: ids::id("pm"),
            brand,
            last4: cards::last4(number),
            behaviour,
            created: now,
        };
        let pm = customer.render_card(&card);
        customer.card = Some(card);
        self.emit("payment_method.attached", pm, None);
        let after = self.render_customer(customer_id)?;
        self.emit_changed("customer.updated", &before, after.clone());
        Ok(after)
    }
}
