//! `/orgs/{slug}/usage`: the organization's meters, live as on the dashboard
//! (stream `/live/usage?org={slug}`), and the current period per member.

use super::{slug_param, OrgFrame, OrgGate, Tab};
use crate::components::meter::MeterCard;
use crate::model::DashboardData;
use crate::error::AppError;
use crate::model::UsageBreakdownView;
use crate::org_model::{TeamUsage, UsageColumn, UsageRow};
use crate::components::usage_charts::UsageBreakdown;
use crate::server::orgs::usage::{org_usage, org_usage_history};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The team usage page.
#[component]
pub fn OrgUsagePage() -> impl IntoView {
    let slug = slug_param();
    let data = Resource::new_blocking(move || slug.get(), org_usage);
    // Made here, not in the suspended view: see the dashboard's charts.
    let query = use_query_map();
    let history = Resource::new_blocking(
        move || {
            query.with(|q| {
                (
                    slug.get(),
                    q.get("meter"),
                    q.get("by"),
                    q.get("granularity"),
                )
            })
        },
        |(slug, meter, by, granularity)| org_usage_history(slug, meter, by, granularity),
    );
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading usage…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <OrgGate error/> }.into_any(),
                    Ok(u) => view! { <Usage usage=u history/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Usage(usage: TeamUsage, history: Resource<Result<UsageBreakdownView, AppError>>) -> impl IntoView {
    let TeamUsage {
        org,
        dashboard,
        columns,
        rows,
    } = usage;
    let meters = match dashboard {
        Some(d) => view! { <LiveMeters initial=d slug=org.slug.clone()/> }.into_any(),
        None => {
            let hint = if org.owner {
                "Choose a team plan on the billing page to start."
            } else {
                "The owner has not chosen a plan yet."
            };
            view! { <p class="rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-600" data-testid="no-plan">{format!("No plan yet. {hint}")}</p> }.into_any()
        }
    };
    let history_slug = org.slug.clone();
    view! {
        <OrgFrame org tab=Tab::Usage>
            {meters}
            <section class="mt-8" aria-labelledby="by-member">
                <h2 id="by-member" class="text-lg font-semibold">"This period by member"</h2>
                <p class="text-sm text-slate-500">"From the user your product sends with each usage event."</p>
                {breakdown(columns, rows)}
            </section>
            <History slug=history_slug history/>
        </OrgFrame>
    }
}

/// The organization's usage over time, split as `?meter=&by=&granularity=` ask.
#[component]
fn History(slug: String, history: Resource<Result<UsageBreakdownView, AppError>>) -> impl IntoView {
    let base = format!("/orgs/{slug}/usage");
    view! {
        <Suspense fallback=|| view! { <p class="mt-8 text-slate-500">"Loading the history…"</p> }>
            {move || {
                let base = base.clone();
                Suspend::new(async move {
                    match history.await {
                        Ok(breakdown) => view! { <UsageBreakdown breakdown base/> }.into_any(),
                        Err(e) => view! { <p class="mt-8 text-sm text-red-700" role="alert">{format!("The history could not be loaded: {e}")}</p> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn LiveMeters(initial: DashboardData, slug: String) -> impl IntoView {
    let data = RwSignal::new(initial);
    let connected = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    {
        let url = format!("/live/usage?org={slug}");
        Effect::new(move |_| {
            crate::live::connect(
                &url,
                move |d: crate::model::DashboardData| data.set(d),
                connected,
            )
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = slug;
    view! {
        <div class="flex items-center justify-between">
            <p class="text-sm text-slate-600">{move || data.get().snapshot.plan.map(|p| format!("{} plan · {} seats", p.name, p.seats))}</p>
            <span class="text-xs text-slate-500" data-testid="live-status" data-live=move || connected.get().to_string()>
                {move || if connected.get() { "● Live" } else { "Current as of page load" }}
            </span>
        </div>
        <div class="mt-4 grid gap-4 sm:grid-cols-2 lg:grid-cols-3" data-testid="meters">
            {move || data.get().snapshot.meters.into_iter().map(|meter| view! { <MeterCard meter/> }).collect_view()}
        </div>
    }
}

fn breakdown(columns: Vec<UsageColumn>, rows: Vec<UsageRow>) -> impl IntoView {
    let head = columns
        .iter()
        .map(|c| view! { <th scope="col" class="px-4 py-2 text-right">{c.name.clone()}</th> })
        .collect_view();
    let body = rows
        .into_iter()
        .map(|r| {
            let cells = r.values.into_iter().zip(columns.iter()).map(|(v, c)| view! { <td class="px-4 py-2 text-right tabular-nums" data-meter=c.meter.clone()>{v}</td> }).collect_view();
            let key = r.email.clone().unwrap_or_default();
            view! {
                <tr data-member=key>
                    <th scope="row" class="px-4 py-2 text-left font-medium">{r.name}<span class="block text-xs font-normal text-slate-500">{r.email}</span></th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div tabindex="0" class="mt-3 overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid="usage-by-member">
                <thead class="bg-slate-50"><tr><th scope="col" class="px-4 py-2 text-left">"Member"</th>{head}</tr></thead>
                <tbody class="divide-y divide-slate-100">{body}</tbody>
            </table>
        </div>
    }
}
