//! `/admin/users/{id}`: profile, accounts, billing, activity, and the actions
//! (impersonate, disable or enable with confirmation, support tools).

use super::account_actions::{AccountActions, AccountActionsSection};
use super::corrections::CorrectionsSection;
use super::overrides::OverridesSection;
use super::parts::{usage_charts_resource, ActivityTable, AdminNav, BillingSection};
use crate::components::usage_charts::LoadedUsageCharts;
use crate::components::form::{action_error, field_error, kept_value, FormAlert, Submit};
use crate::components::gate::Gate;
use crate::format::datetime;
use crate::model::admin::AdminUserDetail;
use crate::server::admin::actions::{
    ApplyCredit, DisableUser, EnableUser, ExtendTrial, RemoveOverride, SendPasswordReset,
    SetOverride,
};
use crate::server::admin::admin_user;
use crate::server::admin::corrections::VoidUsage;
use crate::server::admin::impersonation::Impersonate;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The actions of the user page.
#[derive(Clone, Copy)]
struct Actions {
    disable: ServerAction<DisableUser>,
    enable: ServerAction<EnableUser>,
    impersonate: ServerAction<Impersonate>,
    reset: ServerAction<SendPasswordReset>,
    extend: ServerAction<ExtendTrial>,
    credit: ServerAction<ApplyCredit>,
    set_override: ServerAction<SetOverride>,
    remove_override: ServerAction<RemoveOverride>,
    void: ServerAction<VoidUsage>,
    account: AccountActions,
}

