//! `spawn_app()`: the whole server on a random port over a fresh database (one per
//! test, from `#[sqlx::test]`), with the emtchat catalog loaded.

#![allow(dead_code)]

pub mod admin;
pub mod billing;
pub mod mail;
pub mod sse;
pub mod stripe;
pub mod webhooks;

use reqwest::{Client, Response};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::net::SocketAddr;
use tollgate::identity::{Email, NewPassword, PersonName};
use tollgate::period::Interval;
use tollgate::service::{auth, catalog, keys, plans, Actor, Settings, Tollgate};
use tollgate_server::config::Config;
use tollgate_server::serve::{leptos_options, router, AppParts, AppState};
use uuid::Uuid;

pub const EMTCHAT: &str = include_str!("../../../../catalogs/emtchat.toml");
pub const PASSWORD: &str = "correct horse battery";

/// A running server.
pub struct TestApp {
    pub addr: SocketAddr,
    pub http: Client,
    pub tollgate: Tollgate,
}

/// A customer with a personal account and an account key.
pub struct Customer {
    pub user_id: Uuid,
    pub account_id: Uuid,
    pub email: String,
    pub key: String,
}

/// A pool of 20 connections (the server's default) to the test's database, of
/// its own: not a child of sqlx::test's master pool, whose 20 connections are
/// shared by every test running at once (a child of 20 starved the others, whose
/// pages then waited 30 s for a connection). For tests that render many pages at
/// once.
pub async fn pool_of_20(db: sqlx::postgres::PgConnectOptions) -> PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(20)
        .connect_with(db)
        .await
        .expect("a pool of 20")
}

/// Starts a server on `pool`, loading the catalog first.
pub async fn spawn_app(pool: PgPool) -> TestApp {
    catalog::load(&pool, "catalogs/emtchat.toml", EMTCHAT, &Actor::Cli)
        .await
        .expect("catalog loads");
    spawn_on(pool).await
}

/// Starts another server process on the same database (no catalog load).
pub async fn spawn_on(pool: PgPool) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let tollgate = services(pool, &listener).await;
    serve(listener, tollgate).await
}

/// The services for a server about to listen on `listener`.
pub async fn services(pool: PgPool, listener: &tokio::net::TcpListener) -> Tollgate {
    let addr = listener.local_addr().expect("addr");
    Tollgate::new(
        pool,
        Settings {
            public_url: format!("http://{addr}"),
            sales_email: "sales@example.com".into(),
            cookie_secure: false,
        },
    )
    .await
    .expect("services")
}

/// Serves `tollgate` on `listener`.
pub async fn serve(listener: tokio::net::TcpListener, tollgate: Tollgate) -> TestApp {
    // Tests sign many users in from one address; the limits' own test serves with
    // the defaults (`serve_with_limits`).
    serve_with_limits(listener, tollgate, 100_000).await
}

/// Serves `tollgate` on `listener` with `auth_attempts_per_minute` of `per_minute`.
pub async fn serve_with_limits(
    listener: tokio::net::TcpListener,
    tollgate: Tollgate,
    per_minute: u32,
) -> TestApp {
    serve_with_config(
        listener,
        tollgate,
        Config {
            auth_attempts_per_minute: per_minute,
            ..Config::default()
        },
    )
    .await
}

/// Serves `tollgate` on `listener` with `cfg`'s limits and metrics token.
pub async fn serve_with_config(
    listener: tokio::net::TcpListener,
    tollgate: Tollgate,
    cfg: Config,
) -> TestApp {
    let addr = listener.local_addr().expect("addr");
    tollgate::service::live::spawn(&tollgate);
    let cfg = Config {
        listen: addr,
        ..cfg
    };
    let app = router(state(&tollgate, &cfg), false);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .expect("server runs")
    });
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        addr,
        http,
        tollgate,
    }
}

/// The state a server on `cfg` serves `tollgate` with.
pub fn state(tollgate: &Tollgate, cfg: &Config) -> AppState {
    let limits = std::sync::Arc::new(tollgate_server::guard::Limits::new(
        cfg.auth_attempts_per_minute,
    ));
    let metrics_token = cfg.metrics_token.as_deref().map(std::sync::Arc::from);
    AppState::from(AppParts {
        leptos: leptos_options(cfg),
        tollgate: tollgate.clone(),
        metrics: tollgate_server::telemetry::metrics(),
        limits,
        metrics_token,
        snapshots: Default::default(),
        embed_origins: cfg.embed_origins().expect("valid embed_origins").into(),
    })
}

impl TestApp {
    /// Waits until the app's change listener has handled every change committed so
    /// far (retried while it reconnects): a write made with plain SQL reaches the
    /// in-process state cache through its announcement, not at once.
    pub async fn settle(&self) {
        for _ in 0..100 {
            if self
                .tollgate
                .cache
                .sync(&self.tollgate.pool, std::time::Duration::from_millis(200))
                .await
                .is_ok()
            {
                return;
            }
        }
        panic!("the change listener never answered");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Signs up a customer, puts them on `plan` (if any) and creates an account key.
    pub async fn customer(&self, plan: Option<&str>) -> Customer {
        let email = format!("c-{}@test.example", Uuid::now_v7().simple());
        let created = auth::sign_up(
            &self.tollgate.pool,
            &Email::parse(&email).unwrap(),
            &PersonName::parse("Test Customer").unwrap(),
            &NewPassword::parse(PASSWORD).unwrap(),
            false,
            None,
        )
        .await
        .expect("sign up");
        // A customer who confirmed their address (they make keys and invite);
        // the link itself is tested in `email_verification`.
        tollgate::db::users::set_verified(&self.tollgate.pool, created.user_id)
            .await
            .expect("verified");
        if let Some(plan) = plan {
            plans::choose(
                &self.tollgate,
                created.account_id,
                plan,
                Interval::Month,
                plans::Chooser::Operator,
                &Actor::Cli,
                chrono::Utc::now(),
            )
            .await
            .expect("plan");
        }
        let key =
            keys::create_account_key(&self.tollgate.pool, created.account_id, "test", &Actor::Cli)
                .await
                .expect("key")
                .secret;
        Customer {
            user_id: created.user_id,
            account_id: created.account_id,
            email,
            key,
        }
    }

    /// A platform key.
    pub async fn platform_key(&self) -> String {
        keys::create_platform_key(&self.tollgate.pool, "platform", &Actor::Cli)
            .await
            .expect("key")
            .secret
    }

    pub async fn post(&self, path: &str, key: &str, body: &Value) -> Response {
        self.http
            .post(self.url(path))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str, key: &str) -> Response {
        self.http
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("request")
    }

    /// Posts `count` queries with keys `{prefix}-0…`.
    pub async fn queries(&self, key: &str, prefix: &str, count: usize) -> Response {
        let events: Vec<Value> = (0..count).map(|i| json!({"meter": "queries", "quantity": 1, "idempotency_key": format!("{prefix}-{i}")})).collect();
        self.post("/api/v1/events", key, &json!({ "events": events }))
            .await
    }

    /// The meter's usage from `GET /api/v1/usage`.
    pub async fn usage_of(&self, key: &str, meter: &str) -> String {
        let body: Value = self
            .get("/api/v1/usage", key)
            .await
            .json()
            .await
            .expect("json");
        body["meters"]
            .as_array()
            .expect("meters")
            .iter()
            .find(|m| m["meter"] == meter)
            .expect("meter")["usage"]
            .as_str()
            .expect("usage")
            .to_string()
    }
}

/// Status and JSON body.
pub async fn answer(res: Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}
