//! Usage corrections on an account's admin page (issue 13): the latest ones, and
//! a form to void events by idempotency key or by meter and days, with a reason
//! and a confirmation.

use crate::components::form::{action_error, field_error, kept_value, FormAlert, Submit};
use crate::format::datetime;
use crate::model::admin::{BillingView, CorrectionView};
use crate::server::admin::corrections::VoidUsage;
use leptos::prelude::*;

const INPUT: &str = "block w-full rounded-md border border-slate-300 px-3 py-2 text-sm";

/// The corrections section.
#[component]
pub fn CorrectionsSection(billing: BillingView, void: ServerAction<VoidUsage>) -> impl IntoView {
    let error = action_error(void);
    let keep = move |f: &'static str| kept_value(error, f, None).unwrap_or_default();
    let chosen = keep("meter");
    let list = if billing.corrections.is_empty() {
        view! { <p class="text-sm text-slate-500" data-testid="no-corrections">"No usage of this account was ever voided."</p> }.into_any()
    } else {
        view! {
            <ul class="divide-y divide-slate-100 text-sm" data-testid="corrections">
                {billing.corrections.into_iter().map(|c| view! { <CorrectionItem c/> }).collect_view()}
            </ul>
        }
        .into_any()
    };
    let error_of = move |f: &'static str| move || field_error(error, f).get();
    view! {
        <section class="rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="corr-h">
            <h2 id="corr-h" class="mb-1 font-semibold">"Usage corrections"</h2>
            <p class="mb-3 text-xs text-slate-500">"Void usage sent by mistake (a bug, a replayed job). Totals, history and limits follow at once; an invoice already issued is not rewritten: the difference is a line of the next one. Audited."</p>
            {list}
            <ActionForm action=void attr:class="mt-4 space-y-2 border-t border-slate-100 pt-3" attr:novalidate=true>
                <h3 class="text-sm font-semibold">"Void usage"</h3>
                <FormAlert error/>
                <input type="hidden" name="account_id" value=billing.account_id.to_string()/>
                <label for="field-void-keys" class="block text-sm text-slate-700">"Idempotency keys (one per line)"</label>
                <textarea id="field-void-keys" name="keys" rows="3" class=INPUT>{keep("keys")}</textarea>
                <p class="text-sm text-red-700" role="alert">{error_of("keys")}</p>
                <fieldset class="grid grid-cols-3 gap-2">
                    <legend class="col-span-3 text-xs text-slate-500">"Or every event of a meter over whole days (UTC, both included):"</legend>
                    <div>
                        <label for="field-void-meter" class="block text-sm text-slate-700">"Meter"</label>
                        <select id="field-void-meter" name="meter" class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm">
                            <option value="">"—"</option>
                            {billing.meter_options.into_iter().map(|(k, n)| {
                                let selected = chosen == k;
                                view! { <option value=k.clone() selected=selected>{format!("{n} ({k})")}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                    <div>
                        <label for="field-void-from" class="block text-sm text-slate-700">"From"</label>
                        <input id="field-void-from" name="from" type="date" value=keep("from") class=INPUT/>
                    </div>
                    <div>
                        <label for="field-void-to" class="block text-sm text-slate-700">"To"</label>
                        <input id="field-void-to" name="to" type="date" value=keep("to") class=INPUT/>
                    </div>
                </fieldset>
                <p class="text-sm text-red-700" role="alert">
                    {move || field_error(error, "meter").get().or_else(|| field_error(error, "from").get()).or_else(|| field_error(error, "to").get())}
                </p>
                <label for="field-void-reason" class="block text-sm text-slate-700">"Correction reason"</label>
                <input id="field-void-reason" name="reason" required=true maxlength="500" placeholder="Replayed job on 2 Dec, ticket #…" value=keep("reason") class=INPUT/>
                <p class="text-sm text-red-700" role="alert">{error_of("reason")}</p>
                <label class="flex items-center gap-2 text-sm text-slate-700">
                    <input type="checkbox" name="confirm" value="yes"/>
                    "I understand voided usage cannot be restored"
                </label>
                <p class="text-sm text-red-700" role="alert">{error_of("confirm")}</p>
                <Submit action=void label="Void usage" busy="Voiding…"/>
            </ActionForm>
        </section>
    }
}

#[component]
fn CorrectionItem(c: CorrectionView) -> impl IntoView {
    let events = format!("{} event{}", c.events, if c.events == 1 { "" } else { "s" });
    let adjusted = c
        .adjusted
        .map(|a| format!(" · next invoice adjusted by {a}"))
        .unwrap_or_default();
    view! {
        <li class="py-2" data-testid="correction">
            <p>
                <span class="font-semibold">{events}</span>
                " voided: "
                <span class="font-mono text-xs">{c.quantities}</span>
                {adjusted}
            </p>
            <p class="text-xs text-slate-500">{format!("{} · {}", c.reason, datetime(c.created_at))}</p>
        </li>
    }
}
