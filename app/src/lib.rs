//! Tollgate's pages, components and server functions (Leptos 0.8, rendered on the
//! server and hydrated in the browser). Every page works before hydration: forms
//! post to their server functions and links are plain links.

#![recursion_limit = "256"]

pub mod components;
pub mod csp;
pub mod error;
pub mod format;
pub mod hydration;
#[cfg(feature = "hydrate")]
pub mod live;
pub mod model;
pub mod org_model;
pub mod pages;
pub mod server;

use components::layout::Layout;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};
use pages::*;

/// The HTML document around the app. The public pages carry no script
/// ([`hydration::hydrates`]); `data-hydrates="false"` on `<html>` says so.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    csp::record_page_nonce();
    let hydrates = request_path().is_none_or(|path| hydration::hydrates(&path));
    if !hydrates {
        // Nothing will hydrate: resources need not send their data along.
        if let Some(context) = Owner::current_shared_context() {
            context.set_is_hydrating(false);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en" class="h-full bg-slate-50" data-hydrates=(!hydrates).then_some("false")>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                {hydrates.then(|| view! { <HydrationScripts options/> })}
                <MetaTags/>
            </head>
            <body class="h-full text-slate-900 antialiased">
                <App/>
            </body>
        </html>
    }
}

/// The path of the request being rendered (on the server; `None` in the browser).
fn request_path() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>().map(|parts| parts.uri.path().to_string())
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The app: routes under one layout. Every page renders in `Async` mode: protected
/// pages so that the paywall's redirects are real `302`s before any byte is sent,
/// and all of them so that the HTML holds the loaded data, not a "Loading…"
/// fallback that only JavaScript would replace (out-of-order streaming needs JS
/// when a resource resolves after the shell is sent). The layout creates
/// the shared actions inside the router, where a failed plain-form post's error
/// (in the URL) is visible to them.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/tollgate.css"/>
        <Title formatter=|text: String| if text.is_empty() { "Tollgate".to_string() } else { format!("{text} · Tollgate") }/>
        <Router>
            <Layout>
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/pricing") view=PricingPage ssr=SsrMode::Async/>
                    <Route path=path!("/signup") view=SignUpPage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LogInPage ssr=SsrMode::Async/>
                    <Route path=path!("/dashboard") view=DashboardPage ssr=SsrMode::Async/>
                    <Route path=path!("/billing") view=BillingPage ssr=SsrMode::Async/>
                    <Route path=path!("/billing/change") view=ChangePlanPage ssr=SsrMode::Async/>
                    <Route path=path!("/billing/cancel") view=CancelSubscriptionPage ssr=SsrMode::Async/>
                    <Route path=path!("/billing/checkout") view=CheckoutReturnPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/api-keys") view=ApiKeysPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings/webhooks") view=WebhooksPage ssr=SsrMode::Async/>
                    <Route path=path!("/notifications") view=NotificationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/orgs/new") view=NewOrgPage ssr=SsrMode::Async/>
                    <Route path=path!("/orgs/:slug/usage") view=OrgUsagePage ssr=SsrMode::Async/>
                    <Route path=path!("/orgs/:slug/members") view=OrgMembersPage ssr=SsrMode::Async/>
                    <Route path=path!("/orgs/:slug/settings") view=OrgSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/orgs/:slug/billing") view=OrgBillingPage ssr=SsrMode::Async/>
                    <Route path=path!("/orgs/:slug/security") view=OrgSecurityPage ssr=SsrMode::Async/>
                    <Route path=path!("/invite/:token") view=InvitePage ssr=SsrMode::Async/>
                    <Route path=path!("/forgot-password") view=ForgotPasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/reset-password") view=ResetPasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin") view=AdminHomePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/usage") view=AdminUsagePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/costs") view=AdminCostsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view=AdminUsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users/:id") view=AdminUserPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/organizations") view=AdminOrgsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/organizations/:id") view=AdminOrgPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view=AdminAuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/keys") view=AdminKeysPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/webhooks") view=AdminWebhooksPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/plans") view=AdminPlansPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/billing/invoices") view=AdminInvoicesPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/billing/subscriptions") view=AdminSubscriptionsPage ssr=SsrMode::Async/>
                </Routes>
            </Layout>
        </Router>
    }
}
