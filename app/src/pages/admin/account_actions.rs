//! The account actions of the admin user and organization pages (issue 11 §5):
//! change plan (a GET form asks for the preview, `?change=&interval=&timing=`, so
//! it works without JavaScript; the change is made only from the confirmation),
//! cancel at the period end (confirmed) or reactivate, payment terms and external id.

use crate::components::form::{action_error, field_error, kept_value, FormAlert, Submit};
use crate::error::AppError;
use crate::format::date;
use crate::model::admin::BillingView;
use crate::model::ChangePreview;
use crate::server::admin::accounts::{
    admin_preview_change, AdminApplyCoupon, AdminCancelSubscription, AdminChangePlan,
    AdminReactivateSubscription, AdminRemoveCoupon, AdminSetTerms,
};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

/// The section's actions; the page reloads its data when any of them completes.
#[derive(Clone, Copy)]
pub struct AccountActions {
    pub change: ServerAction<AdminChangePlan>,
    pub cancel: ServerAction<AdminCancelSubscription>,
    pub reactivate: ServerAction<AdminReactivateSubscription>,
    pub terms: ServerAction<AdminSetTerms>,
    pub apply_coupon: ServerAction<AdminApplyCoupon>,
    pub remove_coupon: ServerAction<AdminRemoveCoupon>,
}

impl AccountActions {
    /// Fresh actions.
    pub fn new() -> Self {
        AccountActions {
            change: ServerAction::new(),
            cancel: ServerAction::new(),
            reactivate: ServerAction::new(),
            terms: ServerAction::new(),
            apply_coupon: ServerAction::new(),
            remove_coupon: ServerAction::new(),
        }
    }

    /// The actions' versions (tracked): a page resource keyed on them refetches
    /// after each.
    pub fn versions(&self) -> [usize; 6] {
        [
            self.change.version().get(),
            self.cancel.version().get(),
            self.reactivate.version().get(),
            self.terms.version().get(),
            self.apply_coupon.version().get(),
            self.remove_coupon.version().get(),
        ]
    }
}

impl Default for AccountActions {
    fn default() -> Self {
        Self::new()
    }
}

const INPUT: &str = "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm";

