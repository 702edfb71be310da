//! Cross-site request forgery defence for the server functions (issue 12): a
//! `POST /_fn/*` from a browser must come from Tollgate's own pages. Browsers
//! name the page's origin in `Origin` on every POST and say where it came from in
//! `Sec-Fetch-Site`; a request whose `Origin` is another host, or which a browser
//! marks `cross-site` or `same-site`, is refused with 403 before anything runs.
//! This is OWASP's "Verifying Origin With Standard Headers" and "Fetch Metadata"
//! defence (CSRF Prevention Cheat Sheet); the session cookie's `SameSite=Lax`
//! stays as a second layer. Plain HTML forms keep working: they post from the same
//! origin. Clients that send neither header are not browsers and carry no victim's
//! cookies.

use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Whether a POST with these headers may reach a server function: its `Origin`
/// (when sent) names the host it was sent to, and `Sec-Fetch-Site` (when sent) is
/// `same-origin` or `none` (typed or bookmarked).
pub fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let fetch_site_ok = text("sec-fetch-site").is_none_or(|s| matches!(s, "same-origin" | "none"));
    let origin_ok = match (text(header::ORIGIN.as_str()), text(header::HOST.as_str())) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        (Some(_), None) => false,
    };
    fetch_site_ok && origin_ok
}

/// The middleware: refuses cross-site POSTs to `/_fn/*`.
pub async fn require_same_origin(req: Request, next: Next) -> Response {
    if req.method() == Method::POST
        && req.uri().path().starts_with("/_fn/")
        && !same_origin(req.headers())
    {
        tracing::info!(path = req.uri().path(), origin = ?req.headers().get(header::ORIGIN), "cross-site server function call refused");
        return (
            StatusCode::FORBIDDEN,
            "This form was sent from another site.",
        )
            .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn own_origin_passes_and_other_sites_do_not() {
        assert!(same_origin(&headers(&[
            ("host", "billing.example.com"),
            ("origin", "https://billing.example.com"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000")
        ])));
        assert!(
            same_origin(&headers(&[("host", "127.0.0.1:3000")])),
            "not a browser: no header to judge"
        );
        assert!(!same_origin(&headers(&[
            ("host", "billing.example.com"),
            ("origin", "https://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "billing.example.com"),
            ("origin", "https://billing.example.com.evil.example")
        ])));
        assert!(
            !same_origin(&headers(&[
                ("host", "billing.example.com"),
                ("origin", "null")
            ])),
            "a sandboxed or opaque origin"
        );
        assert!(!same_origin(&headers(&[
            ("host", "billing.example.com"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(
            !same_origin(&headers(&[
                ("host", "a.example.com"),
                ("sec-fetch-site", "same-site")
            ])),
            "a sibling subdomain is another site's page"
        );
    }
}
