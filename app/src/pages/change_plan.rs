//! `/billing/change?plan=…&interval=…&timing=…`: confirm a plan change before it
//! applies, with the provider's proration preview; a downgrade may instead wait for
//! the period end (`timing=period_end`). Plain links and a plain form, so it works
//! before hydration and without JavaScript.

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
        (
            q.get("plan").unwrap_or_default(),
            q.get("interval").unwrap_or_else(|| "month".into()),
            q.get("timing"),
        )
    };
    let preview = Resource::new_blocking(wanted, |(plan, interval, timing)| {
        preview_change(plan, interval, timing)
    });
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
                                <div><dt class="text-slate-500">"Takes effect"</dt><dd data-testid="change-effective">{p.effective.clone()}</dd></div>
                                {p.proration.clone().map(|amount| view! {
                                    <div>
                                        <dt class="text-slate-500">{p.proration_label.clone()}</dt>
                                        <dd class="font-medium" data-testid="proration">{amount}</dd>
                                        <dd class="text-xs text-slate-500">"The rest of this period at the new price, less what is left of the old one."</dd>
                                    </div>
                                })}
                            </dl>
                            {(!p.lines.is_empty()).then(|| view! {
                                <table class="mt-3 w-full text-sm" data-testid="proration-lines">
                                    <caption class="sr-only">"Proration lines"</caption>
                                    <tbody>
                                        {p.lines.iter().map(|(d, a)| view! {
                                            <tr class="border-t border-slate-100"><td class="py-1 pr-2 text-slate-600">{d.clone()}</td><td class="py-1 text-right tabular-nums">{a.clone()}</td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            })}
                            <p class="mt-4 text-sm text-slate-600">
                                {if p.timing == "period_end" {
                                    format!("You keep your current plan until {}; the new plan and its price start then. Nothing is charged now.", p.effective)
                                } else {
                                    "The change takes effect at once. Your usage so far this period carries over.".to_string()
                                }}
                            </p>
                            {p.period_end_option.clone().map(|end| {
                                let (href, text) = if p.timing == "period_end" {
                                    (format!("/billing/change?plan={}&interval={}", p.plan, p.interval), "Change now instead".to_string())
                                } else {
                                    (format!("/billing/change?plan={}&interval={}&timing=period_end", p.plan, p.interval), format!("Change at the end of this period ({end}) instead"))
                                };
                                view! { <a href=href class="mt-2 inline-block text-sm text-indigo-700 underline hover:text-indigo-900" data-testid="other-timing">{text}</a> }
                            })}
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
                                <input type="hidden" name="timing" value=p.timing.clone()/>
                                <Submit action label=if p.timing == "period_end" { "Schedule change" } else { "Confirm change" } busy="Changing your plan…"/>
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
