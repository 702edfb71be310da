//! Pieces shared by the admin pages: the section navigation, filter selects, the
//! activity table and an account's billing with the support tools.

use super::live_meters::LiveMeters;
use crate::components::form::{action_error, field_error, kept_value, FormAlert, Submit};
use crate::components::table::DataTable;
use crate::format::{date, datetime};
use crate::model::admin::{AuditView, BillingView};
use crate::server::admin::actions::{ApplyCredit, ExtendTrial};
use leptos::prelude::*;

/// Links between the admin sections.
#[component]
pub fn AdminNav(
    /// The current section's path.
    current: &'static str,
) -> impl IntoView {
    let items = [
        ("/admin", "Overview"),
        ("/admin/usage", "Usage"),
        ("/admin/costs", "Costs"),
        ("/admin/plans", "Plans"),
        ("/admin/users", "Users"),
        ("/admin/organizations", "Organizations"),
        ("/admin/billing/subscriptions", "Subscriptions"),
        ("/admin/billing/invoices", "Invoices"),
        ("/admin/keys", "Platform keys"),
        ("/admin/webhooks", "Webhooks"),
        ("/admin/audit", "Audit log"),
    ];
    view! {
        <nav class="mb-6 flex flex-wrap gap-2 border-b border-slate-200 pb-3 text-sm" aria-label="Admin">
            <span class="mr-2 rounded bg-slate-900 px-2 py-1 text-xs font-semibold uppercase tracking-wide text-white">"Super admin"</span>
            {items.into_iter().map(|(href, label)| {
                let class = if href == current { "rounded px-2 py-1 font-semibold text-indigo-800 bg-indigo-50" } else { "rounded px-2 py-1 text-slate-700 hover:bg-slate-100" };
                view! { <a href=href class=class aria-current=(href == current).then_some("page")>{label}</a> }
            }).collect_view()}
        </nav>
    }
}

/// A labelled `<select>` for a GET filter form.
#[component]
pub fn FilterSelect(
    /// Label.
    label: &'static str,
    /// Parameter name.
    name: &'static str,
    /// `(value, label)` choices after "Any".
    options: Vec<(String, String)>,
    /// Selected value.
    selected: String,
) -> impl IntoView {
    let id = format!("filter-{name}");
    view! {
        <div class="space-y-1">
            <label for=id.clone() class="block text-sm font-medium text-slate-700">{label}</label>
            <select id=id name=name class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm">
                <option value="" selected=selected.is_empty()>"Any"</option>
                {options.into_iter().map(|(v, l)| {
                    let is = v == selected;
                    view! { <option value=v selected=is>{l}</option> }
                }).collect_view()}
            </select>
        </div>
    }
}

/// A plain GET text input for filter forms.
#[component]
pub fn FilterInput(
    /// Label.
    label: &'static str,
    /// Parameter name.
    name: &'static str,
    /// Current value.
    value: String,
    /// Input type.
    #[prop(default = "text")]
    kind: &'static str,
) -> impl IntoView {
    let id = format!("filter-{name}");
    view! {
        <div class="space-y-1">
            <label for=id.clone() class="block text-sm font-medium text-slate-700">{label}</label>
            <input id=id name=name type=kind value=value class="block w-full rounded-md border border-slate-300 px-3 py-2 text-sm"/>
        </div>
    }
}

/// Subscription status choices for filters (`none`: no subscription).
pub fn status_options() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = tollgate::subscription::Status::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), s.as_str().replace('_', " ")))
        .collect();
    v.push(("none".into(), "no subscription".into()));
    v
}

