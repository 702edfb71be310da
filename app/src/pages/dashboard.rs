//! `/dashboard`: the plan card, one live meter per meter, the 90 % banner, the
//! upgrade prompt and the latest notifications. Rendered with the current numbers
//! on the server; after hydration a live stream keeps it current without reloads.

use crate::components::gate::Gate;
use crate::components::meter::MeterCard;
use crate::components::usage_charts::LoadedUsageCharts;
use crate::format::{capitalize, date, datetime};
use crate::error::AppError;
use crate::model::{DashboardData, NotificationView, UsageChartsView};
use crate::server::dashboard::{get_dashboard, get_usage_charts};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use tollgate::limits::LimitState;
use tollgate::subscription::Status;

/// The dashboard page.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| get_dashboard());
    // Made here, not in the suspended view below: that view is built twice on
    // the server, and a resource made in it would be made (and numbered) twice.
    let query = use_query_map();
    let charts = Resource::new_blocking(
        move || query.with(|q| q.get("meter")),
        get_usage_charts,
    );
    view! {
        <Title text="Dashboard"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading your usage…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(initial) => view! { <Dashboard initial charts/> }.into_any(),
                    Err(error) => view! { <Gate error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Dashboard(initial: DashboardData, charts: Resource<Result<UsageChartsView, AppError>>) -> impl IntoView {
    let data = RwSignal::new(initial);
    let connected = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        crate::live::connect(
            "/live/usage",
            move |d: DashboardData| data.set(d),
            connected,
        )
    });
    view! {
        <div class="flex flex-wrap items-center justify-between gap-2">
            <h1 class="text-2xl font-bold">"Dashboard"</h1>
            <span class="text-xs text-slate-500" data-testid="live-status" data-live=move || connected.get().to_string()>
                {move || if connected.get() { "● Live" } else { "Current as of page load" }}
            </span>
        </div>
        {move || alerts(&data.get())}
        <div class="mt-6 grid gap-6 lg:grid-cols-3">
            <div class="lg:col-span-1">{move || plan_card(&data.get())}</div>
            <div class="grid gap-4 sm:grid-cols-2 lg:col-span-2" data-testid="meters">
                {move || data.get().snapshot.meters.into_iter().map(|meter| view! { <MeterCard meter/> }).collect_view()}
            </div>
        </div>
        <LoadedUsageCharts charts base="/dashboard".to_string()/>
        <section class="mt-8" aria-labelledby="recent">
            <div class="flex items-center justify-between">
                <h2 id="recent" class="text-lg font-semibold">"Notifications"</h2>
                <a href="/notifications" class="text-sm font-medium text-indigo-700 underline hover:text-indigo-900">"See all"</a>
            </div>
            {move || notification_list(data.get().notifications)}
        </section>
    }
}

