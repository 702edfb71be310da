//! The landing page and the not-found page.

use leptos::prelude::*;
use leptos_meta::Title;

/// `/`: what Tollgate is, and the way in.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text=""/>
        <section class="py-12 text-center">
            <h1 class="text-4xl font-bold tracking-tight sm:text-5xl">"Plans, usage and limits, in one place."</h1>
            <p class="mx-auto mt-4 max-w-2xl text-lg text-slate-600">
                "Pick a plan, send usage from your backend, and watch your meters move as it happens."
            </p>
            <div class="mt-8 flex justify-center gap-3">
                <a href="/pricing" class="rounded-md bg-indigo-600 px-5 py-2.5 font-semibold text-white shadow-sm hover:bg-indigo-500">"See plans"</a>
                <a href="/login" class="rounded-md border border-slate-300 bg-white px-5 py-2.5 font-semibold text-slate-800 hover:bg-slate-50">"Log in"</a>
            </div>
        </section>
    }
}

/// Any unknown path.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <div class="py-16 text-center">
            <h1 class="text-2xl font-bold">"Page not found"</h1>
            <p class="mt-2 text-slate-600">"There is nothing at this address."</p>
            <a href="/" class="mt-4 inline-block font-medium text-indigo-700 underline hover:text-indigo-900">"Go home"</a>
        </div>
    }
}
