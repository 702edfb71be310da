//! `/admin/costs?month=YYYY-MM`: what usage cost the operator (the meters' cost
//! property, such as the LLM provider's `cost_usd`) by meter and model, and per
//! client beside what they were invoiced, with the margin (seed 001's cost view).

use super::parts::AdminNav;
use crate::components::chart::ChartFigure;
use crate::components::gate::Gate;
use crate::components::table::DataTable;
use crate::model::admin::CostsView;
use crate::server::admin::usage::admin_costs;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The cost view.
#[component]
pub fn AdminCostsPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new_blocking(move || query.with(|q| q.get("month")), admin_costs);
    view! {
        <Title text="Costs · Admin"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <AdminNav current="/admin/costs"/><Gate error/> }.into_any(),
                    Ok(c) => view! { <Costs c/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Costs(c: CostsView) -> impl IntoView {
    let cell = "px-3 py-2";
    view! {
        <AdminNav current="/admin/costs"/>
        <h1 class="text-2xl font-bold">"Usage cost and margins"</h1>
        <p class="mt-1 text-sm text-slate-600">
            "The cost your clients' usage carries (each meter's cost property, such as the LLM provider's cost_usd), by model and by client, beside what each client was invoiced for periods starting in the month. Margin = invoiced − cost."
        </p>
        <form method="get" action="/admin/costs" class="mt-3 flex flex-wrap items-end gap-3">
            <label class="block text-sm font-medium">"Month"
                <input type="month" name="month" value=c.month.clone() class="mt-1 block rounded-md border border-slate-300 px-3 py-2"/>
            </label>
            <button type="submit" class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500">"Show"</button>
        </form>
        <p class="mt-3 text-sm" data-testid="total-cost">{format!("Cost in {}: {}", c.month, c.total_cost)}</p>
        <div class="mt-4"><ChartFigure chart=c.chart/></div>
        <h2 class="mt-6 text-lg font-semibold">"By meter and model"</h2>
        <DataTable headers=&["Meter", "Model and provider", "Usage", "Cost"] dense=true testid="costs-by-model">
            {c.by_dimensions.into_iter().map(|(m, l, q, cost)| view! {
                <tr><td class=cell>{m}</td><td class=cell>{l}</td><td class=format!("{cell} tabular-nums")>{q}</td><td class=format!("{cell} tabular-nums")>{cost}</td></tr>
            }).collect_view()}
        </DataTable>
        <h2 class="mt-6 text-lg font-semibold">"By client"</h2>
        <DataTable headers=&["Client", "Invoiced", "Cost", "Margin", "Margin %"] dense=true testid="costs-by-client">
            {c.by_client.into_iter().map(|(id, name, revenue, cost, margin, share)| view! {
                <tr>
                    <td class=cell>{name}<span class="block font-mono text-xs text-slate-500">{id.to_string()}</span></td>
                    <td class=format!("{cell} tabular-nums")>{revenue}</td>
                    <td class=format!("{cell} tabular-nums")>{cost}</td>
                    <td class=format!("{cell} tabular-nums")>{margin}</td>
                    <td class=format!("{cell} tabular-nums")>{share}</td>
                </tr>
            }).collect_view()}
        </DataTable>
    }
}
