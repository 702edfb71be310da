//! Checkout Sessions `cs_test_…` in `subscription` mode and Billing Portal sessions `bps_…`
//! (<https://docs.stripe.com/api/checkout/sessions>, <https://docs.stripe.com/api/customer_portal/sessions>).
//! Their `url`s point at the double's hosted pages (see `pages`).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{find, find_mut, Store};
use crate::cards::{self, CardBehaviour};
use crate::error::ApiError;
use crate::fixtures;
use crate::form::Params;
use crate::ids;

/// A Checkout Session.
#[derive(Debug, Clone)]
pub struct CheckoutSession {
    /// `cs_test_…`.
    pub id: String,
    /// Existing customer id, or the one created on payment.
    pub customer: Option<String>,
    /// E-mail to create the customer with when none was given.
    pub customer_email: Option<String>,
    /// `(price, quantity)` items.
    pub line_items: Vec<(String, i64)>,
    /// The caller's reference (e.g. an organization id).
    pub client_reference_id: Option<String>,
    /// `subscription_data[trial_period_days]`.
    pub trial_days: Option<i64>,
    /// `subscription_data[metadata]`.
    pub subscription_metadata: BTreeMap<String, String>,
    /// Where to go after paying; `{CHECKOUT_SESSION_ID}` is replaced by the id.
    pub success_url: String,
    /// Where "back" goes.
    pub cancel_url: Option<String>,
    /// Metadata.
    pub metadata: BTreeMap<String, String>,
    /// `open`, `complete` or `expired`.
    pub status: String,
    /// `unpaid`, `paid` or `no_payment_required`.
    pub payment_status: String,
    /// Subscription created on payment.
    pub subscription: Option<String>,
    /// First invoice of that subscription.
    pub invoice: Option<String>,
    /// Currency of the items.
    pub currency: String,
    /// Total of the first period in minor units.
    pub amount_total: i64,
    /// Unix creation time.
    pub created: i64,
    /// Unix expiry time (24 hours after creation).
    pub expires_at: i64,
}

