//! `/pricing`: plans from the catalog with a monthly/annual toggle, the bill
//! estimator, the comparison table and the FAQ. Fully rendered on the server; the
//! toggle is a pair of links and the estimator a plain GET form.

use crate::components::gate::ErrorPanel;
use crate::model::{EstimateData, PlanCard, PricingData};
use crate::server::plans::ChoosePlan;
use crate::server::pricing::{get_estimate, get_pricing};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use std::collections::BTreeMap;

/// The pricing page.
#[component]
pub fn PricingPage() -> impl IntoView {
    let query = use_query_map();
    let interval = Memo::new(move |_| match query.read().get("interval").as_deref() {
        Some("year") => "year".to_string(),
        _ => "month".to_string(),
    });
    let choose = ServerAction::<ChoosePlan>::new();
    let data = Resource::new(
        move || (interval.get(), choose.version().get()),
        |(i, _)| get_pricing(i),
    );
    let welcome = query.read_untracked().get("welcome").is_some();
    view! {
        <Title text="Pricing"/>
        <div class="text-center">
            <h1 class="text-3xl font-bold tracking-tight">"Plans and pricing"</h1>
            {welcome.then(|| view! {
                <p class="mx-auto mt-3 max-w-xl rounded-md bg-emerald-50 px-4 py-2 text-emerald-900" role="status">
                    "Your e-mail address is confirmed and your account is ready. Choose a plan to start."
                </p>
            })}
            <IntervalToggle interval/>
        </div>
        <Transition fallback=|| view! { <p class="mt-8 text-center text-slate-500">"Loading plans…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <Pricing data=d interval=interval.get_untracked() choose/> }.into_any(),
                    Err(e) => view! { <div class="mt-8"><ErrorPanel error=e/></div> }.into_any(),
                }
            })}
        </Transition>
        <Estimator interval/>
    }
}

