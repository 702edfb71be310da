//! `POST /webhooks/stripe` (API.md "Webhooks in"): Stripe's signature scheme
//! (`Stripe-Signature: t=…,v1=…`, HMAC-SHA256 over `"{t}.{raw body}"`, 300 s
//! tolerance, any of several `v1` values; verified by `stripe_webhook`, see
//! <https://docs.stripe.com/webhooks#verify-manually>). A bad or stale signature stores
//! nothing. Each event id is processed once: the id is claimed in the transaction that
//! acts on it, so a repeat, or a concurrent second delivery, changes nothing.
//!
//! Events are hints: the handler fetches the object's current state from Stripe and
//! mirrors that ([`super::mirror`]), so order does not matter (Stripe does not
//! guarantee it: <https://docs.stripe.com/webhooks#event-ordering>).

use super::{failed, mirror, Stripe};
use crate::db;
use crate::service::{Error, Tollgate};
use chrono::{DateTime, Utc};
use stripe_billing::invoice::{PayInvoice, RetrieveInvoice};
use stripe_billing::subscription::RetrieveSubscription;
use stripe_checkout::checkout_session::RetrieveCheckoutSession;
use stripe_core::customer::{RetrieveCustomer, RetrieveCustomerReturned};
use stripe_webhook::{Webhook, WebhookError};
use uuid::Uuid;

/// The event types Tollgate acts on (issue 4); anything else is recorded and
/// answered 200 so that Stripe stops sending it.
pub const HANDLED: &[&str] = &[
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.trial_will_end",
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_failed",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "customer.updated",
];

/// What happened to a delivery that passed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// First delivery of the event: acted on; the ledger's outcome.
    Processed { id: String, outcome: String },
    /// The event id was processed before: nothing changed.
    Duplicate { id: String },
}

/// Why a delivery was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// Missing, malformed, wrong or stale signature, or a body that is not an event:
    /// `400`, nothing stored.
    #[error("{0}")]
    Signature(String),
    /// Acting on the event failed (Stripe or the database): `500`, nothing stored,
    /// Stripe delivers it again later.
    #[error(transparent)]
    Failed(#[from] Error),
}

