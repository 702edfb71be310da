//! Invoices `in_…`, their lines `il_…`, pending invoice items `ii_…` (prorations) and the
//! PaymentIntents `pi_…` that pay them (<https://docs.stripe.com/api/invoices>,
//! <https://docs.stripe.com/billing/subscriptions/overview#subscription-events>).

use serde_json::{json, Value};

use super::{find, find_mut, Store};
use crate::cards::{declined, CardBehaviour};
use crate::error::ApiError;
use crate::fixtures;
use crate::form::Params;
use crate::ids;

/// An invoice item waiting for the subscription's next invoice (a proration).
#[derive(Debug, Clone)]
pub struct PendingItem {
    /// `ii_…`.
    pub id: String,
    /// Customer id.
    pub customer: String,
    /// Subscription id.
    pub subscription: String,
    /// Subscription item id.
    pub sub_item: String,
    /// Price id.
    pub price: String,
    /// Quantity the amount is for.
    pub quantity: i64,
    /// Amount in minor units; negative for credits.
    pub amount: i64,
    /// Currency.
    pub currency: String,
    /// Line description.
    pub description: String,
    /// Start of the time it covers.
    pub period_start: i64,
    /// End of the time it covers.
    pub period_end: i64,
    /// Time the proration was computed for.
    pub proration_date: i64,
}

/// One invoice line.
#[derive(Debug, Clone)]
pub struct Line {
    /// `il_…`.
    pub id: String,
    /// Amount in minor units.
    pub amount: i64,
    /// Currency.
    pub currency: String,
    /// Description.
    pub description: String,
    /// Start of the period it bills.
    pub period_start: i64,
    /// End of the period it bills.
    pub period_end: i64,
    /// Whether it is a proration.
    pub proration: bool,
    /// Quantity (usage for metered lines).
    pub quantity: i64,
    /// Price id.
    pub price: String,
    /// Subscription item id.
    pub sub_item: String,
    /// Invoice item `ii_…` it came from (prorations).
    pub invoice_item: Option<String>,
}

/// An invoice.
#[derive(Debug, Clone)]
pub struct Invoice {
    /// `in_…`.
    pub id: String,
    /// Number `{customer prefix}-{sequence}`, set on finalization.
    pub number: Option<String>,
    /// Customer id.
    pub customer: String,
    /// Subscription id.
    pub subscription: Option<String>,
    /// `draft`, `open`, `paid`, `void`, `uncollectible`.
    pub status: String,
    /// `subscription_create`, `subscription_cycle`, `subscription_update`, `manual`.
    pub billing_reason: String,
    /// Lines.
    pub lines: Vec<Line>,
    /// Currency.
    pub currency: String,
    /// Start of the period it was created for.
    pub period_start: i64,
    /// End of the period it was created for.
    pub period_end: i64,
    /// Amount paid so far.
    pub amount_paid: i64,
    /// Payment attempts.
    pub attempt_count: u32,
    /// PaymentIntent paying it.
    pub payment_intent: Option<String>,
    /// Unix creation time.
    pub created: i64,
    /// Unix finalization time.
    pub finalized_at: Option<i64>,
    /// Unix payment time.
    pub paid_at: Option<i64>,
    /// The subscription's discount on it: the discount id and the amount off.
    pub discount: Option<(String, i64)>,
}

impl Invoice {
    /// Sum of the lines.
    pub fn subtotal(&self) -> i64 {
        self.lines.iter().map(|l| l.amount).sum()
    }

    /// The subtotal less the discount.
    pub fn total(&self) -> i64 {
        self.subtotal() - self.discount.as_ref().map_or(0, |d| d.1)
    }

    /// What the customer owes: the total, never negative.
    pub fn amount_due(&self) -> i64 {
        self.total().max(0)
    }

