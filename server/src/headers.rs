//! Security headers on every answer (issue 12, OWASP Secure Headers Project):
//! no MIME sniffing, no framing by other sites (clickjacking), a referrer that
//! does not leak paths to other sites, no `<base>` or plugin injection, HSTS when
//! Tollgate is served over https, and `Cache-Control: no-store` on what a signed-in
//! browser receives (pages, server-function answers, downloads), so a shared
//! computer's cache keeps no billing page. A page's `Content-Security-Policy`
//! carries its script nonce and is set while rendering ([`tollgate_app::csp`]);
//! every other answer gets the same policy without one.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// Whether HSTS is sent (the public URL is https).
#[derive(Clone, Copy, Debug)]
pub struct Https(pub bool);

/// The policy of every answer that is not a page, built once (this runs on every
/// answer, `/api/v1/check` included).
static DEFAULT_POLICY: std::sync::LazyLock<Option<HeaderValue>> =
    std::sync::LazyLock::new(|| HeaderValue::from_str(&tollgate_app::csp::policy(None)).ok());

/// The middleware.
pub async fn secure(State(https): State<Https>, mut req: Request, next: Next) -> Response {
    let signed_in = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| {
            c.split(';')
                .any(|p| p.trim_start().starts_with(crate::serve::SESSION_COOKIE))
        });
    let assets = req.uri().path().starts_with("/pkg/");
    // Only a GET outside the API and the assets may render a page: the API's hot
    // path (`/api/v1/check`) allocates nothing here.
    let page = req.method() == axum::http::Method::GET
        && !assets
        && !req.uri().path().starts_with("/api/");
    let nonce = page.then(tollgate_app::csp::NonceSlot::default);
    if let Some(slot) = &nonce {
        req.extensions_mut().insert(slot.clone());
    }
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // A widget names the one origin that may frame it in its own policy
    // (`frame-ancestors`); X-Frame-Options cannot name an origin.
    if res.extensions().get::<crate::embed::Framable>().is_none() {
        res.headers_mut()
            .insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    let h = res.headers_mut();
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    let page_policy = nonce
        .as_ref()
        .and_then(tollgate_app::csp::NonceSlot::nonce)
        .and_then(|n| HeaderValue::from_str(&tollgate_app::csp::policy(Some(n))).ok());
    if let Some(policy) = page_policy {
        h.insert(header::CONTENT_SECURITY_POLICY, policy);
    } else if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Some(policy) = DEFAULT_POLICY.as_ref() {
            h.insert(header::CONTENT_SECURITY_POLICY, policy.clone());
        }
    }
    if https.0 {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if signed_in && !assets {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
