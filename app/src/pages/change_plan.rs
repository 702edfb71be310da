//! `/billing/change?plan=…&interval=…`: confirm a plan change before it applies.

use crate::components::form::{action_error, FormAlert, Submit};
use crate::components::gate::Gate;
use crate::server::plans::{preview_change, ChoosePlan};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The confirmation page.
#[component]
pub fn ChangePlanPage() -> impl IntoView {
    let query = use_query_map();
    let wanted = move || {
        let q = query.read();
        (q.get("plan").unwrap_or_default(), q.get("interval").unwrap_or_else(|| "month".into()))
    };
    let preview = Resource::new_blocking(wanted, |(plan, interval)| preview_change(plan, interval));
    let action = ServerAction::<ChoosePlan>::new();
    let error = action_error(action);
    view! {
        <Title text="Change plan"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match preview.await {
                    Err(error) => view! { <Gate error/> }.into_any(),
                    Ok(p) => view! {
                        <div class="mx-auto max-w-lg rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
                            <h1 class="text-xl font-bold">"Change your plan"</h1>
                            <dl class="mt-4 space-y-2 text-sm">
                                <div><dt class="text-slate-500">"From"</dt><dd class="font-medium">{p.from.clone()}</dd></div>
                                <div><dt class="text-slate-500">"To"</dt><dd class="font-medium" data-testid="change-to">{p.to.clone()}</dd></div>
                                <div><dt class="text-slate-500">"Price"</dt><dd>{format!("{} per {}", p.price, p.interval)}</dd></div>
                                <div><dt class="text-slate-500">"Status after the change"</dt><dd>{p.status_after.clone()}</dd></div>
                                {p.proration.clone().map(|amount| view! {
                                    <div>
                                        <dt class="text-slate-500">"Proration on your next invoice"</dt>
                                        <dd class="font-medium" data-testid="proration">{amount}</dd>
                                        <dd class="text-xs text-slate-500">"The rest of this period at the new price, less what is left of the old one."</dd>
                                    </div>
                                })}
                            </dl>
                            <p class="mt-4 text-sm text-slate-600">"The change takes effect at once. Your usage so far this period carries over."</p>
                            {(!p.over_limits.is_empty()).then(|| view! {
                                <div class="mt-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950" role="alert">
                                    <p class="font-semibold">"You are already over the new plan's limits:"</p>
                                    <ul class="ml-4 list-disc">{p.over_limits.iter().map(|l| view! { <li>{l.clone()}</li> }).collect_view()}</ul>
                                </div>
                            })}
                            <ActionForm action=action attr:class="mt-6 space-y-3">
                                <FormAlert error/>
                                <input type="hidden" name="plan" value=p.plan.clone()/>
                                <input type="hidden" name="interval" value=p.interval.clone()/>
                                <Submit action label="Confirm change" busy="Changing your plan…"/>
                            </ActionForm>
                            <a href="/pricing" class="mt-3 block text-center text-sm text-slate-600 hover:underline">"Cancel"</a>
                        </div>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}