    /// The invoice as Stripe's `invoice` object.
    pub fn render(&self, store: &Store) -> Value {
        let mut o = render_invoice_body(store, self, Some(&self.id));
        let base = &store.public_url;
        let finalized = self.finalized_at.is_some();
        o["hosted_invoice_url"] = json!(finalized.then(|| format!("{base}/invoices/{}", self.id)));
        o["invoice_pdf"] = json!(finalized.then(|| format!("{base}/invoices/{}/pdf", self.id)));
        if let Some(pi) = &self.payment_intent {
            let mut payment = fixtures::object("invoice_payment");
            let paid = self.status == "paid";
            payment.insert("id".into(), json!(format!("inpay_{}", &pi[3..])));
            payment.insert("invoice".into(), json!(self.id));
            payment.insert("currency".into(), json!(self.currency));
            payment.insert("amount_requested".into(), json!(self.amount_due()));
            payment.insert(
                "amount_paid".into(),
                json!(paid.then_some(self.amount_paid)),
            );
            payment.insert(
                "created".into(),
                json!(self.finalized_at.unwrap_or(self.created)),
            );
            payment.insert("livemode".into(), json!(false));
            payment.insert(
                "payment".into(),
                json!({ "type": "payment_intent", "payment_intent": pi }),
            );
            payment.insert("status".into(), json!(if paid { "paid" } else { "open" }));
            payment.insert(
                "status_transitions".into(),
                json!({ "canceled_at": null, "paid_at": self.paid_at }),
            );
            o["payments"] = json!({ "object": "list", "data": [payment], "has_more": false, "url": format!("/v1/invoice_payments?invoice={}", self.id) });
        }
        o
    }
}

/// The `invoice` fixture filled from `invoice`; `id` `None` renders a preview.
fn render_invoice_body(store: &Store, invoice: &Invoice, id: Option<&str>) -> Value {
    let mut o = fixtures::object("invoice");
    let customer = store.customers.iter().find(|c| c.id == invoice.customer);
    let sub = invoice
        .subscription
        .as_ref()
        .and_then(|s| store.subscriptions.iter().find(|x| &x.id == s));
    let (subtotal, total) = (invoice.subtotal(), invoice.total());
    let due = invoice.amount_due();
    let discount_amounts: Vec<Value> = invoice
        .discount
        .iter()
        .map(|(id, amount)| json!({ "amount": amount, "discount": id }))
        .collect();
    let discounts: Vec<&String> = invoice.discount.iter().map(|(id, _)| id).collect();
    let lines: Vec<Value> = invoice
        .lines
        .iter()
        .map(|l| render_line(store, l, id, invoice.subscription.as_deref()))
        .collect();
    let proration_date = invoice
        .lines
        .iter()
        .find(|l| l.proration)
        .map(|l| l.period_start);
    let parent = sub.map_or(Value::Null, |s| {
        json!({
            "type": "subscription_details", "quote_details": null,
            "subscription_details": { "metadata": s.metadata, "subscription": s.id, "subscription_proration_date": proration_date },
        })
    });
    let open = invoice.status == "open";
    for (k, v) in [
        ("id", json!(id)),
        ("number", json!(invoice.number)),
        ("customer", json!(invoice.customer)),
        (
            "customer_email",
            json!(customer.and_then(|c| c.email.clone())),
        ),
        (
            "customer_name",
            json!(customer.and_then(|c| c.name.clone())),
        ),
        ("customer_shipping", Value::Null),
        ("subscription", json!(invoice.subscription)),
        ("parent", parent),
        ("status", json!(invoice.status)),
        ("billing_reason", json!(invoice.billing_reason)),
        ("currency", json!(invoice.currency)),
        ("created", json!(invoice.created)),
        ("period_start", json!(invoice.period_start)),
        ("period_end", json!(invoice.period_end)),
        ("subtotal", json!(subtotal)),
        ("subtotal_excluding_tax", json!(subtotal)),
        ("total_discount_amounts", json!(discount_amounts)),
        ("discounts", json!(discounts)),
        ("total", json!(total)),
        ("total_excluding_tax", json!(total)),
        ("amount_due", json!(due)),
        ("amount_paid", json!(invoice.amount_paid)),
        ("amount_remaining", json!(due - invoice.amount_paid)),
        ("amount_overpaid", json!(0)),
        ("amount_shipping", json!(0)),
        ("attempt_count", json!(invoice.attempt_count)),
        ("attempted", json!(invoice.attempt_count > 0)),
        ("auto_advance", json!(open || invoice.status == "draft")),
        ("collection_method", json!("charge_automatically")),
        ("due_date", Value::Null),
        ("effective_at", json!(invoice.finalized_at)),
        ("ending_balance", json!(invoice.finalized_at.map(|_| 0))),
        ("starting_balance", json!(0)),
        ("from_invoice", Value::Null),
        ("last_finalization_error", Value::Null),
        ("next_payment_attempt", Value::Null),
        ("hosted_invoice_url", Value::Null),
        ("invoice_pdf", Value::Null),
        ("shipping_cost", Value::Null),
        ("shipping_details", Value::Null),
        ("account_name", json!("Tollgate Stripe double")),
        ("metadata", json!({})),
        ("webhooks_delivered_at", json!(invoice.finalized_at)),
        (
            "status_transitions",
            json!({ "finalized_at": invoice.finalized_at, "marked_uncollectible_at": null, "paid_at": invoice.paid_at, "voided_at": null }),
        ),
        (
            "lines",
            json!({ "object": "list", "data": lines, "has_more": false, "url": format!("/v1/invoices/{}/lines", id.unwrap_or("upcoming")) }),
        ),
        ("livemode", json!(false)),
    ] {
        o.insert(k.into(), v);
    }
    Value::Object(o)
}