/// Audit entries as a table, or an empty state.
#[component]
pub fn ActivityTable(
    /// The entries.
    rows: Vec<AuditView>,
    /// Sentence when there are none.
    #[prop(default = "Nothing recorded yet.")]
    empty: &'static str,
) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-500">{empty}</p> }.into_any();
    }
    view! {
        <DataTable headers=&["Time (UTC)", "Actor", "Action", "Target", "Account", "IP", "Details"] dense=true testid="audit-table">
            {rows.into_iter().map(|r| view! {
                <tr data-action=r.action.clone() data-testid="audit-row">
                    <td class="whitespace-nowrap px-3 py-2 text-slate-600">{datetime(r.occurred_at)}</td>
                    <td class="px-3 py-2">
                        <span>{r.actor.clone()}</span>
                        {r.impersonator.clone().map(|a| view! { <span class="block text-xs text-amber-800" data-testid="impersonator">{format!("via {a}")}</span> })}
                    </td>
                    <td class="px-3 py-2 font-mono text-xs">{r.action.clone()}</td>
                    <td class="px-3 py-2 font-mono text-xs break-all">{r.target.clone()}</td>
                    <td class="px-3 py-2 font-mono text-xs break-all">{r.account_id.map(|a| a.to_string()).unwrap_or_default()}</td>
                    <td class="px-3 py-2 text-xs">{r.ip.clone().unwrap_or_default()}</td>
                    <td class="max-w-xs px-3 py-2 font-mono text-xs break-all text-slate-600">{r.details.clone()}</td>
                </tr>
            }).collect_view()}
        </DataTable>
    }
    .into_any()
}

