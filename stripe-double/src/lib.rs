//! Tollgate's Stripe test double: an in-memory Stripe account that speaks Stripe's v1 wire format
//! (form-encoded requests, JSON objects built from Stripe's own example fixtures, Stripe's error
//! shape, `Idempotency-Key` replay, lists, `expand[]`) and sends signed webhooks, so that code
//! written against `async-stripe` works unchanged with only the API base URL changed.
//!
//! Covered: customers, products, prices (lookup keys, metered, tiered), billing meters and meter
//! events, Checkout Sessions in subscription mode with a hosted payment page, Billing Portal
//! sessions with a hosted card page, subscriptions (trials, item changes with prorations,
//! cancellation), invoices (renewals with usage, `create_preview`, `pay`), PaymentIntents, events
//! and webhook endpoints. Double-only endpoints under `/_double/` move a customer's clock, swap
//! cards and drive webhook deliveries; [`Double`] offers the same as methods.
//!
//! ```no_run
//! # async fn demo() -> Result<(), stripe_double::Error> {
//! let double = stripe_double::spawn(stripe_double::Config::default()).await?;
//! // async-stripe: stripe::ClientBuilder::new("sk_test_double").url(double.base_url()).build()
//! println!("Stripe double at {}", double.base_url());
//! # Ok(()) }
//! ```

pub mod billing;
pub mod cards;
pub mod clock;
pub mod error;
pub mod fixtures;
pub mod form;
pub mod ids;
pub mod pages;
pub mod pdf;
pub mod routes;
pub mod state;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub use error::ApiError;
pub use state::{DeliveryAttempt, Store};
pub use webhooks::RetryPolicy;

/// The Stripe API version the double reports in events: the one `async-stripe` 1.0.0-rc.10 is
/// generated for (`stripe_shared::version::VERSION`).
pub const API_VERSION: &str = "2026-09-30.endive";

/// How to run the double.
#[derive(Debug, Clone)]
pub struct Config {
    /// The secret key clients must send as `Authorization: Bearer …`; anything else gets 401.
    pub api_key: String,
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Webhook endpoint to create at start (receives every event type), if any.
    pub webhook_url: Option<String>,
    /// Signing secret of that endpoint (`whsec_…`).
    pub webhook_secret: String,
    /// Base URL of hosted pages (Checkout, Portal, invoices) as browsers reach it; default: the
    /// bound address, e.g. `http://127.0.0.1:PORT`.
    pub public_url: Option<String>,
    /// Retry policy of webhook deliveries.
    pub retry: RetryPolicy,
    /// Stripe API version written into events.
    pub api_version: String,
}

impl Default for Config {
    /// Key `sk_test_double`, `127.0.0.1:0`, no webhook endpoint, secret `whsec_double`, default retries.
    fn default() -> Self {
        Self {
            api_key: "sk_test_double".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            webhook_url: None,
            webhook_secret: "whsec_double".into(),
            public_url: None,
            retry: RetryPolicy::default(),
            api_version: API_VERSION.into(),
        }
    }
}

/// Why the double could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The configuration is unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// State shared by the HTTP handlers and the webhook worker.
#[derive(Debug)]
pub struct Shared {
    /// The account.
    pub store: Mutex<Store>,
    /// The configuration.
    pub config: Config,
    /// Wakes the webhook worker when events were queued.
    pub notify: Notify,
    /// HTTP client for webhook deliveries.
    pub http: reqwest::Client,
}

impl Shared {
    /// Creates the shared state; `public_url` is the base of hosted pages.
    pub fn new(config: Config, public_url: &str) -> Arc<Self> {
        let mut store = Store::new(&config.api_version, public_url);
        if let Some(url) = &config.webhook_url {
            store.add_endpoint(
                url,
                Some(&config.webhook_secret),
                Vec::new(),
                Some("configured at start".into()),
            );
        }
        Arc::new(Self {
            store: Mutex::new(store),
            config,
            notify: Notify::new(),
            http: reqwest::Client::new(),
        })
    }

