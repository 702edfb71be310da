//! The admin account pages' meters: the customer's own meter cards, kept live
//! from the usage board's stream (`/admin/live/usage?accounts={id}`).

use crate::components::meter::MeterCard;
use leptos::prelude::*;
use tollgate::usage::MeterUsage;
use uuid::Uuid;

/// The meter cards of `account_id`, starting from `initial`.
#[component]
pub fn LiveMeters(account_id: Uuid, initial: Vec<MeterUsage>) -> impl IntoView {
    let meters = RwSignal::new(initial);
    let connected = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    {
        let url = format!("/admin/live/usage?accounts={account_id}");
        Effect::new(move |_| {
            crate::live::connect(
                &url,
                move |u: tollgate::board::Update| {
                    if let Some(a) = u.accounts.into_iter().find(|a| a.account_id == account_id) {
                        meters.set(a.meters);
                    } else if u.removed.contains(&account_id) {
                        meters.set(Vec::new());
                    }
                },
                connected,
            )
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = account_id;
    view! {
        <div class="flex items-center justify-between gap-2">
            <h2 id="usage-h" class="font-semibold">"Current usage"</h2>
            <span class="text-xs text-slate-500" data-testid="live-status" data-live=move || connected.get().to_string()>
                {move || if connected.get() { "● Live" } else { "Current as of page load" }}
            </span>
        </div>
        {move || {
            let ms = meters.get();
            if ms.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-500">"No live subscription: no meters."</p> }.into_any()
            } else {
                view! {
                    <div class="mt-2 grid gap-3 sm:grid-cols-2" data-testid="meters">
                        {ms.into_iter().map(|meter| view! { <MeterCard meter/> }).collect_view()}
                    </div>
                }
                .into_any()
            }
        }}
    }
}