/// Plan change, cancellation and terms of `billing`'s account.
#[component]
pub fn AccountActionsSection(billing: BillingView, actions: AccountActions) -> impl IntoView {
    let query = use_query_map();
    let path = use_location().pathname.get_untracked();
    let form_path = path.clone();
    let wanted = Memo::new(move |_| {
        query.with(|q| {
            q.get("change").filter(|p| !p.is_empty()).map(|p| {
                (
                    p,
                    q.get("interval").unwrap_or_else(|| "month".into()),
                    q.get("timing").unwrap_or_else(|| "now".into()),
                )
            })
        })
    });
    let account = billing.account_id.to_string();
    let preview_account = account.clone();
    let preview = Resource::new_blocking(
        move || wanted.get(),
        move |wanted| {
            let account = preview_account.clone();
            async move {
                match wanted {
                    Some((plan, interval, timing)) => {
                        Some(admin_preview_change(account, plan, interval, Some(timing)).await)
                    }
                    None => None,
                }
            }
        },
    );
    let current_plan = billing
        .subscription
        .as_ref()
        .map(|s| s.plan.clone())
        .unwrap_or_default();
    let chosen = move |k: &str| wanted.get_untracked().is_some_and(|(p, _, _)| p == k);
    view! {
        <section class="rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="plan-actions-h" data-testid="account-actions">
            <h2 id="plan-actions-h" class="font-semibold">"Plan"</h2>
            <form method="get" action=form_path class="mt-2 grid items-end gap-3 sm:grid-cols-4">
                <div class="space-y-1">
                    <label for="change-plan" class="block text-sm text-slate-700">"New plan"</label>
                    <select id="change-plan" name="change" class=INPUT>
                        {billing.plan_options.iter().map(|(k, label)| {
                            let selected = chosen(k) || (wanted.get_untracked().is_none() && *k == current_plan);
                            view! { <option value=k.clone() selected=selected>{label.clone()}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="space-y-1">
                    <label for="change-interval" class="block text-sm text-slate-700">"Billed every"</label>
                    <select id="change-interval" name="interval" class=INPUT>
                        <option value="month">"month"</option>
                        <option value="year" selected=wanted.get_untracked().is_some_and(|w| w.1 == "year")>"year"</option>
                    </select>
                </div>
                <div class="space-y-1">
                    <label for="change-timing" class="block text-sm text-slate-700">"When"</label>
                    <select id="change-timing" name="timing" class=INPUT>
                        <option value="now">"Now (prorated)"</option>
                        <option value="period_end" selected=wanted.get_untracked().is_some_and(|w| w.2 == "period_end")>"At the period end"</option>
                    </select>
                </div>
                <button type="submit" class="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium hover:bg-slate-50">"Preview change"</button>
            </form>
            <Suspense fallback=|| view! { <p class="mt-3 text-sm text-slate-500">"Computing the proration…"</p> }>
                {move || {
                    let (account, path) = (account.clone(), path.clone());
                    Suspend::new(async move {
                    let Some((plan, interval, timing)) = wanted.get() else { return ().into_any() };
                    match preview.await {
                        None => ().into_any(),
                        Some(Ok(p)) => view! { <Confirm preview=p account=account.clone() action=actions.change back=path.clone()/> }.into_any(),
                        Some(Err(AppError::PlanRequired)) => {
                            let p = ChangePreview { plan, interval, timing, ..starting() };
                            view! { <Confirm preview=p account=account.clone() action=actions.change back=path.clone()/> }.into_any()
                        }
                        Some(Err(e)) => view! { <p class="mt-3 rounded-md bg-red-50 p-3 text-sm text-red-800" role="alert" data-testid="preview-error">{e.explained()}</p> }.into_any(),
                    }
                    })
                }}
            </Suspense>
            {cancel_control(&billing, actions)}
        </section>
        <TermsForm billing=billing.clone() action=actions.terms/>
        <CouponForm billing=billing.clone() apply=actions.apply_coupon remove=actions.remove_coupon/>
    }
}

/// An account without a subscription: the plan starts at once, nothing to prorate.
fn starting() -> ChangePreview {
    ChangePreview {
        from: "No subscription".into(),
        to: String::new(),
        plan: String::new(),
        interval: String::new(),
        price: String::new(),
        status_after: "starts at once on the manual provider".into(),
        over_limits: Vec::new(),
        proration: None,
        proration_label: String::new(),
        lines: Vec::new(),
        timing: "now".into(),
        effective: "at once".into(),
        period_end_option: None,
    }
}

/// The preview and its confirmation.
#[component]
fn Confirm(
    preview: ChangePreview,
    account: String,
    action: ServerAction<AdminChangePlan>,
    back: String,
) -> impl IntoView {
    let p = preview;
    let to = if p.to.is_empty() {
        format!("{}, billed every {}", p.plan, p.interval)
    } else {
        p.to.clone()
    };
    view! {
        <div class="mt-3 rounded-lg border border-indigo-200 bg-indigo-50 p-4 text-sm" data-testid="change-preview" role="region" aria-label="Plan change preview">
            <dl class="grid grid-cols-2 gap-x-4 gap-y-1">
                <dt class="text-slate-600">"From"</dt><dd>{p.from.clone()}</dd>
                <dt class="text-slate-600">"To"</dt><dd data-testid="preview-to">{to}</dd>
                {(!p.price.is_empty()).then(|| view! { <dt class="text-slate-600">"Price"</dt><dd>{p.price.clone()}</dd> })}
                <dt class="text-slate-600">"Applies"</dt><dd>{p.effective.clone()}</dd>
                <dt class="text-slate-600">"Status after"</dt><dd>{p.status_after.clone()}</dd>
                <dt class="text-slate-600">"Proration"</dt>
                <dd data-testid="preview-proration">{match &p.proration {
                    Some(a) => format!("{a} ({})", p.proration_label),
                    None => "None".to_string(),
                }}</dd>
            </dl>
            {(!p.lines.is_empty()).then(|| view! {
                <ul class="mt-2 list-inside list-disc text-slate-700">{p.lines.iter().map(|(d, a)| view! { <li>{format!("{d}: {a}")}</li> }).collect_view()}</ul>
            })}
            {(!p.over_limits.is_empty()).then(|| view! {
                <div class="mt-2 rounded-md bg-amber-50 p-2 text-amber-900" role="note">
                    <p class="font-medium">"Current usage is over the new plan's limits:"</p>
                    <ul class="list-inside list-disc">{p.over_limits.iter().map(|o| view! { <li>{o.clone()}</li> }).collect_view()}</ul>
                </div>
            })}
            <ActionForm action=action attr:class="mt-3 flex flex-wrap items-center gap-3">
                <FormAlert error=action_error(action)/>
                <input type="hidden" name="account_id" value=account/>
                <input type="hidden" name="plan" value=p.plan.clone()/>
                <input type="hidden" name="interval" value=p.interval.clone()/>
                <input type="hidden" name="timing" value=p.timing.clone()/>
                <Submit action=action label="Confirm plan change" busy="Changing…"/>
                <a href=back class="text-sm text-slate-700 underline">"Cancel"</a>
            </ActionForm>
        </div>
    }
}

/// "Cancel at period end…" (confirmed), or "Reactivate" when it is set to end.
fn cancel_control(billing: &BillingView, actions: AccountActions) -> impl IntoView {
    let account = billing.account_id.to_string();
    let sub = billing.subscription.clone()?;
    Some(match sub.cancel_at {
        Some(end) => view! {
            <ActionForm action=actions.reactivate attr:class="mt-4 flex flex-wrap items-center gap-3 border-t border-slate-100 pt-3">
                <p class="text-sm text-amber-800" data-testid="cancel-scheduled">{format!("Ends on {}.", date(end))}</p>
                <FormAlert error=action_error(actions.reactivate)/>
                <input type="hidden" name="account_id" value=account/>
                <Submit action=actions.reactivate label="Reactivate" busy="Reactivating…"/>
            </ActionForm>
        }
        .into_any(),
        None => view! {
            <details class="mt-4 border-t border-slate-100 pt-3">
                <summary class="cursor-pointer text-sm font-medium text-red-700">"Cancel at period end…"</summary>
                <ActionForm action=actions.cancel attr:class="mt-2 space-y-2">
                    <p class="text-sm text-slate-700">{format!("The subscription ends on {} and is not renewed. The customer keeps it until then.", date(sub.period.1))}</p>
                    <FormAlert error=action_error(actions.cancel)/>
                    <input type="hidden" name="account_id" value=account/>
                    <button type="submit" class="rounded-md bg-red-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-red-500">"Cancel the subscription"</button>
                </ActionForm>
            </details>
        }
        .into_any(),
    })
}

/// Net terms and external id.
#[component]
fn TermsForm(billing: BillingView, action: ServerAction<AdminSetTerms>) -> impl IntoView {
    let error = action_error(action);
    let days = billing.net_terms_days.to_string();
    let external = billing.external_id.clone().unwrap_or_default();
    view! {
        <section class="rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="terms-h">
            <h2 id="terms-h" class="font-semibold">"Payment terms"</h2>
            <ActionForm action=action attr:class="mt-2 space-y-2" attr:novalidate=true>
                <FormAlert error=error/>
                <input type="hidden" name="account_id" value=billing.account_id.to_string()/>
                <label for="field-net-terms" class="block text-sm text-slate-700">"Net terms (days an invoice is due after issue, 0–120)"</label>
                <input id="field-net-terms" name="net_terms_days" type="number" min="0" max="120" required=true
                    value=kept_value(error, "net_terms_days", Some(days)) class="block w-32 rounded-md border border-slate-300 px-3 py-2 text-sm"/>
                <p class="text-sm text-red-700" role="alert">{move || field_error(error, "net_terms_days").get()}</p>
                <label for="field-external-id" class="block text-sm text-slate-700">"External id (your system's id; empty clears it)"</label>
                <input id="field-external-id" name="external_id" maxlength="255"
                    value=kept_value(error, "external_id", Some(external)) class="block w-full rounded-md border border-slate-300 px-3 py-2 text-sm"/>
                <p class="text-sm text-red-700" role="alert">{move || field_error(error, "external_id").get()}</p>
                <Submit action=action label="Save terms" busy="Saving…"/>
            </ActionForm>
        </section>
    }
}

/// The account's coupon (remove, confirmed) and applying one with who verified
/// the account is eligible.
#[component]
fn CouponForm(
    billing: BillingView,
    apply: ServerAction<AdminApplyCoupon>,
    remove: ServerAction<AdminRemoveCoupon>,
) -> impl IntoView {
    let error = action_error(apply);
    let account = billing.account_id.to_string();
    let remove_account = account.clone();
    let current = match billing.coupon.clone() {
        None => view! { <p class="mt-2 text-sm text-slate-500" data-testid="no-coupon">"No coupon."</p> }.into_any(),
        Some(c) => view! {
            <p class="mt-2 text-sm" data-testid="coupon">{c}</p>
            <details class="mt-1">
                <summary class="cursor-pointer text-sm font-medium text-red-700">"Remove coupon…"</summary>
                <ActionForm action=remove attr:class="mt-2 flex flex-wrap items-center gap-2">
                    <span class="text-sm text-slate-700">"The next invoices are at full price."</span>
                    <FormAlert error=action_error(remove)/>
                    <input type="hidden" name="account_id" value=remove_account/>
                    <button type="submit" class="rounded-md bg-red-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-red-500">"Remove the coupon"</button>
                </ActionForm>
            </details>
        }
        .into_any(),
    };
    let no_coupons = billing.coupon_options.is_empty();
    let form = (!no_coupons).then(|| {
        let kept = kept_value(error, "coupon", None);
        view! {
            <ActionForm action=apply attr:class="mt-3 space-y-2 border-t border-slate-100 pt-3" attr:novalidate=true>
                <FormAlert error=error/>
                <input type="hidden" name="account_id" value=account.clone()/>
                <label for="field-coupon" class="block text-sm text-slate-700">"Coupon"</label>
                <select id="field-coupon" name="coupon" class=INPUT>
                    {billing.coupon_options.iter().map(|(code, name)| {
                        let selected = kept.as_deref() == Some(code.as_str());
                        view! { <option value=code.clone() selected=selected>{format!("{name} ({code})")}</option> }
                    }).collect_view()}
                </select>
                <p class="text-sm text-red-700" role="alert">{move || field_error(error, "coupon").get()}</p>
                <label for="field-verified-by" class="block text-sm text-slate-700">"Verified by (who checked the account is eligible, and how)"</label>
                <input id="field-verified-by" name="verified_by" maxlength="500" required=true
                    value=kept_value(error, "verified_by", None).unwrap_or_default() class="block w-full rounded-md border border-slate-300 px-3 py-2 text-sm"/>
                <p class="text-sm text-red-700" role="alert">{move || field_error(error, "verified_by").get()}</p>
                <Submit action=apply label="Apply coupon" busy="Applying…"/>
            </ActionForm>
        }
    });
    let card_paid = billing.subscription.as_ref().is_some_and(|s| s.provider == "stripe").then(|| view! {
        <p class="mt-2 text-xs text-slate-500" data-testid="coupon-stripe">"Stripe bills this subscription: the coupon becomes its Stripe discount, so Stripe's invoices carry it."</p>
    });
    let none_in_catalog = no_coupons.then(|| view! {
        <p class="mt-2 text-xs text-slate-500">"The catalog has no coupons to apply; add one to the catalog file (`[coupons.…]`)."</p>
    });
    view! {
        <section class="rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="coupon-h">
            <h2 id="coupon-h" class="font-semibold">"Coupon"</h2>
            {current}
            {form}
            {card_paid}
            {none_in_catalog}
        </section>
    }
}
