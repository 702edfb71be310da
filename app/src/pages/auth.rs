//! `/signup` and `/login`.

use crate::components::form::{
    action_error, card, field_error, kept_value, Field, FormAlert, Submit,
};
use crate::format::capitalize;
use crate::server::auth::{LogIn, SignUp};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Sign-up, optionally with the plan chosen on the pricing page
/// (`?plan=starter&interval=month`); after it, `?sent=1` asks the visitor to open
/// the link e-mailed to them (the same answer whether the address was new or
/// already had an account).
#[component]
pub fn SignUpPage() -> impl IntoView {
    let query = use_query_map();
    move || {
        if query.read().get("sent").is_some() {
            sent().into_any()
        } else {
            sign_up_form().into_any()
        }
    }
}

fn sent() -> impl IntoView {
    card(
        "Check your e-mail",
        view! {
            <Title text="Check your e-mail"/>
            <div role="status" data-testid="sign-up-sent">
                <p class="mt-3 text-sm text-slate-700">"We sent a link to the address you gave. Open it to confirm the address and log in; the link works for 48 hours."</p>
                <p class="mt-3 text-sm text-slate-600">"No e-mail after a few minutes? Look in your spam folder, or try to log in: if the address is yours and not yet confirmed, that sends a new link."</p>
            </div>
            <p class="mt-4 text-sm text-slate-600">
                <a href="/login" class="font-medium text-indigo-700 underline hover:text-indigo-900">"Log in"</a>
            </p>
        },
    )
}

fn sign_up_form() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let query = use_query_map();
    let error = action_error(action);
    let plan =
        kept_value(error, "plan", query.read_untracked().get("plan")).filter(|p| !p.is_empty());
    let interval = kept_value(error, "interval", query.read_untracked().get("interval"))
        .unwrap_or_else(|| "month".into());
    let chosen = plan.clone().map(|p| {
        let label = format!("You are signing up for {} billed every {}.", capitalize(&p), interval);
        view! { <p class="mt-2 rounded-md bg-indigo-50 px-3 py-2 text-sm text-indigo-900" data-testid="chosen-plan">{label}</p> }
    });
    card(
        "Create your account",
        view! {
            <Title text="Sign up"/>
            {chosen}
            <ActionForm action=action attr:class="mt-4 space-y-4" attr:novalidate=true>
                <FormAlert error/>
                <input type="hidden" name="plan" value=plan.unwrap_or_default()/>
                <input type="hidden" name="interval" value=interval/>
                <Field label="Name" name="name" autocomplete="name" value=kept_value(error, "name", None).unwrap_or_default() error=field_error(error, "name")/>
                <Field label="E-mail" name="email" kind="email" autocomplete="email" value=kept_value(error, "email", None).unwrap_or_default() error=field_error(error, "email")/>
                <Field
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    minlength=tollgate::identity::MIN_PASSWORD_CHARS as u32
                    hint="At least 10 characters."
                    error=field_error(error, "password")
                />
                <Submit action label="Create account" busy="Creating your account…"/>
            </ActionForm>
            <p class="mt-4 text-sm text-slate-600">
                "Already have an account? " <a href="/login" class="font-medium text-indigo-700 underline hover:text-indigo-900">"Log in"</a>
            </p>
        },
    )
}

/// Log-in, returning to `?next=` afterwards.
#[component]
pub fn LogInPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    let query = use_query_map();
    let error = action_error(action);
    let next = kept_value(error, "next", query.read_untracked().get("next")).unwrap_or_default();
    let prompt = (!next.is_empty())
        .then(|| view! { <p class="mt-2 text-sm text-slate-600">"Log in to continue."</p> });
    let reset = query.read_untracked().get("reset").is_some().then(|| {
        view! { <p class="mt-2 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-900" role="status">"Your password was changed. Log in with the new one."</p> }
    });
    // From an e-mail verification link (server/src/email_links.rs).
    let link = match query.read_untracked().get("verify").as_deref() {
        Some("failed") => Some(view! { <p class="mt-2 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-950" role="status" data-testid="verify-failed">"That link is invalid, used or expired. Sign up again with the same address for a new one, or reset your password."</p> }.into_any()),
        _ => query.read_untracked().get("verified").is_some().then(|| view! { <p class="mt-2 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-900" role="status">"Your e-mail address is confirmed."</p> }.into_any()),
    };
    card(
        "Log in",
        view! {
            <Title text="Log in"/>
            {prompt}
            {reset}
            {link}
            <ActionForm action=action attr:class="mt-4 space-y-4" attr:novalidate=true>
                <FormAlert error/>
                <input type="hidden" name="next" value=next/>
                <Field label="E-mail" name="email" kind="email" autocomplete="username" value=kept_value(error, "email", None).unwrap_or_default() error=field_error(error, "email")/>
                <Field label="Password" name="password" kind="password" autocomplete="current-password" error=field_error(error, "password")/>
                <Submit action label="Log in" busy="Logging in…"/>
            </ActionForm>
            <p class="mt-3 text-sm">
                <a href="/forgot-password" class="font-medium text-indigo-700 underline hover:text-indigo-900">"Forgot your password?"</a>
            </p>
            <p class="mt-4 text-sm text-slate-600">
                "New here? " <a href="/signup" class="font-medium text-indigo-700 underline hover:text-indigo-900">"Create an account"</a>
            </p>
        },
    )
}
