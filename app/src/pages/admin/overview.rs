//! `/admin`: the super admin's landing page.

use super::parts::AdminNav;
use crate::components::gate::Gate;
use crate::server::admin::get_admin_overview;
use leptos::prelude::*;
use leptos_meta::Title;

/// Links to the sections and the real counts; revenue figures come with payments.
#[component]
pub fn AdminHomePage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| get_admin_overview());
    view! {
        <Title text="Admin"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Gate error/> }.into_any(),
                    Ok(o) => view! {
                        <AdminNav current="/admin"/>
                        <h1 class="text-2xl font-bold">"Super admin"</h1>
                        <div class="mt-6 grid gap-4 sm:grid-cols-3" data-testid="admin-counts">
                            <a href="/admin/users" class="rounded-lg border border-slate-200 bg-white p-5 hover:border-indigo-300">
                                <p class="text-sm text-slate-500">"Users"</p>
                                <p class="text-3xl font-bold">{o.users}</p>
                            </a>
                            <a href="/admin/organizations" class="rounded-lg border border-slate-200 bg-white p-5 hover:border-indigo-300">
                                <p class="text-sm text-slate-500">"Organizations"</p>
                                <p class="text-3xl font-bold">{o.organizations}</p>
                            </a>
                            <div class="rounded-lg border border-slate-200 bg-white p-5">
                                <p class="text-sm text-slate-500">"Live subscriptions"</p>
                                {if o.subscriptions.is_empty() {
                                    view! { <p class="text-sm text-slate-500">"None yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="text-sm">
                                            {o.subscriptions.into_iter().map(|(s, n)| view! { <li>{format!("{}: {n}", s.replace('_', " "))}</li> }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                            </div>
                        </div>
                        <p class="mt-6 rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-600" data-testid="revenue-note">
                            "Revenue figures (MRR, churn, failed payments) arrive with the payments work; until then nothing is shown rather than made-up numbers."
                        </p>
                        <ul class="mt-6 list-disc pl-6 text-sm">
                            <li><a href="/admin/users" class="text-indigo-700 hover:underline">"Users"</a>": search, disable, impersonate, support tools"</li>
                            <li><a href="/admin/organizations" class="text-indigo-700 hover:underline">"Organizations"</a>": members, seats, subscription, usage"</li>
                            <li><a href="/admin/audit" class="text-indigo-700 hover:underline">"Audit log"</a>": every change, filtered"</li>
                        </ul>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}
