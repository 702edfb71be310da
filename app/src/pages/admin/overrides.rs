//! The entitlement overrides of an account on its admin page: the list (expired
//! ones kept, marked), a form to set one, and removal behind a confirmation.

use crate::components::form::{action_error, field_error, kept_value, FormAlert, Submit};
use crate::format::{date, datetime};
use crate::model::admin::{BillingView, OverrideView};
use crate::server::admin::actions::{RemoveOverride, SetOverride};
use leptos::prelude::*;

const INPUT: &str = "block w-full rounded-md border border-slate-300 px-3 py-2 text-sm";

/// The overrides section.
#[component]
pub fn OverridesSection(
    billing: BillingView,
    set: ServerAction<SetOverride>,
    remove: ServerAction<RemoveOverride>,
) -> impl IntoView {
    let account = billing.account_id.to_string();
    let error = action_error(set);
    let keep = move |f: &'static str| kept_value(error, f, None).unwrap_or_default();
    let chosen = keep("target");
    let list = if billing.overrides.is_empty() {
        view! { <p class="text-sm text-slate-500" data-testid="no-overrides">"None: the plan's limits and features apply."</p> }.into_any()
    } else {
        view! {
            <ul class="divide-y divide-slate-100 text-sm" data-testid="overrides">
                {billing.overrides.into_iter().map(|o| view! { <OverrideItem o account=account.clone() remove/> }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <section class="rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="ovr-h">
            <h2 id="ovr-h" class="mb-1 font-semibold">"Entitlement overrides"</h2>
            <p class="mb-3 text-xs text-slate-500">"A customer deal: this account's own limit or feature value, winning over its plan's until it expires or is removed. Every change is audited."</p>
            {list}
            <ActionForm action=set attr:class="mt-4 space-y-2 border-t border-slate-100 pt-3" attr:novalidate=true>
                <h3 class="text-sm font-semibold">"Set an override"</h3>
                <FormAlert error/>
                <input type="hidden" name="account_id" value=billing.account_id.to_string()/>
                <label for="field-target" class="block text-sm text-slate-700">"Limit or feature"</label>
                <select id="field-target" name="target" class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm">
                    <optgroup label="Meter limits">
                        {billing.meter_options.into_iter().map(|(k, n)| {
                            let value = format!("limit:{k}");
                            view! { <option value=value.clone() selected=chosen == value>{format!("{n} ({k})")}</option> }
                        }).collect_view()}
                    </optgroup>
                    <optgroup label="Features">
                        {billing.feature_options.into_iter().map(|(k, n)| {
                            let value = format!("feature:{k}");
                            view! { <option value=value.clone() selected=chosen == value>{format!("{n} ({k})")}</option> }
                        }).collect_view()}
                    </optgroup>
                </select>
                <p class="text-sm text-red-700" role="alert">{move || field_error(error, "key").get().or_else(|| field_error(error, "kind").get())}</p>
                <fieldset class="grid grid-cols-3 gap-2">
                    <legend class="col-span-3 text-xs text-slate-500">"For a limit (empty keeps the plan's):"</legend>
                    <div>
                        <label for="field-included" class="block text-sm text-slate-700">"Included"</label>
                        <input id="field-included" name="included" placeholder="1000 or unlimited" value=keep("included") class=INPUT/>
                    </div>
                    <div>
                        <label for="field-enforcement" class="block text-sm text-slate-700">"Enforcement"</label>
                        <select id="field-enforcement" name="enforcement" class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm">
                            {[("", "plan's"), ("soft", "soft"), ("hard", "hard")].into_iter().map(|(v, l)| {
                                view! { <option value=v selected=keep("enforcement") == v>{l}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                    <div>
                        <label for="field-grace" class="block text-sm text-slate-700">"Grace %"</label>
                        <input id="field-grace" name="grace_percent" inputmode="decimal" value=keep("grace_percent") class=INPUT/>
                    </div>
                </fieldset>
                <p class="text-sm text-red-700" role="alert">
                    {move || field_error(error, "included").get().or_else(|| field_error(error, "enforcement").get()).or_else(|| field_error(error, "grace_percent").get())}
                </p>
                <label for="field-value" class="block text-sm text-slate-700">"For a feature: value"</label>
                <input id="field-value" name="value" placeholder="true, 25, unlimited, openai…" value=keep("value") class=INPUT/>
                <p class="text-sm text-red-700" role="alert">{move || field_error(error, "value").get()}</p>
                <label for="field-override-reason" class="block text-sm text-slate-700">"Override reason"</label>
                <input id="field-override-reason" name="reason" required=true maxlength="500" placeholder="Enterprise deal, ticket #…" value=keep("reason") class=INPUT/>
                <p class="text-sm text-red-700" role="alert">{move || field_error(error, "reason").get()}</p>
                <label for="field-until" class="block text-sm text-slate-700">"Until (last day, UTC; empty: until removed)"</label>
                <input id="field-until" name="until" type="date" value=keep("until") class="block rounded-md border border-slate-300 px-3 py-2 text-sm"/>
                <p class="text-sm text-red-700" role="alert">{move || field_error(error, "until").get().or_else(|| field_error(error, "expires_at").get())}</p>
                <Submit action=set label="Set override" busy="Saving…"/>
            </ActionForm>
        </section>
    }
}

#[component]
fn OverrideItem(
    o: OverrideView,
    account: String,
    remove: ServerAction<RemoveOverride>,
) -> impl IntoView {
    let until = match (o.expires_at, o.expired) {
        (Some(e), true) => format!("expired {}", datetime(e)),
        (Some(e), false) => format!("until {}", date(e - chrono::Duration::seconds(1))),
        (None, _) => "until removed".to_string(),
    };
    let id = format!("{}:{}", o.kind, o.key);
    let label = format!("{} {}", o.kind, o.key);
    let details = format!(
        "{} · by {} on {} · {until}",
        o.reason,
        o.author,
        date(o.created_at)
    );
    view! {
        <li class="py-2" data-override=id data-expired=o.expired.to_string()>
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <span>
                    <span class="font-mono text-xs">{label}</span>
                    " → "
                    <span class="font-semibold" data-testid="override-summary">{o.summary}</span>
                    {o.expired.then(|| view! { <span class="ml-2 rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600">"expired"</span> })}
                </span>
                <details class="inline-block text-sm">
                    <summary class="cursor-pointer text-red-700 hover:underline">"Remove…"</summary>
                    <ActionForm action=remove attr:class="mt-1 flex items-center gap-2">
                        <input type="hidden" name="account_id" value=account/>
                        <input type="hidden" name="kind" value=o.kind/>
                        <input type="hidden" name="key" value=o.key/>
                        <span class="text-xs text-slate-600">"The plan's value applies again."</span>
                        <button type="submit" class="rounded-md bg-red-600 px-2 py-1 text-xs font-medium text-white hover:bg-red-700">"Remove override"</button>
                    </ActionForm>
                </details>
            </div>
            <p class="text-xs text-slate-500">{details}</p>
        </li>
    }
}