    /// Locks the store (a panicked holder does not make it unusable: state is plain data).
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` on the store, then wakes the webhook worker for any events it queued.
    pub fn with<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let result = f(&mut self.lock());
        self.notify.notify_one();
        result
    }
}

/// A running double. Dropping it stops the server and the webhook worker.
#[derive(Debug)]
pub struct Double {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

/// Binds `config.listen` (default `127.0.0.1:0`) and serves the double on a tokio task, with the
/// webhook worker on another.
///
/// # Errors
/// [`Error::Bind`] when the address cannot be bound, [`Error::Config`] for an empty API key.
pub async fn spawn(config: Config) -> Result<Double, Error> {
    if config.api_key.is_empty() {
        return Err(Error::Config("api_key must not be empty".into()));
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Error::Bind {
        addr: config.listen,
        source,
    })?;
    let public = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let shared = Shared::new(config, &public);
    let app = routes::router(shared.clone());
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "stripe double server stopped");
        }
    });
    let worker = tokio::spawn(webhooks::run(shared.clone()));
    tracing::info!(%addr, public_url = %public, "stripe double listening");
    Ok(Double {
        shared,
        addr,
        tasks: vec![server, worker],
    })
}

impl Double {
    /// The API base URL, e.g. `http://127.0.0.1:PORT` — give it to
    /// `stripe::ClientBuilder::new(key).url(…)`; requests go to `{base}/v1/…`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (for custom inspection).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Runs `f` on the store and wakes the webhook worker afterwards.
    pub fn with_store<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        self.shared.with(f)
    }

    /// Adds a webhook endpoint for every event type and returns its generated `whsec_…` secret.
    pub fn add_webhook_endpoint(&self, url: &str) -> String {
        self.with_store(|s| s.add_endpoint(url, None, Vec::new(), None).secret)
    }

    /// Advances subscription `id`'s customer clock to `to` (default: the end of the current period)
    /// and runs renewals, trial ends and cancellations due on the way. Returns the subscription.
    ///
    /// # Errors
    /// 404 for an unknown subscription, 400 for a time before the customer's clock.
    pub fn advance_subscription(&self, id: &str, to: Option<i64>) -> Result<Value, ApiError> {
        self.with_store(|s| s.advance_subscription(id, to))
    }

    /// Advances `customer`'s clock to `to`.
    ///
    /// # Errors
    /// 404 for an unknown customer, 400 for a time in its past.
    pub fn advance_customer(&self, customer: &str, to: i64) -> Result<(), ApiError> {
        self.with_store(|s| s.advance_customer(customer, to))
    }

    /// The current time of `customer`'s clock (Unix seconds).
    pub fn now(&self, customer: &str) -> i64 {
        self.with_store(|s| s.now_for(Some(customer)))
    }

    /// Replaces `customer`'s card by test card `number` (see [`cards::classify`]).
    ///
    /// # Errors
    /// 404 for an unknown customer, 402 for a card declined at once.
    pub fn set_card(&self, customer: &str, number: &str) -> Result<Value, ApiError> {
        self.with_store(|s| s.set_card(customer, number))
    }

    /// Sum of the accepted meter event values of `customer` (for `event_name`, or all meters).
    pub fn meter_total(&self, customer: &str, event_name: Option<&str>) -> i64 {
        self.with_store(|s| {
            s.meter_events
                .iter()
                .filter(|e| e.customer == customer && event_name.is_none_or(|n| n == e.event_name))
                .map(|e| e.value)
                .sum()
        })
    }

    /// Every recorded event as Stripe JSON, oldest first.
    pub fn events(&self) -> Vec<Value> {
        self.with_store(|s| s.events.iter().map(|e| s.render_event(e)).collect())
    }

    /// Every webhook delivery attempt so far, oldest first.
    pub fn deliveries(&self) -> Vec<DeliveryAttempt> {
        self.with_store(|s| s.attempts.clone())
    }

    /// Queues event `id` again for delivery (a duplicate delivery, as Stripe may send).
    ///
    /// # Errors
    /// 404 for an unknown event.
    pub fn resend(&self, id: &str) -> Result<Value, ApiError> {
        self.with_store(|s| s.resend(id))
    }

    /// Stops webhook deliveries; events keep queueing until [`Double::release_webhooks`].
    pub fn hold_webhooks(&self) {
        self.with_store(|s| s.held = true);
    }

    /// Resumes deliveries; with `reverse`, the queued ones go out newest first (out of order).
    pub fn release_webhooks(&self, reverse: bool) {
        self.with_store(|s| {
            if reverse {
                s.outbox.make_contiguous().reverse();
            }
            s.held = false;
        });
    }

    /// Waits until no delivery is queued or in flight (or `timeout` passes); returns whether idle.
    pub async fn wait_for_webhooks(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let idle = self.with_store(|s| s.outbox.is_empty() && s.in_flight.is_none());
            if idle {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Double {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
