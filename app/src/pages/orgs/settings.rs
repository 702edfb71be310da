//! `/orgs/{slug}/settings`: name and billing e-mail (owner and admins edit; others
//! read), and leaving the organization.

use super::{notice, query_flag, slug_param, OrgFrame, OrgGate, Tab};
use crate::components::form::{action_error, field_error, kept_value, Field, FormAlert, Submit};
use crate::org_model::OrgHeader;
use crate::server::orgs::members::LeaveOrg;
use crate::server::orgs::{get_org, UpdateOrg};
use leptos::prelude::*;

/// The settings page.
#[component]
pub fn OrgSettingsPage() -> impl IntoView {
    let slug = slug_param();
    let update = ServerAction::<UpdateOrg>::new();
    let leave = ServerAction::<LeaveOrg>::new();
    let data = Resource::new_blocking(
        move || (slug.get(), update.version().get()),
        |(s, _)| get_org(s),
    );
    let saved = query_flag("saved");
    let leaving = query_flag("leave");
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || {
                let (saved, leaving) = (saved.get(), leaving.get());
                Suspend::new(async move {
                    match data.await {
                        Err(error) => view! { <OrgGate error/> }.into_any(),
                        Ok(org) => view! {
                            <OrgFrame org=org.clone() tab=Tab::Settings>
                                {notice(saved.then_some("Saved."))}
                                <General org=org.clone() update/>
                                <Leave org leave leaving/>
                            </OrgFrame>
                        }
                        .into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn General(org: OrgHeader, update: ServerAction<UpdateOrg>) -> impl IntoView {
    if !org.manages {
        return view! {
            <dl class="max-w-md space-y-2 rounded-lg border border-slate-200 bg-white p-5 text-sm">
                <div><dt class="text-slate-500">"Name"</dt><dd class="font-medium">{org.name}</dd></div>
                <div><dt class="text-slate-500">"Billing e-mail"</dt><dd>{org.billing_email}</dd></div>
                <p class="text-xs text-slate-500">"The owner and admins change these."</p>
            </dl>
        }
        .into_any();
    }
    let error = action_error(update);
    view! {
        <section class="max-w-md rounded-lg border border-slate-200 bg-white p-5 shadow-sm" aria-labelledby="general">
            <h2 id="general" class="font-semibold">"General"</h2>
            <ActionForm action=update attr:class="mt-3 space-y-3" attr:novalidate=true>
                <FormAlert error/>
                <input type="hidden" name="slug" value=org.slug.clone()/>
                <Field label="Name" name="name" value=kept_value(error, "name", Some(org.name.clone())).unwrap_or_default() error=field_error(error, "name")/>
                <Field label="Billing e-mail" name="billing_email" kind="email" value=kept_value(error, "billing_email", Some(org.billing_email.clone())).unwrap_or_default() error=field_error(error, "billing_email")/>
                <Submit action=update label="Save" busy="Saving…"/>
            </ActionForm>
        </section>
    }
    .into_any()
}

#[component]
fn Leave(org: OrgHeader, leave: ServerAction<LeaveOrg>, leaving: bool) -> impl IntoView {
    let error = action_error(leave);
    view! {
        <section class="mt-8 max-w-md rounded-lg border border-red-200 bg-white p-5" aria-labelledby="leave">
            <h2 id="leave" class="font-semibold text-red-800">"Leave the organization"</h2>
            {if org.owner {
                view! { <p class="mt-2 text-sm text-slate-600">"As the owner you cannot leave. Transfer ownership to another member on the members page first."</p> }.into_any()
            } else if leaving {
                view! {
                    <ActionForm action=leave attr:class="mt-3 space-y-2">
                        <FormAlert error/>
                        <input type="hidden" name="slug" value=org.slug.clone()/>
                        <p class="text-sm">{format!("Leave {}? You lose access at once.", org.name)}</p>
                        <button type="submit" class="rounded-md bg-red-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-red-500">"Leave"</button>
                        <a href="?" class="ml-3 text-sm text-slate-600 hover:underline">"Cancel"</a>
                    </ActionForm>
                }
                .into_any()
            } else {
                view! { <a href="?leave=1" class="mt-2 inline-block text-sm font-medium text-red-700 hover:underline">"Leave…"</a> }.into_any()
            }}
        </section>
    }
}
