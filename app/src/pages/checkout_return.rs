//! `/billing/checkout?session_id=…`: where Stripe Checkout returns after payment.
//! The subscription reaches Tollgate through Stripe's webhook, which may come a
//! moment later: until it has, the page says so and reloads itself every two seconds
//! (a meta refresh, so it works before and without hydration); then it shows the
//! new plan.

use crate::components::gate::Gate;
use crate::server::billing::checkout_status;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

/// The Checkout return page.
#[component]
pub fn CheckoutReturnPage() -> impl IntoView {
    let query = use_query_map();
    let status = Resource::new_blocking(
        move || query.with(|q| q.get("session_id").unwrap_or_default()),
        checkout_status,
    );
    view! {
        <Title text="Payment · Tollgate"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Err(error) => view! { <Gate error/> }.into_any(),
                    Ok(None) => view! {
                        <Meta http_equiv="refresh" content="2"/>
                        <div class="mx-auto max-w-lg rounded-lg border border-slate-200 bg-white p-6" role="status" aria-live="polite">
                            <h1 class="text-xl font-semibold">"Confirming your payment…"</h1>
                            <p class="mt-2 text-slate-600" data-testid="checkout-waiting">
                                "Stripe has your payment details; we are waiting for its confirmation. This page updates by itself."
                            </p>
                        </div>
                    }.into_any(),
                    Ok(Some(plan)) => view! {
                        <div class="mx-auto max-w-lg rounded-lg border border-emerald-200 bg-emerald-50 p-6" role="status">
                            <h1 class="text-xl font-semibold text-emerald-900">"You're all set"</h1>
                            <p class="mt-2 text-emerald-900">"Your plan: "<span class="font-semibold" data-testid="checkout-plan">{plan}</span></p>
                            <p class="mt-4 flex gap-4 text-sm">
                                <a href="/dashboard" class="text-indigo-700 underline hover:text-indigo-900">"Go to the dashboard"</a>
                                <a href="/billing" class="text-indigo-700 underline hover:text-indigo-900">"See billing"</a>
                            </p>
                        </div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
