//! `/orgs/{slug}/security`: single sign-on, on plans whose `sso_enabled` is on;
//! elsewhere an explanation of which plan includes it.

use super::{slug_param, OrgFrame, OrgGate, Tab};
use crate::server::orgs::billing::org_security;
use leptos::prelude::*;

/// The security page.
#[component]
pub fn OrgSecurityPage() -> impl IntoView {
    let slug = slug_param();
    let data = Resource::new_blocking(move || slug.get(), org_security);
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <OrgGate error/> }.into_any(),
                    Ok(p) => view! {
                        <OrgFrame org=p.org.clone() tab=Tab::Security>
                            {if p.sso_enabled {
                                view! {
                                    <section class="max-w-xl rounded-lg border border-slate-200 bg-white p-5 shadow-sm" data-testid="sso">
                                        <h2 class="font-semibold">"Single sign-on (SAML / OIDC)"</h2>
                                        <p class="mt-2 text-sm text-slate-600">"Your plan includes single sign-on. Setting up an identity provider is coming soon; contact support to enable it for your organization now."</p>
                                    </section>
                                }.into_any()
                            } else {
                                view! {
                                    <section class="max-w-xl rounded-lg border border-dashed border-slate-300 p-5" data-testid="sso-unavailable">
                                        <h2 class="font-semibold">"Single sign-on is not part of your plan"</h2>
                                        <p class="mt-2 text-sm text-slate-600">"SSO comes with the Enterprise plan. "<a href="/pricing" class="font-medium text-indigo-700 underline hover:text-indigo-900">"Compare plans"</a></p>
                                    </section>
                                }.into_any()
                            }}
                        </OrgFrame>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}
