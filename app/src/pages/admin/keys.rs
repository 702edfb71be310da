//! `/admin/keys`: platform keys (`tg_pk_…`, acting for any account): create (the
//! secret shown once), list and revoke with confirmation (`?revoke=<id>`).

use super::parts::AdminNav;
use crate::components::form::{action_error, field_error, kept_value, Field, FormAlert, Submit};
use crate::components::gate::Gate;
use crate::components::keys::{KeyTable, NewKeyBox};
use crate::server::admin::platform_keys::{
    admin_platform_keys, admin_take_new_platform_key, AdminPlatformKeyCreate, PLATFORM_KEYS_PATH,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The platform keys page.
#[component]
pub fn AdminKeysPage() -> impl IntoView {
    let create = ServerAction::<AdminPlatformKeyCreate>::new();
    let keys = Resource::new_blocking(move || create.version().get(), |_| admin_platform_keys());
    let flash = Resource::new_blocking(|| (), |_| admin_take_new_platform_key());
    let query = use_query_map();
    let confirming = Memo::new(move |_| query.read().get("revoke"));
    let error = action_error(create);
    view! {
        <Title text="Platform keys · Admin"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match keys.await {
                    Err(error) => view! { <AdminNav current=PLATFORM_KEYS_PATH/><Gate error/> }.into_any(),
                    Ok(list) => {
                        let from_cookie = flash.await.ok().flatten();
                        view! {
                            <AdminNav current=PLATFORM_KEYS_PATH/>
                            <h1 class="text-2xl font-bold">"Platform keys"</h1>
                            <p class="mt-1 max-w-2xl text-sm text-slate-600">
                                "A platform key acts for any account (it names the account in each request: "
                                <code class="rounded bg-slate-100 px-1">"\"account\": \"<external id>\""</code>
                                "). Give it only to your own backend. It is shown once; only a hash is kept."
                            </p>
                            <NewKeyBox key=Signal::derive(move || create.value().get().and_then(Result::ok).or_else(|| from_cookie.clone()))/>
                            <section class="mt-6 max-w-md rounded-lg border border-slate-200 bg-white p-5 shadow-sm" aria-labelledby="new-platform-key">
                                <h2 id="new-platform-key" class="font-semibold">"Create a platform key"</h2>
                                <ActionForm action=create attr:class="mt-3 space-y-3" attr:novalidate=true>
                                    <FormAlert error/>
                                    <Field label="Name" name="name" hint="Which backend uses it, e.g. \"billing worker\"." value=kept_value(error, "name", None).unwrap_or_default() error=field_error(error, "name")/>
                                    <Submit action=create label="Create platform key" busy="Creating…"/>
                                </ActionForm>
                            </section>
                            <KeyTable keys=list confirming revoke_url="/_fn/admin_platform_key_revoke" back=PLATFORM_KEYS_PATH empty="No platform keys yet."/>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}