/// Verifies and processes one delivery. `signature` is the `Stripe-Signature`
/// header, `payload` the raw body, `now` the clock the 300 s tolerance is read from.
///
/// # Errors
/// [`Refused::Signature`] before anything is stored; [`Refused::Failed`] after a
/// rolled-back attempt.
pub async fn receive(
    t: &Tollgate,
    stripe: &Stripe,
    signature: Option<&str>,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<Received, Refused> {
    let signature =
        signature.ok_or_else(|| Refused::Signature("missing Stripe-Signature header".into()))?;
    match Webhook::construct_event_with_timestamp(
        payload,
        signature,
        &stripe.webhook_secret,
        now.timestamp(),
    ) {
        // A verified event of a type or shape this SDK does not know: still an event.
        Ok(_) | Err(WebhookError::BadParse(_)) => {}
        Err(WebhookError::BadTimestamp(t)) => {
            return Err(Refused::Signature(format!(
                "signature timestamp {t} is more than 300 s from now"
            )))
        }
        Err(e) => return Err(Refused::Signature(format!("bad signature: {e}"))),
    }
    let event: serde_json::Value =
        serde_json::from_str(payload).map_err(|e| Refused::Signature(format!("not JSON: {e}")))?;
    let (Some(id), Some(kind)) = (event["id"].as_str(), event["type"].as_str()) else {
        return Err(Refused::Signature(
            "not a Stripe event (no id or type)".into(),
        ));
    };
    if !id.starts_with("evt_") {
        return Err(Refused::Signature(format!("`{id}` is not an event id")));
    }
    let created = event["created"]
        .as_i64()
        .and_then(|c| DateTime::from_timestamp(c, 0))
        .unwrap_or(now);
    let object_id = event["data"]["object"]["id"].as_str().unwrap_or_default();
    if db::stripe::event_processed(&t.pool, id)
        .await
        .map_err(Error::from)?
    {
        return Ok(Received::Duplicate { id: id.to_owned() });
    }
    let current = fetch(stripe, kind, object_id).await?;

    let catalog = t.catalog.get()?;
    let mut tx = t.pool.begin().await.map_err(Error::from)?;
    if !db::stripe::claim_event(&mut *tx, id, kind, created)
        .await
        .map_err(Error::from)?
    {
        return Ok(Received::Duplicate { id: id.to_owned() });
    }
    let public_url = t.settings.public_url.as_str();
    let mut outcomes = Vec::new();
    let mut retry = Vec::new();
    match current {
        Current::Checkout {
            session_id,
            account,
            customer,
            subscription,
        } => {
            match (
                account,
                db::stripe::account_of(&mut *tx, &customer)
                    .await
                    .map_err(Error::from)?,
            ) {
                (Some(claimed), Some(known)) if claimed == known => {
                    db::stripe::record_checkout(&mut *tx, &session_id, known)
                        .await
                        .map_err(Error::from)?;
                    outcomes.push(format!("checkout {session_id} completed"));
                    if let Some(sub) = subscription {
                        outcomes.push(
                            mirror::subscription(
                                &mut tx,
                                &catalog,
                                public_url,
                                stripe.grace,
                                &sub,
                                now,
                            )
                            .await?,
                        );
                    }
                }
                _ => outcomes.push(format!(
                    "ignored: checkout {session_id} is not for the account of customer {customer}"
                )),
            }
        }
        Current::Subscription(sub) => {
            outcomes.push(
                mirror::subscription(&mut tx, &catalog, public_url, stripe.grace, &sub, now)
                    .await?,
            );
            if kind == "customer.subscription.trial_will_end" {
                outcomes.push(trial_will_end(&mut tx, &sub).await?);
            }
        }
        Current::Invoice(invoice, sub) => {
            // The subscription first, so the invoice can point at it and dunning
            // sees the status the payment left.
            if let Some(sub) = sub {
                outcomes.push(
                    mirror::subscription(&mut tx, &catalog, public_url, stripe.grace, &sub, now)
                        .await?,
                );
            }
            outcomes.push(mirror::invoice(&mut tx, &invoice).await?);
        }
        Current::Customer {
            id: customer,
            email,
        } => {
            let changed = db::stripe::set_customer_email(&mut *tx, &customer, email.as_deref())
                .await
                .map_err(Error::from)?;
            outcomes.push(format!(
                "customer {customer} {}",
                if changed {
                    "e-mail updated"
                } else {
                    "unchanged"
                }
            ));
            if let Some(account) = db::stripe::account_of(&mut *tx, &customer)
                .await
                .map_err(Error::from)?
            {
                retry = db::invoices::past_due_stripe_ids(&mut *tx, account)
                    .await
                    .map_err(Error::from)?;
                if !retry.is_empty() {
                    outcomes.push(format!(
                        "retrying {} past-due invoice(s) with the customer's payment method",
                        retry.len()
                    ));
                }
            }
        }
        Current::Nothing(why) => outcomes.push(why),
    }
    let outcome = outcomes.join("; ");
    db::stripe::set_outcome(&mut *tx, id, &outcome)
        .await
        .map_err(Error::from)?;
    tx.commit().await.map_err(Error::from)?;
    // A subscription may have changed: this process answers from a clean state
    // cache at once (other processes when the triggers' notification arrives).
    t.cache.clear();
    tracing::info!(
        event = id,
        kind,
        outcome = outcome.as_str(),
        "Stripe event processed"
    );
    retry_payments(stripe, &retry).await;
    Ok(Received::Processed {
        id: id.to_owned(),
        outcome,
    })
}

/// The current state of what an event is about.
enum Current {
    Checkout {
        session_id: String,
        account: Option<Uuid>,
        customer: String,
        subscription: Option<Box<stripe_shared::Subscription>>,
    },
    Subscription(Box<stripe_shared::Subscription>),
    Invoice(
        Box<stripe_shared::Invoice>,
        Option<Box<stripe_shared::Subscription>>,
    ),
    Customer {
        id: String,
        email: Option<String>,
    },
    Nothing(String),
}

async fn fetch(stripe: &Stripe, kind: &str, object_id: &str) -> Result<Current, Error> {
    let client = stripe.client();
    let subscription = |id: String| async move {
        RetrieveSubscription::new(id.as_str())
            .send(client)
            .await
            .map(Box::new)
            .map_err(|e| failed("retrieve subscription", e))
    };
    Ok(match kind {
        "checkout.session.completed" => {
            let session = RetrieveCheckoutSession::new(object_id)
                .send(client)
                .await
                .map_err(|e| failed("retrieve Checkout session", e))?;
            let Some(customer) = session
                .customer
                .as_ref()
                .map(|c| c.id().as_str().to_owned())
            else {
                return Ok(Current::Nothing(
                    "ignored: the Checkout session has no customer".into(),
                ));
            };
            let sub = match session.subscription.as_ref() {
                Some(s) => Some(subscription(s.id().as_str().to_owned()).await?),
                None => None,
            };
            Current::Checkout {
                session_id: session.id.as_str().to_owned(),
                account: session
                    .client_reference_id
                    .as_deref()
                    .and_then(|r| Uuid::parse_str(r).ok()),
                customer,
                subscription: sub,
            }
        }
        k if k.starts_with("customer.subscription.") && HANDLED.contains(&k) => {
            Current::Subscription(subscription(object_id.to_owned()).await?)
        }
        k if k.starts_with("invoice.") && HANDLED.contains(&k) => {
            let invoice = RetrieveInvoice::new(object_id)
                .send(client)
                .await
                .map_err(|e| failed("retrieve invoice", e))?;
            let sub = match mirror::subscription_of(&invoice) {
                Some(id) => Some(subscription(id).await?),
                None => None,
            };
            Current::Invoice(Box::new(invoice), sub)
        }
        "customer.updated" => match RetrieveCustomer::new(object_id)
            .send(client)
            .await
            .map_err(|e| failed("retrieve customer", e))?
        {
            RetrieveCustomerReturned::Customer(c) => Current::Customer {
                id: c.id.as_str().to_owned(),
                email: c.email,
            },
            RetrieveCustomerReturned::DeletedCustomer(_) => {
                Current::Nothing(format!("ignored: customer {object_id} was deleted"))
            }
        },
        // The invoice events carry a payment's effect (paid, or past due); the
        // payment intent adds nothing Tollgate keeps.
        "payment_intent.succeeded" | "payment_intent.payment_failed" => {
            Current::Nothing("recorded: the invoice events carry the payment".into())
        }
        other => Current::Nothing(format!("ignored: Tollgate does not act on {other}")),
    })
}

/// A customer who changed their payment method while past due: pay the open invoices
/// with it now rather than at Stripe's next scheduled retry. The outcome arrives as
/// `invoice.paid` or `invoice.payment_failed`; a refusal here is only logged.
async fn retry_payments(stripe: &Stripe, invoices: &[String]) {
    for invoice in invoices {
        match PayInvoice::new(invoice.as_str())
            .send(stripe.client())
            .await
        {
            Ok(paid) => {
                tracing::info!(invoice = invoice.as_str(), status = ?paid.status, "past-due invoice retried")
            }
            Err(e) => {
                tracing::warn!(invoice = invoice.as_str(), error = %e, "past-due invoice retry refused")
            }
        }
    }
}

/// The trial-ending notice, three days before (Stripe's timing).
async fn trial_will_end(
    tx: &mut db::Tx<'_>,
    sub: &stripe_shared::Subscription,
) -> Result<String, Error> {
    let Some(row) = db::subscriptions::by_provider_id(&mut **tx, sub.id.as_str()).await? else {
        return Ok("no trial notice: the subscription is not Tollgate's".into());
    };
    let ends = sub.trial_end.and_then(|t| DateTime::from_timestamp(t, 0));
    let when = ends.map_or_else(
        || "soon".to_owned(),
        |e| format!("on {}", e.format("%Y-%m-%d")),
    );
    db::notifications::insert(
        &mut **tx,
        row.account_id,
        "trial_will_end",
        "Your trial ends soon",
        &format!("Your trial ends {when}. The card on file is charged then; add or change it on the billing page."),
        &serde_json::json!({ "subscription_id": row.id, "trial_end": ends }),
    )
    .await?;
    Ok("trial notice sent".into())
}
