//! Double-only endpoints under `/_double` (no API key needed): clocks, cards, meter totals and
//! webhook control for tests and the demo. Each answers JSON; errors use Stripe's shape.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::App;
use crate::error::ApiError;
use crate::form::Params;

/// The `/_double` routes.
pub fn routes() -> Router<App> {
    Router::new()
        .route(
            "/_double/health",
            get(|| async { Json(json!({ "ok": true })) }),
        )
        .route(
            "/_double/subscriptions/{id}/advance",
            post(advance_subscription),
        )
        .route("/_double/customers/{id}/advance", post(advance_customer))
        .route("/_double/customers/{id}/card", post(set_card))
        .route("/_double/meter_events", get(meter_events))
        .route("/_double/events/{id}/resend", post(resend))
        .route("/_double/webhooks/hold", post(hold))
        .route("/_double/webhooks/release", post(release))
        .route("/_double/deliveries", get(deliveries))
}

fn reply(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Form body or query string, whichever was sent.
fn params(uri: &Uri, body: &str) -> Params {
    Params::parse(if body.is_empty() {
        uri.query().unwrap_or_default()
    } else {
        body
    })
}

/// `POST /_double/subscriptions/{id}/advance` `[to=<unix>]`: runs the subscription's customer clock
/// to `to`, by default to the end of the current period. Answers the subscription.
async fn advance_subscription(
    State(app): State<App>,
    Path(id): Path<String>,
    uri: Uri,
    body: String,
) -> Response {
    let p = params(&uri, &body);
    reply(
        p.int("to")
            .and_then(|to| app.with(|s| s.advance_subscription(&id, to))),
    )
}

/// `POST /_double/customers/{id}/advance` `to=<unix>`: runs the customer's clock. Answers the customer.
async fn advance_customer(
    State(app): State<App>,
    Path(id): Path<String>,
    uri: Uri,
    body: String,
) -> Response {
    let p = params(&uri, &body);
    reply(
        p.int("to")
            .and_then(|to| to.ok_or_else(|| ApiError::missing("to")))
            .and_then(|to| {
                app.with(|s| {
                    s.advance_customer(&id, to)?;
                    s.render_customer(&id)
                })
            }),
    )
}

/// `POST /_double/customers/{id}/card` `number=<test card>`: replaces the card. Answers the customer.
async fn set_card(
    State(app): State<App>,
    Path(id): Path<String>,
    uri: Uri,
    body: String,
) -> Response {
    let p = params(&uri, &body);
    reply(
        p.require("number")
            .map(str::to_owned)
            .and_then(|n| app.with(|s| s.set_card(&id, &n))),
    )
}

/// `GET /_double/meter_events?customer=…[&event_name=…]`: the accepted events and their total.
async fn meter_events(State(app): State<App>, uri: Uri) -> Response {
    let p = params(&uri, "");
    reply(p.require("customer").map(str::to_owned).map(|customer| {
        let name = p.str("event_name").map(str::to_owned);
        app.with(|s| {
            let events: Vec<&crate::state::MeterEvent> =
                s.meter_events.iter().filter(|e| e.customer == customer && name.as_ref().is_none_or(|n| *n == e.event_name)).collect();
            let total: i64 = events.iter().map(|e| e.value).sum();
            json!({ "customer": customer, "total": total, "events": events.iter().map(|e| e.render()).collect::<Vec<_>>() })
        })
    }))
}

/// `POST /_double/events/{id}/resend`: queues the event again. Answers the event.
async fn resend(State(app): State<App>, Path(id): Path<String>) -> Response {
    reply(app.with(|s| s.resend(&id)))
}

/// `POST /_double/webhooks/hold`: stops deliveries until released.
async fn hold(State(app): State<App>) -> Response {
    app.with(|s| s.held = true);
    Json(json!({ "held": true })).into_response()
}

/// `POST /_double/webhooks/release` `[order=reverse]`: resumes deliveries, newest first with `reverse`.
async fn release(State(app): State<App>, uri: Uri, body: String) -> Response {
    let reverse = params(&uri, &body).str("order") == Some("reverse");
    app.with(|s| {
        if reverse {
            s.outbox.make_contiguous().reverse();
        }
        s.held = false;
    });
    Json(json!({ "held": false, "reversed": reverse })).into_response()
}

/// `GET /_double/deliveries`: every delivery attempt, oldest first.
async fn deliveries(State(app): State<App>) -> Response {
    Json(json!({ "data": app.with(|s| s.attempts.clone()) })).into_response()
}
