//! Stripe's official example objects, the starting point of every JSON object the double returns.
//!
//! `fixtures/fixtures3.json` is `openapi/fixtures3.json` from Stripe's public OpenAPI repository
//! (<https://github.com/stripe/openapi>, commit f6c2a48fbac2819d1feba8143d942ffc65e1c0d2, MIT
//! licence, see `fixtures/LICENSE`). Responses are built by taking the fixture of a resource and
//! overwriting ids, amounts, statuses, timestamps and relations from the double's own state, so
//! their shape is the one real Stripe sends.

use std::sync::OnceLock;

use serde_json::{Map, Value};

const FIXTURES: &str = include_str!("../fixtures/fixtures3.json");

fn resources() -> &'static Map<String, Value> {
    static PARSED: OnceLock<Map<String, Value>> = OnceLock::new();
    PARSED.get_or_init(|| {
        let parsed: Value = serde_json::from_str(FIXTURES).unwrap_or(Value::Null);
        match parsed.get("resources") {
            Some(Value::Object(map)) => map.clone(),
            _ => Map::new(),
        }
    })
}

/// A fresh copy of Stripe's example object for `resource` (e.g. `"customer"`,
/// `"checkout.session"`, `"billing.meter"`), as a JSON object.
///
/// Returns an empty object when the resource is not in the fixture file; the crate's tests check
/// that every resource the double renders is present.
pub fn object(resource: &str) -> Map<String, Value> {
    match resources().get(resource) {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    }
}

/// Whether the fixture file holds an example object for `resource`.
pub fn has(resource: &str) -> bool {
    matches!(resources().get(resource), Some(Value::Object(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rendered_resource_is_in_the_fixture_file() {
        for name in [
            "customer",
            "product",
            "price",
            "billing.meter",
            "billing.meter_event",
            "checkout.session",
            "billing_portal.session",
            "subscription",
            "subscription_item",
            "invoice",
            "line_item",
            "invoiceitem",
            "payment_intent",
            "payment_method",
            "event",
            "webhook_endpoint",
        ] {
            assert!(has(name), "{name} missing from fixtures3.json");
        }
        assert!(!has("no_such_resource"));
    }
}
