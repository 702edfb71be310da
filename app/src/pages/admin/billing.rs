//! `/admin/billing/invoices` and `/admin/billing/subscriptions`: every invoice and
//! subscription, filtered, paginated, exportable as CSV; invoices can be marked
//! paid, uncollectible or void.

use super::parts::{status_options, AdminNav, FilterInput, FilterSelect};
use super::users::param;
use crate::components::gate::Gate;
use crate::components::invoices::InvoiceTable;
use crate::components::pager::Pager;
use crate::components::table::DataTable;
use crate::format::date;
use crate::server::billing::{admin_invoices, admin_subscriptions};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn query_string(params: &[(&'static str, String)]) -> String {
    let kept: Vec<String> = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencoding(v)))
        .collect();
    if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    }
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn filter_button() -> impl IntoView {
    view! { <button type="submit" class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500">"Filter"</button> }
}

/// The invoice list.
#[component]
pub fn AdminInvoicesPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.get());
    let keys = ["status", "overdue", "q"];
    let data = Resource::new_blocking(
        move || {
            (
                keys.map(|k| param(q, k)),
                param(q, "page").parse::<u32>().unwrap_or(1),
            )
        },
        |([status, overdue, text], page)| {
            admin_invoices(Some(status), Some(overdue), Some(text), Some(page))
        },
    );
    view! {
        <Title text="Invoices · Admin"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Gate error/> }.into_any(),
                    Ok(list) => {
                        let params: Vec<(&'static str, String)> = keys.iter().map(|k| (*k, param(q, k))).collect();
                        let here = format!("/admin/billing/invoices{}", query_string(&[params.clone(), vec![("page", list.page.to_string())]].concat()));
                        let csv = format!("/admin/billing/invoices.csv{}", query_string(&params));
                        let statuses = tollgate::invoice::InvoiceStatus::ALL.iter().map(|s| (s.as_str().to_string(), s.as_str().to_string())).collect();
                        let pages = list.pages();
                        view! {
                            <AdminNav current="/admin/billing/invoices"/>
                            <div class="flex items-center justify-between">
                                <h1 class="text-2xl font-bold">"Invoices"</h1>
                                <a href=csv rel="external" class="text-sm text-indigo-700 underline hover:text-indigo-900" data-testid="invoices-csv">"Export CSV"</a>
                            </div>
                            <form method="get" action="/admin/billing/invoices" class="mt-4 grid items-end gap-3 sm:grid-cols-4" role="search">
                                <FilterInput label="Number or account" name="q" value=param(q, "q") kind="search"/>
                                <FilterSelect label="Status" name="status" options=statuses selected=param(q, "status")/>
                                <FilterSelect label="Due" name="overdue" options=vec![("1".into(), "Overdue only".into())] selected=param(q, "overdue")/>
                                {filter_button()}
                            </form>
                            <InvoiceTable rows=list.rows admin=true back=here empty="No invoices match."/>
                            <Pager path="/admin/billing/invoices" params page=list.page pages total=list.total/>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The subscription list.
#[component]
pub fn AdminSubscriptionsPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.get());
    let keys = ["status", "plan", "provider", "q"];
    let data = Resource::new_blocking(
        move || {
            (
                keys.map(|k| param(q, k)),
                param(q, "page").parse::<u32>().unwrap_or(1),
            )
        },
        |([status, plan, provider, text], page)| {
            admin_subscriptions(
                Some(status),
                Some(plan),
                Some(provider),
                Some(text),
                Some(page),
            )
        },
    );
    view! {
        <Title text="Subscriptions · Admin"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Gate error/> }.into_any(),
                    Ok(list) => {
                        let params: Vec<(&'static str, String)> = keys.iter().map(|k| (*k, param(q, k))).collect();
                        let csv = format!("/admin/billing/subscriptions.csv{}", query_string(&params));
                        let mut statuses = status_options();
                        statuses.retain(|(v, _)| v != "none");
                        let pages = list.pages();
                        let rows = if list.rows.is_empty() {
                            view! { <p class="mt-4 rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-500">"No subscriptions match."</p> }.into_any()
                        } else {
                            view! {
                                <DataTable headers=&["Account", "Plan", "Interval", "Seats", "Status", "Provider", "Started"] dense=true class="mt-4" testid="subscriptions">
                                    {list.rows.into_iter().map(|s| {
                                        let href = if s.account_kind == "organization" { format!("/admin/organizations/{}", s.account_id) } else { String::new() };
                                        view! {
                                            <tr data-account=s.account_name.clone()>
                                                <td class="px-3 py-2">
                                                    {if href.is_empty() { view! { <span>{s.account_name.clone()}</span> }.into_any() } else { view! { <a href=href class="text-indigo-700 underline hover:text-indigo-900">{s.account_name.clone()}</a> }.into_any() }}
                                                </td>
                                                <td class="px-3 py-2">{s.plan.clone()}</td>
                                                <td class="px-3 py-2">{s.interval.clone()}</td>
                                                <td class="px-3 py-2 tabular-nums">{s.seats}</td>
                                                <td class="px-3 py-2">{s.status.replace('_', " ")}</td>
                                                <td class="px-3 py-2">{s.provider.clone()}</td>
                                                <td class="px-3 py-2 text-slate-600">{date(s.created_at)}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </DataTable>
                            }
                            .into_any()
                        };
                        view! {
                            <AdminNav current="/admin/billing/subscriptions"/>
                            <div class="flex items-center justify-between">
                                <h1 class="text-2xl font-bold">"Subscriptions"</h1>
                                <a href=csv rel="external" class="text-sm text-indigo-700 underline hover:text-indigo-900">"Export CSV"</a>
                            </div>
                            <form method="get" action="/admin/billing/subscriptions" class="mt-4 grid items-end gap-3 sm:grid-cols-5" role="search">
                                <FilterInput label="Account" name="q" value=param(q, "q") kind="search"/>
                                <FilterSelect label="Plan" name="plan" options=list.plans.clone() selected=param(q, "plan")/>
                                <FilterSelect label="Status" name="status" options=statuses selected=param(q, "status")/>
                                <FilterSelect label="Provider" name="provider" options=vec![("manual".into(), "manual".into()), ("stripe".into(), "stripe".into())] selected=param(q, "provider")/>
                                {filter_button()}
                            </form>
                            {rows}
                            <Pager path="/admin/billing/subscriptions" params page=list.page pages total=list.total/>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}
