//! `/admin/plans`: every plan of the live catalog (hidden and sales-only too) with
//! prices, limits, features, trial and subscribers; a plan's limit is edited with a
//! GET form (`?plan=&meter=&included=&enforcement=&grace_percent=`, so the preview
//! works without JavaScript), previewed as a diff, and published as a new catalog
//! version from the confirmation.

use super::parts::AdminNav;
use super::users::param;
use crate::components::form::{action_error, FormAlert, Submit};
use crate::components::gate::Gate;
use crate::components::table::DataTable;
use crate::format::datetime;
use crate::model::admin::{LimitEditPreview, PlansView};
use crate::server::admin::plans::{admin_plans, admin_preview_limit, AdminPublishLimit};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

const INPUT: &str = "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm";

/// The plans page.
#[component]
pub fn AdminPlansPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.get());
    let publish = ServerAction::<AdminPublishLimit>::new();
    let data = Resource::new_blocking(move || (publish.version().get(), param(q, "published")), |_| admin_plans());
    let wanted = Memo::new(move |_| {
        let plan = param(q, "plan");
        (!plan.is_empty()).then(|| (plan, param(q, "meter"), param(q, "included"), param(q, "enforcement"), param(q, "grace_percent")))
    });
    let preview = Resource::new_blocking(
        move || wanted.get(),
        |w| async move {
            match w {
                Some((plan, meter, included, enforcement, grace)) => Some(admin_preview_limit(plan, meter, included, enforcement, Some(grace)).await),
                None => None,
            }
        },
    );
    view! {
        <Title text="Plans · Admin"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <AdminNav current="/admin/plans"/><Gate error/> }.into_any(),
                    Ok(plans) => view! {
                        <AdminNav current="/admin/plans"/>
                        <h1 class="text-2xl font-bold">"Plans"</h1>
                        {version_line(&plans, param(q, "published"))}
                        <LimitEditor plans=plans.clone() wanted/>
                        <Suspense fallback=|| view! { <p class="mt-3 text-sm text-slate-500">"Checking the edit…"</p> }>
                            {move || Suspend::new(async move {
                                match (preview.await, wanted.get()) {
                                    (Some(Ok(p)), Some(w)) => view! { <PublishBox p w publish/> }.into_any(),
                                    (Some(Err(e)), _) => view! { <p class="mt-3 rounded-md bg-red-50 p-3 text-sm text-red-800" role="alert" data-testid="edit-error">{e.explained()}</p> }.into_any(),
                                    _ => ().into_any(),
                                }
                            })}
                        </Suspense>
                        {plan_table(&plans)}
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

fn version_line(plans: &PlansView, published: String) -> impl IntoView {
    view! {
        <p class="mt-1 text-sm text-slate-600" data-testid="catalog-version">
            {match &plans.version {
                Some((v, source, at)) => format!("Live catalog version {v} (from {source}), published {}. `tollgate catalog export` writes it as TOML.", datetime(*at)),
                None => "No catalog version is kept yet: load the catalog file once more to edit plans here.".to_string(),
            }}
        </p>
        {(!published.is_empty()).then(|| view! {
            <p class="mt-2 rounded-md bg-emerald-50 p-3 text-sm text-emerald-900" role="status" data-testid="published">
                {format!("Published catalog version {published}: every server applies it now.")}
            </p>
        })}
        {(!plans.thresholds.is_empty()).then(|| view! { <p class="mt-1 text-xs text-slate-500">{format!("Usage thresholds: {}", plans.thresholds.join(" · "))}</p> })}
    }
}

/// The GET form asking for a limit edit's preview.
#[component]
fn LimitEditor(plans: PlansView, wanted: Memo<Option<(String, String, String, String, String)>>) -> impl IntoView {
    let w = wanted.get_untracked().unwrap_or_default();
    view! {
        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="edit-limit-h">
            <h2 id="edit-limit-h" class="font-semibold">"Change a plan's limit"</h2>
            <p class="mt-1 text-sm text-slate-600">"A new limit applies to the plan's current subscribers at once, on every server."</p>
            <form method="get" action="/admin/plans" class="mt-3 grid items-end gap-3 sm:grid-cols-6">
                <div class="space-y-1">
                    <label for="edit-plan" class="block text-sm text-slate-700">"Plan"</label>
                    <select id="edit-plan" name="plan" class=INPUT>
                        {plans.plans.iter().map(|p| view! { <option value=p.key.clone() selected=p.key == w.0>{p.name.clone()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="space-y-1">
                    <label for="edit-meter" class="block text-sm text-slate-700">"Meter"</label>
                    <select id="edit-meter" name="meter" class=INPUT>
                        {plans.meters.iter().map(|(k, n)| view! { <option value=k.clone() selected=*k == w.1>{n.clone()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="space-y-1">
                    <label for="edit-included" class="block text-sm text-slate-700">"Included"</label>
                    <input id="edit-included" name="included" required=true placeholder="1000 or unlimited" value=w.2.clone() class=INPUT/>
                </div>
                <div class="space-y-1">
                    <label for="edit-enforcement" class="block text-sm text-slate-700">"Enforcement"</label>
                    <select id="edit-enforcement" name="enforcement" class=INPUT>
                        <option value="soft">"soft"</option>
                        <option value="hard" selected=w.3 == "hard">"hard"</option>
                    </select>
                </div>
                <div class="space-y-1">
                    <label for="edit-grace" class="block text-sm text-slate-700">"Grace % (hard)"</label>
                    <input id="edit-grace" name="grace_percent" inputmode="decimal" value=w.4.clone() class=INPUT/>
                </div>
                <button type="submit" class="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium hover:bg-slate-50">"Preview"</button>
            </form>
        </section>
    }
}

/// The diff and the publish button.
#[component]
fn PublishBox(p: LimitEditPreview, w: (String, String, String, String, String), publish: ServerAction<AdminPublishLimit>) -> impl IntoView {
    let (plan, meter, included, enforcement, grace) = w;
    view! {
        <div class="mt-3 rounded-lg border border-indigo-200 bg-indigo-50 p-4 text-sm" data-testid="edit-preview" role="region" aria-label="Edit preview">
            <ul class="list-inside list-disc">{p.changes.iter().map(|c| view! { <li data-testid="edit-change">{c.clone()}</li> }).collect_view()}</ul>
            <p class="mt-2">{format!("Reaches {} current subscriber{} at once.", p.subscribers, if p.subscribers == 1 { "" } else { "s" })}</p>
            <ActionForm action=publish attr:class="mt-3 flex flex-wrap items-center gap-3">
                <FormAlert error=action_error(publish)/>
                <input type="hidden" name="plan" value=plan/>
                <input type="hidden" name="meter" value=meter/>
                <input type="hidden" name="included" value=included/>
                <input type="hidden" name="enforcement" value=enforcement/>
                <input type="hidden" name="grace_percent" value=grace/>
                <input type="hidden" name="base_version" value=p.base_version.to_string()/>
                <Submit action=publish label="Publish new version" busy="Publishing…"/>
                <a href="/admin/plans" class="text-sm text-slate-700 underline">"Cancel"</a>
            </ActionForm>
        </div>
    }
}

fn plan_table(plans: &PlansView) -> impl IntoView {
    let rows = plans.plans.clone();
    view! {
        <DataTable headers=&["Plan", "Prices", "Limits", "Features", "Trial", "Subscribers"] dense=true class="mt-6" testid="plans">
            {rows.into_iter().map(|p| view! {
                <tr data-plan=p.key.clone()>
                    <td class="px-3 py-2 align-top">
                        <span class="font-medium">{p.name.clone()}</span>
                        <span class="block font-mono text-xs text-slate-500">{p.key.clone()}</span>
                        {(!p.public).then(|| view! { <span class="mr-1 rounded bg-slate-100 px-1.5 py-0.5 text-xs">"hidden"</span> })}
                        {(!p.self_serve).then(|| view! { <span class="rounded bg-amber-100 px-1.5 py-0.5 text-xs text-amber-900">"sales-only"</span> })}
                    </td>
                    <td class="px-3 py-2 align-top">{if p.prices.is_empty() { "—".to_string() } else { p.prices.join(", ") }}</td>
                    <td class="px-3 py-2 align-top">
                        <ul>{p.limits.iter().map(|(k, n, l)| view! { <li data-limit=k.clone()>{format!("{n}: {l}")}</li> }).collect_view()}</ul>
                    </td>
                    <td class="px-3 py-2 align-top"><ul>{p.features.iter().map(|(n, v)| view! { <li>{format!("{n}: {v}")}</li> }).collect_view()}</ul></td>
                    <td class="px-3 py-2 align-top">{if p.trial_days == 0 { "—".to_string() } else { format!("{} days", p.trial_days) }}</td>
                    <td class="px-3 py-2 align-top tabular-nums">{p.subscribers}</td>
                </tr>
            }).collect_view()}
        </DataTable>
    }
}
