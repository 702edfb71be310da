//! `/notifications?page=N`: every notification, paginated.

use super::dashboard::notification_list;
use crate::components::gate::Gate;
use crate::components::table::DataTable;
use crate::server::notifications::{list_notifications, notification_preferences, MarkNotificationsRead, PreferenceView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The notifications page.
#[component]
pub fn NotificationsPage() -> impl IntoView {
    let query = use_query_map();
    let page = Memo::new(move |_| {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
    });
    let mark = ServerAction::<MarkNotificationsRead>::new();
    let data = Resource::new_blocking(
        move || (page.get(), mark.version().get()),
        |(p, _)| list_notifications(p),
    );
    view! {
        <Title text="Notifications"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Gate error/> }.into_any(),
                    Ok(p) => view! {
                        <div class="flex items-center justify-between">
                            <h1 class="text-2xl font-bold">"Notifications"</h1>
                            {(p.unread > 0).then(|| view! {
                                <ActionForm action=mark>
                                    <button type="submit" class="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50">
                                        {format!("Mark {} as read", p.unread)}
                                    </button>
                                </ActionForm>
                            })}
                        </div>
                        {notification_list(p.items)}
                        <nav class="mt-4 flex items-center justify-between text-sm" aria-label="Pages">
                            {(p.page > 0).then(|| view! { <a href=format!("/notifications?page={}", p.page - 1) class="font-medium text-indigo-700 underline hover:text-indigo-900">"← Newer"</a> })}
                            <span class="text-slate-500">{format!("Page {} of {}", p.page + 1, p.pages)}</span>
                            {(p.page + 1 < p.pages).then(|| view! { <a href=format!("/notifications?page={}", p.page + 1) class="font-medium text-indigo-700 underline hover:text-indigo-900">"Older →"</a> })}
                        </nav>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
        <PreferencesForm saved=query.read_untracked().get("saved").is_some()/>
    }
}

/// Which kinds reach the user, in the app and by e-mail: a plain form, the same
/// with or without JavaScript. Invoices and payment problems stay on.
#[component]
fn PreferencesForm(saved: bool) -> impl IntoView {
    let prefs = Resource::new_blocking(|| (), |_| notification_preferences());
    let row = |p: PreferenceView| {
        let box_for = |channel: &'static str, on: bool, shown: bool| {
            let name = format!("{channel}[]");
            let label = format!("{} ({})", p.label, if channel == "in_app" { "in the app" } else { "by e-mail" });
            if !shown {
                view! { <span class="text-slate-400" aria-label=format!("{label}: not sent")>"–"</span> }.into_any()
            } else if p.transactional {
                view! { <input type="checkbox" checked=true disabled=true aria-label=format!("{label}: always on")/> }.into_any()
            } else {
                view! { <input type="checkbox" name=name value=p.kind.clone() checked=on aria-label=label/> }.into_any()
            }
        };
        view! {
            <tr data-kind=p.kind.clone()>
                <td class="px-4 py-2">{p.label.clone()}{p.transactional.then(|| view! { <span class="ml-2 text-xs text-slate-500">"always on"</span> })}</td>
                <td class="px-4 py-2 text-center">{box_for("in_app", p.in_app, true)}</td>
                <td class="px-4 py-2 text-center">{box_for("email", p.email, p.emailed)}</td>
            </tr>
        }
    };
    view! {
        <section id="preferences" class="mt-10 max-w-2xl" aria-labelledby="preferences-title">
            <h2 id="preferences-title" class="text-lg font-semibold">"Notification preferences"</h2>
            <p class="text-sm text-slate-600">"Yours alone. Invoices and payment problems always reach the account; e-mail goes to its billing address, so the owner's choices decide it."</p>
            {saved.then(|| view! { <p class="mt-2 rounded-md bg-green-50 p-3 text-sm text-green-800" role="status">"Preferences saved."</p> })}
            <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match prefs.await {
                        Err(error) => view! { <Gate error/> }.into_any(),
                        Ok(list) => view! {
                            <form method="post" action="/_fn/notification_preferences_save" class="mt-3">
                                <DataTable headers=&["Notification", "In the app", "By e-mail"]>{list.into_iter().map(row).collect_view()}</DataTable>
                                <button type="submit" class="mt-3 rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500">"Save preferences"</button>
                            </form>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