/// Subscription, current usage, credit balance, and the trial and credit tools.
#[component]
pub fn BillingSection(
    /// The account's billing.
    billing: BillingView,
    /// Extend-trial action.
    extend: ServerAction<ExtendTrial>,
    /// Apply-credit action.
    credit: ServerAction<ApplyCredit>,
) -> impl IntoView {
    let account = billing.account_id.to_string();
    let trial_account = account.clone();
    let trialing = billing
        .subscription
        .as_ref()
        .is_some_and(|s| s.status == "trialing");
    let subscription = match billing.subscription.clone() {
        None => view! { <p class="text-sm text-slate-500" data-testid="no-subscription">"No subscription."</p> }.into_any(),
        Some(s) => view! {
            <dl class="grid grid-cols-2 gap-x-4 gap-y-1 text-sm" data-testid="subscription" data-status=s.status.clone() data-plan=s.plan.clone()>
                <dt class="text-slate-500">"Plan"</dt><dd class="font-medium">{format!("{} ({})", s.plan, s.interval)}</dd>
                <dt class="text-slate-500">"Status"</dt><dd>{s.status.replace('_', " ")}</dd>
                <dt class="text-slate-500">"Seats"</dt><dd>{s.seats}</dd>
                <dt class="text-slate-500">"Provider"</dt><dd>{s.provider.clone()}</dd>
                <dt class="text-slate-500">"Trial ends"</dt><dd data-testid="trial-end">{s.trial_end.map_or("—".to_string(), datetime)}</dd>
                <dt class="text-slate-500">"Current period"</dt><dd>{format!("{} – {}", date(s.period.0), date(s.period.1 - chrono::Duration::seconds(1)))}</dd>
                <dt class="text-slate-500">"Since"</dt><dd>{date(s.created_at)}</dd>
            </dl>
        }
        .into_any(),
    };
    let meters = billing.meters.clone();
    let credits = if billing.credits.is_empty() {
        vec!["None".to_string()]
    } else {
        billing.credits
    };
    let extend_error = action_error(extend);
    let credit_error = action_error(credit);
    view! {
        <div class="grid gap-4 lg:grid-cols-2">
            <section class="rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="sub-h">
                <h2 id="sub-h" class="mb-2 font-semibold">"Subscription"</h2>
                {subscription}
                {trialing.then(|| view! {
                    <ActionForm action=extend attr:class="mt-4 space-y-2 border-t border-slate-100 pt-3" attr:novalidate=true>
                        <h3 class="text-sm font-semibold">"Extend the trial"</h3>
                        <FormAlert error=extend_error/>
                        <input type="hidden" name="account_id" value=trial_account.clone()/>
                        <label for="field-days" class="block text-sm text-slate-700">"Days (1–90)"</label>
                        <input id="field-days" name="days" type="number" min="1" max="90" required=true
                            value=kept_value(extend_error, "days", None).unwrap_or_else(|| "7".into())
                            class="block w-32 rounded-md border border-slate-300 px-3 py-2 text-sm"/>
                        <p class="text-sm text-red-700" role="alert">{move || field_error(extend_error, "days").get()}</p>
                        <Submit action=extend label="Extend trial" busy="Extending…"/>
                    </ActionForm>
                })}
            </section>
            <section class="rounded-lg border border-slate-200 bg-white p-4 lg:col-span-2" aria-labelledby="usage-h">
                <LiveMeters account_id=billing.account_id initial=meters/>
            </section>
            <section class="rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="credit-h">
                <h2 id="credit-h" class="mb-2 font-semibold">"Credit balance"</h2>
                <ul class="text-sm" data-testid="credit-balance">{credits.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
                <ActionForm action=credit attr:class="mt-4 space-y-2 border-t border-slate-100 pt-3" attr:novalidate=true>
                    <h3 class="text-sm font-semibold">"Apply a credit"</h3>
                    <FormAlert error=credit_error/>
                    <input type="hidden" name="account_id" value=account/>
                    <div class="flex gap-2">
                        <div class="space-y-1">
                            <label for="field-amount" class="block text-sm text-slate-700">"Amount"</label>
                            <input id="field-amount" name="amount" inputmode="decimal" required=true placeholder="25.00"
                                value=kept_value(credit_error, "amount", None).unwrap_or_default()
                                class="block w-32 rounded-md border border-slate-300 px-3 py-2 text-sm"/>
                        </div>
                        <div class="space-y-1">
                            <label for="field-currency" class="block text-sm text-slate-700">"Currency"</label>
                            <select id="field-currency" name="currency" class="block rounded-md border border-slate-300 bg-white px-3 py-2 text-sm">
                                {tollgate::money::CREDIT_CURRENCIES.iter().map(|c| {
                                    let selected = kept_value(credit_error, "currency", None).is_some_and(|k| k.eq_ignore_ascii_case(c));
                                    view! { <option value=*c selected=selected>{*c}</option> }
                                }).collect_view()}
                            </select>
                        </div>
                    </div>
                    <p class="text-sm text-red-700" role="alert">{move || field_error(credit_error, "amount").get().or_else(|| field_error(credit_error, "currency").get())}</p>
                    <label for="field-credit-reason" class="block text-sm text-slate-700">"Credit reason"</label>
                    <input id="field-credit-reason" name="reason" required=true maxlength="500"
                        value=kept_value(credit_error, "reason", None).unwrap_or_default()
                        class="block w-full rounded-md border border-slate-300 px-3 py-2 text-sm"/>
                    <p class="text-sm text-red-700" role="alert">{move || field_error(credit_error, "reason").get()}</p>
                    <Submit action=credit label="Apply credit" busy="Applying…"/>
                </ActionForm>
            </section>
            <section class="rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="inv-h">
                <h2 id="inv-h" class="mb-2 font-semibold">"Invoices"</h2>
                <p class="rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-500" data-testid="no-invoices">
                    "No invoices yet. Invoicing comes with payments."
                </p>
            </section>
        </div>
    }
}

/// The resource of an account's usage charts on its admin page, made with the
/// page (not in its suspended view: see the dashboard's charts): the account
/// `account` or the personal account of `user`, by the page's `id` parameter,
/// the meter by `?meter=`.
pub fn usage_charts_resource(
    of_user: bool,
) -> Resource<Result<crate::model::UsageChartsView, crate::error::AppError>> {
    use crate::server::admin::usage::admin_usage_charts;
    let params = leptos_router::hooks::use_params_map();
    let query = leptos_router::hooks::use_query_map();
    Resource::new_blocking(
        move || {
            (
                params.with(|p| p.get("id").unwrap_or_default()),
                query.with(|q| q.get("meter")),
            )
        },
        move |(id, meter)| {
            if of_user {
                admin_usage_charts(None, Some(id), meter)
            } else {
                admin_usage_charts(Some(id), None, meter)
            }
        },
    )
}