/// The bill estimator (seed 003's cost estimator): usage per meter in a GET form
/// (`usage.<meter>=<quantity>`, so it works without JavaScript and a result can be
/// linked), then each plan's bill for it, the cheapest plan that serves it marked.
#[component]
fn Estimator(interval: Memo<String>) -> impl IntoView {
    let query = use_query_map();
    let usage = Memo::new(move |_| {
        query
            .read()
            .latest_values()
            .filter_map(|(k, v)| Some((k.strip_prefix("usage.")?.to_string(), v.to_string())))
            .collect::<BTreeMap<String, String>>()
    });
    let seats = Memo::new(move |_| query.read().get("seats").unwrap_or_default());
    let data = Resource::new(
        move || (interval.get(), seats.get(), usage.get()),
        |(i, s, u)| get_estimate(i, s, u),
    );
    view! {
        <section class="mt-14" aria-labelledby="estimate">
            <h2 id="estimate" class="text-xl font-bold">"Estimate your bill"</h2>
            <p class="mt-1 max-w-3xl text-sm text-slate-600">
                {move || format!(
                    "Your seats and expected usage over one {} billing period. Each bill is worked out by the code that issues the plan's invoices.",
                    if interval.get() == "year" { "annual" } else { "monthly" },
                )}
            </p>
            <Transition fallback=|| view! { <p class="mt-4 text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => view! { <EstimateView data=d interval=interval.get_untracked()/> }.into_any(),
                        Err(e) => view! { <div class="mt-4"><ErrorPanel error=e/></div> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn EstimateView(data: EstimateData, interval: String) -> impl IntoView {
    let inputs = data
        .meters
        .into_iter()
        .map(|m| {
            let id = format!("usage-{}", m.key);
            view! {
                <div>
                    <label for=id.clone() class="block text-sm font-medium text-slate-700">{format!("{} ({})", m.name, m.unit)}</label>
                    <input
                        id=id
                        name=format!("usage.{}", m.key)
                        type="text"
                        inputmode="decimal"
                        autocomplete="off"
                        placeholder="0"
                        value=m.value
                        class="mt-1 w-full rounded-md border border-slate-300 px-3 py-1.5 text-sm"
                    />
                </div>
            }
        })
        .collect_view();
    let priced = !data.plans.is_empty();
    let rows = data
        .plans
        .into_iter()
        .map(|p| {
            let note = match (&p.blocked_by, p.cheapest) {
                (Some(meter), _) => format!("Not enough {meter}: the plan's hard limit stops this usage."),
                (None, true) => "Cheapest for this usage".to_string(),
                (None, false) => String::new(),
            };
            let detail = p
                .lines
                .iter()
                .map(|(d, a)| format!("{d}: {a}"))
                .collect::<Vec<_>>()
                .join("; ");
            view! {
                <tr data-estimate-plan=p.key.clone() data-cheapest=p.cheapest.then_some("true") class=if p.cheapest { "bg-emerald-50" } else { "" }>
                    <th scope="row" class="px-4 py-2 text-left font-medium">{p.name.clone()}</th>
                    <td class="px-4 py-2 font-semibold" data-testid="estimate-total">{p.total.clone()}</td>
                    <td class="px-4 py-2 text-slate-600">{detail}</td>
                    <td class=if p.cheapest { "px-4 py-2 font-semibold text-emerald-800" } else { "px-4 py-2 text-slate-700" }>{note}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <form method="get" action="/pricing#estimate" class="mt-4 grid gap-4 rounded-lg border border-slate-200 bg-white p-4 sm:grid-cols-3 lg:grid-cols-5">
            <input type="hidden" name="interval" value=interval/>
            <div>
                <label for="estimate-seats" class="block text-sm font-medium text-slate-700">"Seats"</label>
                <input
                    id="estimate-seats"
                    name="seats"
                    type="text"
                    inputmode="numeric"
                    autocomplete="off"
                    placeholder="1"
                    value=data.seats
                    class="mt-1 w-full rounded-md border border-slate-300 px-3 py-1.5 text-sm"
                />
            </div>
            {inputs}
            <div class="flex items-end">
                <button type="submit" class="w-full rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white hover:bg-indigo-500">"Estimate"</button>
            </div>
        </form>
        {data.error.map(|e| view! { <p class="mt-3 text-sm text-red-700" role="alert">{e}</p> })}
        {priced.then(|| view! {
            <div tabindex="0" class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white">
                <table class="min-w-full divide-y divide-slate-200 text-sm">
                    <caption class="sr-only">"Estimated bill per plan"</caption>
                    <thead class="bg-slate-50">
                        <tr>
                            <th scope="col" class="px-4 py-2 text-left font-semibold">"Plan"</th>
                            <th scope="col" class="px-4 py-2 text-left font-semibold">"Bill"</th>
                            <th scope="col" class="px-4 py-2 text-left font-semibold">"Lines"</th>
                            <th scope="col" class="px-4 py-2 text-left font-semibold">"Note"</th>
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100">{rows}</tbody>
                </table>
            </div>
        })}
    }
}

#[component]
fn IntervalToggle(interval: Memo<String>) -> impl IntoView {
    let tab = move |value: &'static str, label: &'static str| {
        let active = move || interval.get() == value;
        view! {
            <a
                href=format!("/pricing?interval={value}")
                aria-current=move || active().then_some("true")
                data-interval=value
                class=move || format!(
                    "rounded-md px-4 py-1.5 text-sm font-medium {}",
                    if active() { "bg-white text-slate-900 shadow" } else { "text-slate-600 hover:text-slate-900" },
                )
            >
                {label}
            </a>
        }
    };
    view! {
        <nav class="mt-6 inline-flex rounded-lg bg-slate-200 p-1" aria-label="Billing interval">
            {tab("month", "Monthly")}
            {tab("year", "Annual")}
        </nav>
    }
}

#[component]
fn Pricing(data: PricingData, interval: String, choose: ServerAction<ChoosePlan>) -> impl IntoView {
    let plan_names: Vec<String> = data.plans.iter().map(|p| p.name.clone()).collect();
    let cards = data
        .plans
        .iter()
        .cloned()
        .map(|p| view! { <PlanCardView plan=p interval=interval.clone() signed_in=data.signed_in subscribed=data.subscribed sales_email=data.sales_email.clone() choose/> })
        .collect_view();
    view! {
        <div class="mt-8 grid gap-4 sm:grid-cols-2 lg:grid-cols-5">{cards}</div>
        <section class="mt-14" aria-labelledby="compare">
            <h2 id="compare" class="text-xl font-bold">"Compare plans"</h2>
            <div tabindex="0" class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white">
                <table class="min-w-full divide-y divide-slate-200 text-sm">
                    <thead class="bg-slate-50">
                        <tr>
                            <th scope="col" class="px-4 py-2 text-left font-semibold">"Feature"</th>
                            {plan_names.into_iter().map(|n| view! { <th scope="col" class="px-4 py-2 text-left font-semibold">{n}</th> }).collect_view()}
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100">
                        {data.comparison.into_iter().map(|row| view! {
                            <tr>
                                <th scope="row" class="px-4 py-2 text-left font-medium text-slate-700">{row.label}</th>
                                {row.cells.into_iter().map(|c| view! { <td class="px-4 py-2 text-slate-700">{c}</td> }).collect_view()}
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        <section class="mt-14 max-w-3xl" aria-labelledby="faq">
            <h2 id="faq" class="text-xl font-bold">"Questions"</h2>
            <div class="mt-4 divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white">
                {data.faq.into_iter().map(|(q, a)| view! {
                    <details class="group px-4 py-3">
                        <summary class="cursor-pointer font-medium">{q}</summary>
                        <p class="mt-2 text-slate-600">{a}</p>
                    </details>
                }).collect_view()}
            </div>
        </section>
    }
}

#[component]
fn PlanCardView(
    plan: PlanCard,
    interval: String,
    signed_in: bool,
    subscribed: bool,
    sales_email: String,
    choose: ServerAction<ChoosePlan>,
) -> impl IntoView {
    // The plan picked at sign-up (`?chosen=`, from the e-mail verification link).
    let chosen = use_query_map()
        .read_untracked()
        .get("chosen")
        .is_some_and(|c| c == plan.key && signed_in && !plan.current);
    let button = "mt-6 block w-full rounded-md px-3 py-2 text-center text-sm font-semibold";
    let primary = format!("{button} bg-indigo-600 text-white hover:bg-indigo-500");
    let cta = if !plan.self_serve {
        view! { <a href=format!("mailto:{sales_email}?subject={} plan", plan.name) class=format!("{button} border border-slate-300 hover:bg-slate-50")>"Contact sales"</a> }.into_any()
    } else if !plan.available {
        view! { <p class=format!("{button} text-slate-500")>{format!("Not offered {}ly", interval)}</p> }.into_any()
    } else if plan.for_teams && !plan.current {
        view! { <p class=format!("{button} border border-dashed border-slate-300 text-slate-600")>"For organizations"</p> }.into_any()
    } else if plan.current {
        view! { <p class=format!("{button} bg-slate-100 text-slate-600") aria-disabled="true">"Current plan"</p> }.into_any()
    } else if !signed_in {
        let label = if plan.trial_days > 0 {
            format!("Start {}-day trial", plan.trial_days)
        } else {
            "Get started".to_string()
        };
        view! { <a href=format!("/signup?plan={}&interval={interval}", plan.key) class=primary>{label}</a> }.into_any()
    } else if subscribed {
        view! { <a href=format!("/billing/change?plan={}&interval={interval}", plan.key) class=primary>{format!("Switch to {}", plan.name)}</a> }.into_any()
    } else {
        let (key, chosen_interval, label) = (
            plan.key.clone(),
            interval.clone(),
            format!("Choose {}", plan.name),
        );
        view! {
            <ActionForm action=choose>
                <input type="hidden" name="plan" value=key.clone()/>
                <input type="hidden" name="interval" value=chosen_interval.clone()/>
                <button type="submit" class=primary.clone() disabled=move || choose.pending().get()>{label.clone()}</button>
            </ActionForm>
        }
        .into_any()
    };
    view! {
        <article
            class=format!("flex flex-col rounded-lg border bg-white p-5 shadow-sm {}", if plan.current || chosen { "border-indigo-500 ring-1 ring-indigo-500" } else { "border-slate-200" })
            data-plan=plan.key.clone()
            data-chosen=chosen.then_some("true")
        >
            {chosen.then(|| view! { <p class="mb-2 text-xs font-semibold uppercase tracking-wide text-indigo-700">"Your pick at sign-up"</p> })}
            <h2 class="text-lg font-semibold">{plan.name.clone()}</h2>
            <p class="mt-1 min-h-10 text-sm text-slate-600">{plan.description.clone()}</p>
            <p class="mt-4">
                {match plan.price.clone() {
                    Some(p) => view! { <span class="text-3xl font-bold" data-testid="price">{p}</span><span class="text-sm text-slate-500">{plan.price_unit.clone()}</span> }.into_any(),
                    None => view! { <span class="text-2xl font-bold">"Custom"</span> }.into_any(),
                }}
            </p>
            {plan.annual_saving_percent.filter(|_| interval == "year").map(|s| view! { <p class="text-xs font-medium text-emerald-700">{format!("Save {s} % with annual billing")}</p> })}
            {(plan.trial_days > 0).then(|| view! { <p class="mt-1 text-xs text-slate-500">{format!("{}-day free trial", plan.trial_days)}</p> })}
            <ul class="mt-4 flex-1 space-y-1 text-sm text-slate-700">
                {plan.highlights.iter().map(|h| view! { <li class="flex gap-2"><span aria-hidden="true" class="text-indigo-600">"✓"</span>{h.clone()}</li> }).collect_view()}
            </ul>
            {cta}
        </article>
    }
}
