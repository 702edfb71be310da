//! A server whose Stripe provider talks to the project's Stripe test double, which
//! delivers its signed webhooks to the server's `/webhooks/stripe`.

use super::{serve, services, TestApp, EMTCHAT};
use sqlx::PgPool;
use std::time::Duration;
use stripe_double::{Config, Double, RetryPolicy};
use tollgate::service::stripe::{Stripe, StripeSettings};
use tollgate::service::{catalog, Actor};

pub const API_KEY: &str = "sk_test_tollgate_server";
pub const WEBHOOK_SECRET: &str = "whsec_tollgate_server_tests";

/// The server and its Stripe.
pub struct StripeApp {
    pub app: TestApp,
    pub double: Double,
}

/// The emtchat catalog, a double, and a server configured for it.
pub async fn spawn_with_stripe(pool: PgPool) -> StripeApp {
    spawn_with_stripe_catalog(pool, "catalogs/emtchat.toml", EMTCHAT).await
}

/// The catalog `text` (read from `path`), a double, and a server configured for it.
pub async fn spawn_with_stripe_catalog(pool: PgPool, path: &str, text: &str) -> StripeApp {
    catalog::load(&pool, path, text, &Actor::Cli)
        .await
        .expect("catalog loads");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let double = stripe_double::spawn(Config {
        api_key: API_KEY.into(),
        webhook_url: Some(format!("http://{addr}/webhooks/stripe")),
        webhook_secret: WEBHOOK_SECRET.into(),
        retry: RetryPolicy {
            max_attempts: 4,
            initial_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(400),
            timeout: Duration::from_secs(10),
        },
        ..Config::default()
    })
    .await
    .expect("the double starts");
    let stripe = Stripe::new(&StripeSettings {
        secret_key: API_KEY.into(),
        webhook_secret: WEBHOOK_SECRET.into(),
        api_base: Some(double.base_url()),
        dunning_grace_days: 7,
    })
    .expect("stripe client");
    let tollgate = services(pool, &listener).await.with_stripe(stripe);
    StripeApp {
        app: serve(listener, tollgate).await,
        double,
    }
}

impl StripeApp {
    /// Waits until the double delivered every queued webhook.
    pub async fn settle(&self) {
        assert!(
            self.double.wait_for_webhooks(Duration::from_secs(20)).await,
            "webhooks still pending"
        );
    }

    /// POSTs `card` to a hosted Checkout page.
    pub async fn pay(&self, checkout_url: &str, card: &str) -> reqwest::Response {
        self.app
            .http
            .post(checkout_url)
            .form(&[("card_number", card)])
            .send()
            .await
            .expect("checkout page")
    }
}
