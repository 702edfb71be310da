//! `/admin`: the business at a glance. MRR, ARR and the rest now, by plan and
//! provider, the last twelve months' movements, churn, retention and cash, with
//! charts drawn on the server and a CSV export. Definitions: [`tollgate::analytics`].

use super::parts::AdminNav;
use crate::components::gate::Gate;
use crate::components::table::DataTable;
use crate::format::{datetime, money, percent};
use crate::components::chart::ChartFigure;
use crate::model::admin::AdminOverview;
use crate::server::admin::get_admin_overview;
use leptos::prelude::*;
use leptos_meta::Title;
use tollgate::analytics::report::{MonthRow, Slice};
use tollgate::money::Currency;

#[component]
pub fn AdminHomePage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| get_admin_overview());
    view! {
        <Title text="Admin"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Gate error/> }.into_any(),
                    Ok(o) => view! { <AdminNav current="/admin"/><Overview o/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Overview(o: AdminOverview) -> impl IntoView {
    let r = o.report;
    let c = r.currency;
    let m = move |d| money(d, &c);
    let n = r.now.clone();
    let this_month = r.months.last().cloned();
    let range = match (r.months.first(), r.months.last()) {
        (Some(a), Some(b)) => format!("{} to {}", a.label, b.label),
        _ => String::new(),
    };
    let as_of = datetime(r.as_of);
    let usage = this_month
        .as_ref()
        .map(|t| m(t.usage_revenue))
        .unwrap_or_default();
    let usage_label = this_month
        .as_ref()
        .map(|t| format!("{c}, {} so far: invoiced, not in MRR", t.label))
        .unwrap_or_default();
    view! {
        <h1 class="text-2xl font-bold">"Business overview"</h1>
        <p class="mt-1 text-sm text-slate-600" data-testid="analytics-scope">
            {format!("Amounts in {c}, as of {as_of} UTC. Months are calendar months in UTC, {range}; the current one is partial.")}
        </p>
        <section aria-labelledby="now-heading" class="mt-6">
            <h2 id="now-heading" class="sr-only">"Now"</h2>
            <dl class="grid gap-4 sm:grid-cols-3 lg:grid-cols-6" data-testid="analytics-now">
                <Figure label="MRR" value=m(n.mrr) note=format!("{c}, now") testid="mrr"/>
                <Figure label="ARR" value=m(n.arr) note=format!("{c}, now: MRR × 12") testid="arr"/>
                <Figure label="ARPA" value=n.arpa.map(m).unwrap_or_else(|| "—".into()) note=format!("{c}, now: {} paying accounts", n.paying_accounts) testid="arpa"/>
                <Figure label="Trial MRR" value=m(n.trial_mrr) note=format!("{c}, now: {} trialing, apart", n.trialing) testid="trial-mrr"/>
                <Figure label="Usage revenue" value=usage note=usage_label testid="usage-revenue"/>
                <Figure label="Subscriptions" value=format!("{} active", n.active) note=format!("now: {} past due · {} canceled (all time)", n.past_due, n.canceled) testid="counts"/>
            </dl>
        </section>
        <div class="mt-6 grid gap-6 lg:grid-cols-2">
            <Breakdown title=format!("MRR by plan ({c}, now)") first="Plan" rows=n.by_plan.clone() currency=c testid="by-plan"/>
            <Breakdown title=format!("MRR by payment provider ({c}, now)") first="Provider" rows=n.by_provider.clone() currency=c testid="by-provider"/>
        </div>
        <div class="mt-8 grid gap-6">
            {o.charts.into_iter().map(|chart| view! { <ChartFigure chart/> }).collect_view()}
        </div>
        <Monthly months=r.months.clone() currency=c range=range.clone()/>
        <Definitions/>
        <ul class="mt-8 flex flex-wrap gap-x-6 gap-y-2 text-sm" data-testid="admin-counts">
            <li><a href="/admin/users" class="text-indigo-700 underline hover:text-indigo-900">{format!("Users ({})", o.users)}</a></li>
            <li><a href="/admin/organizations" class="text-indigo-700 underline hover:text-indigo-900">{format!("Organizations ({})", o.organizations)}</a></li>
            <li><a href="/admin/billing/subscriptions" class="text-indigo-700 underline hover:text-indigo-900">"Subscriptions"</a></li>
            <li><a href="/admin/billing/invoices" class="text-indigo-700 underline hover:text-indigo-900">"Invoices"</a></li>
            <li><a href="/admin/audit" class="text-indigo-700 underline hover:text-indigo-900">"Audit log"</a></li>
        </ul>
    }
}

#[component]
fn Figure(
    label: &'static str,
    value: String,
    #[prop(into)] note: String,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div class="rounded-lg border border-slate-200 bg-white p-4" data-testid=format!("figure-{testid}")>
            <dt class="text-sm text-slate-500">{label}</dt>
            <dd class="mt-1 text-2xl font-bold tabular-nums">{value}</dd>
            <dd class="mt-1 text-xs text-slate-500">{note}</dd>
        </div>
    }
}

