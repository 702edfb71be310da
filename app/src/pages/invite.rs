//! `/invite/{token}`: an invitation to an organization. A signed-in user with the
//! invited address accepts; someone signed out logs in (and comes back here) or, if
//! new, signs up right here with the invited address and joins at once.

use crate::components::form::{action_error, field_error, kept_value, Field, FormAlert, Submit};
use crate::components::gate::ErrorPanel;
use crate::org_model::InvitationPreview;
use crate::server::orgs::invitations::{get_invitation, AcceptInvitation, InvitationSignUp};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// The invitation page.
#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = Memo::new(move |_| params.read().get("token").unwrap_or_default());
    let data = Resource::new_blocking(move || token.get(), get_invitation);
    view! {
        <Title text="Invitation"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                    Ok(p) => view! { <Invitation p token=token.get_untracked()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Invitation(p: InvitationPreview, token: String) -> impl IntoView {
    let title = format!("Join {}", p.organization);
    let by = match &p.inviter {
        Some(name) => format!(
            "{name} invited {} to join {} as {}.",
            p.email, p.organization, p.role
        ),
        None => format!(
            "{} is invited to join {} as {}.",
            p.email, p.organization, p.role
        ),
    };
    let body = if let Some(why) = p.closed.clone() {
        view! { <p class="mt-4 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-950" role="alert" data-testid="invitation-closed">{why}</p> }.into_any()
    } else {
        match p.signed_in_as.clone() {
            Some(me) if me.eq_ignore_ascii_case(&p.email) => view! { <AcceptForm token/> }.into_any(),
            Some(me) => view! {
                <p class="mt-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800" role="alert" data-testid="invitation-wrong-user">
                    {format!("This invitation was sent to another e-mail address; you are signed in as {me}. Log out, then open this link again and sign in (or sign up) with the invited address.")}
                </p>
            }
            .into_any(),
            None if p.has_account => {
                let login = tollgate::access::login_url(&format!("/invite/{token}"));
                view! {
                    <p class="mt-4 text-sm text-slate-700">"Log in with the invited address to accept."</p>
                    <a href=login class="mt-3 inline-block rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500">"Log in to accept"</a>
                }
                .into_any()
            }
            None => view! { <SignUpForm token email=p.email.clone()/> }.into_any(),
        }
    };
    view! {
        <div class="mx-auto max-w-md rounded-lg border border-slate-200 bg-white p-6 shadow-sm" data-testid="invitation">
            <h1 class="text-xl font-bold">{title}</h1>
            <p class="mt-2 text-sm text-slate-600">{by}</p>
            {body}
        </div>
    }
}

#[component]
fn AcceptForm(token: String) -> impl IntoView {
    let action = ServerAction::<AcceptInvitation>::new();
    let error = action_error(action);
    view! {
        <ActionForm action attr:class="mt-4 space-y-3">
            <FormAlert error/>
            <input type="hidden" name="token" value=token/>
            <Submit action label="Accept invitation" busy="Joining…"/>
        </ActionForm>
    }
}

#[component]
fn SignUpForm(token: String, email: String) -> impl IntoView {
    let action = ServerAction::<InvitationSignUp>::new();
    let error = action_error(action);
    let login = tollgate::access::login_url(&format!("/invite/{token}"));
    view! {
        <p class="mt-4 text-sm text-slate-700">"New to Tollgate? Create your account to join."</p>
        <ActionForm action attr:class="mt-3 space-y-4" attr:novalidate=true>
            <FormAlert error/>
            <input type="hidden" name="token" value=token/>
            <div class="space-y-1">
                <label for="field-email" class="block text-sm font-medium text-slate-700">"E-mail"</label>
                <input id="field-email" type="email" value=email readonly=true autocomplete="username" class="block w-full rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-sm text-slate-700"/>
                <p class="text-xs text-slate-500">"The invitation is for this address."</p>
            </div>
            <Field label="Name" name="name" autocomplete="name" value=kept_value(error, "name", None).unwrap_or_default() error=field_error(error, "name")/>
            <Field
                label="Password"
                name="password"
                kind="password"
                autocomplete="new-password"
                minlength=tollgate::identity::MIN_PASSWORD_CHARS as u32
                hint="At least 10 characters."
                error=field_error(error, "password")
            />
            <Submit action label="Create account and join" busy="Joining…"/>
        </ActionForm>
        <p class="mt-4 text-sm text-slate-600">"Already have an account? " <a href=login class="font-medium text-indigo-700 underline hover:text-indigo-900">"Log in to accept"</a></p>
    }
}
