//! New paid subscriptions through Stripe Checkout in subscription mode
//! (<https://docs.stripe.com/billing/subscriptions/build-subscriptions?ui=stripe-hosted>):
//! one Stripe customer per account, created once and reused; the plan's price found by
//! its lookup key; the seat count as quantity; the plan's trial days unless the account
//! had its trial; the account id as `client_reference_id`. The subscription itself
//! reaches Tollgate through the webhooks ([`super::webhooks`]).

use super::{failed, Stripe};
use crate::catalog::Audience;
use crate::db;
use crate::period::Interval;
use crate::service::accounts::{require_role, Role};
use crate::service::{Actor, Error, Tollgate};
use crate::stripe_catalog;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionSubscriptionData,
};
use stripe_core::customer::CreateCustomer;
use stripe_shared::CheckoutSessionMode;
use uuid::Uuid;

/// A Checkout session to send the customer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// `cs_…`.
    pub session_id: String,
    /// The hosted payment page.
    pub url: String,
}

/// Whether `plan_key` is paid through Stripe when Stripe is configured: it has a
/// Stripe price for `interval` (not free, not priced by seat tiers) and every usage price
/// has a metered form (no cost-plus, no peak meter).
pub fn paid_through_stripe(t: &Tollgate, plan_key: &str, interval: Interval) -> bool {
    t.stripe.is_some()
        && matches!(
            card_billing(t, plan_key, interval),
            Some(CardBilling::Checkout)
        )
}

/// How a customer would pay for a plan by card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardBilling {
    /// Stripe bills it: Checkout.
    Checkout,
    /// Nothing to pay: no price on the interval and no usage price.
    Free,
    /// It costs money but Stripe cannot bill it (tiered seats, cost-plus, a peak
    /// meter): the reason, in words. Only an operator sets it up, billed by
    /// Tollgate's invoices.
    Unsupported(String),
}

/// How `plan_key` billed every `interval` is paid by card; `None` for a plan not
/// in the catalog (or no catalog) or without a price on `interval`.
pub fn card_billing(t: &Tollgate, plan_key: &str, interval: Interval) -> Option<CardBilling> {
    let catalog = t.catalog.get().ok()?;
    let plan = catalog.plan(plan_key)?;
    let price = plan.price(interval)?;
    let usage = stripe_catalog::plan_usage_prices(&catalog, plan);
    Some(match (stripe_catalog::stripe_price(price), usage) {
        (Ok(_), Ok(_)) => CardBilling::Checkout,
        (Err(stripe_catalog::UnsupportedPrice::Free), Ok(prices)) if prices.is_empty() => {
            CardBilling::Free
        }
        (Err(stripe_catalog::UnsupportedPrice::Free), Ok(_)) => {
            CardBilling::Unsupported("usage is charged on a plan without a base price".into())
        }
        (Err(e), _) => CardBilling::Unsupported(e.to_string()),
        (Ok(_), Err((meter, e))) => CardBilling::Unsupported(format!("{meter}: {e}")),
    })
}