/// The user page.
#[component]
pub fn AdminUserPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let a = Actions {
        disable: ServerAction::new(),
        enable: ServerAction::new(),
        impersonate: ServerAction::new(),
        reset: ServerAction::new(),
        extend: ServerAction::new(),
        credit: ServerAction::new(),
        set_override: ServerAction::new(),
        remove_override: ServerAction::new(),
        void: ServerAction::new(),
        account: AccountActions::new(),
    };
    let data = Resource::new_blocking(
        move || {
            let versions = (
                (
                    a.disable.version().get(),
                    a.enable.version().get(),
                    a.reset.version().get(),
                    a.extend.version().get(),
                    a.credit.version().get(),
                ),
                (
                    a.set_override.version().get(),
                    a.remove_override.version().get(),
                    a.void.version().get(),
                    a.account.versions(),
                ),
            );
            (params.with(|p| p.get("id").unwrap_or_default()), versions)
        },
        |(id, _)| admin_user(id),
    );
    let charts = usage_charts_resource(true);
    let confirming = Memo::new(move |_| query.with(|q| q.get("confirm")));
    let sent = Memo::new(move |_| {
        query.with(|q| q.get("sent")).is_some() || a.reset.value().get().is_some_and(|r| r.is_ok())
    });
    view! {
        <Title text="User · Admin"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Gate error/> }.into_any(),
                    Ok(u) => view! { <UserDetail u a confirming sent charts/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn UserDetail(
    u: AdminUserDetail,
    a: Actions,
    confirming: Memo<Option<String>>,
    sent: Memo<bool>,
    charts: Resource<Result<crate::model::UsageChartsView, crate::error::AppError>>,
) -> impl IntoView {
    let memberships = u.memberships.clone();
    view! {
        <AdminNav current="/admin/users"/>
        <div class="flex flex-wrap items-start justify-between gap-4">
            <div>
                <h1 class="text-2xl font-bold" data-testid="admin-user-name">{u.name.clone()}</h1>
                <p class="text-slate-600">{u.email.clone()}</p>
                <p class="mt-1 flex gap-2 text-xs">
                    {u.super_admin.then(|| view! { <span class="rounded bg-slate-900 px-1.5 py-0.5 text-white">"super admin"</span> })}
                    {u.disabled_at.map(|d| view! { <span class="rounded bg-red-100 px-1.5 py-0.5 text-red-800" data-testid="disabled-badge">{format!("disabled {}", datetime(d))}</span> })}
                </p>
            </div>
            {status_control(&u, a, confirming)}
        </div>
        <dl class="mt-4 grid max-w-xl grid-cols-2 gap-x-4 gap-y-1 text-sm">
            <dt class="text-slate-500">"User id"</dt><dd class="font-mono text-xs">{u.id.to_string()}</dd>
            <dt class="text-slate-500">"Signed up"</dt><dd>{datetime(u.created_at)}</dd>
            <dt class="text-slate-500">"Last log-in"</dt><dd>{u.last_login_at.map_or("Never".to_string(), datetime)}</dd>
            <dt class="text-slate-500">"Live sessions"</dt><dd data-testid="sessions">{u.sessions}</dd>
        </dl>
        {impersonate_panel(&u, a)}
        <section class="mt-6" aria-labelledby="acc-h">
            <h2 id="acc-h" class="mb-2 text-lg font-semibold">"Accounts and memberships"</h2>
            <ul class="divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white text-sm">
                {memberships.into_iter().map(|m| {
                    let name = if m.kind == "organization" {
                        view! { <a href=format!("/admin/organizations/{}", m.account_id) class="font-medium text-indigo-700 underline hover:text-indigo-900">{m.name.clone()}</a> }.into_any()
                    } else {
                        view! { <span class="font-medium">{format!("{} (personal)", m.name)}</span> }.into_any()
                    };
                    view! { <li class="flex justify-between px-4 py-2">{name}<span class="text-slate-600">{m.role.clone()}</span></li> }
                }).collect_view()}
            </ul>
        </section>
        <section class="mt-6" aria-labelledby="bill-h">
            <h2 id="bill-h" class="mb-2 text-lg font-semibold">"Personal account"</h2>
            {u.billing.clone().map(|billing| view! { <BillingSection billing extend=a.extend credit=a.credit/> })}
            {u.billing.clone().map(|billing| view! { <div class="mt-4 grid gap-4 lg:grid-cols-2"><AccountActionsSection billing actions=a.account/></div> })}
            {u.billing.clone().map(|billing| view! { <div class="mt-4"><OverridesSection billing set=a.set_override remove=a.remove_override/></div> })}
            {u.billing.clone().map(|billing| view! { <div class="mt-4"><CorrectionsSection billing void=a.void/></div> })}
            {u.billing.is_some().then(|| view! { <LoadedUsageCharts charts base=format!("/admin/users/{}", u.id)/> })}
        </section>
        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="reset-h">
            <h2 id="reset-h" class="font-semibold">"Password"</h2>
            <Show when=move || sent.get()>
                <p class="mt-2 text-sm text-emerald-800" role="status" data-testid="reset-sent">"A password-reset link was sent."</p>
            </Show>
            <ActionForm action=a.reset attr:class="mt-2">
                <FormAlert error=action_error(a.reset)/>
                <input type="hidden" name="id" value=u.id.to_string()/>
                <button type="submit" class="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50">"Send a password-reset link"</button>
            </ActionForm>
        </section>
        <section class="mt-6" aria-labelledby="act-h">
            <h2 id="act-h" class="mb-2 text-lg font-semibold">"Recent activity"</h2>
            <ActivityTable rows=u.activity.clone()/>
        </section>
    }
}

/// "Disable…" with a confirmation (`?confirm=disable`), or "Enable".
fn status_control(
    u: &AdminUserDetail,
    a: Actions,
    confirming: Memo<Option<String>>,
) -> impl IntoView {
    let id = u.id.to_string();
    let email = u.email.clone();
    if u.is_self {
        return view! { <span class="text-sm text-slate-500">"This is you."</span> }.into_any();
    }
    if u.disabled_at.is_some() {
        return view! {
            <ActionForm action=a.enable>
                <FormAlert error=action_error(a.enable)/>
                <input type="hidden" name="id" value=id/>
                <button type="submit" class="rounded-md bg-emerald-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-emerald-500">"Enable user"</button>
            </ActionForm>
        }
        .into_any();
    }
    let href = format!("/admin/users/{id}");
    (move || {
        let (id, email, href) = (id.clone(), email.clone(), href.clone());
        if confirming.get().as_deref() == Some("disable") {
            view! {
                <ActionForm action=a.disable attr:class="max-w-sm space-y-2 rounded-lg border border-red-200 bg-red-50 p-3">
                    <FormAlert error=action_error(a.disable)/>
                    <input type="hidden" name="id" value=id/>
                    <p class="text-sm text-red-900">{format!("Disable {email}? They are logged out everywhere at once and cannot log in until enabled.")}</p>
                    <div class="flex gap-2">
                        <button type="submit" class="rounded-md bg-red-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-red-500">"Disable user"</button>
                        <a href=href class="px-2 py-1.5 text-sm text-slate-600 hover:underline">"Cancel"</a>
                    </div>
                </ActionForm>
            }
            .into_any()
        } else {
            view! { <a href="?confirm=disable" class="rounded-md border border-red-300 px-3 py-1.5 text-sm font-medium text-red-700 hover:bg-red-50">"Disable…"</a> }.into_any()
        }
    })
    .into_any()
}

/// The impersonation form, or why this user cannot be impersonated.
fn impersonate_panel(u: &AdminUserDetail, a: Actions) -> impl IntoView {
    let why_not = if u.is_self {
        Some("You cannot impersonate yourself.")
    } else if u.super_admin {
        Some("Super admins cannot be impersonated.")
    } else if u.disabled_at.is_some() {
        Some("A disabled user cannot be impersonated.")
    } else {
        None
    };
    let error = action_error(a.impersonate);
    let id = u.id.to_string();
    view! {
        <section class="mt-6 max-w-xl rounded-lg border border-amber-300 bg-amber-50 p-4" aria-labelledby="imp-h">
            <h2 id="imp-h" class="font-semibold text-amber-950">"View as this user"</h2>
            {match why_not {
                Some(reason) => view! { <p class="mt-1 text-sm text-amber-900">{reason}</p> }.into_any(),
                None => view! {
                    <p class="mt-1 text-sm text-amber-900">"You will see and do only what they can, for at most 60 minutes. Everything is audited with your name."</p>
                    <ActionForm action=a.impersonate attr:class="mt-3 space-y-2" attr:novalidate=true>
                        <FormAlert error/>
                        <input type="hidden" name="id" value=id/>
                        <label for="field-reason" class="block text-sm font-medium text-slate-700">"Reason"</label>
                        <textarea id="field-reason" name="reason" required=true maxlength="500" rows="2"
                            class="block w-full rounded-md border border-slate-300 px-3 py-2 text-sm"
                            aria-describedby="field-reason-error">{kept_value(error, "reason", None).unwrap_or_default()}</textarea>
                        <p id="field-reason-error" class="text-sm text-red-700" role="alert">{move || field_error(error, "reason").get()}</p>
                        <Submit action=a.impersonate label="Impersonate" busy="Starting…" class="bg-amber-700 hover:bg-amber-800 text-white"/>
                    </ActionForm>
                }
                .into_any(),
            }}
        </section>
    }
}
