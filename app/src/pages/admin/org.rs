//! `/admin/organizations/{id}`: members with roles, subscription, seats, usage,
//! credit, activity.

use super::account_actions::{AccountActions, AccountActionsSection};
use super::corrections::CorrectionsSection;
use super::overrides::OverridesSection;
use super::parts::{usage_charts_resource, ActivityTable, AdminNav, BillingSection};
use crate::components::usage_charts::LoadedUsageCharts;
use crate::components::gate::Gate;
use crate::format::datetime;
use crate::server::admin::actions::{ApplyCredit, ExtendTrial, RemoveOverride, SetOverride};
use crate::server::admin::admin_org;
use crate::server::admin::corrections::VoidUsage;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// The organization page.
#[component]
pub fn AdminOrgPage() -> impl IntoView {
    let params = use_params_map();
    let extend = ServerAction::<ExtendTrial>::new();
    let credit = ServerAction::<ApplyCredit>::new();
    let set_override = ServerAction::<SetOverride>::new();
    let remove_override = ServerAction::<RemoveOverride>::new();
    let void = ServerAction::<VoidUsage>::new();
    let account = AccountActions::new();
    let data = Resource::new_blocking(
        move || {
            let versions = (
                extend.version().get(),
                credit.version().get(),
                set_override.version().get(),
                remove_override.version().get(),
                void.version().get(),
                account.versions(),
            );
            (params.with(|p| p.get("id").unwrap_or_default()), versions)
        },
        |(id, _)| admin_org(id),
    );
    let charts = usage_charts_resource(false);
    view! {
        <Title text="Organization · Admin"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Gate error/> }.into_any(),
                    Ok(o) => {
                        let seats = o.billing.subscription.as_ref().map_or("—".to_string(), |s| s.seats.to_string());
                        view! {
                            <AdminNav current="/admin/organizations"/>
                            <h1 class="text-2xl font-bold">{o.name.clone()}</h1>
                            <dl class="mt-2 grid max-w-xl grid-cols-2 gap-x-4 gap-y-1 text-sm">
                                <dt class="text-slate-500">"Slug"</dt><dd class="font-mono text-xs">{o.slug.clone().unwrap_or_default()}</dd>
                                <dt class="text-slate-500">"Account id"</dt><dd class="font-mono text-xs">{o.id.to_string()}</dd>
                                <dt class="text-slate-500">"Created"</dt><dd>{datetime(o.created_at)}</dd>
                                <dt class="text-slate-500">"Members (seats used)"</dt><dd data-testid="members-count">{o.members.len()}</dd>
                                <dt class="text-slate-500">"Seats on the subscription"</dt><dd>{seats}</dd>
                            </dl>
                            <section class="mt-6" aria-labelledby="mem-h">
                                <h2 id="mem-h" class="mb-2 text-lg font-semibold">"Members"</h2>
                                <ul class="divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white text-sm">
                                    {o.members.into_iter().map(|m| view! {
                                        <li class="flex justify-between px-4 py-2">
                                            <a href=format!("/admin/users/{}", m.user_id) class="font-medium text-indigo-700 underline hover:text-indigo-900">
                                                {format!("{} <{}>", m.name, m.email)}
                                            </a>
                                            <span class="text-slate-600">{m.role.clone()}{m.disabled.then_some(" (disabled)")}</span>
                                        </li>
                                    }).collect_view()}
                                </ul>
                            </section>
                            <section class="mt-6" aria-labelledby="obill-h">
                                <h2 id="obill-h" class="mb-2 text-lg font-semibold">"Billing and usage"</h2>
                                <BillingSection billing=o.billing.clone() extend credit/>
                                <div class="mt-4 grid gap-4 lg:grid-cols-2"><AccountActionsSection billing=o.billing.clone() actions=account/></div>
                                <div class="mt-4"><OverridesSection billing=o.billing.clone() set=set_override remove=remove_override/></div>
                                <div class="mt-4"><CorrectionsSection billing=o.billing void/></div>
                                <LoadedUsageCharts charts base=format!("/admin/organizations/{}", o.id)/>
                            </section>
                            <section class="mt-6" aria-labelledby="oact-h">
                                <h2 id="oact-h" class="mb-2 text-lg font-semibold">"Recent activity"</h2>
                                <ActivityTable rows=o.activity/>
                            </section>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}