impl CheckoutSession {
    /// The session as Stripe's `checkout.session` object.
    pub fn render(&self, store: &Store) -> Value {
        let mut o = fixtures::object("checkout.session");
        let open = self.status == "open";
        let customer = self
            .customer
            .as_ref()
            .and_then(|id| store.customers.iter().find(|c| &c.id == id));
        let details = customer.filter(|_| self.status == "complete").map_or(Value::Null, |c| {
            json!({
                "address": null, "email": c.email, "name": c.name, "phone": null, "tax_exempt": "none",
                "tax_ids": [], "business_name": null, "individual_name": null,
            })
        });
        for (k, v) in [
            ("id", json!(self.id)),
            ("mode", json!("subscription")),
            ("status", json!(self.status)),
            ("payment_status", json!(self.payment_status)),
            ("customer", json!(self.customer)),
            ("customer_email", json!(self.customer_email)),
            (
                "customer_creation",
                json!(
                    if self.customer.is_none() || self.customer_email.is_some() {
                        Some("always")
                    } else {
                        None
                    }
                ),
            ),
            ("customer_details", details),
            ("client_reference_id", json!(self.client_reference_id)),
            ("subscription", json!(self.subscription)),
            ("invoice", json!(self.invoice)),
            ("success_url", json!(self.success_url)),
            ("cancel_url", json!(self.cancel_url)),
            ("metadata", json!(self.metadata)),
            ("currency", json!(self.currency)),
            ("amount_subtotal", json!(self.amount_total)),
            ("amount_total", json!(self.amount_total)),
            (
                "total_details",
                json!({ "amount_discount": 0, "amount_shipping": 0, "amount_tax": 0 }),
            ),
            ("created", json!(self.created)),
            ("expires_at", json!(self.expires_at)),
            (
                "url",
                json!(open.then(|| format!("{}/checkout/{}", store.public_url, self.id))),
            ),
            ("payment_intent", Value::Null),
            ("invoice_creation", Value::Null),
            ("after_expiration", Value::Null),
            ("consent", Value::Null),
            ("consent_collection", Value::Null),
            (
                "custom_text",
                json!({ "after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null }),
            ),
            ("collected_information", Value::Null),
            ("shipping_address_collection", Value::Null),
            ("shipping_cost", Value::Null),
            ("shipping_options", json!([])),
            ("currency_conversion", Value::Null),
            ("payment_method_collection", json!("always")),
            ("payment_method_configuration_details", Value::Null),
            ("saved_payment_method_options", Value::Null),
            ("discounts", json!([])),
            ("permissions", Value::Null),
            ("ui_mode", json!("hosted")),
            ("livemode", json!(false)),
        ] {
            o.insert(k.into(), v);
        }
        Value::Object(o)
    }
}

/// A Billing Portal session.
#[derive(Debug, Clone)]
pub struct PortalSession {
    /// `bps_…`.
    pub id: String,
    /// Customer id.
    pub customer: String,
    /// Where "Return" goes.
    pub return_url: Option<String>,
    /// Unix creation time.
    pub created: i64,
}

impl PortalSession {
    /// The session as Stripe's `billing_portal.session` object.
    pub fn render(&self, public_url: &str) -> Value {
        let mut o = fixtures::object("billing_portal.session");
        o.insert("id".into(), json!(self.id));
        o.insert("customer".into(), json!(self.customer));
        o.insert("return_url".into(), json!(self.return_url));
        o.insert("created".into(), json!(self.created));
        o.insert(
            "url".into(),
            json!(format!("{public_url}/portal/{}", self.id)),
        );
        o.insert("configuration".into(), json!("bpc_double_default"));
        o.insert("flow".into(), Value::Null);
        o.insert("livemode".into(), json!(false));
        Value::Object(o)
    }
}

impl Store {
    /// `POST /v1/checkout/sessions` with `mode=subscription`: `line_items[i][price|quantity]`,
    /// `customer` or `customer_email`, `client_reference_id`, `success_url`, `cancel_url`,
    /// `metadata`, `subscription_data[trial_period_days]`, `subscription_data[metadata]`.
    pub fn create_checkout_session(&mut self, p: &Params) -> Result<Value, ApiError> {
        let mode = p.require("mode")?;
        if mode != "subscription" {
            return Err(ApiError::invalid(
                "mode",
                format!("The Stripe double only supports `mode=subscription`, not `{mode}`."),
            ));
        }
        let success_url = p.require("success_url")?.to_owned();
        let customer = p.str("customer").map(str::to_owned);
        if let Some(c) = &customer {
            find(&self.customers, c, "customer", "customer", |x| &x.id)?;
        }
        let mut items = Vec::new();
        let mut params = Vec::new();
        for (i, item) in p.list("line_items").iter().enumerate() {
            let price = item.require("price")?.to_owned();
            let quantity = item.int("quantity")?.unwrap_or(1);
            params.push((format!("line_items[{i}][price]"), price.clone()));
            items.push((price, quantity));
        }
        if items.is_empty() {
            return Err(ApiError::missing("line_items"));
        }
        let (currency, _) = self.check_item_prices(&params)?;
        let amount_total = items
            .iter()
            .filter_map(|(price, q)| {
                self.prices
                    .iter()
                    .find(|p| &p.id == price)
                    .filter(|p| !p.metered())
                    .map(|p| p.amount(*q))
            })
            .sum();
        let data = p.child("subscription_data");
        let trial_days = data.int("trial_period_days")?;
        if trial_days.is_some_and(|d| d < 1) {
            return Err(ApiError::invalid(
                "subscription_data[trial_period_days]",
                "trial_period_days must be at least 1.",
            ));
        }
        let now = self.now_for(customer.as_deref());
        let session = CheckoutSession {
            id: ids::id("cs_test"),
            customer,
            customer_email: p.str("customer_email").map(str::to_owned),
            line_items: items,
            client_reference_id: p.str("client_reference_id").map(str::to_owned),
            trial_days,
            subscription_metadata: data.map("metadata").unwrap_or_default(),
            success_url,
            cancel_url: p.str("cancel_url").map(str::to_owned),
            metadata: p.map("metadata").unwrap_or_default(),
            status: "open".into(),
            payment_status: "unpaid".into(),
            subscription: None,
            invoice: None,
            currency,
            amount_total: if trial_days.is_some() {
                0
            } else {
                amount_total
            },
            created: now,
            expires_at: now + 86_400,
        };
        let json = session.render(self);
        self.checkout_sessions.push(session);
        Ok(json)
    }

    /// The session's JSON, or 404.
    pub fn render_checkout_session(&self, id: &str) -> Result<Value, ApiError> {
        find(
            &self.checkout_sessions,
            id,
            "checkout.session",
            "session",
            |s| &s.id,
        )
        .map(|s| s.render(self))
    }

    /// `POST /v1/checkout/sessions/{id}/expire`: an open session becomes `expired`.
    pub fn expire_checkout_session(&mut self, id: &str) -> Result<Value, ApiError> {
        let session = find_mut(
            &mut self.checkout_sessions,
            id,
            "checkout.session",
            "session",
            |s| &s.id,
        )?;
        if session.status != "open" {
            return Err(ApiError::invalid(
                "session",
                "Only Checkout Sessions with a status of `open` can be expired.",
            ));
        }
        session.status = "expired".into();
        let json = self.render_checkout_session(id)?;
        self.emit("checkout.session.expired", json.clone(), None);
        Ok(json)
    }

    /// Pays an open session with test card `number` (the hosted page's "Pay"). A card declined at
    /// once, or — without a trial — one whose charges fail, is refused and the session stays open.
    /// Otherwise: the customer is created if needed, the card attached, the subscription started
    /// (trialing, or active with its first invoice paid), the session completed and
    /// `checkout.session.completed` emitted. Returns the success URL with `{CHECKOUT_SESSION_ID}`
    /// replaced.
    pub fn pay_checkout_session(&mut self, id: &str, number: &str) -> Result<String, ApiError> {
        let session = find(
            &self.checkout_sessions,
            id,
            "checkout.session",
            "session",
            |s| &s.id,
        )?
        .clone();
        if session.status != "open" {
            return Err(ApiError::invalid(
                "session",
                "This Checkout Session is no longer active.",
            ));
        }
        let (_, behaviour) = cards::classify(number)?;
        if behaviour == CardBehaviour::ChargesFail && session.trial_days.is_none() {
            return Err(cards::declined("generic_decline"));
        }
        let customer = match &session.customer {
            Some(c) => c.clone(),
            None => {
                let mut form = form_urlencoded::Serializer::new(String::new());
                if let Some(email) = &session.customer_email {
                    form.append_pair("email", email);
                }
                let created = self.create_customer(&Params::parse(&form.finish()))?;
                created["id"].as_str().unwrap_or_default().to_owned()
            }
        };
        self.set_card(&customer, number)?;
        let sub = self.start_subscription(
            &customer,
            &session.line_items,
            session.trial_days,
            session.subscription_metadata.clone(),
        )?;
        let invoice = self.sub(&sub)?.latest_invoice.clone();
        let paid = invoice
            .as_ref()
            .and_then(|i| self.invoices.iter().find(|x| &x.id == i))
            .map(|i| (i.status.clone(), i.amount_due()));
        let session_mut = find_mut(
            &mut self.checkout_sessions,
            id,
            "checkout.session",
            "session",
            |s| &s.id,
        )?;
        session_mut.customer = Some(customer);
        session_mut.subscription = Some(sub);
        session_mut.invoice = invoice;
        session_mut.status = "complete".into();
        session_mut.payment_status = match paid {
            Some((status, due)) if status == "paid" && due > 0 => "paid",
            _ => "no_payment_required",
        }
        .into();
        let json = self.render_checkout_session(id)?;
        self.emit("checkout.session.completed", json, None);
        Ok(session.success_url.replace("{CHECKOUT_SESSION_ID}", id))
    }

    /// `POST /v1/billing_portal/sessions`: `customer`, `return_url`.
    pub fn create_portal_session(&mut self, p: &Params) -> Result<Value, ApiError> {
        let customer = p.require("customer")?.to_owned();
        find(&self.customers, &customer, "customer", "customer", |c| {
            &c.id
        })?;
        let session = PortalSession {
            id: ids::id("bps"),
            created: self.now_for(Some(&customer)),
            customer,
            return_url: p.str("return_url").map(str::to_owned),
        };
        let json = session.render(&self.public_url);
        self.portal_sessions.push(session);
        Ok(json)
    }
}
