//! Which pages load the WASM bundle (issue 12: "≤ 350 KB gzipped for the public
//! pages").
//!
//! The public pages (home, pricing with its estimator, sign-up, log-in and the two
//! password pages) are served as plain HTML with no script at all: every one of
//! them already works without JavaScript (links, GET forms, and server-function
//! forms that answer with a redirect; `end2end/tests/e_without_javascript.spec.ts`),
//! so a visitor downloads no WASM there. Every other page hydrates with the whole
//! app, and a page reached by client-side navigation from a hydrated page keeps
//! running in it.
//!
//! Leptos' split build was measured as the alternative (docs/SCALING.md): with
//! every route lazy, the pricing page needed 610 KB gzipped (a 339 KB main module
//! plus its chunks), more than the single bundle restricted to the public routes
//! (382 KB).

/// Paths (exact, without the query) served without the WASM bundle.
pub const STATIC_PAGES: &[&str] = &[
    "/",
    "/pricing",
    "/signup",
    "/login",
    "/forgot-password",
    "/reset-password",
];

/// Whether the page at `path` (a URL path, without its query) loads the WASM
/// bundle and hydrates.
pub fn hydrates(path: &str) -> bool {
    !STATIC_PAGES.contains(&path)
}

#[cfg(test)]
mod tests {
    use super::hydrates;

    #[test]
    fn public_pages_are_static_and_the_rest_hydrate() {
        for path in [
            "/",
            "/pricing",
            "/signup",
            "/login",
            "/forgot-password",
            "/reset-password",
        ] {
            assert!(!hydrates(path), "{path}");
        }
        for path in [
            "/dashboard",
            "/billing",
            "/admin",
            "/orgs/acme/usage",
            "/invite/abc",
            "/pricing/x",
            "/nope",
        ] {
            assert!(hydrates(path), "{path}");
        }
    }
}
