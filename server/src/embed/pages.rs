//! The widget pages, rendered whole on the server (they show before any script
//! runs), and the two scripts: `/embed.js` for the product's page and
//! `/embed/frame.js` inside the frame.

use super::{admit, framed_by, TokenQuery};
use crate::serve::AppState;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use minijinja::value::Serde;
use minijinja::{context, Environment, Value};
use serde::Serialize;
use std::sync::LazyLock;
use tollgate::catalog::Theme;
use tollgate::embed::{Claims, Widget};
use tollgate::usage::MeterUsage;
use tollgate_app::format::{quantity, unit};

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // `.html` names escape every value.
    for (name, text) in [
        ("usage.html", include_str!("usage.html")),
        ("pricing.html", include_str!("pricing.html")),
        ("theme.html", include_str!("theme.html")),
    ] {
        if let Err(e) = env.add_template(name, text) {
            tracing::error!(error = %e, name, "an embed template does not parse");
        }
    }
    env
});

/// `s` with HTML's special characters escaped.
pub fn escape(s: &str) -> String {
    minijinja::HtmlEscape(s).to_string()
}

fn render(name: &str, ctx: minijinja::Value) -> Result<String, minijinja::Error> {
    TEMPLATES.get_template(name)?.render(ctx)
}

fn html(claims: &Claims, rendered: Result<String, minijinja::Error>) -> Response {
    match rendered {
        Ok(body) => framed_by(
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response(),
            &claims.origin,
        ),
        Err(e) => {
            tracing::warn!(error = %e, "rendering a widget failed");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// One meter as the usage widget shows it (the page and its stream alike).
#[derive(Debug, Clone, Serialize)]
pub struct MeterView {
    pub meter: String,
    pub name: String,
    /// `420 of 500 queries`, or `420 queries` when unlimited.
    pub used: String,
    /// The bar's width, `0` to `100`, one decimal.
    pub width: String,
    /// `ok`, `warning`, `limit_reached`, `blocked`.
    pub state: String,
    /// What the state means, for people (`Within your plan`, …).
    pub note: String,
    pub unlimited: bool,
}

/// The usage widget's data.
#[derive(Debug, Clone, Serialize)]
pub struct UsageView {
    pub meters: Vec<MeterView>,
    /// `Resets in 9 days (1 Jan 2027)`.
    pub period: String,
}

fn meter_view(m: &MeterUsage) -> MeterView {
    let used = match m.limit {
        Some(limit) => format!("{} of {} {}", quantity(m.usage), quantity(limit), unit(&m.unit, limit)),
        None => format!("{} {}", quantity(m.usage), unit(&m.unit, m.usage)),
    };
    let width = m
        .percent
        .map(|p| p.clamp(rust_decimal::Decimal::ZERO, rust_decimal::Decimal::ONE_HUNDRED).round_dp(1))
        .unwrap_or_default();
    let note = match m.state {
        tollgate::limits::LimitState::Ok => "Within your plan",
        tollgate::limits::LimitState::Warning => "Getting close to your limit",
        tollgate::limits::LimitState::LimitReached => "Limit reached",
        tollgate::limits::LimitState::Blocked => "Limit reached: blocked until the period resets",
    };
    MeterView {
        meter: m.meter.clone(),
        name: m.name.clone(),
        used,
        width: width.to_string(),
        state: m.state.as_str().to_string(),
        note: note.to_string(),
        unlimited: m.limit.is_none(),
    }
}

/// The account's meters now.
///
/// # Errors
/// As [`tollgate::service::usage::snapshot`].
pub async fn usage_view(state: &AppState, account_id: uuid::Uuid) -> Result<UsageView, tollgate::service::Error> {
    let s = tollgate::service::usage::snapshot(&state.tollgate, account_id, chrono::Utc::now()).await?;
    Ok(UsageView {
        meters: s.meters.iter().map(meter_view).collect(),
        period: format!(
            "Resets in {} day{} ({})",
            s.days_remaining,
            if s.days_remaining == 1 { "" } else { "s" },
            tollgate_app::format::date(s.period.end)
        ),
    })
}

fn theme(state: &AppState) -> Theme {
    state
        .tollgate
        .catalog
        .get()
        .map(|c| c.theme.clone())
        .unwrap_or_default()
}

/// `GET /embed/usage?token=`: the account's meters, kept current by
/// `/embed/frame.js` over `/embed/usage/live`.
pub async fn usage(State(state): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    let claims = match admit(&state, &q, Widget::Usage).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let view = match usage_view(&state, claims.account_id).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "the usage widget's data failed");
            return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let token = q.token.clone().unwrap_or_default();
    let live = format!("/embed/usage/live?token={}", urlencoding(&token));
    html(
        &claims,
        render(
            "usage.html",
            context! { theme => Value::from(Serde(theme(&state))), usage => Value::from(Serde(&view)), live => live, parent => claims.origin.clone() },
        ),
    )
}

/// `GET /embed/pricing?token=`: the catalog's public plans, monthly, the
/// account's own marked; choosing one opens the portal's pricing page.
pub async fn pricing(State(state): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    let claims = match admit(&state, &q, Widget::Pricing).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let t = &state.tollgate;
    let (catalog, current) = match (
        t.catalog.get(),
        tollgate::db::subscriptions::live_for_account(&t.pool, claims.account_id).await,
    ) {
        (Ok(c), Ok(s)) => (c, s),
        _ => return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    let data = tollgate_app::server::pricing::ssr::build(
        &catalog,
        tollgate::period::Interval::Month,
        true,
        current.as_ref(),
        &t.settings.sales_email,
    );
    let portal = format!("{}/pricing", t.settings.public_url.trim_end_matches('/'));
    html(
        &claims,
        render(
            "pricing.html",
            context! { theme => Value::from(Serde(&catalog.theme)), title => catalog.title.clone(), plans => Value::from(Serde(&data.plans)), portal => portal, parent => claims.origin.clone() },
        ),
    )
}

/// Percent-encodes a token for a URL (tokens are URL-safe already; this keeps
/// a forged one from breaking out of the attribute's URL).
fn urlencoding(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn script(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// `GET /embed.js`: put `<script src="…/embed.js" data-widget="usage"
/// data-token="…"></script>` where the widget goes; it frames the widget there
/// and keeps the frame as tall as its content.
pub async fn loader() -> Response {
    script(include_str!("embed.js"))
}

/// `GET /embed/frame.js`: the widget's own script (live updates, height).
pub async fn frame_script() -> Response {
    script(include_str!("frame.js"))
}
