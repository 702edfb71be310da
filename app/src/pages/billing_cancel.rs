//! `/billing/cancel`: confirm cancelling the subscription at the end of its period.

use crate::components::form::{action_error, FormAlert, Submit};
use crate::components::gate::Gate;
use crate::format::date;
use crate::server::billing::{billing_overview, CancelSubscription};
use leptos::prelude::*;
use leptos_meta::Title;

/// The confirmation page: what ends and when, and the two choices.
#[component]
pub fn CancelSubscriptionPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| billing_overview(Some(1)));
    let action = ServerAction::<CancelSubscription>::new();
    let error = action_error(action);
    view! {
        <Title text="Cancel subscription · Tollgate"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Gate error/> }.into_any(),
                    Ok(b) => match b.subscription {
                        None => view! {
                            <p class="text-slate-700">"There is no subscription to cancel. "<a href="/pricing" class="text-indigo-700 underline hover:text-indigo-900">"Choose a plan"</a></p>
                        }.into_any(),
                        Some(s) => view! {
                            <div class="mx-auto max-w-lg rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
                                <h1 class="text-xl font-bold">"Cancel your subscription?"</h1>
                                <p class="mt-3 text-sm text-slate-700" data-testid="cancel-summary">
                                    {format!("{} ends on {}. You keep it until then, and nothing more is charged.", s.plan, date(s.period_end))}
                                </p>
                                {s.scheduled.clone().map(|(to, _)| view! {
                                    <p class="mt-2 text-sm text-slate-700">{format!("The scheduled change to {to} is dropped.")}</p>
                                })}
                                <p class="mt-2 text-sm text-slate-600">"You can reactivate it from the billing page until that day."</p>
                                <ActionForm action=action attr:class="mt-6 space-y-3">
                                    <FormAlert error/>
                                    <Submit action label="Cancel at period end" busy="Cancelling…" class="bg-rose-600 hover:bg-rose-500 text-white"/>
                                </ActionForm>
                                <a href="/billing" class="mt-3 block text-center text-sm text-slate-600 hover:underline">"Keep my subscription"</a>
                            </div>
                        }.into_any(),
                    },
                }
            })}
        </Suspense>
    }
}
