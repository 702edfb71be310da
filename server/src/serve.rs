//! `tollgate serve`: the HTTP server (pages, `/api/v1`, live stream, health) plus
//! the live listener and background upkeep.

use crate::config::Config;
use crate::{api, billing_files, health, live, telemetry};
use axum::extract::FromRef;
use axum::routing::get;
use axum::Router;
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use metrics_exporter_prometheus::PrometheusHandle;
use tollgate::db::sessions::PgSessionStore;
use tollgate::service::{jobs, mail, Settings, Tollgate};
use tollgate_app::{shell, App};
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// Shared by every handler. Cheap to clone, one reference count: axum clones the
/// state for every request, and a deep copy (Leptos' options hold a dozen strings)
/// was a tenth of the server's work on `POST /api/v1/check`.
#[derive(Clone)]
pub struct AppState(std::sync::Arc<AppParts>);

impl std::ops::Deref for AppState {
    type Target = AppParts;
    fn deref(&self) -> &AppParts {
        &self.0
    }
}

impl From<AppParts> for AppState {
    fn from(parts: AppParts) -> Self {
        AppState(std::sync::Arc::new(parts))
    }
}

/// What [`AppState`] holds.
pub struct AppParts {
    /// Leptos' options (site root, output name).
    pub leptos: LeptosOptions,
    /// The services.
    pub tollgate: Tollgate,
    /// Metrics exporter.
    pub metrics: PrometheusHandle,
    /// Rate limits of the log-in, sign-up and mail-sending forms.
    pub limits: std::sync::Arc<crate::guard::Limits>,
    /// The bearer token `/metrics` requires; `None`: loopback clients only.
    pub metrics_token: Option<std::sync::Arc<str>>,
    /// The dashboard data of the open live streams, shared by a user's tabs.
    pub snapshots: std::sync::Arc<crate::live::snapshots::Snapshots>,
    /// Origins that may frame the embeddable widgets ([`crate::embed`]).
    pub embed_origins: std::sync::Arc<[String]>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos.clone()
    }
}

impl FromRef<AppState> for Tollgate {
    fn from_ref(s: &AppState) -> Self {
        s.tollgate.clone()
    }
}

/// The longest a request may take to be answered.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Session cookie name.
pub const SESSION_COOKIE: &str = "tollgate_session";
/// A session lasts this long after it was last written (log-in, sign-up).
pub const SESSION_DAYS: i64 = 14;

/// Leptos' options for a server at `cfg.listen` serving `cfg.site_root`.
pub fn leptos_options(cfg: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("tollgate")
        .site_root(cfg.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(cfg.listen)
        .env(if cfg!(debug_assertions) {
            Env::DEV
        } else {
            Env::PROD
        })
        .build()
}

/// The application's routes, generated once per process.
///
/// Generating them renders the app with resource loading suspended by a
/// process-wide flag (`leptos_server::SuppressResourceLoad`): a resource first
/// polled by another request meanwhile never loads, and its page answers 503 at
/// the timeout (leptos-rs/leptos#4773). A second router built in the same process
/// (the tests start one per test, in parallel) must therefore not generate them
/// again while the first serves.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::LazyLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::LazyLock::new(|| generate_route_list(App));
    ROUTES.clone()
}

/// The whole router. `secure`: the browser reaches it over https (Secure
/// cookies, HSTS).
pub fn router(state: AppState, cookie_secure: bool) -> Router {
    let sessions = SessionManagerLayer::new(PgSessionStore::new(state.tollgate.pool.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(cookie_secure)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::days(SESSION_DAYS),
        ));
    let routes = route_list();
    let limits = state.limits.clone();
    crate::guard::spawn_pruning(limits.clone());
    let tollgate = state.tollgate.clone();
    let site = Router::new()
        .leptos_routes_with_context(&state, routes, move || provide_context(tollgate.clone()), {
            let options = state.leptos.clone();
            move || shell(options.clone())
        })
        .route("/live/usage", get(live::usage_stream))
        .route("/admin/live/usage", get(live::board_stream))
        .route("/invoices/{id}/pdf", get(billing_files::invoice_pdf))
        .route("/verify-email", get(crate::email_links::verify_email))
        .route("/admin/analytics.csv", get(billing_files::analytics_csv))
        .route(
            "/admin/billing/invoices.csv",
            get(billing_files::invoices_csv),
        )
        .route(
            "/admin/billing/subscriptions.csv",
            get(billing_files::subscriptions_csv),
        )
        .merge(crate::embed::router())
        .route("/usage/export.csv", get(crate::usage_files::account_export))
        .route("/usage/reports/{file}", get(crate::usage_reports::download))
        .route(
            "/admin/usage/export.csv",
            get(crate::usage_files::admin_export),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(
            limits,
            crate::guard::guard,
        ))
        .layer(axum::middleware::from_fn(crate::csrf::require_same_origin))
        .layer(axum::middleware::from_fn(crate::fn_status::error_status));
    Router::new()
        .nest("/api/v1", api::router())
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(
            "/webhooks/stripe",
            axum::routing::post(crate::webhooks::stripe),
        )
        .route("/metrics", get(health::metrics))
        .merge(site)
        .with_state(state)
        .layer(axum::middleware::from_fn(crate::client_ip::scope))
        .layer(axum::middleware::from_fn(telemetry::track))
        .layer(axum::middleware::from_fn_with_state(
            crate::headers::Https(cookie_secure),
            crate::headers::secure,
        ))
        // Bounds the time to an answer (a streamed body, such as a live stream or
        // a CSV export, is not cut: the timeout ends when the response starts).
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}

