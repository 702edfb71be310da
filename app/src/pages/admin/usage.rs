//! `/admin/usage?plan=&meter=&state=&sort=&page=`: every subscribed account's
//! meters as lines with usage bars, filtered, sorted by percent used and paged,
//! with totals per meter and per plan and the lines nearest their limits. Rendered
//! on the server; after hydration the lines on the page and the totals move live
//! (`/admin/live/usage`). The order is the one of the page's load: a line that
//! moves keeps its place until the page is reloaded.

use super::parts::{AdminNav, FilterSelect};
use crate::components::usage_charts::UsageExportForm;
use super::users::param;
use crate::components::gate::Gate;
use crate::components::meter::UsageBar;
use crate::components::pager::Pager;
use crate::components::table::DataTable;
use crate::format::{badge_class, quantity, state_label, unit};
use crate::model::admin::UsageBoardView;
use crate::server::admin::usage::admin_usage;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use tollgate::board::{Line, Summary, Update as BoardUpdate};
use tollgate::limits::LimitState;

/// The state filter's choices.
fn state_options() -> Vec<(String, String)> {
    [
        LimitState::Ok,
        LimitState::Warning,
        LimitState::LimitReached,
        LimitState::Blocked,
    ]
    .into_iter()
    .map(|s| (s.as_str().to_string(), state_label(s).to_string()))
    .collect()
}

/// The sort choices.
fn sort_options() -> Vec<(String, String)> {
    vec![
        ("percent_asc".into(), "Percent used, lowest first".into()),
        ("name".into(), "Account name".into()),
    ]
}

