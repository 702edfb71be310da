//! Shared test harness: a double with a short retry policy, an `async-stripe` client pointed at it,
//! and a webhook receiver that verifies signatures with `stripe_webhook::Webhook::construct_event`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use stripe_double::{Config, Double, RetryPolicy};
use stripe_webhook::{Event, Webhook};

pub const API_KEY: &str = "sk_test_tollgate_double";
pub const WEBHOOK_SECRET: &str = "whsec_tollgate_tests";

/// One webhook POST as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Raw body.
    pub body: String,
    /// `Stripe-Signature` header.
    pub signature: String,
    /// Event id and type from the raw JSON.
    pub id: String,
    pub kind: String,
    /// The raw JSON.
    pub json: serde_json::Value,
    /// Status the receiver answered.
    pub answered: u16,
}

#[derive(Clone, Default)]
struct ReceiverState {
    received: Arc<Mutex<Vec<Received>>>,
    parsed: Arc<Mutex<Vec<Event>>>,
    fail_next: Arc<AtomicUsize>,
}

/// A tiny axum webhook endpoint, as Tollgate's will be: verifies the signature, parses the event.
pub struct Receiver {
    pub url: String,
    state: ReceiverState,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    State(state): State<ReceiverState>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let status = if state.fail_next.load(Ordering::SeqCst) > 0 {
        state.fail_next.fetch_sub(1, Ordering::SeqCst);
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        match Webhook::construct_event(&body, &signature, WEBHOOK_SECRET) {
            Ok(event) => {
                state.parsed.lock().unwrap().push(event);
                StatusCode::OK
            }
            Err(e) => {
                eprintln!("webhook rejected: {e:?} for {body}");
                StatusCode::BAD_REQUEST
            }
        }
    };
    state.received.lock().unwrap().push(Received {
        id: json["id"].as_str().unwrap_or_default().to_owned(),
        kind: json["type"].as_str().unwrap_or_default().to_owned(),
        body,
        signature,
        json,
        answered: status.as_u16(),
    });
    status
}

impl Receiver {
    pub async fn start() -> Self {
        let state = ReceiverState::default();
        let app = Router::new()
            .route("/webhooks/stripe", post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            url: format!("http://{addr}/webhooks/stripe"),
            state,
            task,
        }
    }

    /// Answers the next `n` deliveries with 500.
    pub fn fail_next(&self, n: usize) {
        self.state.fail_next.store(n, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// Events that passed signature verification and typed parsing, in arrival order.
    pub fn events(&self) -> Vec<Event> {
        self.state.parsed.lock().unwrap().clone()
    }

    /// Types of the verified events, in arrival order.
    pub fn kinds(&self) -> Vec<String> {
        self.events().iter().map(|e| e.type_.to_string()).collect()
    }

    /// Waits until a verified event of `kind` arrived `count` times.
    pub async fn wait_for(&self, kind: &str, count: usize) -> Vec<Event> {
        for _ in 0..300 {
            let matching: Vec<Event> = self
                .events()
                .into_iter()
                .filter(|e| e.type_.to_string() == kind)
                .collect();
            if matching.len() >= count {
                return matching;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no {count} × {kind} webhook; got {:?}", self.kinds());
    }
}

/// A double, a receiver registered as its webhook endpoint, and clients.
pub struct Env {
    pub double: Double,
    pub receiver: Receiver,
    pub client: stripe::Client,
    /// Plain HTTP client that does not follow redirects (hosted pages).
    pub http: reqwest::Client,
}

impl Env {
    pub async fn start() -> Self {
        let receiver = Receiver::start().await;
        let double = stripe_double::spawn(Config {
            api_key: API_KEY.into(),
            webhook_url: Some(receiver.url.clone()),
            webhook_secret: WEBHOOK_SECRET.into(),
            retry: RetryPolicy {
                max_attempts: 4,
                initial_delay: Duration::from_millis(50),
                max_delay: Duration::from_millis(400),
                timeout: Duration::from_secs(5),
            },
            ..Config::default()
        })
        .await
        .unwrap();
        let client = stripe::ClientBuilder::new(API_KEY)
            .url(double.base_url())
            .build()
            .unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            double,
            receiver,
            client,
            http,
        }
    }

    /// POSTs `card_number` to a hosted form (`/checkout/{id}` or `/portal/{id}/card`).
    pub async fn submit_card(&self, url: &str, card: &str) -> reqwest::Response {
        self.http
            .post(url)
            .form(&[("card_number", card)])
            .send()
            .await
            .unwrap()
    }

    pub async fn settle(&self) {
        assert!(
            self.double.wait_for_webhooks(Duration::from_secs(10)).await,
            "webhooks still pending"
        );
    }
}

pub fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The JSON body of a response (reqwest's `json` feature is not enabled in this workspace).
pub async fn json(response: reqwest::Response) -> serde_json::Value {
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}
