//! `/billing?page=`: the plan, credit, coupon and invoices of the account the
//! pages act for (its owner and admins only).

use crate::components::form::{action_error, FormAlert, Submit};
use crate::components::gate::Gate;
use crate::components::invoices::InvoiceTable;
use crate::components::pager::Pager;
use crate::format::date;
use crate::components::usage_charts::UsageExportForm;
use crate::server::billing::{billing_overview, KeepCurrentPlan, ReactivateSubscription};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The billing page.
#[component]
pub fn BillingPage() -> impl IntoView {
    let query = use_query_map();
    let reactivate = ServerAction::<ReactivateSubscription>::new();
    let keep = ServerAction::<KeepCurrentPlan>::new();
    // Refetched after either action, which redirects back to this page.
    let data = Resource::new_blocking(
        move || {
            (
                query.with(|q| {
                    q.get("page")
                        .and_then(|p| p.parse::<u32>().ok())
                        .unwrap_or(1)
                }),
                reactivate.version().get(),
                keep.version().get(),
            )
        },
        |(page, _, _)| billing_overview(Some(page)),
    );
    let reactivate_error = action_error(reactivate);
    let keep_error = action_error(keep);
    view! {
        <Title text="Billing · Tollgate"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Gate error/> }.into_any(),
                    Ok(b) => {
                        let plan = match &b.subscription {
                            None => view! {
                                <p class="text-slate-700">"No plan yet. "<a href="/pricing" class="text-indigo-700 underline hover:text-indigo-900">"Choose a plan"</a></p>
                            }.into_any(),
                            Some(s) => view! {
                                <p class="text-lg font-semibold" data-testid="billing-plan">{format!("{}, {}", s.plan, s.status.replace('_', " "))}</p>
                                <p class="text-sm text-slate-600">
                                    {s.price.clone().unwrap_or_else(|| "Custom price".into())}
                                    {(s.seats > 1).then(|| format!(" · {} seats", s.seats))}
                                    {format!(" · current period ends {}", date(s.period_end))}
                                    {s.trial_end.map(|t| format!(" · trial ends {}", date(t)))}
                                </p>
                                <p class="mt-1 text-sm text-slate-600">
                                    {if s.provider == "manual" { "Paid by bank transfer against the invoices below." } else { "Paid by card through Stripe." }}
                                </p>
                                {s.ends_at.map(|end| view! {
                                    <div class="mt-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950" role="status" data-testid="ends-notice">
                                        <p>{format!("Your subscription ends on {}. You keep your plan until then.", date(end))}</p>
                                        <ActionForm action=reactivate attr:class="mt-2">
                                            <FormAlert error=reactivate_error/>
                                            <Submit action=reactivate label="Reactivate subscription" busy="Reactivating…"/>
                                        </ActionForm>
                                    </div>
                                })}
                                {s.scheduled.clone().map(|(to, at)| view! {
                                    <div class="mt-3 rounded-md border border-sky-300 bg-sky-50 p-3 text-sm text-sky-950" role="status" data-testid="scheduled-notice">
                                        <p>{format!("Changes to {to} on {}.", date(at))}</p>
                                        <ActionForm action=keep attr:class="mt-2">
                                            <FormAlert error=keep_error/>
                                            <Submit action=keep label="Keep my current plan" busy="Keeping your plan…"/>
                                        </ActionForm>
                                    </div>
                                })}
                                <div class="mt-3 flex flex-wrap gap-3">
                                    <a href="/pricing" class="inline-block rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-indigo-500">"Change plan"</a>
                                    {s.ends_at.is_none().then(|| view! {
                                        <a href="/billing/cancel" class="inline-block rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-semibold text-slate-800 hover:bg-slate-50">"Cancel subscription"</a>
                                    })}
                                    {(s.provider == "stripe").then(|| view! {
                                        <form method="post" action="/_fn/manage_payment_method">
                                            <button type="submit" class="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-semibold text-slate-800 hover:bg-slate-50">"Manage payment method"</button>
                                        </form>
                                    })}
                                </div>
                            }.into_any(),
                        };
                        let credits = if b.credits.is_empty() { "None".to_string() } else { b.credits.join(", ") };
                        view! {
                            <h1 class="text-2xl font-bold">"Billing"</h1>
                            <p class="mt-1 text-sm text-slate-600">{format!("For {}", b.account_name)}</p>
                            <section class="mt-6 grid gap-4 md:grid-cols-3">
                                <div class="rounded-lg border border-slate-200 bg-white p-4 md:col-span-2">{plan}</div>
                                <div class="rounded-lg border border-slate-200 bg-white p-4 text-sm">
                                    <p><span class="font-medium">"Credit balance: "</span><span data-testid="credit-balance">{credits}</span></p>
                                    <p class="mt-2"><span class="font-medium">"Discount: "</span><span data-testid="coupon">{b.coupon.clone().unwrap_or_else(|| "None".into())}</span></p>
                                </div>
                            </section>
                            {b.owed.clone().map(|owed| view! { <Owed owed/> })}
                            <section class="mt-8" aria-labelledby="export-h">
                                <h2 id="export-h" class="text-lg font-semibold">"Download your usage"</h2>
                                <p class="text-sm text-slate-600">"Every event your product reported, or the totals per day, member and model, as CSV."</p>
                                <UsageExportForm action="/usage/export.csv"/>
                                <UsageReports reports=b.usage_reports.clone()/>
                            </section>
                            <h2 class="mt-8 text-lg font-semibold">"Invoices"</h2>
                            <InvoiceTable rows=b.invoices empty="No invoices yet. Each billing period is invoiced once it closes."/>
                            <Pager path="/billing" params=Vec::new() page=b.page pages=b.pages total=b.total/>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The stored monthly usage reports, as download links.
#[component]
fn UsageReports(reports: Vec<crate::model::billing::UsageReportView>) -> impl IntoView {
    let list = if reports.is_empty() {
        view! { <p class="text-sm text-slate-500" data-testid="no-usage-reports">"No monthly report yet: each month's is stored once the month is over."</p> }.into_any()
    } else {
        view! {
            <ul class="flex flex-wrap gap-2 text-sm" data-testid="usage-reports">
                {reports.into_iter().map(|r| view! {
                    <li>
                        <a href=format!("/usage/reports/{}.csv", r.month) download=format!("usage-{}.csv", r.month) rel="external"
                            class="inline-block rounded-md border border-slate-300 bg-white px-2 py-1 text-indigo-700 underline hover:bg-slate-50"
                            title=format!("Stored {}", crate::format::datetime(r.generated_at))>
                            {r.label}
                        </a>
                    </li>
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <h3 class="mt-4 text-sm font-semibold">"Monthly usage reports"</h3>
        <p class="text-xs text-slate-500">"Each month's usage per meter, member and model, kept as it stood when the month ended."</p>
        {list}
    }
}

/// This period's invoice so far and projected to the period's end, side by side,
/// with each one's lines.
#[component]
fn Owed(owed: crate::model::billing::OwedView) -> impl IntoView {
    let card = |title: &'static str, note: &'static str, testid: &'static str, d: tollgate::invoice::Draft| {
        let lines = d.lines.clone();
        view! {
            <div class="rounded-lg border border-slate-200 bg-white p-4" data-testid=testid>
                <h3 class="font-semibold">{title}</h3>
                <p class="text-xs text-slate-500">{note}</p>
                <p class="mt-2 text-2xl font-bold tabular-nums" data-testid="amount-due">{d.amount_due.display()}</p>
                <table class="mt-3 w-full text-sm">
                    <caption class="sr-only">{format!("{title}: the lines")}</caption>
                    <tbody class="divide-y divide-slate-100">
                        {lines.into_iter().map(|l| view! {
                            <tr><td class="py-1 pr-2">{l.description}</td><td class="py-1 text-right tabular-nums">{l.amount.display()}</td></tr>
                        }).collect_view()}
                        {(!d.discount.amount.is_zero()).then(|| view! { <tr><td class="py-1 pr-2">"Discount"</td><td class="py-1 text-right tabular-nums">{format!("-{}", d.discount.display())}</td></tr> })}
                        {(!d.credit_applied.amount.is_zero()).then(|| view! { <tr><td class="py-1 pr-2">"Credit applied"</td><td class="py-1 text-right tabular-nums">{format!("-{}", d.credit_applied.display())}</td></tr> })}
                    </tbody>
                </table>
            </div>
        }
    };
    view! {
        <section class="mt-8" aria-labelledby="owed-h" data-testid="owed">
            <h2 id="owed-h" class="text-lg font-semibold">"What you owe this period"</h2>
            <p class="text-sm text-slate-600">{format!("Billing period {}. Priced as your invoice will be; tax not included.", owed.period)}</p>
            <div class="mt-3 grid gap-4 md:grid-cols-2">
                {card("So far", "If the period closed now: the plan, usage over your allowance, prorations, discount and credit.", "owed-accrued", owed.accrued)}
                {card("Projected at the period's end", "Usage continuing at this period's pace.", "owed-projected", owed.projected)}
            </div>
        </section>
    }
}
