//! Events `evt_…`, webhook endpoints `we_…` and the delivery outbox
//! (<https://docs.stripe.com/api/events>, <https://docs.stripe.com/webhooks>).

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::Store;
use crate::error::ApiError;
use crate::fixtures;
use crate::form::Params;
use crate::ids;

/// One event of the account's event log.
#[derive(Debug, Clone)]
pub struct Event {
    /// `evt_…`.
    pub id: String,
    /// Event type, e.g. `invoice.paid`.
    pub kind: String,
    /// Unix creation time (the clock of the object's customer).
    pub created: i64,
    /// `data.object`: the object's JSON when the event happened.
    pub object: Value,
    /// `data.previous_attributes`: old values of the top-level fields that changed.
    pub previous: Option<Value>,
    /// The API request that caused the event, if any.
    pub request: Option<super::RequestInfo>,
}

impl Event {
    /// The event as Stripe's `event` object; `pending_webhooks` counts undelivered endpoints.
    pub fn render(&self, api_version: &str, pending_webhooks: usize) -> Value {
        let mut o = fixtures::object("event");
        o.insert("id".into(), json!(self.id));
        o.insert("type".into(), json!(self.kind));
        o.insert("created".into(), json!(self.created));
        o.insert("api_version".into(), json!(api_version));
        o.insert("livemode".into(), json!(false));
        o.insert("pending_webhooks".into(), json!(pending_webhooks));
        let mut data = Map::new();
        data.insert("object".into(), self.object.clone());
        if let Some(previous) = &self.previous {
            data.insert("previous_attributes".into(), previous.clone());
        }
        o.insert("data".into(), Value::Object(data));
        o.insert(
            "request".into(),
            json!({
                "id": self.request.as_ref().map(|r| r.id.clone()),
                "idempotency_key": self.request.as_ref().and_then(|r| r.idempotency_key.clone()),
            }),
        );
        Value::Object(o)
    }
}

/// A webhook endpoint: where events are POSTed and the secret that signs them.
#[derive(Debug, Clone)]
pub struct WebhookEndpoint {
    /// `we_…`.
    pub id: String,
    /// Target URL.
    pub url: String,
    /// Signing secret `whsec_…`.
    pub secret: String,
    /// Event types sent there; `*` is all.
    pub enabled_events: Vec<String>,
    /// Unix creation time.
    pub created: i64,
    /// Free-form description.
    pub description: Option<String>,
}

impl WebhookEndpoint {
    /// Whether events of `kind` go to this endpoint.
    pub fn wants(&self, kind: &str) -> bool {
        self.enabled_events.iter().any(|e| e == "*" || e == kind)
    }

    /// The endpoint as Stripe's `webhook_endpoint` object; `secret` is only shown on creation.
    pub fn render(&self, with_secret: bool) -> Value {
        let mut o = fixtures::object("webhook_endpoint");
        o.insert("id".into(), json!(self.id));
        o.insert("url".into(), json!(self.url));
        o.insert("created".into(), json!(self.created));
        o.insert("enabled_events".into(), json!(self.enabled_events));
        o.insert("description".into(), json!(self.description));
        o.insert("metadata".into(), json!({}));
        if with_secret {
            o.insert("secret".into(), json!(self.secret));
        }
        Value::Object(o)
    }
}

/// One event waiting to be delivered to one endpoint.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Event id.
    pub event_id: String,
    /// Endpoint id.
    pub endpoint_id: String,
}

/// The outcome of one POST of an event to an endpoint.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// Event id.
    pub event_id: String,
    /// Event type.
    pub event_type: String,
    /// Endpoint URL.
    pub url: String,
    /// 1 for the first try, 2 for the first retry, …
    pub attempt: u32,
    /// HTTP status answered, `None` when the connection failed.
    pub status: Option<u16>,
    /// Connection error, if any.
    pub error: Option<String>,
    /// Whether this attempt succeeded (2xx).
    pub delivered: bool,
}

