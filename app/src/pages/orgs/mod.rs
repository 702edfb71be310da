//! Organization pages: `/orgs/new` and `/orgs/{slug}/…` (usage, members,
//! settings, billing, security). Each page loads its data by slug; the server
//! checks membership on every request and answers "not found" to outsiders.

pub mod billing;
pub mod members;
pub mod security;
pub mod settings;
pub mod usage;

use crate::components::form::{action_error, field_error, kept_value, Field, FormAlert, Submit};
use crate::components::gate::Gate;
use crate::error::AppError;
use crate::org_model::OrgHeader;
use crate::server::orgs::CreateOrg;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

pub use billing::OrgBillingPage;
pub use members::OrgMembersPage;
pub use security::OrgSecurityPage;
pub use settings::OrgSettingsPage;
pub use usage::OrgUsagePage;

/// The `{slug}` of the current address.
pub fn slug_param() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("slug").unwrap_or_default())
}

/// What an organization page shows when its data is refused: like [`Gate`], with
/// the HTTP status set (404 for outsiders, 403 for lesser roles).
#[component]
pub fn OrgGate(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        match &error {
            AppError::NotFound(_) => res.set_status(axum::http::StatusCode::NOT_FOUND),
            AppError::Forbidden(_) => res.set_status(axum::http::StatusCode::FORBIDDEN),
            _ => {}
        }
    }
    view! { <Gate error/> }
}

/// Which tab is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// `/usage`.
    Usage,
    /// `/members`.
    Members,
    /// `/settings`.
    Settings,
    /// `/billing`.
    Billing,
    /// `/security`.
    Security,
}

/// The organization's header: whose pages these are, the caller's role, and the
/// tabs the role may open.
#[component]
pub fn OrgFrame(org: OrgHeader, tab: Tab, children: Children) -> impl IntoView {
    let tabs = [
        (Tab::Usage, "Usage", "usage", true),
        (Tab::Members, "Members", "members", true),
        (Tab::Settings, "Settings", "settings", true),
        (Tab::Billing, "Billing", "billing", org.manages),
        (Tab::Security, "Security", "security", org.manages),
    ];
    let links = tabs
        .into_iter()
        .filter(|t| t.3)
        .map(|(t, label, path, _)| {
            let class = if t == tab { "border-b-2 border-indigo-600 px-1 pb-2 font-semibold text-indigo-700" } else { "px-1 pb-2 text-slate-600 hover:text-slate-900" };
            view! { <a href=format!("/orgs/{}/{path}", org.slug) class=class aria-current=(t == tab).then_some("page")>{label}</a> }
        })
        .collect_view();
    view! {
        <Title text=org.name.clone()/>
        <div class="mb-6">
            <p class="text-sm text-slate-500" data-testid="acting-for" data-account=org.slug.clone()>
                {format!("Organization · you are {}", org.role)}
            </p>
            <h1 class="text-2xl font-bold" data-testid="org-name">{org.name.clone()}</h1>
            <nav class="mt-4 flex gap-4 border-b border-slate-200 text-sm" aria-label="Organization">{links}</nav>
        </div>
        {children()}
    }
}

/// `/orgs/new`: name, address (slug) and billing e-mail.
#[component]
pub fn NewOrgPage() -> impl IntoView {
    let action = ServerAction::<CreateOrg>::new();
    let error = action_error(action);
    view! {
        <Title text="New organization"/>
        <div class="mx-auto max-w-md rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h1 class="text-xl font-bold">"Create an organization"</h1>
            <p class="mt-1 text-sm text-slate-600">"An organization has its own plan, usage and members. You will be its owner."</p>
            <ActionForm action attr:class="mt-4 space-y-4" attr:novalidate=true>
                <FormAlert error/>
                <Field label="Name" name="name" value=kept_value(error, "name", None).unwrap_or_default() error=field_error(error, "name")/>
                <Field label="Address" name="slug" hint="Lower-case letters, digits and hyphens: /orgs/acme-inc" value=kept_value(error, "slug", None).unwrap_or_default() error=field_error(error, "slug")/>
                <Field label="Billing e-mail" name="billing_email" kind="email" autocomplete="email" value=kept_value(error, "billing_email", None).unwrap_or_default() error=field_error(error, "billing_email")/>
                <Submit action label="Create organization" busy="Creating…"/>
            </ActionForm>
        </div>
    }
}

/// A notice shown after a successful change (`?saved=1` and the like).
pub fn notice(text: Option<&'static str>) -> impl IntoView {
    text.map(|t| view! { <p class="mb-4 rounded-md border border-emerald-200 bg-emerald-50 px-4 py-2 text-sm text-emerald-900" role="status">{t}</p> })
}

/// Whether `?name=` is in the address (for notices after redirects).
pub fn query_flag(name: &'static str) -> Memo<bool> {
    let query = leptos_router::hooks::use_query_map();
    Memo::new(move |_| query.read().get(name).is_some())
}
