//! `/admin/audit?actor=&action=&target=&from=&to=&page=`: the audit log.

use super::parts::{ActivityTable, AdminNav, FilterInput};
use super::users::param;
use crate::components::gate::Gate;
use crate::components::pager::Pager;
use crate::error::AppError;
use crate::server::admin::admin_audit;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The audit log, newest first.
#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.get());
    let keys = ["actor", "action", "target", "from", "to"];
    let data = Resource::new_blocking(
        move || {
            (
                keys.map(|k| param(q, k)),
                param(q, "page").parse::<u32>().unwrap_or(1),
            )
        },
        |([actor, action, target, from, to], page)| {
            admin_audit(
                Some(actor),
                Some(action),
                Some(target),
                Some(from),
                Some(to),
                Some(page),
            )
        },
    );
    let form = move || {
        view! {
            <form method="get" action="/admin/audit" class="mt-4 grid items-end gap-3 sm:grid-cols-3 lg:grid-cols-6" role="search">
                <FilterInput label="Actor e-mail" name="actor" value=param(q, "actor")/>
                <FilterInput label="Action starts with" name="action" value=param(q, "action")/>
                <FilterInput label="Target id" name="target" value=param(q, "target")/>
                <FilterInput label="From (UTC)" name="from" value=param(q, "from") kind="date"/>
                <FilterInput label="To (UTC)" name="to" value=param(q, "to") kind="date"/>
                <button type="submit" class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500">"Filter"</button>
            </form>
        }
    };
    view! {
        <Title text="Audit log · Admin"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(AppError::Form(f)) => view! {
                        <AdminNav current="/admin/audit"/>
                        <h1 class="text-2xl font-bold">"Audit log"</h1>
                        {form()}
                        <p class="mt-4 rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800" role="alert">
                            {f.fields.values().cloned().collect::<Vec<_>>().join(" ")}
                        </p>
                    }.into_any(),
                    Err(error) => view! { <Gate error/> }.into_any(),
                    Ok(list) => {
                        let params: Vec<(&'static str, String)> = keys.iter().map(|k| (*k, param(q, k))).collect();
                        let pages = list.pages();
                        view! {
                            <AdminNav current="/admin/audit"/>
                            <h1 class="text-2xl font-bold">"Audit log"</h1>
                            <p class="mt-1 text-sm text-slate-600">"Append-only: the database refuses to change or delete entries."</p>
                            {form()}
                            <div class="mt-4"><ActivityTable rows=list.rows empty="No entries match."/></div>
                            <Pager path="/admin/audit" params page=list.page pages total=list.total/>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}
