//! The `Content-Security-Policy` (issue 12). Pages allow only their own scripts:
//! the files under `/pkg` and the inline hydration scripts carrying this
//! response's nonce (Leptos makes one per render and puts it on its scripts), plus
//! WebAssembly compilation. Everything else loads from this origin only, and no
//! site may frame a page.
//!
//! Inline `style` attributes stay allowed (the meters' widths), as do `data:`
//! images. `form-action` is not restricted: a plan choice posts here and is
//! redirected to Stripe's Checkout on another origin, which browsers check against
//! `form-action` too.

/// The policy; `nonce` is the page's script nonce (none for answers that are not
/// pages: no inline script runs there).
pub fn policy(nonce: Option<&str>) -> String {
    let scripts = match nonce {
        Some(n) => format!("'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
        None => "'self' 'wasm-unsafe-eval'".to_string(),
    };
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
    )
}

/// Where a page leaves its script nonce for the server's header middleware, which
/// puts it into the page's `Content-Security-Policy` (a clone travels in the
/// request's extensions, which Leptos hands to the page as `Parts`).
///
/// The header used to be set through Leptos' `ResponseOptions` while rendering;
/// now and then a page answered without it (its headers lost, seen in Playwright:
/// the browser then refused the hydration scripts and the page never hydrated).
/// The middleware owns the header instead, and the page only tells it the nonce.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Default)]
pub struct NonceSlot(std::sync::Arc<std::sync::OnceLock<String>>);

#[cfg(feature = "ssr")]
impl NonceSlot {
    /// The nonce the page rendered with, once it has rendered.
    pub fn nonce(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }
}

/// Records this page's nonce for its `Content-Security-Policy` (server side,
/// while rendering; see [`NonceSlot`]).
#[cfg(feature = "ssr")]
pub fn record_page_nonce() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(parts)) = (
        leptos::nonce::use_nonce(),
        use_context::<axum::http::request::Parts>(),
    ) else {
        return;
    };
    if let Some(slot) = parts.extensions.get::<NonceSlot>() {
        let _ = slot.0.set(nonce.to_string());
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_page_allows_its_nonce_and_nothing_inline_otherwise() {
        let page = super::policy(Some("abc"));
        assert!(
            page.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"),
            "{page}"
        );
        let scripts = |p: &str| {
            p.split(';')
                .find(|d| d.trim_start().starts_with("script-src"))
                .map(str::to_string)
        };
        assert!(
            !scripts(&page).unwrap().contains("unsafe-inline"),
            "no inline script without the nonce"
        );
        let other = super::policy(None);
        assert_eq!(
            scripts(&other).as_deref(),
            Some(" script-src 'self' 'wasm-unsafe-eval'")
        );
        assert!(page.contains("frame-ancestors 'none'") && page.contains("object-src 'none'"));
    }
}
