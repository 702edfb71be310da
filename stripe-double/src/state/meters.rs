//! Billing meters `mtr_…` and meter events (<https://docs.stripe.com/api/billing/meter>,
//! <https://docs.stripe.com/api/billing/meter-event>).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{find, Store};
use crate::error::ApiError;
use crate::fixtures;
use crate::form::Params;
use crate::ids;

/// A meter: aggregates the events named `event_name` per customer.
#[derive(Debug, Clone)]
pub struct Meter {
    /// `mtr_…`.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Name of the events it counts.
    pub event_name: String,
    /// `sum`, `count` or `last`.
    pub formula: String,
    /// Payload key holding the customer id (default `stripe_customer_id`).
    pub customer_key: String,
    /// Payload key holding the value (default `value`).
    pub value_key: String,
    /// Unix creation time.
    pub created: i64,
}

impl Meter {
    /// The meter as Stripe's `billing.meter` object.
    pub fn render(&self) -> Value {
        let mut o = fixtures::object("billing.meter");
        o.insert("id".into(), json!(self.id));
        o.insert("display_name".into(), json!(self.display_name));
        o.insert("event_name".into(), json!(self.event_name));
        o.insert(
            "default_aggregation".into(),
            json!({ "formula": self.formula }),
        );
        o.insert(
            "customer_mapping".into(),
            json!({ "event_payload_key": self.customer_key, "type": "by_id" }),
        );
        o.insert(
            "value_settings".into(),
            json!({ "event_payload_key": self.value_key }),
        );
        o.insert("created".into(), json!(self.created));
        o.insert("updated".into(), json!(self.created));
        o.insert("livemode".into(), json!(false));
        o.insert("status".into(), json!("active"));
        Value::Object(o)
    }
}

/// One accepted meter event.
#[derive(Debug, Clone)]
pub struct MeterEvent {
    /// Deduplication identifier (the caller's, or a generated one).
    pub identifier: String,
    /// Event name.
    pub event_name: String,
    /// Meter that counts it.
    pub meter: String,
    /// Customer id from the payload.
    pub customer: String,
    /// Reported value.
    pub value: i64,
    /// Unix time the usage happened.
    pub timestamp: i64,
    /// Unix time it was received.
    pub created: i64,
    /// The payload as sent.
    pub payload: BTreeMap<String, String>,
}

impl MeterEvent {
    /// The event as Stripe's `billing.meter_event` object.
    pub fn render(&self) -> Value {
        let mut o = fixtures::object("billing.meter_event");
        o.insert("identifier".into(), json!(self.identifier));
        o.insert("event_name".into(), json!(self.event_name));
        o.insert("payload".into(), json!(self.payload));
        o.insert("timestamp".into(), json!(self.timestamp));
        o.insert("created".into(), json!(self.created));
        o.insert("livemode".into(), json!(false));
        Value::Object(o)
    }
}

impl Store {
    /// `POST /v1/billing/meters`: `display_name`, `event_name`, `default_aggregation[formula]`,
    /// `customer_mapping[event_payload_key|type]`, `value_settings[event_payload_key]`.
    pub fn create_meter(&mut self, p: &Params) -> Result<Value, ApiError> {
        let display_name = p.require("display_name")?.to_owned();
        let event_name = p.require("event_name")?.to_owned();
        let formula = p
            .child("default_aggregation")
            .require("formula")?
            .to_owned();
        if !matches!(formula.as_str(), "sum" | "count" | "last") {
            return Err(ApiError::invalid(
                "default_aggregation[formula]",
                format!("Invalid formula: {formula}"),
            ));
        }
        if self.meters.iter().any(|m| m.event_name == event_name) {
            return Err(ApiError::invalid(
                "event_name",
                format!("A meter with event_name `{event_name}` already exists."),
            ));
        }
        let meter = Meter {
            id: ids::id("mtr"),
            display_name,
            event_name,
            formula,
            customer_key: p
                .child("customer_mapping")
                .str("event_payload_key")
                .unwrap_or("stripe_customer_id")
                .to_owned(),
            value_key: p
                .child("value_settings")
                .str("event_payload_key")
                .unwrap_or("value")
                .to_owned(),
            created: super::wall_clock(),
        };
        let json = meter.render();
        self.meters.push(meter);
        Ok(json)
    }

    /// `GET /v1/billing/meters`.
    pub fn list_meters(&self, p: &Params) -> Result<Value, ApiError> {
        super::list(
            "/v1/billing/meters",
            self.meters.iter().rev().map(Meter::render).collect(),
            p,
        )
    }

    /// `POST /v1/billing/meter_events`: `event_name`, `payload[<customer key>]`, `payload[<value key>]`,
    /// `identifier`, `timestamp`. An `identifier` already seen is not counted again: the first
    /// event is returned unchanged, as Stripe enforces identifier uniqueness.
    pub fn create_meter_event(&mut self, p: &Params) -> Result<Value, ApiError> {
        let event_name = p.require("event_name")?.to_owned();
        let meter = self
            .meters
            .iter()
            .find(|m| m.event_name == event_name)
            .cloned()
            .ok_or_else(|| {
                ApiError::invalid(
                    "event_name",
                    format!("No active meter found for event_name `{event_name}`."),
                )
            })?;
        let payload = p.map("payload").unwrap_or_default();
        if let Some(identifier) = p.str("identifier") {
            if let Some(existing) = self
                .meter_events
                .iter()
                .find(|e| e.identifier == identifier)
            {
                return Ok(existing.render());
            }
        }
        let customer = payload
            .get(&meter.customer_key)
            .cloned()
            .ok_or_else(|| ApiError::missing(&format!("payload[{}]", meter.customer_key)))?;
        find(
            &self.customers,
            &customer,
            "customer",
            &format!("payload[{}]", meter.customer_key),
            |c| &c.id,
        )?;
        let value = match payload.get(&meter.value_key) {
            Some(v) => v.parse().map_err(|_| {
                ApiError::invalid(
                    &format!("payload[{}]", meter.value_key),
                    format!("Invalid integer: {v}"),
                )
            })?,
            None if meter.formula == "count" => 1,
            None => return Err(ApiError::missing(&format!("payload[{}]", meter.value_key))),
        };
        let now = self.now_for(Some(&customer));
        let event = MeterEvent {
            identifier: p
                .str("identifier")
                .map_or_else(|| ids::random(24), str::to_owned),
            event_name,
            meter: meter.id,
            customer,
            value,
            timestamp: p.int("timestamp")?.unwrap_or(now),
            created: now,
            payload,
        };
        let json = event.render();
        self.meter_events.push(event);
        Ok(json)
    }

    /// The meter's aggregate for `customer` over events with `from <= timestamp < to`.
    pub fn usage(&self, meter_id: &str, customer: &str, from: i64, to: i64) -> i64 {
        let formula = self
            .meters
            .iter()
            .find(|m| m.id == meter_id)
            .map_or("sum", |m| m.formula.as_str());
        let events = self.meter_events.iter().filter(|e| {
            e.meter == meter_id && e.customer == customer && e.timestamp >= from && e.timestamp < to
        });
        match formula {
            "count" => i64::try_from(events.count()).unwrap_or(i64::MAX),
            "last" => events.max_by_key(|e| e.timestamp).map_or(0, |e| e.value),
            _ => events.map(|e| e.value).sum(),
        }
    }
}
