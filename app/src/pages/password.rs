//! `/forgot-password` and `/reset-password?token=…`.

use crate::components::form::{
    action_error, card, field_error, kept_value, Field, FormAlert, Submit,
};
use crate::server::password::{ForgotPassword, ResetPassword, SENT_MESSAGE};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Asks for an e-mail and always answers the same.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<ForgotPassword>::new();
    let query = use_query_map();
    let error = action_error(action);
    let sent = move || {
        query.with(|q| q.get("sent").is_some()) || action.value().get().is_some_and(|r| r.is_ok())
    };
    card(
        "Reset your password",
        view! {
            <Title text="Forgot password"/>
            <Show when=sent>
                <p class="mt-3 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-900" role="status" data-testid="reset-requested">{SENT_MESSAGE}</p>
            </Show>
            <p class="mt-2 text-sm text-slate-600">"Enter the e-mail you log in with. The link works once, for an hour."</p>
            <ActionForm action=action attr:class="mt-4 space-y-4" attr:novalidate=true>
                <FormAlert error/>
                <Field label="E-mail" name="email" kind="email" autocomplete="username" value=kept_value(error, "email", None).unwrap_or_default() error=field_error(error, "email")/>
                <Submit action label="Send the link" busy="Sending…"/>
            </ActionForm>
            <p class="mt-4 text-sm text-slate-600"><a href="/login" class="font-medium text-indigo-700 underline hover:text-indigo-900">"Back to log-in"</a></p>
        },
    )
}

/// Sets a new password with the link's token.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let query = use_query_map();
    let error = action_error(action);
    let token = kept_value(error, "token", query.read_untracked().get("token")).unwrap_or_default();
    let missing = token.is_empty();
    card(
        "Choose a new password",
        view! {
            <Title text="Reset password"/>
            {missing.then(|| view! {
                <p class="mt-3 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800" role="alert">
                    "This page needs the link from the e-mail. " <a href="/forgot-password" class="font-medium underline">"Ask for a new link"</a>
                </p>
            })}
            <ActionForm action=action attr:class="mt-4 space-y-4" attr:novalidate=true>
                <FormAlert error/>
                <input type="hidden" name="token" value=token/>
                <Field label="New password" name="password" kind="password" autocomplete="new-password"
                    minlength=tollgate::identity::MIN_PASSWORD_CHARS as u32 hint="At least 10 characters." error=field_error(error, "password")/>
                <Field label="Repeat the new password" name="confirm" kind="password" autocomplete="new-password" error=field_error(error, "confirm")/>
                <Submit action label="Set password" busy="Saving…"/>
            </ActionForm>
            <p class="mt-4 text-sm text-slate-600"><a href="/forgot-password" class="font-medium text-indigo-700 underline hover:text-indigo-900">"Ask for a new link"</a></p>
        },
    )
}