fn render_line(
    store: &Store,
    line: &Line,
    invoice: Option<&str>,
    subscription: Option<&str>,
) -> Value {
    let mut o = fixtures::object("line_item");
    let product = store
        .prices
        .iter()
        .find(|p| p.id == line.price)
        .map(|p| p.product.clone())
        .unwrap_or_default();
    let unit = store
        .prices
        .iter()
        .find(|p| p.id == line.price)
        .and_then(|p| p.unit_amount);
    for (k, v) in [
        ("id", json!(line.id)),
        ("invoice", json!(invoice)),
        ("amount", json!(line.amount)),
        ("subtotal", json!(line.amount)),
        ("currency", json!(line.currency)),
        ("description", json!(line.description)),
        (
            "period",
            json!({ "start": line.period_start, "end": line.period_end }),
        ),
        ("quantity", json!(line.quantity)),
        ("quantity_decimal", json!(line.quantity.to_string())),
        ("subscription", json!(subscription)),
        ("metadata", json!({})),
        ("livemode", json!(false)),
        (
            "parent",
            json!({
                "type": "subscription_item_details", "invoice_item_details": null,
                "subscription_item_details": {
                    "invoice_item": line.invoice_item, "proration": line.proration, "proration_details": { "credited_items": null },
                    "subscription": subscription, "subscription_item": line.sub_item,
                },
            }),
        ),
        (
            "pricing",
            json!({
                "type": "price_details", "price_details": { "price": line.price, "product": product },
                "unit_amount_decimal": unit.map(crate::billing::Fine::render),
            }),
        ),
    ] {
        o.insert(k.into(), v);
    }
    Value::Object(o)
}

/// A PaymentIntent paying an invoice.
#[derive(Debug, Clone)]
pub struct PaymentIntent {
    /// `pi_…`.
    pub id: String,
    /// Amount in minor units.
    pub amount: i64,
    /// Currency.
    pub currency: String,
    /// Customer id.
    pub customer: String,
    /// `succeeded` or `requires_payment_method` (after a decline).
    pub status: String,
    /// Card `pm_…` last tried.
    pub payment_method: Option<String>,
    /// The last decline.
    pub last_error: Option<ApiError>,
    /// Unix creation time.
    pub created: i64,
    /// Invoice id.
    pub invoice: String,
}

