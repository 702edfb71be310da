//! Hosted pages the double serves in place of Stripe's: Checkout (`/checkout/{id}`), the Billing
//! Portal (`/portal/{id}`) and invoices (`/invoices/{id}`, `/invoices/{id}/pdf`). Plain HTML forms,
//! no JavaScript; test cards behave as in `cards`.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use crate::routes::App;
use crate::state::invoices::money;
use crate::state::Store;

/// The hosted page routes.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/checkout/{id}", get(checkout_page).post(checkout_pay))
        .route("/portal/{id}", get(portal_page))
        .route("/portal/{id}/card", axum::routing::post(portal_card))
        .route("/invoices/{id}", get(invoice_page))
        .route("/invoices/{id}/pdf", get(invoice_pdf))
}

/// The card form of Checkout and the Portal.
#[derive(Debug, Deserialize)]
pub struct CardForm {
    /// Card number as typed.
    pub card_number: String,
}

/// `?updated=1` after a Portal card change.
#[derive(Debug, Deserialize)]
pub struct PortalQuery {
    /// Whether to show "Card updated".
    pub updated: Option<String>,
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:sans-serif;max-width:32rem;margin:2rem auto}}.error{{color:#b00020}}table{{width:100%}}td{{padding:.2rem}}</style></head>\
         <body><p><small>Stripe test double — test mode</small></p><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    )
}

fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(layout(
            "Not found",
            &format!("<p>No such {}.</p>", escape(what)),
        )),
    )
        .into_response()
}

fn card_form(action: &str, button: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\"><label for=\"card_number\">Card number</label> \
         <input id=\"card_number\" name=\"card_number\" inputmode=\"numeric\" autocomplete=\"cc-number\" required> \
         <button type=\"submit\">{}</button></form>",
        escape(action),
        escape(button)
    )
}

fn checkout_html(store: &Store, id: &str, error: Option<&str>) -> Option<String> {
    let session = store.checkout_sessions.iter().find(|s| s.id == id)?;
    let mut rows = String::new();
    for (price_id, quantity) in &session.line_items {
        if let Some(price) = store.prices.iter().find(|p| &p.id == price_id) {
            let interval = price
                .recurring
                .as_ref()
                .map_or("", |r| r.interval.unit.as_str());
            let amount = if price.metered() {
                "usage-based".to_owned()
            } else {
                format!(
                    "{} / {interval}",
                    money(price.amount(*quantity), &price.currency)
                )
            };
            rows.push_str(&format!(
                "<tr><td>{} × {}</td><td>{}</td></tr>",
                quantity,
                escape(&store.product_name(&price.product)),
                escape(&amount)
            ));
        }
    }
    let trial = session
        .trial_days
        .map_or(String::new(), |d| format!("<p>{d}-day free trial</p>"));
    let body = match session.status.as_str() {
        "open" => {
            let error = error.map_or(String::new(), |e| {
                format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))
            });
            let cancel = session.cancel_url.as_ref().map_or(String::new(), |u| {
                format!("<p><a href=\"{}\">Back</a></p>", escape(u))
            });
            format!(
                "<table>{rows}</table>{trial}{error}{}{cancel}",
                card_form(&format!("/checkout/{id}"), "Pay")
            )
        }
        status => format!("<p>This Checkout Session is {}.</p>", escape(status)),
    };
    Some(layout("Checkout", &body))
}

/// `GET /checkout/{id}`: the order summary and the card form.
async fn checkout_page(State(app): State<App>, Path(id): Path<String>) -> Response {
    match app.with(|s| checkout_html(s, &id, None)) {
        Some(html) => Html(html).into_response(),
        None => not_found("Checkout Session"),
    }
}

/// `POST /checkout/{id}` `card_number=…`: pays, then 303 to the success URL; a declined card
/// re-shows the page (402) with Stripe's message and leaves the session open.
async fn checkout_pay(
    State(app): State<App>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<CardForm>,
) -> Response {
    let outcome = app.with(|s| match s.pay_checkout_session(&id, &form.card_number) {
        Ok(url) => Paid::Redirect(url),
        Err(e) => match checkout_html(s, &id, Some(&e.message)) {
            Some(html) => Paid::Declined(html),
            None => Paid::Error(Box::new(e)),
        },
    });
    match outcome {
        Paid::Redirect(url) => Redirect::to(&url).into_response(),
        Paid::Declined(html) => (StatusCode::PAYMENT_REQUIRED, Html(html)).into_response(),
        Paid::Error(e) => e.into_response(),
    }
}

/// What a Checkout payment attempt leads to.
enum Paid {
    /// 303 to the success URL.
    Redirect(String),
    /// The page again, with the decline message.
    Declined(String),
    /// No such session (or another API error).
    Error(Box<crate::error::ApiError>),
}

