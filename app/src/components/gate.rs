//! What a protected page shows when its data is refused: the paywall's redirects
//! (seed 000 phase 7) or an error panel.

use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

/// Redirects to log-in (returning here afterwards) or to pricing, or explains the
/// error.
#[component]
pub fn Gate(error: AppError) -> impl IntoView {
    let location = use_location();
    match error {
        AppError::SignInRequired => {
            let path = location.pathname.get_untracked();
            let search = location.search.get_untracked();
            let search = search.trim_start_matches('?');
            let here = if search.is_empty() {
                path
            } else {
                format!("{path}?{search}")
            };
            view! { <Redirect path=tollgate::access::login_url(&here)/> }.into_any()
        }
        AppError::PlanRequired => view! { <Redirect path="/pricing"/> }.into_any(),
        other => view! { <ErrorPanel error=other/> }.into_any(),
    }
}

/// An error explained, with a way back.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    let title = match &error {
        AppError::Forbidden(_) => "Not allowed",
        AppError::NotFound(_) => "Not found",
        _ => "Something went wrong",
    };
    view! {
        <div class="mx-auto max-w-xl rounded-lg border border-red-200 bg-white p-6 shadow-sm" role="alert">
            <h1 class="text-lg font-semibold text-red-800">{title}</h1>
            <p class="mt-2 text-sm text-slate-700">{error.to_string()}</p>
            <a href="/dashboard" class="mt-4 inline-block text-sm font-medium text-indigo-700 underline hover:text-indigo-900">"Back to the dashboard"</a>
        </div>
    }
}