#[component]
fn Breakdown(
    title: String,
    first: &'static str,
    rows: Vec<Slice>,
    currency: Currency,
    testid: &'static str,
) -> impl IntoView {
    let headers: &'static [&'static str] = if first == "Plan" {
        &["Plan", "MRR", "Paying", "Trialing"]
    } else {
        &["Provider", "MRR", "Paying", "Trialing"]
    };
    view! {
        <section>
            <h2 class="mb-2 text-lg font-semibold">{title}</h2>
            {if rows.is_empty() {
                view! { <p class="rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-600">"No live subscriptions yet."</p> }.into_any()
            } else {
                view! {
                    <DataTable headers dense=true testid=testid>
                        {rows.into_iter().map(|s| view! {
                            <tr>
                                <th scope="row" class="px-3 py-2 text-left font-medium">{s.name}</th>
                                <td class="whitespace-nowrap px-3 py-2 tabular-nums">{money(s.mrr, &currency)}</td>
                                <td class="whitespace-nowrap px-3 py-2 tabular-nums">{s.paying}</td>
                                <td class="whitespace-nowrap px-3 py-2 tabular-nums">{s.trialing}</td>
                            </tr>
                        }).collect_view()}
                    </DataTable>
                }.into_any()
            }}
        </section>
    }
}

const MONTH_HEADERS: &[&str] = &[
    "Month",
    "Opening MRR",
    "New",
    "Reactivation",
    "Expansion",
    "Contraction",
    "Churned",
    "Closing MRR",
    "Customers",
    "Logo churn",
    "Revenue churn",
    "NRR",
    "Billed",
    "Collected",
    "Outstanding",
    "Overdue",
    "Usage revenue",
    "Failed payments",
];

#[component]
fn Monthly(months: Vec<MonthRow>, currency: Currency, range: String) -> impl IntoView {
    let m = move |d| money(d, &currency);
    view! {
        <section class="mt-8" aria-labelledby="monthly-heading">
            <div class="mb-2 flex flex-wrap items-baseline justify-between gap-2">
                <h2 id="monthly-heading" class="text-lg font-semibold">{format!("Month by month, {range} ({currency})")}</h2>
                <a href="/admin/analytics.csv" download="analytics.csv" class="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50" data-testid="analytics-csv">
                    "Export CSV"
                </a>
            </div>
            <DataTable headers=MONTH_HEADERS dense=true testid="analytics-months">
                {months.into_iter().rev().map(|r| view! {
                    <tr data-month=r.label.clone()>
                        <th scope="row" class="whitespace-nowrap px-3 py-2 text-left font-medium">{if r.partial { format!("{} (so far)", r.label) } else { r.label.clone() }}</th>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums">{m(r.opening_mrr)}</td>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums text-emerald-700">{m(r.new_mrr)}</td>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums text-violet-700">{m(r.reactivation_mrr)}</td>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums text-sky-700">{m(r.expansion_mrr)}</td>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums text-amber-700">{m(r.contraction_mrr)}</td>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums text-rose-700">{m(r.churned_mrr)}</td>
                        <td class="whitespace-nowrap px-3 py-2 font-semibold tabular-nums" data-testid="closing-mrr">{m(r.closing_mrr)}</td>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums">{format!("{} → {}", r.customers_opening, r.customers_closing)}</td>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums">{percent(r.logo_churn_rate)}</td>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums">{percent(r.revenue_churn_rate)}</td>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums">{percent(r.net_revenue_retention)}</td>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums">{m(r.billed)}</td>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums">{m(r.collected)}</td>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums">{m(r.outstanding)}</td>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums">{m(r.overdue)}</td>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums">{m(r.usage_revenue)}</td>
                        <td class="whitespace-nowrap px-3 py-2 tabular-nums">{r.failed_payments}</td>
                    </tr>
                }).collect_view()}
            </DataTable>
        </section>
    }
}

/// The page's help text: each figure's definition (ChartMogul's, with Stripe's
/// normalisation of annual prices), the same as `tollgate::analytics`' doc.
#[component]
fn Definitions() -> impl IntoView {
    view! {
        <details class="mt-8 rounded-lg border border-slate-200 bg-white p-4 text-sm" data-testid="analytics-definitions">
            <summary class="cursor-pointer font-semibold">"How these figures are defined"</summary>
            <dl class="mt-3 space-y-2 text-slate-700">
                <dt class="font-medium">"MRR (monthly recurring revenue)"</dt>
                <dd>"The plan price of every active or past-due subscription with its seats, annual prices divided by 12, less recurring coupons (forever, or repeating while they last; a once-only coupon is a one-off). Usage charges are not recurring: they show as usage revenue. Trials count apart as trial MRR. ARR = MRR × 12; ARPA = MRR ÷ paying accounts."</dd>
                <dt class="font-medium">"Movements"</dt>
                <dd>"Per account, from its MRR just before the month starts to just before it ends: new (from nothing, first time), reactivation (from nothing, paid before), expansion (up), contraction (down, not to nothing) and churn (to nothing). Closing MRR = opening + new + reactivation + expansion − contraction − churn. Definitions follow ChartMogul's MRR movements."</dd>
                <dt class="font-medium">"Churn and retention"</dt>
                <dd>"Logo churn = accounts churned ÷ paying accounts at the month's start. Revenue churn = (churn + contraction) ÷ opening MRR. Net revenue retention = (opening + expansion − contraction − churn) ÷ opening MRR. Shown as — when the month opened with no MRR."</dd>
                <dt class="font-medium">"Cash"</dt>
                <dd>"Billed: totals of invoices issued in the month, voided ones left out. Collected: amounts paid in the month. Outstanding: amounts due at the month's end on invoices not paid, voided or written off by then; overdue: the part past its due date. Failed payments: card payments Stripe reported failed."</dd>
            </dl>
        </details>
    }
}
