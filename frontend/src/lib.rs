//! The WASM entry: hydrates the server-rendered page.

/// Called by the hydration script cargo-leptos emits. Sets
/// `window.__tollgate_hydrated` once the page is interactive (end-to-end tests wait
/// for it before typing into forms).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(tollgate_app::App);
    if let Some(window) = web_sys::window() {
        let _ = js_sys::Reflect::set(&window, &"__tollgate_hydrated".into(), &true.into());
    }
}
