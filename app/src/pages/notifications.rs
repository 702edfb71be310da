//! `/notifications?page=N`: every notification, paginated.

use super::dashboard::notification_list;
use crate::components::gate::Gate;
use crate::server::notifications::{list_notifications, MarkNotificationsRead};
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
    }
}
