//! `/settings/api-keys`: create (shown once, with a copy button), list (name,
//! prefix, created, last used) and revoke with confirmation (`?revoke=<id>`).

use crate::components::form::{action_error, field_error, kept_value, Field, FormAlert, Submit};
use crate::components::gate::Gate;
use crate::format::datetime;
use crate::model::{ApiKeyView, NewApiKey};
use crate::server::keys::{list_api_keys, take_new_api_key, CreateApiKey, RevokeApiKey};
use crate::components::table::DataTable;
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
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
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
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new_blocking(move || (create.version().get(), revoke.version().get()), |_| list_api_keys());
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
                    Ok(list) => view! { <KeyTable keys=list confirming revoke/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn NewKeyBox(key: Signal<Option<NewApiKey>>) -> impl IntoView {
    let copied = RwSignal::new(false);
    view! {
        <Show when=move || key.get().is_some()>
            {move || key.get().map(|k| {
                let secret = k.secret.clone();
                view! {
                    <div class="mt-6 rounded-lg border border-emerald-300 bg-emerald-50 p-4" role="status" data-testid="new-key">
                        <p class="font-semibold text-emerald-900">{format!("Key \"{}\" created. Copy it now: it will not be shown again.", k.name)}</p>
                        <div class="mt-2 flex gap-2">
                            <input
                                readonly=true
                                value=k.secret.clone()
                                aria-label="New API key"
                                data-testid="new-key-secret"
                                class="w-full rounded-md border border-emerald-300 bg-white px-3 py-2 font-mono text-sm"
                                on:focus=|ev| {
                                    #[cfg(feature = "hydrate")]
                                    {
                                        use wasm_bindgen::JsCast;
                                        if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                                            input.select();
                                        }
                                    }
                                    #[cfg(not(feature = "hydrate"))]
                                    let _ = ev;
                                }
                            />
                            <button
                                type="button"
                                class="rounded-md bg-emerald-700 px-3 py-2 text-sm font-semibold text-white hover:bg-emerald-600"
                                on:click=move |_| {
                                    #[cfg(feature = "hydrate")]
                                    if let Some(w) = web_sys::window() {
                                        let _ = w.navigator().clipboard().write_text(&secret);
                                        copied.set(true);
                                    }
                                    #[cfg(not(feature = "hydrate"))]
                                    let _ = &secret;
                                }
                            >
                                {move || if copied.get() { "Copied" } else { "Copy" }}
                            </button>
                        </div>
                    </div>
                }
            })}
        </Show>
    }
}

/// "Revoke…" link, or the confirmation when `?revoke=` names this key.
#[component]
fn RevokeControl(id: String, name: String, confirming: Memo<Option<String>>, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    move || {
        if confirming.get().as_deref() == Some(id.as_str()) {
            let (id, question) = (id.clone(), format!("Revoke \"{name}\"? Requests with it will fail at once."));
            view! {
                <ActionForm action=revoke attr:class="flex flex-wrap items-center gap-2">
                    <input type="hidden" name="id" value=id.clone()/>
                    <span class="text-sm">{question.clone()}</span>
                    <button type="submit" class="rounded-md bg-red-600 px-3 py-1 text-sm font-semibold text-white hover:bg-red-500">"Revoke"</button>
                    <a href="/settings/api-keys" class="text-sm text-slate-600 hover:underline">"Cancel"</a>
                </ActionForm>
            }
            .into_any()
        } else {
            view! { <a href=format!("?revoke={id}") class="font-medium text-red-700 hover:underline">"Revoke…"</a> }.into_any()
        }
    }
}

#[component]
fn KeyTable(keys: Vec<ApiKeyView>, confirming: Memo<Option<String>>, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    if keys.is_empty() {
        return view! { <p class="mt-6 rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-500">"No keys yet. Create one above."</p> }.into_any();
    }
    let rows = keys
        .into_iter()
        .map(|k| {
            let id = k.id.to_string();
            let revoked = k.revoked_at.is_some();
            view! {
                <tr data-key=k.name.clone() data-revoked=revoked.to_string()>
                    <td class="px-4 py-2 font-medium">{k.name.clone()}</td>
                    <td class="px-4 py-2 font-mono text-xs">{format!("{}…", k.prefix)}</td>
                    <td class="px-4 py-2 text-slate-600">{datetime(k.created_at)}</td>
                    <td class="px-4 py-2 text-slate-600" data-testid="last-used">{k.last_used_at.map_or("Never".to_string(), datetime)}</td>
                    <td class="px-4 py-2">
                        {match k.revoked_at {
                            Some(at) => view! { <span class="text-slate-500">{format!("Revoked {}", datetime(at))}</span> }.into_any(),
                            None => view! { <RevokeControl id name=k.name.clone() confirming revoke/> }.into_any(),
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable headers=&["Name", "Key", "Created", "Last used", ""] class="mt-6">{rows}</DataTable>
    }
    .into_any()
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
