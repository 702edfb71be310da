//! `/admin/users?q=&plan=&status=&page=`: the user search.

use super::parts::{status_options, AdminNav, FilterInput, FilterSelect};
use crate::components::gate::Gate;
use crate::components::pager::Pager;
use crate::components::table::DataTable;
use crate::format::date;
use crate::server::admin::admin_users;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The query parameter `name`, or empty.
pub(super) fn param(query: Memo<leptos_router::params::ParamsMap>, name: &str) -> String {
    query.with(|q| q.get(name).unwrap_or_default())
}

/// The users list.
#[component]
pub fn AdminUsersPage() -> impl IntoView {
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
        |(text, plan, status, page)| admin_users(Some(text), Some(plan), Some(status), Some(page)),
    );
    view! {
        <Title text="Users · Admin"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Gate error/> }.into_any(),
                    Ok(list) => {
                        let params = vec![("q", param(q, "q")), ("plan", param(q, "plan")), ("status", param(q, "status"))];
                        let pages = list.pages();
                        let rows = if list.rows.is_empty() {
                            view! { <p class="mt-4 rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-500">"No users match."</p> }.into_any()
                        } else {
                            view! {
                                <DataTable headers=&["Name", "E-mail", "Plan", "Status", "Signed up", "Last log-in"] dense=true class="mt-4">
                                    {list.rows.into_iter().map(|u| view! {
                                        <tr data-email=u.email.clone()>
                                            <td class="px-3 py-2">
                                                <a href=format!("/admin/users/{}", u.id) class="font-medium text-indigo-700 underline hover:text-indigo-900">{u.name.clone()}</a>
                                                {u.super_admin.then(|| view! { <span class="ml-2 rounded bg-slate-900 px-1.5 py-0.5 text-xs text-white">"super admin"</span> })}
                                                {u.disabled.then(|| view! { <span class="ml-2 rounded bg-red-100 px-1.5 py-0.5 text-xs text-red-800">"disabled"</span> })}
                                            </td>
                                            <td class="px-3 py-2">{u.email.clone()}</td>
                                            <td class="px-3 py-2">{u.plan.clone().unwrap_or_else(|| "—".into())}</td>
                                            <td class="px-3 py-2">{u.status.clone().map_or("—".to_string(), |s| s.replace('_', " "))}</td>
                                            <td class="px-3 py-2 text-slate-600">{date(u.created_at)}</td>
                                            <td class="px-3 py-2 text-slate-600">{u.last_login_at.map_or("Never".to_string(), date)}</td>
                                        </tr>
                                    }).collect_view()}
                                </DataTable>
                            }
                            .into_any()
                        };
                        view! {
                            <AdminNav current="/admin/users"/>
                            <h1 class="text-2xl font-bold">"Users"</h1>
                            <form method="get" action="/admin/users" class="mt-4 grid items-end gap-3 sm:grid-cols-4" role="search">
                                <FilterInput label="E-mail or name" name="q" value=param(q, "q") kind="search"/>
                                <FilterSelect label="Plan" name="plan" options=list.plans.clone() selected=param(q, "plan")/>
                                <FilterSelect label="Status" name="status" options=status_options() selected=param(q, "status")/>
                                <button type="submit" class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500">"Search"</button>
                            </form>
                            {rows}
                            <Pager path="/admin/users" params page=list.page pages total=list.total/>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}
