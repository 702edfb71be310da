//! The page frame: navigation (knowing who is signed in) and main area.

use crate::model::Viewer;
use crate::org_model::AccountChoice;
use crate::server::admin::impersonation::StopImpersonating;
use crate::server::auth::{get_viewer, LogOut};
use crate::server::orgs::my_accounts;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// Navigation and page body. The navigation asks who is signed in again after every
/// navigation (logging in, signing up and out all end in one).
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let location = use_location();
    let viewer = Resource::new(move || location.pathname.get(), |_| get_viewer());
    let accounts = Resource::new(move || location.pathname.get(), |_| my_accounts());
    let log_out = ServerAction::<LogOut>::new();
    let stop = ServerAction::<StopImpersonating>::new();
    view! {
        <a href="#main" class="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:rounded focus:bg-white focus:px-3 focus:py-2">
            "Skip to content"
        </a>
        <header class="border-b border-slate-200 bg-white">
            <nav class="mx-auto flex max-w-6xl items-center justify-between gap-4 px-4 py-3" aria-label="Main">
                <a href="/" class="flex items-center gap-2 text-lg font-bold text-indigo-700">
                    <span aria-hidden="true" class="inline-block h-6 w-6 rounded bg-indigo-600"></span>
                    "Tollgate"
                </a>
                <div class="flex items-center gap-4 text-sm">
                    <a href="/pricing" class="text-slate-700 hover:text-slate-900">"Pricing"</a>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let choices = accounts.await.unwrap_or_default();
                            (nav_for(viewer.await.ok().flatten(), log_out), account_switcher(choices))
                        })}
                    </Transition>
                </div>
            </nav>
        </header>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move { impersonation_banner(viewer.await.ok().flatten(), stop) })}
        </Transition>
        <main id="main" class="mx-auto max-w-6xl px-4 py-8">{children()}</main>
    }
}

/// The account switcher: which account the pages act for, and a form to act for
/// another (the personal account or an organization the user belongs to). A plain
/// form, so it works without JavaScript.
fn account_switcher(choices: Vec<AccountChoice>) -> AnyView {
    if choices.is_empty() {
        return ().into_any();
    }
    let options = choices
        .into_iter()
        .map(|c| {
            let label = match &c.slug {
                Some(_) => format!("{} ({})", c.name, c.role),
                None => c.name.clone(),
            };
            view! { <option value=c.id.to_string() selected=c.current data-slug=c.slug.unwrap_or_default()>{label}</option> }
        })
        .collect_view();
    view! {
        <form method="post" action="/_fn/switch_account" class="flex items-center gap-1" data-testid="account-switcher">
            <label for="account-switch" class="sr-only">"Acting for"</label>
            <select id="account-switch" name="account_id" class="max-w-[14rem] rounded-md border border-slate-300 bg-white px-2 py-1 text-sm">{options}</select>
            <button type="submit" class="rounded-md border border-slate-300 px-2 py-1 text-xs text-slate-700 hover:bg-slate-50">"Switch"</button>
            <a href="/orgs/new" class="text-xs text-indigo-700 underline hover:text-indigo-900">"New organization"</a>
        </form>
    }
    .into_any()
}

fn nav_for(viewer: Option<Viewer>, log_out: ServerAction<LogOut>) -> AnyView {
    match viewer {
        None => view! {
            <a href="/login" class="text-slate-700 hover:text-slate-900">"Log in"</a>
            <a href="/signup" class="rounded-md bg-indigo-600 px-3 py-1.5 font-semibold text-white hover:bg-indigo-500">"Sign up"</a>
        }
        .into_any(),
        Some(v) => view! {
                <a href="/dashboard" class="text-slate-700 hover:text-slate-900">"Dashboard"</a>
                <a href="/notifications" class="text-slate-700 hover:text-slate-900" data-testid="nav-notifications">
                    "Notifications"
                    {(v.unread > 0).then(|| view! {
                        <span class="ml-1 rounded-full bg-indigo-100 px-2 py-0.5 text-xs font-semibold text-indigo-800">{v.unread}</span>
                    })}
                </a>
                <a href="/billing" class="text-slate-700 hover:text-slate-900">"Billing"</a>
                <a href="/settings/api-keys" class="text-slate-700 hover:text-slate-900">"API keys"</a>
                <a href="/settings/webhooks" class="text-slate-700 hover:text-slate-900">"Webhooks"</a>
                {v.super_admin.then(|| view! { <a href="/admin" class="font-medium text-slate-900 hover:text-indigo-700" data-testid="nav-admin">"Admin"</a> })}
                <span class="hidden text-slate-500 sm:inline" data-testid="nav-account" title=v.email.clone()>{v.account_name.clone()}</span>
                <ActionForm action=log_out attr:class="inline">
                    <button type="submit" class="text-slate-700 hover:text-slate-900">"Log out"</button>
                </ActionForm>
        }
        .into_any(),
    }
}

/// "Viewing as <user> — Stop" while a super admin impersonates someone; the Stop
/// button is a form, so it works without JavaScript.
fn impersonation_banner(
    viewer: Option<Viewer>,
    stop: ServerAction<StopImpersonating>,
) -> Option<impl IntoView> {
    let v = viewer?;
    let admin = v.impersonator.clone()?;
    Some(view! {
        <div class="border-b border-amber-300 bg-amber-100 text-amber-950" role="status" data-testid="impersonation-banner">
            <div class="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-2 px-4 py-2 text-sm">
                <p>
                    <span class="font-semibold">{format!("Viewing as {} <{}>", v.name, v.email)}</span>
                    <span class="text-amber-800">{format!(" — you are {admin}; everything you do is audited.")}</span>
                </p>
                <ActionForm action=stop attr:class="inline">
                    <button type="submit" class="rounded-md bg-amber-700 px-3 py-1 font-semibold text-white hover:bg-amber-800">"Stop"</button>
                </ActionForm>
            </div>
        </div>
    })
}