/// Starts Checkout for `account_id` on `plan_key` billed every `interval`, asked by
/// `user_id` (the account's owner). Success returns to
/// `/billing/checkout?session_id=…`, cancel to `/pricing`.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but the owner; [`Error::Invalid`] for an unknown,
/// sales-only, free or tier-priced plan, or a team plan on a personal account;
/// [`Error::Conflict`] when Stripe is not configured, or the account already pays through Stripe (change the plan
/// from `/billing` instead); [`Error::Internal`] when Stripe fails or the plan was
/// never synced (`tollgate stripe sync`).
pub async fn start(
    t: &Tollgate,
    account_id: Uuid,
    user_id: Uuid,
    actor: &Actor,
    plan_key: &str,
    interval: Interval,
    now: DateTime<Utc>,
) -> Result<Started, Error> {
    let stripe: &Stripe = t.stripe.as_deref().ok_or_else(|| {
        Error::Conflict("Stripe is not configured: plans are billed by invoice.".into())
    })?;
    let catalog = t.catalog.get()?;
    let plan = catalog
        .plan(plan_key)
        .filter(|p| p.public && p.self_serve)
        .ok_or_else(|| {
            Error::invalid(
                "plan",
                format!("There is no self-serve plan \"{plan_key}\"."),
            )
        })?;
    let price = plan.price(interval).ok_or_else(|| {
        Error::invalid(
            "interval",
            format!("{} has no {interval} price.", plan.name),
        )
    })?;
    let shape = stripe_catalog::stripe_price(price).map_err(|e| {
        Error::invalid(
            "plan",
            format!("{} cannot be paid by card: {e}.", plan.name),
        )
    })?;

    let mut tx = t.pool.begin().await?;
    require_role(&mut *tx, account_id, user_id, Role::Owner).await?;
    // Serialises two Checkouts of one account, so the customer is created once.
    db::accounts::lock_for_cycle_change(&mut *tx, account_id).await?;
    let account = db::accounts::by_id(&mut *tx, account_id)
        .await?
        .ok_or_else(|| Error::NotFound("no such account".into()))?;
    if plan.audience == Audience::Team && account.kind != "organization" {
        return Err(Error::invalid(
            "plan",
            format!(
                "{} is for organizations; choose a personal plan for this account.",
                plan.name
            ),
        ));
    }
    if let Some(live) = db::subscriptions::live_for_account(&mut *tx, account_id).await? {
        if live.provider == "stripe" {
            return Err(Error::Conflict("This account already pays by card through Stripe; changing a card-paid plan in Tollgate is not available yet.".into()));
        }
    }
    let seats = match account.kind.as_str() {
        "organization" if shape.per_seat => {
            crate::service::organizations::seats::demand(&mut tx, account_id, now).await?
        }
        _ => 1,
    };
    let recipient = db::accounts::mail_recipient(&mut *tx, account_id).await?;
    let customer = match db::stripe::customer_of(&mut *tx, account_id).await? {
        Some(id) => id,
        None => {
            let mut create = CreateCustomer::new()
                .name(account.name.as_str())
                .metadata(metadata(account_id));
            if let Some(r) = &recipient {
                create = create.email(r.email.as_str());
            }
            let created = create
                .send(stripe.client())
                .await
                .map_err(|e| failed("create customer", e))?;
            db::stripe::insert_customer(
                &mut *tx,
                account_id,
                created.id.as_str(),
                recipient.as_ref().map(|r| r.email.as_str()),
            )
            .await?;
            created.id.as_str().to_owned()
        }
    };

    let mut item = CreateCheckoutSessionLineItems::new();
    item.price = Some(super::changes::price_id(stripe, plan.key.as_str(), interval).await?);
    item.quantity = Some(u64::try_from(seats).unwrap_or(1));
    let mut items = vec![item];
    // Usage prices: metered items take no quantity (Stripe bills the meter's usage).
    for price in super::metered::price_ids(stripe, &catalog, plan, interval).await? {
        let mut usage = CreateCheckoutSessionLineItems::new();
        usage.price = Some(price);
        items.push(usage);
    }
    let mut data = CreateCheckoutSessionSubscriptionData::new();
    data.metadata = Some(metadata(account_id));
    if plan.trial_days > 0 && account.trial_used_at.is_none() {
        data.trial_period_days = Some(plan.trial_days);
    }
    let base = &t.settings.public_url;
    let session = CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Subscription)
        .customer(customer.as_str())
        .client_reference_id(account_id.to_string())
        .line_items(items)
        .subscription_data(data)
        .metadata(metadata(account_id))
        .success_url(format!(
            "{base}/billing/checkout?session_id={{CHECKOUT_SESSION_ID}}"
        ))
        .cancel_url(format!("{base}/pricing"))
        .send(stripe.client())
        .await
        .map_err(|e| failed("create Checkout session", e))?;
    let url = session.url.clone().ok_or_else(|| {
        Error::Internal("Stripe returned a Checkout session without a URL".into())
    })?;
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor,
            action: "checkout.started",
            target_kind: "account",
            target_id: account_id.to_string(),
            account_id: Some(account_id),
            ip: None,
            details: serde_json::json!({
                "plan": plan.key.as_str(), "interval": interval.as_str(), "seats": seats,
                "customer": customer, "session": session.id.as_str(),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    t.cache.invalidate(&[account_id]);
    Ok(Started {
        session_id: session.id.as_str().to_owned(),
        url,
    })
}

/// Stripe metadata naming the account (`account_id`).
fn metadata(account_id: Uuid) -> HashMap<String, String> {
    HashMap::from([("account_id".to_owned(), account_id.to_string())])
}

/// The account whose Checkout session `session_id` completed, `None` while it has
/// not (the return page polls this; the caller checks who may see the account).
///
/// # Errors
/// Database errors.
pub async fn completed_for(t: &Tollgate, session_id: &str) -> Result<Option<Uuid>, Error> {
    Ok(db::stripe::checkout_account(&t.pool, session_id).await?)
}