impl PaymentIntent {
    /// The PaymentIntent as Stripe's `payment_intent` object.
    pub fn render(&self) -> Value {
        let mut o = fixtures::object("payment_intent");
        let received = if self.status == "succeeded" {
            self.amount
        } else {
            0
        };
        let error = self.last_error.as_ref().map_or(Value::Null, |e| {
            json!({ "type": e.kind, "code": e.code, "decline_code": e.decline_code, "message": e.message, "doc_url": format!("https://stripe.com/docs/error-codes/{}", e.code.as_deref().unwrap_or("").replace('_', "-")) })
        });
        for (k, v) in [
            ("id", json!(self.id)),
            ("amount", json!(self.amount)),
            ("amount_received", json!(received)),
            ("currency", json!(self.currency)),
            ("customer", json!(self.customer)),
            ("status", json!(self.status)),
            ("payment_method", json!(self.payment_method)),
            ("last_payment_error", error),
            ("created", json!(self.created)),
            ("canceled_at", Value::Null),
            (
                "client_secret",
                json!(format!("{}_secret_{}", self.id, ids::random(16))),
            ),
            ("description", json!(format!("Invoice {}", self.invoice))),
            ("metadata", json!({})),
            ("next_action", Value::Null),
            ("processing", Value::Null),
            ("shipping", Value::Null),
            ("transfer_data", Value::Null),
            ("automatic_payment_methods", Value::Null),
            ("payment_method_configuration_details", Value::Null),
            ("setup_future_usage", Value::Null),
            ("livemode", json!(false)),
        ] {
            o.insert(k.into(), v);
        }
        Value::Object(o)
    }
}

impl Store {
    /// Lines billing the licensed items of subscription `sub_id` for `[start, end)`, in advance;
    /// `trial` lines are free ("Trial period for …").
    pub fn period_lines(
        &self,
        sub_id: &str,
        start: i64,
        end: i64,
        trial: bool,
    ) -> Result<Vec<Line>, ApiError> {
        let sub = self.sub(sub_id)?;
        let mut lines = Vec::new();
        for item in &sub.items {
            let price = find(&self.prices, &item.price, "price", "price", |p| &p.id)?;
            if price.metered() {
                continue;
            }
            let name = self.product_name(&price.product);
            let (amount, description) = if trial {
                (0, format!("Trial period for {name}"))
            } else {
                (
                    price.amount(item.quantity),
                    format!(
                        "{} × {name} (at {})",
                        item.quantity,
                        money(
                            price.unit_amount.unwrap_or_default().round(),
                            &price.currency
                        )
                    ),
                )
            };
            lines.push(Line {
                id: ids::id("il"),
                amount,
                currency: price.currency.clone(),
                description,
                period_start: start,
                period_end: end,
                proration: false,
                quantity: item.quantity,
                price: price.id.clone(),
                sub_item: item.id.clone(),
                invoice_item: None,
            });
        }
        Ok(lines)
    }

    /// Lines billing the metered items of `sub_id` for the usage its customer reported with
    /// `start <= timestamp < end`, priced by the item's price (per unit or tiered), in arrears.
    pub fn usage_lines(&self, sub_id: &str, start: i64, end: i64) -> Result<Vec<Line>, ApiError> {
        let sub = self.sub(sub_id)?;
        let mut lines = Vec::new();
        for item in &sub.items {
            let price = find(&self.prices, &item.price, "price", "price", |p| &p.id)?;
            let Some(meter) = price
                .recurring
                .as_ref()
                .and_then(|r| r.meter.clone())
                .filter(|_| price.metered())
            else {
                continue;
            };
            let usage = self.usage(&meter, &sub.customer, start, end);
            lines.push(Line {
                id: ids::id("il"),
                amount: price.amount(usage),
                currency: price.currency.clone(),
                description: format!("{usage} × {} (usage)", self.product_name(&price.product)),
                period_start: start,
                period_end: end,
                proration: false,
                quantity: usage,
                price: price.id.clone(),
                sub_item: item.id.clone(),
                invoice_item: None,
            });
        }
        Ok(lines)
    }

