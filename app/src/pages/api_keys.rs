//! `/settings/api-keys`: create (shown once, with a copy button), list (name,
//! prefix, created, last used) and revoke with confirmation (`?revoke=<id>`).
//! The list and the new-key box are shared with `/admin/keys`.

use crate::components::form::{action_error, field_error, kept_value, Field, FormAlert, Submit};
use crate::components::gate::Gate;
use crate::components::keys::{KeyTable, NewKeyBox};
use crate::server::keys::{
    list_api_keys, take_new_api_key, unverified_email, CreateApiKey, SendEmailVerification,
    KEYS_PATH,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Percent-encodes a key name for the one-time cookie.
pub fn encode_name(name: &str) -> String {
    tollgate::access::encode_component(name)
}

/// Reverses [`encode_name`] (invalid sequences are kept as they are).
pub fn decode_name(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The API keys page.
#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let keys = Resource::new_blocking(move || create.version().get(), |_| list_api_keys());
    let flash = Resource::new_blocking(|| (), |_| take_new_api_key());
    let query = use_query_map();
    let confirming = Memo::new(move |_| query.read().get("revoke"));
    let error = action_error(create);
    view! {
        <Title text="API keys"/>
        <h1 class="text-2xl font-bold">"API keys"</h1>
        <p class="mt-1 max-w-2xl text-sm text-slate-600">
            "Your backend sends usage and checks limits with a secret key: "
            <code class="rounded bg-slate-100 px-1">"Authorization: Bearer tg_sk_…"</code>
            ". A key is shown once; only a hash is kept."
        </p>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let from_cookie = flash.await.ok().flatten();
                view! { <NewKeyBox key=Signal::derive(move || create.value().get().and_then(Result::ok).or_else(|| from_cookie.clone()))/> }
            })}
        </Suspense>
        <EmailVerification/>
        <section class="mt-6 max-w-md rounded-lg border border-slate-200 bg-white p-5 shadow-sm" aria-labelledby="new-key">
            <h2 id="new-key" class="font-semibold">"Create a key"</h2>
            <ActionForm action=create attr:class="mt-3 space-y-3" attr:novalidate=true>
                <FormAlert error/>
                <Field label="Name" name="name" hint="Where it is used, e.g. \"production backend\"." value=kept_value(error, "name", None).unwrap_or_default() error=field_error(error, "name")/>
                <Submit action=create label="Create key" busy="Creating…"/>
            </ActionForm>
        </section>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading keys…"</p> }>
            {move || Suspend::new(async move {
                match keys.await {
                    Err(error) => view! { <Gate error/> }.into_any(),
                    Ok(list) => view! { <KeyTable keys=list confirming revoke_url="/_fn/api_key_revoke" back=KEYS_PATH empty="No keys yet. Create one above."/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Where an e-mail verification link lands (`?verified=1`, or `0` for a bad
/// link), and, while the user's address is unverified, why keys cannot be created
/// yet, with a button that sends the link again.
#[component]
fn EmailVerification() -> impl IntoView {
    let send = ServerAction::<SendEmailVerification>::new();
    let unverified = Resource::new_blocking(move || send.version().get(), |_| unverified_email());
    let query = use_query_map();
    let landed = move || query.read().get("verified");
    let error = action_error(send);
    let sent = move || matches!(send.value().get(), Some(Ok(())));
    view! {
        {move || match landed().as_deref() {
            Some("1") => Some(view! { <p class="mt-4 max-w-2xl rounded-md bg-green-50 p-3 text-sm text-green-800" role="status">"Your e-mail address is confirmed."</p> }.into_any()),
            Some(_) => Some(view! { <p class="mt-4 max-w-2xl rounded-md bg-red-50 p-3 text-sm text-red-800" role="alert">"That confirmation link is invalid, used or expired. Send a new one below."</p> }.into_any()),
            None => None,
        }}
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                unverified.await.ok().flatten().map(|email| view! {
                    <section class="mt-6 max-w-2xl rounded-lg border border-amber-300 bg-amber-50 p-5" aria-labelledby="verify-email">
                        <h2 id="verify-email" class="font-semibold text-amber-900">"Confirm your e-mail address"</h2>
                        <p class="mt-1 text-sm text-amber-900">
                            "We sent a link to " <strong>{email}</strong>
                            ". Open it to create API keys and invite people."
                        </p>
                        <ActionForm action=send attr:class="mt-3 space-y-2">
                            <FormAlert error/>
                            {move || sent().then(|| view! { <p class="text-sm text-green-800" role="status">"Sent. Check your inbox."</p> })}
                            <Submit action=send label="Send the link again" busy="Sending…"/>
                        </ActionForm>
                    </section>
                })
            })}
        </Suspense>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_survive_the_cookie() {
        for n in ["prod", "my key; with=stuff", "ünïcödé ✓", "100%"] {
            assert_eq!(decode_name(&encode_name(n)), n);
        }
    }
}
