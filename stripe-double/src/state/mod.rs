//! The double's in-memory Stripe account: every object, the event log and the webhook outbox.
//! One [`Store`] sits behind a mutex; each module adds the operations of one resource.

pub mod catalog;
pub mod checkout;
pub mod coupons;
pub mod customers;
pub mod events;
pub mod invoices;
pub mod meters;
pub mod subscriptions;

use std::collections::{HashMap, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::error::ApiError;
use crate::form::Params;

pub use catalog::{Price, Product};
pub use checkout::{CheckoutSession, PortalSession};
pub use coupons::{Coupon, Discount};
pub use customers::Customer;
pub use events::{Delivery, DeliveryAttempt, Event, WebhookEndpoint};
pub use invoices::{Invoice, Line, PaymentIntent, PendingItem};
pub use meters::{Meter, MeterEvent};
pub use subscriptions::{SubItem, Subscription};

/// The request being served, echoed in events' `request` field.
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    /// `req_…` id of the API request.
    pub id: String,
    /// Its `Idempotency-Key` header, if any.
    pub idempotency_key: Option<String>,
}

/// A stored response for an `Idempotency-Key` (Stripe replays the first response for 24 hours).
#[derive(Debug, Clone)]
pub struct StoredResponse {
    /// Method and path of the first request.
    pub route: String,
    /// Its body, to refuse the key's reuse with other parameters.
    pub body: String,
    /// HTTP status of the first response.
    pub status: u16,
    /// Body of the first response.
    pub response: Vec<u8>,
}

/// Everything the double knows. Lists keep creation order; API lists show newest first.
#[derive(Debug, Default, Clone)]
pub struct Store {
    /// Stripe API version written into events, e.g. `2026-09-30.endive`.
    pub api_version: String,
    /// Base URL of hosted pages (Checkout, Portal, invoices), without trailing slash.
    pub public_url: String,
    /// Customers `cus_…`.
    pub customers: Vec<Customer>,
    /// Products `prod_…`.
    pub products: Vec<Product>,
    /// Prices `price_…`.
    pub prices: Vec<Price>,
    /// Billing meters `mtr_…`.
    pub meters: Vec<Meter>,
    /// Accepted meter events (deduplicated by identifier).
    pub meter_events: Vec<MeterEvent>,
    /// Coupons.
    pub coupons: Vec<Coupon>,
    /// Subscriptions `sub_…`.
    pub subscriptions: Vec<Subscription>,
    /// Invoices `in_…`.
    pub invoices: Vec<Invoice>,
    /// Invoice items `ii_…` (prorations) waiting for, or attached to, an invoice.
    pub pending_items: Vec<PendingItem>,
    /// PaymentIntents `pi_…` of invoice payments.
    pub payment_intents: Vec<PaymentIntent>,
    /// Checkout Sessions `cs_test_…`.
    pub checkout_sessions: Vec<CheckoutSession>,
    /// Billing Portal sessions `bps_…`.
    pub portal_sessions: Vec<PortalSession>,
    /// Event log `evt_…`.
    pub events: Vec<Event>,
    /// Webhook endpoints `we_…`.
    pub endpoints: Vec<WebhookEndpoint>,
    /// Deliveries waiting for the webhook worker.
    pub outbox: VecDeque<Delivery>,
    /// Every delivery attempt made, oldest first.
    pub attempts: Vec<DeliveryAttempt>,
    /// While true the worker leaves the outbox alone (tests reorder or batch deliveries).
    pub held: bool,
    /// The delivery the worker is sending (with its retries), if any.
    pub in_flight: Option<Delivery>,
    /// Responses by idempotency key.
    pub idempotency: HashMap<String, StoredResponse>,
    /// The request being served, if any.
    pub request: Option<RequestInfo>,
}

/// The wall clock in Unix seconds.
pub fn wall_clock() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

impl Store {
    /// A new, empty account.
    pub fn new(api_version: &str, public_url: &str) -> Self {
        Self {
            api_version: api_version.to_owned(),
            public_url: public_url.trim_end_matches('/').to_owned(),
            ..Self::default()
        }
    }

    /// The time as seen by `customer`: its frozen test-clock time once a double clock endpoint
    /// moved it, else the wall clock.
    pub fn now_for(&self, customer: Option<&str>) -> i64 {
        customer
            .and_then(|id| self.customers.iter().find(|c| c.id == id))
            .and_then(|c| c.clock)
            .unwrap_or_else(wall_clock)
    }