fn portal_html(store: &Store, id: &str, updated: bool, error: Option<&str>) -> Option<String> {
    let session = store.portal_sessions.iter().find(|s| s.id == id)?;
    let customer = store.customers.iter().find(|c| c.id == session.customer)?;
    let card = customer
        .card
        .as_ref()
        .map_or("No card on file".to_owned(), |c| {
            format!("{} •••• {}", c.brand, c.last4)
        });
    let mut subs = String::new();
    for sub in store
        .subscriptions
        .iter()
        .filter(|s| s.customer == customer.id)
    {
        let names: Vec<String> = sub
            .items
            .iter()
            .filter_map(|i| store.prices.iter().find(|p| p.id == i.price))
            .map(|p| store.product_name(&p.product))
            .collect();
        subs.push_str(&format!(
            "<li>{} — {}</li>",
            escape(&names.join(", ")),
            escape(&sub.status)
        ));
    }
    let mut invoices = String::new();
    for inv in store
        .invoices
        .iter()
        .rev()
        .filter(|i| i.customer == customer.id && i.number.is_some())
    {
        invoices.push_str(&format!(
            "<li><a href=\"/invoices/{}\">{}</a> {} — {}</li>",
            escape(&inv.id),
            escape(inv.number.as_deref().unwrap_or_default()),
            escape(&money(inv.amount_due(), &inv.currency)),
            escape(&inv.status)
        ));
    }
    let notice = if updated {
        "<p role=\"status\">Card updated.</p>".to_owned()
    } else {
        String::new()
    };
    let error = error.map_or(String::new(), |e| {
        format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))
    });
    let back = session.return_url.as_ref().map_or(String::new(), |u| {
        format!("<p><a href=\"{}\">Return</a></p>", escape(u))
    });
    let body = format!(
        "<p>{}</p><h2>Payment method</h2><p>{}</p>{notice}{error}{}<h2>Subscriptions</h2><ul>{subs}</ul><h2>Invoices</h2><ul>{invoices}</ul>{back}",
        escape(customer.email.as_deref().unwrap_or(&customer.id)),
        escape(&card),
        card_form(&format!("/portal/{id}/card"), "Update card"),
    );
    Some(layout("Billing portal", &body))
}

/// `GET /portal/{id}`: the customer's card, subscriptions and invoices, a card form and "Return".
async fn portal_page(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Query<PortalQuery>,
) -> Response {
    match app.with(|s| portal_html(s, &id, q.updated.is_some(), None)) {
        Some(html) => Html(html).into_response(),
        None => not_found("portal session"),
    }
}

/// `POST /portal/{id}/card` `card_number=…`: replaces the card (`customer.updated`), then 303 back.
async fn portal_card(
    State(app): State<App>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<CardForm>,
) -> Response {
    let result = app.with(|s| {
        let customer = s
            .portal_sessions
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.customer.clone())?;
        Some(
            s.set_card(&customer, &form.card_number)
                .map_err(|e| portal_html(s, &id, false, Some(&e.message))),
        )
    });
    match result {
        None => not_found("portal session"),
        Some(Ok(_)) => Redirect::to(&format!("/portal/{id}?updated=1")).into_response(),
        Some(Err(html)) => {
            (StatusCode::PAYMENT_REQUIRED, Html(html.unwrap_or_default())).into_response()
        }
    }
}

fn invoice_lines(store: &Store, id: &str) -> Option<(String, Vec<String>)> {
    let inv = store.invoices.iter().find(|i| i.id == id)?;
    let number = inv.number.clone().unwrap_or_else(|| "Draft".into());
    let mut lines = vec![
        format!("Invoice {number}"),
        format!("Status: {}", inv.status),
    ];
    for line in &inv.lines {
        lines.push(format!(
            "{}: {}",
            line.description,
            money(line.amount, &line.currency)
        ));
    }
    lines.push(format!("Total: {}", money(inv.total(), &inv.currency)));
    lines.push(format!(
        "Amount due: {}",
        money(inv.amount_due() - inv.amount_paid, &inv.currency)
    ));
    Some((number, lines))
}

/// `GET /invoices/{id}`: the hosted invoice page.
async fn invoice_page(State(app): State<App>, Path(id): Path<String>) -> Response {
    match app.with(|s| invoice_lines(s, &id)) {
        Some((number, lines)) => {
            let items: String = lines
                .iter()
                .skip(1)
                .map(|l| format!("<p>{}</p>", escape(l)))
                .collect();
            Html(layout(
                &format!("Invoice {number}"),
                &format!(
                    "{items}<p><a href=\"/invoices/{}/pdf\">Download PDF</a></p>",
                    escape(&id)
                ),
            ))
            .into_response()
        }
        None => not_found("invoice"),
    }
}

/// `GET /invoices/{id}/pdf`: the invoice as a one-page PDF.
async fn invoice_pdf(State(app): State<App>, Path(id): Path<String>) -> Response {
    match app.with(|s| invoice_lines(s, &id)) {
        Some((_, lines)) => (
            [(header::CONTENT_TYPE, "application/pdf")],
            crate::pdf::document(&lines),
        )
            .into_response(),
        None => not_found("invoice"),
    }
}