/// Runs the server until Ctrl-C or SIGTERM.
///
/// # Errors
/// Database unreachable, migrations failing, or the address in use.
pub async fn run(cfg: Config) -> anyhow::Result<()> {
    use anyhow::Context;
    let pool = tollgate::db::connect(&cfg.database_url, cfg.db_max_connections)
        .await
        .with_context(|| format!("cannot reach PostgreSQL at {}", cfg.masked().database_url))?;
    tollgate::db::migrate(&pool)
        .await
        .context("migrations failed")?;
    let mut tollgate = Tollgate::new(
        pool,
        Settings {
            public_url: cfg.public_url(),
            sales_email: cfg.sales_email.clone(),
            cookie_secure: cfg.cookie_secure,
        },
    )
    .await?;
    match cfg.stripe()? {
        Some(stripe) => {
            tracing::info!("Stripe is configured: new paid subscriptions go through Checkout, webhooks at /webhooks/stripe");
            tollgate = tollgate.with_stripe(stripe);
        }
        None => tracing::info!(
            "Stripe is not configured: every subscription is billed by the manual provider"
        ),
    }
    tollgate = tollgate.with_webhooks(cfg.webhooks()?).with_dunning(cfg.dunning()?);
    if tollgate.webhooks.allow_private_targets {
        tracing::warn!("webhook endpoints may be private addresses (webhook_allow_private_targets): for tests and demos only");
    }
    if tollgate.catalog.get().is_err() {
        tracing::warn!("no catalog is loaded: run `tollgate catalog load catalogs/emtchat.toml`");
    }
    tollgate::service::live::spawn(&tollgate);
    tokio::spawn(jobs::run(tollgate.clone()));
    let webhook_client = tollgate::service::webhooks::deliver::Client::new(&tollgate.webhooks)
        .context("the webhook client cannot start")?;
    tokio::spawn(tollgate::service::webhooks::deliver::run(tollgate.clone(), webhook_client));
    tokio::spawn(tollgate::service::usage_retention::run(
        tollgate.pool.clone(),
        cfg.usage_retention()?,
    ));
    let mailer = cfg.mailer()?;
    if mailer.is_log() {
        tracing::info!("SMTP is not configured (smtp_host): e-mail is kept, not sent; this log names each message and `tollgate mail list` shows it whole");
    }
    tokio::spawn(mail::worker::run(
        tollgate.pool.clone(),
        mailer,
        cfg.mail_worker(),
    ));
    let limits = std::sync::Arc::new(crate::guard::Limits::new(cfg.auth_attempts_per_minute));
    let metrics_token = cfg
        .metrics_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(std::sync::Arc::from);
    let state = AppState::from(AppParts {
        leptos: leptos_options(&cfg),
        tollgate,
        metrics: telemetry::metrics(),
        limits,
        metrics_token,
        snapshots: Default::default(),
        embed_origins: cfg.embed_origins()?.into(),
    });
    // An https public URL means the browser reaches Tollgate over TLS: cookies are
    // Secure and HSTS is sent, whatever `cookie_secure` says.
    let app = router(
        state,
        cfg.cookie_secure || cfg.public_url().starts_with("https://"),
    );
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    tracing::info!(
        "Tollgate is serving on http://{} (public URL {})",
        cfg.listen,
        cfg.public_url()
    );
    // The peer address is the key of the log-in and sign-up rate limits (guard.rs).
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await
    .context("server failed")
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