    /// Removes the subscription's pending invoice items and returns them as invoice lines.
    pub fn take_pending_lines(&mut self, sub_id: &str) -> Vec<Line> {
        let (taken, kept): (Vec<PendingItem>, Vec<PendingItem>) =
            std::mem::take(&mut self.pending_items)
                .into_iter()
                .partition(|i| i.subscription == sub_id);
        self.pending_items = kept;
        taken.iter().map(pending_line).collect()
    }

    /// The subscription's pending items as lines, leaving them pending (for previews).
    pub fn pending_lines(&self, sub_id: &str) -> Vec<Line> {
        self.pending_items
            .iter()
            .filter(|i| i.subscription == sub_id)
            .map(pending_line)
            .collect()
    }

    /// Creates a draft invoice and emits `invoice.created`. Returns its id.
    pub fn create_invoice(
        &mut self,
        customer: &str,
        sub: Option<&str>,
        reason: &str,
        lines: Vec<Line>,
        period: (i64, i64),
    ) -> Result<String, ApiError> {
        let currency = match sub {
            Some(s) => self.sub(s)?.currency.clone(),
            None => lines
                .first()
                .map_or_else(|| "usd".to_owned(), |l| l.currency.clone()),
        };
        let created = self.now_for(Some(customer));
        let discount =
            sub.and_then(|s| self.discount_for(s, lines.iter().map(|l| l.amount).sum(), created));
        if let (Some(s), Some(_)) = (sub, &discount) {
            self.discount_used(s);
        }
        let invoice = Invoice {
            id: ids::id("in"),
            number: None,
            customer: customer.to_owned(),
            subscription: sub.map(str::to_owned),
            status: "draft".into(),
            billing_reason: reason.to_owned(),
            lines,
            currency,
            period_start: period.0,
            period_end: period.1,
            amount_paid: 0,
            attempt_count: 0,
            payment_intent: None,
            created,
            finalized_at: None,
            paid_at: None,
            discount,
        };
        let id = invoice.id.clone();
        self.invoices.push(invoice);
        if let Some(s) = sub {
            if let Some(sub) = self.subscriptions.iter_mut().find(|x| x.id == s) {
                sub.latest_invoice = Some(id.clone());
            }
        }
        let json = self.render_invoice(&id)?;
        self.emit("invoice.created", json, None);
        Ok(id)
    }