    /// Renders any object by id, choosing the resource from the id's prefix; used by `expand[]`.
    pub fn render_id(&self, id: &str) -> Option<Value> {
        let prefix = id.split('_').next().unwrap_or_default();
        match prefix {
            "cus" => self
                .customers
                .iter()
                .find(|c| c.id == id)
                .map(|c| c.render(self)),
            "prod" => self
                .products
                .iter()
                .find(|p| p.id == id)
                .map(Product::render),
            "price" => self.prices.iter().find(|p| p.id == id).map(Price::render),
            "sub" => self
                .subscriptions
                .iter()
                .find(|s| s.id == id)
                .map(|s| s.render(self)),
            "in" => self
                .invoices
                .iter()
                .find(|i| i.id == id)
                .map(|i| i.render(self)),
            "pi" => self
                .payment_intents
                .iter()
                .find(|p| p.id == id)
                .map(PaymentIntent::render),
            "cs" => self
                .checkout_sessions
                .iter()
                .find(|s| s.id == id)
                .map(|s| s.render(self)),
            "pm" => self.customers.iter().find_map(|c| {
                c.card
                    .as_ref()
                    .filter(|k| k.id == id)
                    .map(|k| c.render_card(k))
            }),
            _ => None,
        }
    }
}

/// Replaces ids by objects along each `expand[]` path (`subscription`, `latest_invoice.customer`,
/// `data.customer` in lists), as Stripe's expansion does (<https://docs.stripe.com/expand>).
pub fn expand(store: &Store, value: &mut Value, paths: &[String]) {
    for path in paths {
        let parts: Vec<&str> = path.split('.').collect();
        expand_path(store, value, &parts);
    }
}

fn expand_path(store: &Store, value: &mut Value, parts: &[&str]) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    if let Value::Array(items) = value {
        for item in items {
            expand_path(store, item, parts);
        }
        return;
    }
    let Some(field) = value.get_mut(*first) else {
        return;
    };
    if let Some(id) = field.as_str().map(str::to_owned) {
        if let Some(object) = store.render_id(&id) {
            *field = object;
        }
    }
    if !rest.is_empty() {
        expand_path(store, field, rest);
    }
}

/// Stripe's list envelope `{"object": "list", "data", "has_more", "url"}` over `items` (newest first),
/// honouring `limit` (1–100, default 10), `starting_after` and `ending_before`
/// (<https://docs.stripe.com/api/pagination>).
pub fn list(url: &str, items: Vec<Value>, params: &Params) -> Result<Value, ApiError> {
    let limit = params.int("limit")?.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            "Limit must be between 1 and 100.",
        ));
    }
    let limit = usize::try_from(limit).unwrap_or(10);
    let position = |id: &str| {
        items
            .iter()
            .position(|v| v.get("id").and_then(Value::as_str) == Some(id))
    };
    let (start, end) = if let Some(after) = params.str("starting_after") {
        let i =
            position(after).ok_or_else(|| ApiError::no_such("object", after, "starting_after"))?;
        (i + 1, items.len())
    } else if let Some(before) = params.str("ending_before") {
        let i =
            position(before).ok_or_else(|| ApiError::no_such("object", before, "ending_before"))?;
        (i.saturating_sub(limit), i)
    } else {
        (0, items.len())
    };
    let window: Vec<Value> = items[start..end].iter().take(limit).cloned().collect();
    let has_more = end - start > window.len();
    Ok(json!({ "object": "list", "data": window, "has_more": has_more, "url": url }))
}

/// Finds by id or returns Stripe's 404 `No such {what}: '{id}'`.
pub fn find<'a, T>(
    items: &'a [T],
    id: &str,
    what: &str,
    param: &str,
    key: impl Fn(&T) -> &str,
) -> Result<&'a T, ApiError> {
    items
        .iter()
        .find(|x| key(x) == id)
        .ok_or_else(|| ApiError::no_such(what, id, param))
}

/// Mutable [`find`].
pub fn find_mut<'a, T>(
    items: &'a mut [T],
    id: &str,
    what: &str,
    param: &str,
    key: impl Fn(&T) -> &str,
) -> Result<&'a mut T, ApiError> {
    items
        .iter_mut()
        .find(|x| key(x) == id)
        .ok_or_else(|| ApiError::no_such(what, id, param))
}
