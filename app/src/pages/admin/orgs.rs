//! `/admin/organizations?q=&plan=&status=&page=`: the organization search.

use super::parts::{status_options, AdminNav, FilterInput, FilterSelect};
use super::users::param;
use crate::components::gate::Gate;
use crate::components::pager::Pager;
use crate::components::table::DataTable;
use crate::format::date;
use crate::server::admin::admin_orgs;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The organizations list.
#[component]
pub fn AdminOrgsPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.get());
    let data = Resource::new_blocking(
        move || {
            (
                param(q, "q"),
                param(q, "plan"),
                param(q, "status"),
                param(q, "page").parse::<u32>().unwrap_or(1),
            )
        },
        |(text, plan, status, page)| admin_orgs(Some(text), Some(plan), Some(status), Some(page)),
    );
    view! {
        <Title text="Organizations · Admin"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Gate error/> }.into_any(),
                    Ok(list) => {
                        let params = vec![("q", param(q, "q")), ("plan", param(q, "plan")), ("status", param(q, "status"))];
                        let pages = list.pages();
                        let rows = if list.rows.is_empty() {
                            view! { <p class="mt-4 rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-500">"No organizations match."</p> }.into_any()
                        } else {
                            view! {
                                <DataTable headers=&["Name", "Slug", "Members", "Plan", "Status", "Seats", "Created"] dense=true class="mt-4">
                                    {list.rows.into_iter().map(|o| view! {
                                        <tr data-slug=o.slug.clone()>
                                            <td class="px-3 py-2"><a href=format!("/admin/organizations/{}", o.id) class="font-medium text-indigo-700 underline hover:text-indigo-900">{o.name.clone()}</a></td>
                                            <td class="px-3 py-2 font-mono text-xs">{o.slug.clone()}</td>
                                            <td class="px-3 py-2">{o.members}</td>
                                            <td class="px-3 py-2">{o.plan.clone().unwrap_or_else(|| "—".into())}</td>
                                            <td class="px-3 py-2">{o.status.clone().map_or("—".to_string(), |s| s.replace('_', " "))}</td>
                                            <td class="px-3 py-2">{o.seats.map_or("—".to_string(), |s| s.to_string())}</td>
                                            <td class="px-3 py-2 text-slate-600">{date(o.created_at)}</td>
                                        </tr>
                                    }).collect_view()}
                                </DataTable>
                            }
                            .into_any()
                        };
                        view! {
                            <AdminNav current="/admin/organizations"/>
                            <h1 class="text-2xl font-bold">"Organizations"</h1>
                            <form method="get" action="/admin/organizations" class="mt-4 grid items-end gap-3 sm:grid-cols-4" role="search">
                                <FilterInput label="Name or slug" name="q" value=param(q, "q") kind="search"/>
                                <FilterSelect label="Plan" name="plan" options=list.plans.clone() selected=param(q, "plan")/>
                                <FilterSelect label="Status" name="status" options=status_options() selected=param(q, "status")/>
                                <button type="submit" class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500">"Search"</button>
                            </form>
                            {rows}
                            <Pager path="/admin/organizations" params page=list.page pages total=list.total/>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}