    /// Finalizes the invoice (number, `open`, `invoice.finalized`) and attempts payment with the
    /// customer's card. A declined card is not an error here: it is recorded on the invoice,
    /// PaymentIntent and subscription and announced by events.
    pub fn finalize_and_charge(&mut self, id: &str) -> Result<(), ApiError> {
        self.finalize_invoice(id)?;
        match self.charge_invoice(id) {
            Ok(()) => Ok(()),
            Err(e)
                if e.kind == "card_error"
                    || e.code.as_deref() == Some("missing_payment_method") =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Draft → open with the customer's next invoice number; emits `invoice.finalized`.
    pub fn finalize_invoice(&mut self, id: &str) -> Result<(), ApiError> {
        let customer_id = find(&self.invoices, id, "invoice", "invoice", |i| &i.id)?
            .customer
            .clone();
        let now = self.now_for(Some(&customer_id));
        let customer = find_mut(
            &mut self.customers,
            &customer_id,
            "customer",
            "customer",
            |c| &c.id,
        )?;
        let number = format!(
            "{}-{:04}",
            customer.invoice_prefix, customer.next_invoice_sequence
        );
        customer.next_invoice_sequence += 1;
        let invoice = find_mut(&mut self.invoices, id, "invoice", "invoice", |i| &i.id)?;
        if invoice.status != "draft" {
            return Ok(());
        }
        invoice.status = "open".into();
        invoice.number = Some(number);
        invoice.finalized_at = Some(now);
        let json = self.render_invoice(id)?;
        self.emit("invoice.finalized", json, None);
        Ok(())
    }

    /// Charges an open invoice with the customer's current card. `$0` invoices are paid at once.
    /// Success: PaymentIntent `succeeded`, invoice `paid`, events `payment_intent.succeeded`,
    /// `invoice.paid`, `invoice.payment_succeeded`, and a `past_due`/`incomplete` subscription with
    /// nothing left open becomes `active`. Decline: PaymentIntent `requires_payment_method`,
    /// `payment_intent.payment_failed`, `invoice.payment_failed`, an `active` subscription becomes
    /// `past_due`; returns the 402 card error.
    pub fn charge_invoice(&mut self, id: &str) -> Result<(), ApiError> {
        let invoice = find(&self.invoices, id, "invoice", "invoice", |i| &i.id)?.clone();
        match invoice.status.as_str() {
            "open" => {}
            "paid" => return Err(ApiError::invalid("invoice", "Invoice is already paid")),
            other => {
                return Err(ApiError::invalid(
                    "invoice",
                    format!("You can only pay an open invoice; this one is {other}."),
                ))
            }
        }
        let now = self.now_for(Some(&invoice.customer));
        let due = invoice.amount_due();
        let outcome = if due == 0 {
            Ok(None)
        } else {
            let card = find(
                &self.customers,
                &invoice.customer,
                "customer",
                "customer",
                |c| &c.id,
            )?
            .card
            .clone();
            let pi_id = invoice
                .payment_intent
                .clone()
                .unwrap_or_else(|| ids::id("pi"));
            let result = match &card {
                None => Err(ApiError {
                    code: Some("missing_payment_method".into()),
                    ..ApiError::invalid(
                        "customer",
                        "This customer has no attached payment source or default payment method.",
                    )
                }),
                Some(c) if c.behaviour == CardBehaviour::ChargesFail => {
                    Err(declined("generic_decline"))
                }
                Some(_) => Ok(()),
            };
            let pi = PaymentIntent {
                id: pi_id.clone(),
                amount: due,
                currency: invoice.currency.clone(),
                customer: invoice.customer.clone(),
                status: if result.is_ok() {
                    "succeeded"
                } else {
                    "requires_payment_method"
                }
                .into(),
                payment_method: card.map(|c| c.id),
                last_error: result.clone().err(),
                created: now,
                invoice: id.to_owned(),
            };
            let pi_json = pi.render();
            self.payment_intents.retain(|p| p.id != pi_id);
            self.payment_intents.push(pi);
            if let Some(inv) = self.invoices.iter_mut().find(|i| i.id == id) {
                inv.payment_intent = Some(pi_id);
                inv.attempt_count += 1;
            }
            let kind = if result.is_ok() {
                "payment_intent.succeeded"
            } else {
                "payment_intent.payment_failed"
            };
            self.emit(kind, pi_json, None);
            result.map(|()| Some(()))
        };
        match outcome {
            Ok(_) => {
                if let Some(inv) = self.invoices.iter_mut().find(|i| i.id == id) {
                    inv.status = "paid".into();
                    inv.amount_paid = due;
                    inv.paid_at = Some(now);
                }
                let json = self.render_invoice(id)?;
                self.emit("invoice.paid", json.clone(), None);
                self.emit("invoice.payment_succeeded", json, None);
                if let Some(sub) = &invoice.subscription {
                    let still_open = self
                        .invoices
                        .iter()
                        .any(|i| i.subscription.as_ref() == Some(sub) && i.status == "open");
                    if !still_open {
                        self.set_status(sub, &["past_due", "incomplete", "unpaid"], "active")?;
                    }
                }
                Ok(())
            }
            Err(error) => {
                let json = self.render_invoice(id)?;
                self.emit("invoice.payment_failed", json, None);
                if let Some(sub) = &invoice.subscription {
                    self.set_status(sub, &["active"], "past_due")?;
                }
                Err(error)
            }
        }
    }

    /// Moves the subscription from one of `from` to `to`, emitting `customer.subscription.updated`.
    fn set_status(&mut self, sub_id: &str, from: &[&str], to: &str) -> Result<(), ApiError> {
        let before = self.render_subscription(sub_id)?;
        let sub = find_mut(
            &mut self.subscriptions,
            sub_id,
            "subscription",
            "subscription",
            |s| &s.id,
        )?;
        if !from.contains(&sub.status.as_str()) {
            return Ok(());
        }
        sub.status = to.to_owned();
        let after = self.render_subscription(sub_id)?;
        self.emit_changed("customer.subscription.updated", &before, after);
        Ok(())
    }

    /// The invoice's JSON, or 404.
    pub fn render_invoice(&self, id: &str) -> Result<Value, ApiError> {
        find(&self.invoices, id, "invoice", "invoice", |i| &i.id).map(|i| i.render(self))
    }

    /// `GET /v1/invoices` filtered by `customer`, `subscription`, `status`.
    pub fn list_invoices(&self, p: &Params) -> Result<Value, ApiError> {
        let customer = p.str("customer");
        let sub = p.str("subscription");
        let status = p.str("status");
        let items = self
            .invoices
            .iter()
            .rev()
            .filter(|i| customer.is_none_or(|c| c == i.customer))
            .filter(|i| sub.is_none_or(|s| i.subscription.as_deref() == Some(s)))
            .filter(|i| status.is_none_or(|s| s == i.status))
            .map(|i| i.render(self))
            .collect();
        super::list("/v1/invoices", items, p)
    }

    /// `POST /v1/invoices/{id}/pay`: finalizes a draft, then charges the current card; a decline is
    /// returned as Stripe's 402 card error (the invoice stays `open`).
    pub fn pay_invoice(&mut self, id: &str) -> Result<Value, ApiError> {
        if find(&self.invoices, id, "invoice", "invoice", |i| &i.id)?.status == "draft" {
            self.finalize_invoice(id)?;
        }
        self.charge_invoice(id)?;
        self.render_invoice(id)
    }

    /// `POST /v1/invoices/create_preview`: `customer`, `subscription`,
    /// `subscription_details[items][i][id|price|quantity|deleted]`,
    /// `subscription_details[proration_date]`, `subscription_details[proration_behavior]`,
    /// `subscription_details[cancel_at_period_end]`. Applies the change to a scratch copy of the
    /// account and renders the invoice it would produce: for `always_invoice` the proration invoice,
    /// otherwise the next renewal (pending prorations, usage so far, next period's items). The
    /// preview has no `id`, as Stripe's previews have none.
    pub fn preview_invoice(&self, p: &Params) -> Result<Value, ApiError> {
        let details = p.child("subscription_details");
        let mut scratch = self.clone();
        scratch.outbox.clear();
        let sub_id = match p.str("subscription") {
            Some(id) => {
                let sub = scratch.sub(id)?.clone();
                if p.str("customer").is_some_and(|c| c != sub.customer) {
                    return Err(ApiError::invalid(
                        "customer",
                        "The subscription does not belong to this customer.",
                    ));
                }
                id.to_owned()
            }
            None => {
                let customer = p.require("customer")?.to_owned();
                let mut items = Vec::new();
                for item in details.list("items") {
                    items.push((
                        item.require("price")?.to_owned(),
                        item.int("quantity")?.unwrap_or(1),
                    ));
                }
                if items.is_empty() {
                    return Err(ApiError::missing("subscription_details[items]"));
                }
                let before = scratch.invoices.len();
                scratch.start_subscription(&customer, &items, None, Default::default())?;
                let invoice = scratch
                    .invoices
                    .get(before)
                    .cloned()
                    .ok_or_else(|| ApiError::missing("subscription_details[items]"))?;
                return Ok(preview_json(&scratch, &invoice));
            }
        };
        let behaviour = details
            .str("proration_behavior")
            .unwrap_or("create_prorations");
        let mut update = Vec::new();
        for (i, item) in details.list("items").iter().enumerate() {
            for key in ["id", "price", "quantity", "deleted"] {
                if let Some(v) = item.str(key) {
                    update.push((format!("items[{i}][{key}]"), v.to_owned()));
                }
            }
        }
        update.push(("proration_behavior".into(), behaviour.to_owned()));
        if let Some(date) = details.str("proration_date") {
            update.push(("proration_date".into(), date.to_owned()));
        }
        if let Some(flag) = details.str("cancel_at_period_end") {
            update.push(("cancel_at_period_end".into(), flag.to_owned()));
        }
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(update)
            .finish();
        let invoices_before = scratch.invoices.len();
        if !details.list("items").is_empty() || details.has("cancel_at_period_end") {
            scratch
                .update_subscription(&sub_id, &Params::parse(&encoded))
                .map_err(|e| rename_param(e, "subscription_details"))?;
        }
        if behaviour == "always_invoice" {
            if let Some(invoice) = scratch.invoices.get(invoices_before).cloned() {
                return Ok(preview_json(&scratch, &invoice));
            }
        }
        let sub = scratch.sub(&sub_id)?.clone();
        let next_end = sub.interval.next_boundary(sub.anchor, sub.period_end);
        let trial = sub.status == "trialing";
        let mut lines = if trial {
            Vec::new()
        } else {
            scratch.usage_lines(&sub_id, sub.period_start, sub.period_end)?
        };
        lines.extend(scratch.pending_lines(&sub_id));
        lines.extend(scratch.period_lines(&sub_id, sub.period_end, next_end, false)?);
        let created = scratch.now_for(Some(&sub.customer));
        let discount = scratch.discount_for(&sub_id, lines.iter().map(|l| l.amount).sum(), created);
        let invoice = Invoice {
            id: String::new(),
            number: None,
            customer: sub.customer.clone(),
            subscription: Some(sub_id.clone()),
            status: "draft".into(),
            billing_reason: "upcoming".into(),
            lines,
            currency: sub.currency.clone(),
            period_start: sub.period_start,
            period_end: sub.period_end,
            amount_paid: 0,
            attempt_count: 0,
            payment_intent: None,
            created,
            finalized_at: None,
            paid_at: None,
            discount,
        };
        Ok(preview_json(&scratch, &invoice))
    }
}

fn preview_json(store: &Store, invoice: &Invoice) -> Value {
    let mut json = render_invoice_body(store, invoice, None);
    json["status"] = json!("draft");
    json["number"] = Value::Null;
    json["amount_paid"] = json!(0);
    json["amount_remaining"] = json!(invoice.amount_due());
    json["status_transitions"] = json!({ "finalized_at": null, "marked_uncollectible_at": null, "paid_at": null, "voided_at": null });
    if let Some(lines) = json["lines"]["data"].as_array_mut() {
        for line in lines {
            if let Some(id) = line["id"].as_str().map(|s| s.replacen("il_", "il_tmp_", 1)) {
                line["id"] = json!(id);
            }
        }
    }
    json
}

fn rename_param(mut error: ApiError, prefix: &str) -> ApiError {
    error.param = error.param.map(|p| match p.split_once('[') {
        Some((head, tail)) => format!("{prefix}[{head}][{tail}"),
        None => format!("{prefix}[{p}]"),
    });
    error
}

fn pending_line(item: &PendingItem) -> Line {
    Line {
        id: ids::id("il"),
        amount: item.amount,
        currency: item.currency.clone(),
        description: item.description.clone(),
        period_start: item.period_start,
        period_end: item.period_end,
        proration: true,
        quantity: item.quantity,
        price: item.price.clone(),
        sub_item: item.sub_item.clone(),
        invoice_item: Some(item.id.clone()),
    }
}

/// `$29.00` for USD, otherwise `29.00 EUR`: how line descriptions show a unit amount.
pub fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let amount = format!("{sign}{}.{:02}", abs / 100, abs % 100);
    if currency == "usd" {
        format!("${amount}")
    } else {
        format!("{amount} {}", currency.to_uppercase())
    }
}