/// The 90 % banner, the upgrade prompt (100 % or blocked) and the renewal prompt.
fn alerts(d: &DashboardData) -> impl IntoView {
    let blocked: Vec<String> = d
        .snapshot
        .meters
        .iter()
        .filter(|m| m.state == LimitState::Blocked)
        .map(|m| m.name.clone())
        .collect();
    let prompting: Vec<String> = d
        .snapshot
        .meters
        .iter()
        .filter(|m| m.upgrade_prompt)
        .map(|m| m.name.clone())
        .collect();
    let banner: Vec<String> = d
        .snapshot
        .meters
        .iter()
        .filter(|m| m.banner && !m.upgrade_prompt)
        .map(|m| {
            format!(
                "{} ({} %)",
                m.name,
                m.percent.unwrap_or_default().normalize()
            )
        })
        .collect();
    let upgrade_link = d.upgrade.as_ref().map_or("/pricing".to_string(), |u| {
        format!(
            "/billing/change?plan={}&interval={}",
            u.plan,
            d.snapshot
                .plan
                .as_ref()
                .map_or("month".into(), |p| p.interval.to_string())
        )
    });
    let upgrade_label = d.upgrade.as_ref().map_or("See plans".to_string(), |u| {
        format!("Upgrade to {} — {}", u.plan_name, u.price)
    });
    let renew = d.snapshot.plan.as_ref().is_some_and(|p| !p.entitled);
    let past_due = d
        .snapshot
        .plan
        .as_ref()
        .filter(|p| p.entitled && p.status == Status::PastDue)
        .map(|p| (p.grace_until, p.by_invoice));
    view! {
        {past_due.map(|(grace, by_invoice)| view! {
            <div class="mt-4 flex flex-wrap items-center justify-between gap-3 rounded-lg border border-red-300 bg-red-50 p-4 text-red-900" role="alert" data-testid="past-due-banner">
                <div>
                    <p class="font-semibold">{if by_invoice { "An invoice is overdue." } else { "Your last payment failed." }}</p>
                    <p class="text-sm">{match (grace, by_invoice) {
                        (Some(g), true) => format!("Pay it by {} to keep your plan.", date(g)),
                        (None, true) => "Pay it to keep your plan.".to_string(),
                        (Some(g), false) => format!("Update your payment method by {} to keep your plan.", date(g)),
                        (None, false) => "Update your payment method to keep your plan.".to_string(),
                    }}</p>
                </div>
                <a href="/billing" class="rounded-md bg-red-600 px-4 py-2 text-sm font-semibold text-white hover:bg-red-500">"Go to billing"</a>
            </div>
        })}
        {renew.then(|| view! {
            <div class="mt-4 rounded-lg border border-red-300 bg-red-50 p-4 text-red-900" role="alert" data-testid="renewal-prompt">
                <p class="font-semibold">"Your subscription needs attention."</p>
                <p class="text-sm">"Renew it to keep using your plan: "<a href="/billing" class="font-medium underline">"billing"</a></p>
            </div>
        })}
        {(!prompting.is_empty()).then(|| {
            let title = if blocked.is_empty() {
                format!("You have reached your {} limit.", prompting.join(", "))
            } else {
                format!("{} blocked until your next period.", blocked.join(", "))
            };
            view! {
                <div class="mt-4 flex flex-wrap items-center justify-between gap-3 rounded-lg border border-orange-300 bg-orange-50 p-4 text-orange-950" role="alert" data-testid="upgrade-prompt">
                    <div>
                        <p class="font-semibold">{title}</p>
                        <p class="text-sm">"Upgrade to keep going without interruption."</p>
                    </div>
                    <a href=upgrade_link class="rounded-md bg-orange-600 px-4 py-2 text-sm font-semibold text-white hover:bg-orange-500">{upgrade_label}</a>
                </div>
            }
        })}
        {(!banner.is_empty()).then(|| view! {
            <div class="mt-4 rounded-lg border border-amber-300 bg-amber-50 p-4 text-amber-950" role="status" data-testid="usage-banner">
                <p class="font-semibold">{format!("Almost at your limit: {}.", banner.join(", "))}</p>
                <p class="text-sm">"You may run out before the period ends. "<a href="/pricing" class="font-medium underline">"Compare plans"</a></p>
            </div>
        })}
    }
}

fn plan_card(d: &DashboardData) -> impl IntoView {
    let s = &d.snapshot;
    match &s.plan {
        None => {
            view! { <div class="rounded-lg border border-slate-200 bg-white p-5">"No plan"</div> }
                .into_any()
        }
        Some(p) => {
            let price = p.price.map(|m| {
                format!(
                    "{}/{}{}",
                    m.display_short(),
                    p.interval,
                    if p.per_seat {
                        format!(" per seat × {}", p.seats)
                    } else {
                        String::new()
                    }
                )
            });
            let status = match (p.status, p.trial_end) {
                (Status::Trialing, Some(end)) => format!("Trial until {}", date(end)),
                (st, _) => capitalize(&st.to_string().replace('_', " ")),
            };
            view! {
                <section class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm" data-testid="plan-card" data-plan=p.key.clone() data-status=p.status.as_str()>
                    <p class="text-sm text-slate-500">"Your plan"</p>
                    <h2 class="text-2xl font-bold">{p.name.clone()}</h2>
                    <p class="text-slate-700">{price}</p>
                    <p class="mt-2 inline-block rounded-full bg-indigo-50 px-2 py-0.5 text-xs font-medium text-indigo-800">{status}</p>
                    <dl class="mt-4 space-y-1 text-sm text-slate-600">
                        <div class="flex justify-between"><dt>"Period"</dt><dd>{format!("{} – {}", date(s.period.start), date(s.period.end - chrono::Duration::seconds(1)))}</dd></div>
                        <div class="flex justify-between"><dt>"Days left"</dt><dd data-testid="days-left">{s.days_remaining}</dd></div>
                    </dl>
                    <a href="/pricing" class="mt-4 inline-block text-sm font-medium text-indigo-700 underline hover:text-indigo-900">"Change plan"</a>
                </section>
            }
            .into_any()
        }
    }
}

/// A list of notifications, or the empty state.
pub fn notification_list(items: Vec<NotificationView>) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="mt-3 rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-500">"Nothing yet. Usage warnings will appear here."</p> }.into_any();
    }
    view! {
        <ul class="mt-3 divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white" data-testid="notifications">
            {items.into_iter().map(|n| view! {
                <li class="px-4 py-3" data-kind=n.kind.clone() data-read=n.read.to_string()>
                    <p class=if n.read { "text-sm text-slate-700" } else { "text-sm font-semibold text-slate-900" }>{n.title}</p>
                    <p class="text-sm text-slate-600">{n.body}</p>
                    <p class="text-xs text-slate-400">{datetime(n.created_at)}</p>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}