/// The usage board page.
#[component]
pub fn AdminUsagePage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.get());
    let data = Resource::new_blocking(
        move || {
            (
                param(q, "plan"),
                param(q, "meter"),
                param(q, "state"),
                param(q, "sort"),
                param(q, "page").parse::<u32>().unwrap_or(1),
            )
        },
        |(plan, meter, state, sort, page)| {
            admin_usage(Some(plan), Some(meter), Some(state), Some(sort), Some(page))
        },
    );
    view! {
        <Title text="Usage · Admin"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <AdminNav current="/admin/usage"/><Gate error/> }.into_any(),
                    Ok(usage) => {
                        let params = vec![("plan", param(q, "plan")), ("meter", param(q, "meter")), ("state", param(q, "state")), ("sort", param(q, "sort"))];
                        view! { <Board usage params selected=params_now(q)/> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The filters as the query has them: plan, meter, state, sort.
fn params_now(q: Memo<leptos_router::params::ParamsMap>) -> [String; 4] {
    [
        param(q, "plan"),
        param(q, "meter"),
        param(q, "state"),
        param(q, "sort"),
    ]
}

#[component]
fn Board(
    usage: UsageBoardView,
    params: Vec<(&'static str, String)>,
    selected: [String; 4],
) -> impl IntoView {
    let pages = usage.list.pages();
    let (page, total) = (usage.list.page, usage.list.total);
    let lines = RwSignal::new(usage.list.rows);
    let summary = RwSignal::new(usage.summary);
    let connected = RwSignal::new(false);
    // The board version of the last message received (none before the first).
    let version = RwSignal::new(None::<u64>);
    #[cfg(feature = "hydrate")]
    {
        let ids: Vec<String> = lines
            .get_untracked()
            .iter()
            .map(|l| l.account_id.to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let url = format!("/admin/live/usage?accounts={}", ids.join(","));
        Effect::new(move |_| {
            crate::live::connect(
                &url,
                move |u: BoardUpdate| {
                    version.set(Some(u.version));
                    apply(lines, summary, u)
                },
                connected,
            )
        });
    }
    let [plan, meter, state, sort] = selected;
    let meter_names = usage.meters.clone();
    view! {
        <AdminNav current="/admin/usage"/>
        <div class="flex flex-wrap items-center justify-between gap-2">
            <h1 class="text-2xl font-bold">"Usage across customers"</h1>
            <span class="text-xs text-slate-500" data-testid="live-status" data-live=move || connected.get().to_string() data-version=move || version.get().map(|v| v.to_string())>
                {move || if connected.get() { "● Live" } else { "Current as of page load" }}
            </span>
        </div>
        <p class="mt-1 text-sm text-slate-600">
            "Every account with a live subscription, each meter over the account's own current period, against its effective limit (the plan's, with the account's overrides)."
        </p>
        <details class="mt-3 rounded-lg border border-slate-200 bg-white p-3">
            <summary class="cursor-pointer text-sm font-medium text-indigo-700">"Download usage as CSV"</summary>
            <UsageExportForm action="/admin/usage/export.csv" account=true/>
        </details>
        {move || totals(&summary.get(), &meter_names)}
        {move || near_limit(&summary.get())}
        <h2 class="mt-8 text-lg font-semibold" id="lines-h">"Every account's meters"</h2>
        <form method="get" action="/admin/usage" class="mt-2 grid items-end gap-3 sm:grid-cols-5" role="search" aria-labelledby="lines-h">
            <FilterSelect label="Plan" name="plan" options=usage.list.plans.clone() selected=plan/>
            <FilterSelect label="Meter" name="meter" options=usage.meters.clone() selected=meter/>
            <FilterSelect label="State" name="state" options=state_options() selected=state/>
            <SortSelect selected=sort/>
            <button type="submit" class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500">"Apply"</button>
        </form>
        {move || {
            let rows = lines.get();
            if rows.is_empty() {
                view! { <p class="mt-4 rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-500" data-testid="no-lines">"No account's meter matches."</p> }.into_any()
            } else {
                view! {
                    <DataTable headers=&["Account", "Plan", "Meter", "Used", "Percent", "State"] dense=true class="mt-4" testid="usage-lines">
                        {rows.into_iter().map(line_row).collect_view()}
                    </DataTable>
                }
                .into_any()
            }
        }}
        <Pager path="/admin/usage" params page pages total/>
    }
}

/// The sort `<select>`: percent used, highest first, is the default.
#[component]
fn SortSelect(selected: String) -> impl IntoView {
    view! {
        <div class="space-y-1">
            <label for="filter-sort" class="block text-sm font-medium text-slate-700">"Sort"</label>
            <select id="filter-sort" name="sort" class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm">
                <option value="" selected=selected.is_empty()>"Percent used, highest first"</option>
                {sort_options().into_iter().map(|(v, l)| {
                    let on = v == selected;
                    view! { <option value=v selected=on>{l}</option> }
                }).collect_view()}
            </select>
        </div>
    }
}

/// Replaces the changed accounts' meters on the page and the totals.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn apply(lines: RwSignal<Vec<Line>>, summary: RwSignal<Summary>, u: BoardUpdate) {
    if !u.accounts.is_empty() {
        lines.update(|ls| {
            for l in ls.iter_mut() {
                if let Some(m) = u
                    .accounts
                    .iter()
                    .find(|a| a.account_id == l.account_id)
                    .and_then(|a| a.meters.iter().find(|m| m.meter == l.meter.meter))
                {
                    l.meter = m.clone();
                }
            }
        });
    }
    summary.set(u.summary);
}

fn used(l: &Line) -> String {
    let m = &l.meter;
    match m.limit {
        Some(limit) => format!(
            "{} / {} {}",
            quantity(m.usage),
            quantity(limit),
            unit(&m.unit, limit)
        ),
        None => format!(
            "{} {} (unlimited)",
            quantity(m.usage),
            unit(&m.unit, m.usage)
        ),
    }
}

fn state_badge(s: LimitState) -> impl IntoView {
    view! { <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {}", badge_class(s))>{state_label(s)}</span> }
}

fn line_row(l: Line) -> impl IntoView {
    let m = &l.meter;
    view! {
        <tr data-account=l.account_id.to_string() data-meter=m.meter.clone() data-usage=m.usage.normalize().to_string() data-state=m.state.as_str()>
            <td class="px-3 py-2"><a href=l.admin_path.clone() class="font-medium text-indigo-700 underline hover:text-indigo-900">{l.account_name.clone()}</a></td>
            <td class="px-3 py-2">{l.plan_name.clone()}</td>
            <td class="px-3 py-2">{m.name.clone()}</td>
            <td class="px-3 py-2 tabular-nums" data-testid="line-used">
                {used(&l)}
                <UsageBar percent=m.percent state=m.state label=format!("{} of {} used", m.name, l.account_name) class="mt-1 max-w-48"/>
            </td>
            <td class="px-3 py-2 tabular-nums">{m.percent.map_or("—".to_string(), |p| format!("{} %", p.normalize()))}</td>
            <td class="px-3 py-2">{state_badge(m.state)}</td>
        </tr>
    }
}

/// Per meter (usage and accounts per state) and per plan (accounts, accounts at a
/// limit, usage per meter).
fn totals(s: &Summary, meters: &[(String, String)]) -> impl IntoView {
    let per_meter = s.meters.iter().map(|t| {
        view! {
            <div class="rounded-lg border border-slate-200 bg-white p-4" data-testid="meter-total" data-meter=t.meter.clone() data-usage=t.usage.normalize().to_string()>
                <p class="text-sm text-slate-500">{format!("{} this period", t.name)}</p>
                <p class="mt-1 text-2xl font-bold tabular-nums">{format!("{} {}", quantity(t.usage), unit(&t.unit, t.usage))}</p>
                <p class="mt-1 text-xs text-slate-600">
                    {format!("{} ok · {} warning · {} at limit · {} blocked", t.states.ok, t.states.warning, t.states.limit_reached, t.states.blocked)}
                </p>
            </div>
        }
    }).collect_view();
    let mut headers: Vec<String> = vec!["Plan".into(), "Accounts".into(), "At a limit".into()];
    headers.extend(meters.iter().map(|(_, n)| n.clone()));
    let plans = s.plans.iter().map(|p| {
        view! {
            <tr data-plan=p.plan_key.clone()>
                <td class="px-3 py-2 font-medium">{p.plan_name.clone()}</td>
                <td class="px-3 py-2 tabular-nums">{p.accounts}</td>
                <td class="px-3 py-2 tabular-nums">{p.at_limit}</td>
                {p.usage.iter().map(|u| view! { <td class="px-3 py-2 tabular-nums">{quantity(*u)}</td> }).collect_view()}
            </tr>
        }
    }).collect_view();
    view! {
        <section class="mt-6" aria-labelledby="totals-h">
            <h2 id="totals-h" class="text-lg font-semibold">{format!("Totals over {} account{}", s.accounts, if s.accounts == 1 { "" } else { "s" })}</h2>
            <div class="mt-2 grid gap-4 sm:grid-cols-2 lg:grid-cols-4">{per_meter}</div>
            <div tabindex="0" class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white">
                <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid="plan-totals">
                    <caption class="sr-only">"Usage per plan"</caption>
                    <thead class="bg-slate-50 text-left"><tr>{headers.into_iter().map(|h| view! { <th scope="col" class="px-3 py-2">{h}</th> }).collect_view()}</tr></thead>
                    <tbody class="divide-y divide-slate-100">{plans}</tbody>
                </table>
            </div>
        </section>
    }
}

/// The lines nearest their limits (warning or worse), highest percent first.
fn near_limit(s: &Summary) -> impl IntoView {
    let body = if s.near_limit.is_empty() {
        view! { <p class="mt-2 text-sm text-slate-500">"No account is near a limit."</p> }
            .into_any()
    } else {
        view! {
            <ul class="mt-2 divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white" data-testid="near-limit">
                {s.near_limit.iter().map(|l| view! {
                    <li class="flex flex-wrap items-center justify-between gap-2 px-3 py-2 text-sm" data-account=l.account_id.to_string() data-meter=l.meter.meter.clone()>
                        <a href=l.admin_path.clone() class="font-medium text-indigo-700 underline hover:text-indigo-900">{l.account_name.clone()}</a>
                        <span class="text-slate-600">{format!("{} · {}", l.meter.name, used(l))}</span>
                        <span class="tabular-nums">{l.meter.percent.map_or(String::new(), |p| format!("{} %", p.normalize()))}</span>
                        {state_badge(l.meter.state)}
                    </li>
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <section class="mt-6" aria-labelledby="near-h">
            <h2 id="near-h" class="text-lg font-semibold">"Near the limit"</h2>
            {body}
        </section>
    }
}