impl Store {
    /// Records an event for `object` and queues it for every endpoint that wants it.
    pub fn emit(&mut self, kind: &str, object: Value, previous: Option<Value>) -> String {
        let customer = object
            .get("customer")
            .and_then(Value::as_str)
            .or_else(|| {
                (object.get("object").and_then(Value::as_str) == Some("customer"))
                    .then(|| object.get("id").and_then(Value::as_str))
                    .flatten()
            })
            .map(str::to_owned);
        let event = Event {
            id: ids::id("evt"),
            kind: kind.to_owned(),
            created: self.now_for(customer.as_deref()),
            object,
            previous,
            request: self.request.clone(),
        };
        let id = event.id.clone();
        for endpoint in self.endpoints.iter().filter(|e| e.wants(kind)) {
            self.outbox.push_back(Delivery {
                event_id: id.clone(),
                endpoint_id: endpoint.id.clone(),
            });
        }
        tracing::info!(event = %id, kind, "event recorded");
        self.events.push(event);
        id
    }

    /// [`Store::emit`] with `previous_attributes` = the old values of the top-level fields that
    /// differ between `before` and `after`; nothing is emitted when nothing changed.
    pub fn emit_changed(&mut self, kind: &str, before: &Value, after: Value) -> Option<String> {
        let (Value::Object(old), Value::Object(new)) = (before, &after) else {
            return None;
        };
        let previous: Map<String, Value> = old
            .iter()
            .filter(|(k, v)| new.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if previous.is_empty() {
            return None;
        }
        Some(self.emit(kind, after, Some(Value::Object(previous))))
    }

    /// The event's JSON with its current `pending_webhooks`.
    pub fn render_event(&self, event: &Event) -> Value {
        let pending = self
            .outbox
            .iter()
            .filter(|d| d.event_id == event.id)
            .count();
        event.render(&self.api_version, pending)
    }

    /// `GET /v1/events`, newest first, optionally filtered by `type` (or `types[]`).
    pub fn list_events(&self, p: &Params) -> Result<Value, ApiError> {
        let kinds = p.strings("types");
        let kind = p.str("type");
        let items = self
            .events
            .iter()
            .rev()
            .filter(|e| {
                kind.is_none_or(|k| {
                    k == e.kind || (k.ends_with(".*") && e.kind.starts_with(&k[..k.len() - 1]))
                })
            })
            .filter(|e| kinds.is_empty() || kinds.contains(&e.kind))
            .map(|e| self.render_event(e))
            .collect();
        super::list("/v1/events", items, p)
    }

    /// Adds an endpoint; `secret` `None` generates a `whsec_…` one.
    pub fn add_endpoint(
        &mut self,
        url: &str,
        secret: Option<&str>,
        enabled_events: Vec<String>,
        description: Option<String>,
    ) -> WebhookEndpoint {
        let endpoint = WebhookEndpoint {
            id: ids::id("we"),
            url: url.to_owned(),
            secret: secret.map_or_else(|| format!("whsec_{}", ids::random(32)), str::to_owned),
            enabled_events: if enabled_events.is_empty() {
                vec!["*".to_owned()]
            } else {
                enabled_events
            },
            created: super::wall_clock(),
            description,
        };
        self.endpoints.push(endpoint.clone());
        endpoint
    }

    /// `POST /v1/webhook_endpoints`: `url`, `enabled_events[]`, `description`.
    pub fn create_endpoint(&mut self, p: &Params) -> Result<Value, ApiError> {
        let url = p.require("url")?.to_owned();
        let events = p.strings("enabled_events");
        if events.is_empty() {
            return Err(ApiError::missing("enabled_events"));
        }
        let endpoint =
            self.add_endpoint(&url, None, events, p.str("description").map(str::to_owned));
        Ok(endpoint.render(true))
    }

    /// Queues event `id` again for every endpoint that wants it (a manual "resend").
    pub fn resend(&mut self, id: &str) -> Result<Value, ApiError> {
        let event = super::find(&self.events, id, "event", "id", |e| &e.id)?;
        let kind = event.kind.clone();
        let json = self.render_event(event);
        let targets: Vec<String> = self
            .endpoints
            .iter()
            .filter(|e| e.wants(&kind))
            .map(|e| e.id.clone())
            .collect();
        for endpoint_id in targets {
            self.outbox.push_back(Delivery {
                event_id: id.to_owned(),
                endpoint_id,
            });
        }
        Ok(json)
    }
}
