//! The `stripe` payment provider (issue 4), through `async-stripe` 1.0.0-rc.10:
//!
//! - [`sync`]: the catalog's plans as Stripe products and prices (`tollgate stripe sync`);
//! - [`checkout`]: a Stripe customer per account, and Checkout sessions for new paid
//!   subscriptions;
//! - [`webhooks`]: `POST /webhooks/stripe` (API.md "Webhooks in"), each event once;
//! - [`metered`]: billing meters and metered prices for usage prices;
//! - [`meter_usage`]: the job sending usage above the included quantity to Stripe's meters;
//! - [`mirror`]: Stripe's subscriptions and invoices kept in Tollgate's tables, from
//!   their current state as Stripe reports it, so events may come twice or out of order.
//!
//! The API base URL is configurable, so tests and the demo run against the project's
//! Stripe test double (`stripe-double/`).

pub mod changes;
pub mod checkout;
pub(crate) mod discounts;
pub mod meter_usage;
pub mod metered;
pub mod mirror;
pub mod portal;
pub mod sync;
pub mod webhooks;

use super::Error;

/// The operator's Stripe settings.
#[derive(Clone)]
pub struct StripeSettings {
    /// Secret API key (`sk_live_…`, `sk_test_…`).
    pub secret_key: String,
    /// The webhook endpoint's signing secret (`whsec_…`).
    pub webhook_secret: String,
    /// API base URL; `None` is Stripe itself (`https://api.stripe.com`).
    pub api_base: Option<String>,
    /// Days a past-due subscription keeps its plan's entitlements (dunning grace)
    /// before the paywall's renewal prompt applies.
    pub dunning_grace_days: u32,
}

impl std::fmt::Debug for StripeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeSettings")
            .field("secret_key", &"***")
            .field("webhook_secret", &"***")
            .field("api_base", &self.api_base)
            .field("dunning_grace_days", &self.dunning_grace_days)
            .finish()
    }
}

/// A configured Stripe provider: the API client and the webhook secret.
pub struct Stripe {
    client: stripe::Client,
    webhook_secret: String,
    grace: chrono::Duration,
}

impl Stripe {
    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Invalid`] (field `stripe_secret_key` / `stripe_webhook_secret`) for an
    /// empty key or secret, or a client the settings cannot build.
    pub fn new(settings: &StripeSettings) -> Result<Self, Error> {
        if settings.secret_key.trim().is_empty() {
            return Err(Error::invalid(
                "stripe_secret_key",
                "The Stripe secret key is empty.",
            ));
        }
        if settings.webhook_secret.trim().is_empty() {
            return Err(Error::invalid(
                "stripe_webhook_secret",
                "The Stripe webhook signing secret is empty.",
            ));
        }
        let mut builder = stripe::ClientBuilder::new(settings.secret_key.trim());
        if let Some(base) = &settings.api_base {
            builder = builder.url(base.trim_end_matches('/'));
        }
        let client = builder
            .build()
            .map_err(|e| Error::invalid("stripe_api_base", format!("Stripe client: {e}")))?;
        let grace = chrono::Duration::days(i64::from(settings.dunning_grace_days.min(365)));
        Ok(Stripe {
            client,
            webhook_secret: settings.webhook_secret.clone(),
            grace,
        })
    }

    /// The API client.
    pub fn client(&self) -> &stripe::Client {
        &self.client
    }
}

/// Whether Stripe answered "no such object" (HTTP 404).
pub(crate) fn is_missing(e: &stripe::StripeError) -> bool {
    matches!(e, stripe::StripeError::Stripe(_, 404))
}

/// A Stripe failure as a service error: the request and Stripe's message.
pub(crate) fn failed(what: &str, e: stripe::StripeError) -> Error {
    let message = describe(what, &e);
    tracing::warn!("{message}");
    Error::Internal(message)
}

/// The request and Stripe's message (`send meter event: Stripe answered 400: …`).
pub(crate) fn describe(what: &str, e: &stripe::StripeError) -> String {
    match e {
        stripe::StripeError::Stripe(api, status) => format!(
            "{what}: Stripe answered {status}: {}",
            api.message.as_deref().unwrap_or("no message")
        ),
        other => format!("{what}: {other}"),
    }
}

/// The item of a Stripe subscription that carries its plan: a licensed price whose lookup key
/// is `<plan>_<interval>`, with that plan key and interval. Metered items (usage prices) are
/// never it.
pub(crate) fn plan_item(
    sub: &stripe_shared::Subscription,
) -> Option<(
    &stripe_shared::SubscriptionItem,
    &str,
    crate::period::Interval,
)> {
    sub.items.data.iter().find_map(|i| {
        let metered = i
            .price
            .recurring
            .as_ref()
            .is_some_and(|r| r.usage_type == stripe_shared::RecurringUsageType::Metered);
        // An older price (a grandfathered subscriber's) lost its lookup key to the
        // newer one and keeps it in its metadata.
        let key = i.price.lookup_key.as_deref().or_else(|| {
            i.price
                .metadata
                .get(crate::stripe_catalog::PRICE_KEY_METADATA)
                .map(String::as_str)
        });
        let (plan, interval) =
            crate::stripe_catalog::parse_price_lookup_key(key.filter(|_| !metered)?)?;
        Some((i, plan, interval))
    })
}
