//! Embeddable widgets (issue 13, "Embeddable in the customer's product"): the
//! pricing table (`/embed/pricing`) and an account's live usage meter
//! (`/embed/usage`, its stream `/embed/usage/live`), each opened by a token from
//! `POST /api/v1/embed_tokens` (`?token=`); and `/embed.js`, the script tag a
//! product puts on its page to frame one.
//!
//! Each widget answer names the token's origin in `frame-ancestors`: only that
//! page may frame it (no `X-Frame-Options`, which cannot name an origin). Its
//! only script is `/embed/frame.js` (no inline script); its colors and font come
//! from the catalog's theme ([`tollgate::catalog::Theme`]). A token that is
//! missing, altered, expired or for another widget gets a `401` page that no site
//! may frame. Page loads and streams are rate-limited per account.

mod live;
mod pages;

use crate::serve::AppState;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::LazyLock;
use tollgate::embed::{Claims, Widget};
use tollgate::service::embed::{self, Refused};
use uuid::Uuid;

/// Widget page loads and streams opened per account per minute, per process.
pub const LOADS_PER_ACCOUNT_PER_MINUTE: u32 = 300;

static LOADS: LazyLock<DefaultKeyedRateLimiter<Uuid>> = LazyLock::new(|| {
    RateLimiter::keyed(Quota::per_minute(
        NonZeroU32::new(LOADS_PER_ACCOUNT_PER_MINUTE).unwrap_or(NonZeroU32::MIN),
    ))
});

/// Forgets the accounts whose widget limit has fully recovered (run every minute
/// with the forms' limits, [`crate::guard::spawn_pruning`]).
pub fn prune() {
    LOADS.retain_recent();
    LOADS.shrink_to_fit();
}

/// Marks an answer that sets its own `frame-ancestors`: the security headers
/// leave out `X-Frame-Options` for it ([`crate::headers`]).
#[derive(Clone, Copy, Debug)]
pub struct Framable;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/embed.js", get(pages::loader))
        .route("/embed/frame.js", get(pages::frame_script))
        .route("/embed/pricing", get(pages::pricing))
        .route("/embed/usage", get(pages::usage))
        .route("/embed/usage/live", get(live::usage_stream))
}

/// The query of every widget route.
#[derive(Debug, serde::Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// The claims of the request's token for `widget`, or the answer refusing it
/// (`401`, or `429` past the account's rate).
async fn admit(state: &AppState, q: &TokenQuery, widget: Widget) -> Result<Claims, Response> {
    let t = &state.tollgate;
    let key = embed::key(t).await.map_err(|e| {
        tracing::warn!(error = %e, "reading the embed signing key failed");
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    })?;
    let token = q.token.as_deref().unwrap_or_default();
    let claims = embed::verify(key, token, widget, chrono::Utc::now()).map_err(|r| {
        let why = match r {
            Refused::Invalid => "This widget's link is not valid.",
            Refused::Expired => "This widget's link has expired: reload the page.",
            Refused::OtherWidget => "This link does not open this widget.",
        };
        refused(StatusCode::UNAUTHORIZED, why)
    })?;
    if LOADS.check_key(&claims.account_id).is_err() {
        return Err(refused(StatusCode::TOO_MANY_REQUESTS, "Too many loads of this widget: try again in a minute."));
    }
    Ok(claims)
}

/// A short page saying why a widget is not shown (no site may frame it).
fn refused(status: StatusCode, why: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Widget unavailable</title></head><body><p>{}</p></body></html>",
        pages::escape(why)
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// The policy of a widget answer: only its own script and this origin's
/// stream, framed by `origin` only.
fn policy(origin: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {origin}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'"))
}

/// `res` framable by `origin` only.
fn framed_by(mut res: Response, origin: &str) -> Response {
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, policy(origin));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.extensions_mut().insert(Framable);
    res
}
