//! One meter's usage over time: meter tabs (plain links, so they work before
//! hydration), the two server-drawn charts, and their numbers in tables.

use crate::components::chart::ChartFigure;
use crate::components::table::DataTable;
use crate::model::UsageChartsView;
use leptos::prelude::*;

/// The charts of `charts`; each tab links to `base` with `?meter=<key>`.
#[component]
pub fn UsageCharts(charts: UsageChartsView, base: String) -> impl IntoView {
    let UsageChartsView {
        meter,
        meters,
        period,
        periods,
        day_rows,
        period_rows,
        owed,
    } = charts;
    let sep = if base.contains('?') { '&' } else { '?' };
    view! {
        <section class="mt-8" aria-labelledby="usage-over-time" data-testid="usage-charts" data-chart-meter=meter.clone()>
            <h2 id="usage-over-time" class="text-lg font-semibold">"Usage over time"</h2>
            {owed.map(|(so_far, projected)| view! {
                <p class="mt-1 text-sm text-slate-700" data-testid="owed-summary">
                    {format!("This period's invoice so far: {so_far}; projected at the period's end: {projected}. ")}
                    <a href="/billing" class="font-medium text-indigo-700 underline hover:text-indigo-900">"See the lines"</a>
                </p>
            })}
            <nav aria-label="Meter" class="mt-2 flex flex-wrap gap-2">
                {meters.into_iter().map(|(key, name)| {
                    let current = key == meter;
                    view! {
                        <a
                            href=format!("{base}{sep}meter={key}")
                            aria-current=current.then_some("page")
                            class=if current { "rounded-full bg-indigo-600 px-3 py-1 text-sm font-medium text-white" } else { "rounded-full border border-slate-300 px-3 py-1 text-sm text-slate-700 hover:bg-slate-50" }
                        >{name}</a>
                    }
                }).collect_view()}
            </nav>
            <div class="mt-4 grid gap-6">
                <ChartFigure chart=period/>
                <ChartFigure chart=periods/>
            </div>
            <details class="mt-3 text-sm">
                <summary class="cursor-pointer font-medium text-indigo-700">"Show the numbers"</summary>
                <div class="mt-2 grid gap-4 xl:grid-cols-2">
                    <DataTable headers=&["Day", "Used to date"] dense=true testid="usage-days">
                        {day_rows.into_iter().map(|(d, v)| view! { <tr><td class="px-3 py-2">{d}</td><td class="px-3 py-2 tabular-nums">{v}</td></tr> }).collect_view()}
                    </DataTable>
                    <DataTable headers=&["Period", "Used"] dense=true testid="usage-periods">
                        {period_rows.into_iter().map(|(p, v)| view! { <tr><td class="px-3 py-2">{p}</td><td class="px-3 py-2 tabular-nums">{v}</td></tr> }).collect_view()}
                    </DataTable>
                </div>
            </details>
        </section>
    }
}

/// [`UsageCharts`] once `charts` has loaded (a resource made with the page, so
/// that the server sends it for hydration), or why it could not load.
#[component]
pub fn LoadedUsageCharts(
    charts: Resource<Result<UsageChartsView, crate::error::AppError>>,
    base: String,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="mt-8 text-slate-500">"Loading the charts…"</p> }>
            {move || {
                let base = base.clone();
                Suspend::new(async move {
                    match charts.await {
                        Ok(c) => view! { <UsageCharts charts=c base/> }.into_any(),
                        Err(e) => view! { <p class="mt-8 text-sm text-red-700" role="alert">{format!("The charts could not be loaded: {e}")}</p> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// One meter's usage split by member or property, with a plain GET form to pick
/// the meter, the split and the range (it works before hydration), the stacked
/// chart, and its numbers in a table.
#[component]
pub fn UsageBreakdown(breakdown: crate::model::UsageBreakdownView, base: String) -> impl IntoView {
    let crate::model::UsageBreakdownView {
        meter,
        meters,
        by,
        splits,
        granularity,
        chart,
        rows,
    } = breakdown;
    let select = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2";
    view! {
        <section class="mt-8" aria-labelledby="usage-breakdown-h" data-testid="usage-breakdown" data-chart-meter=meter.clone() data-by=by.clone()>
            <h2 id="usage-breakdown-h" class="text-lg font-semibold">"Usage over time, by member or model"</h2>
            <form method="get" action=base class="mt-2 grid items-end gap-3 sm:grid-cols-4">
                <label class="block text-sm font-medium">"Meter"
                    <select name="meter" class=select>
                        {meters.into_iter().map(|(k, n)| { let sel = k == meter; view! { <option value=k selected=sel>{n}</option> } }).collect_view()}
                    </select>
                </label>
                <label class="block text-sm font-medium">"Split by"
                    <select name="by" class=select>
                        {splits.into_iter().map(|(v, l)| { let sel = v == by; view! { <option value=v selected=sel>{l}</option> } }).collect_view()}
                    </select>
                </label>
                <label class="block text-sm font-medium">"Range"
                    <select name="granularity" class=select>
                        <option value="day" selected=granularity == "day">"Last 30 days, by day"</option>
                        <option value="month" selected=granularity == "month">"Last 12 months, by month"</option>
                    </select>
                </label>
                <button type="submit" class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500">"Show"</button>
            </form>
            <div class="mt-4"><ChartFigure chart/></div>
            <DataTable headers=&["Who or what", "Used", "Share"] dense=true class="mt-3" testid="usage-breakdown-rows">
                {rows.into_iter().map(|(l, v, s)| view! { <tr><td class="px-3 py-2">{l}</td><td class="px-3 py-2 tabular-nums">{v}</td><td class="px-3 py-2 tabular-nums">{s}</td></tr> }).collect_view()}
            </DataTable>
        </section>
    }
}

/// A plain GET form that downloads usage as CSV from `action` (a file, not a
/// page: the browser downloads it before and after hydration): raw events or the
/// daily rollup, for the days `[from, to)` (empty: the last 30); `account` adds an account field (the
/// admin's export of any account, or every one).
#[component]
pub fn UsageExportForm(action: &'static str, #[prop(optional)] account: bool) -> impl IntoView {
    let input = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2";
    view! {
        <form method="get" action=action class="mt-2 grid items-end gap-3 sm:grid-cols-5" data-testid="usage-export">
            {account.then(|| view! {
                <label class="block text-sm font-medium">"Account id (empty: every account, daily only)"
                    <input name="account" class=input placeholder="uuid"/>
                </label>
            })}
            <label class="block text-sm font-medium">"What"
                <select name="kind" class=input>
                    <option value="events">"Every event"</option>
                    <option value="daily">"Daily totals"</option>
                </select>
            </label>
            <label class="block text-sm font-medium">"From (UTC; empty: 30 days ago)"
                <input type="date" name="from" class=input/>
            </label>
            <label class="block text-sm font-medium">"Until, not included (empty: tomorrow)"
                <input type="date" name="to" class=input/>
            </label>
            <button type="submit" class="rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-semibold text-slate-800 hover:bg-slate-50">"Download CSV"</button>
        </form>
    }
}
