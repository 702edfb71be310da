//! Stripe's `/v1` endpoints the double serves, with the paths `async-stripe` requests.

use axum::Router;
use serde_json::{json, Value};

use super::{delete1, get0, get1, post0, post1, App};
use crate::error::ApiError;
use crate::form::Params;
use crate::state::{find, list, Store};

/// The `/v1` routes (paths relative to `/v1`).
pub fn routes() -> Router<App> {
    Router::new()
        .route(
            "/customers",
            post0(|s, p| s.create_customer(p)).merge(get0(|s, p| s.list_customers(p))),
        )
        .route("/customers/search", get0(search_customers))
        .route(
            "/customers/{id}",
            get1(|s, id, _| s.render_customer(id))
                .merge(post1(|s, id, p| s.update_customer(id, p))),
        )
        .route(
            "/products",
            post0(|s, p| s.create_product(p)).merge(get0(|s, p| s.list_products(p))),
        )
        .route(
            "/products/{id}",
            get1(|s, id, _| {
                find(&s.products, id, "product", "id", |x| &x.id).map(crate::state::Product::render)
            })
            .merge(post1(|s, id, p| s.update_product(id, p))),
        )
        .route(
            "/prices",
            post0(|s, p| s.create_price(p)).merge(get0(|s, p| s.list_prices(p))),
        )
        .route(
            "/prices/{id}",
            get1(|s, id, _| {
                find(&s.prices, id, "price", "price", |x| &x.id).map(crate::state::Price::render)
            })
            .merge(post1(|s, id, p| s.update_price(id, p))),
        )
        .route("/coupons", post0(|s, p| s.create_coupon(p)))
        .route("/coupons/{id}", get1(|s, id, _| s.render_coupon(id)))
        .route(
            "/billing/meters",
            post0(|s, p| s.create_meter(p)).merge(get0(|s, p| s.list_meters(p))),
        )
        .route(
            "/billing/meters/{id}",
            get1(|s, id, _| {
                find(&s.meters, id, "billing meter", "id", |m| &m.id)
                    .map(crate::state::Meter::render)
            }),
        )
        .route(
            "/billing/meter_events",
            post0(|s, p| s.create_meter_event(p)),
        )
        .route(
            "/checkout/sessions",
            post0(|s, p| s.create_checkout_session(p)),
        )
        .route(
            "/checkout/sessions/{id}",
            get1(|s, id, _| s.render_checkout_session(id)),
        )
        .route(
            "/checkout/sessions/{id}/expire",
            post1(|s, id, _| s.expire_checkout_session(id)),
        )
        .route(
            "/billing_portal/sessions",
            post0(|s, p| s.create_portal_session(p)),
        )
        .route(
            "/subscriptions",
            post0(|s, p| s.create_subscription(p)).merge(get0(|s, p| s.list_subscriptions(p))),
        )
        .route(
            "/subscriptions/{id}",
            get1(|s, id, _| s.render_subscription(id))
                .merge(post1(|s, id, p| s.update_subscription(id, p)))
                .merge(delete1(|s, id, _| s.cancel_subscription(id))),
        )
        .route(
            "/subscriptions/{id}/discount",
            delete1(|s, id, _| s.delete_subscription_discount(id)),
        )
        .route("/subscription_items", get0(list_subscription_items))
        .route(
            "/subscription_items/{id}",
            get1(|s, id, _| retrieve_subscription_item(s, id)),
        )
        .route("/invoices", get0(|s, p| s.list_invoices(p)))
        .route(
            "/invoices/create_preview",
            post0(|s, p| s.preview_invoice(p)),
        )
        .route("/invoices/{id}", get1(|s, id, _| s.render_invoice(id)))
        .route("/invoices/{id}/lines", get1(list_invoice_lines))
        .route("/invoices/{id}/pay", post1(|s, id, _| s.pay_invoice(id)))
        .route(
            "/payment_intents/{id}",
            get1(|s, id, _| {
                find(&s.payment_intents, id, "payment_intent", "intent", |x| {
                    &x.id
                })
                .map(crate::state::PaymentIntent::render)
            }),
        )
        .route("/events", get0(|s, p| s.list_events(p)))
        .route(
            "/events/{id}",
            get1(|s, id, _| {
                find(&s.events, id, "event", "id", |e| &e.id).map(|e| s.render_event(e))
            }),
        )
        .route(
            "/webhook_endpoints",
            post0(|s, p| s.create_endpoint(p)).merge(get0(|s, p| {
                list(
                    "/v1/webhook_endpoints",
                    s.endpoints.iter().rev().map(|e| e.render(false)).collect(),
                    p,
                )
            })),
        )
}

/// `GET /v1/customers/search?query=…`: supports `email:'…'` and `metadata['key']:'value'` clauses
/// joined by `AND` (<https://docs.stripe.com/search#search-query-language>).
fn search_customers(s: &mut Store, p: &Params) -> Result<Value, ApiError> {
    let query = p.require("query")?;
    let mut clauses = Vec::new();
    for clause in query.split(" AND ") {
        let (field, value) = clause
            .split_once(':')
            .ok_or_else(|| ApiError::invalid("query", format!("Invalid search query: {query}")))?;
        let value = value
            .trim()
            .trim_matches(|c| c == '\'' || c == '"')
            .to_owned();
        clauses.push((field.trim().to_owned(), value));
    }
    let data: Vec<Value> = s
        .customers
        .iter()
        .rev()
        .filter(|c| {
            clauses.iter().all(|(field, value)| match field.as_str() {
                "email" => c.email.as_deref() == Some(value.as_str()),
                "name" => c.name.as_deref() == Some(value.as_str()),
                f => f
                    .strip_prefix("metadata[")
                    .and_then(|k| k.strip_suffix(']'))
                    .map(|k| k.trim_matches(|ch| ch == '\'' || ch == '"'))
                    .is_some_and(|k| c.metadata.get(k) == Some(value)),
            })
        })
        .map(|c| c.render(s))
        .collect();
    Ok(
        json!({ "object": "search_result", "data": data, "has_more": false, "next_page": null, "url": "/v1/customers/search" }),
    )
}

fn list_subscription_items(s: &mut Store, p: &Params) -> Result<Value, ApiError> {
    let id = p.require("subscription")?;
    let sub = s.sub(id)?;
    let items = sub
        .items
        .iter()
        .rev()
        .map(|i| sub.render_item(s, i))
        .collect();
    list("/v1/subscription_items", items, p)
}

fn retrieve_subscription_item(s: &mut Store, id: &str) -> Result<Value, ApiError> {
    s.subscriptions
        .iter()
        .find_map(|sub| {
            sub.items
                .iter()
                .find(|i| i.id == id)
                .map(|i| sub.render_item(s, i))
        })
        .ok_or_else(|| ApiError::no_such("subscription item", id, "item"))
}

fn list_invoice_lines(s: &mut Store, id: &str, p: &Params) -> Result<Value, ApiError> {
    let invoice = s.render_invoice(id)?;
    let lines = invoice["lines"]["data"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    list(&format!("/v1/invoices/{id}/lines"), lines, p)
}
