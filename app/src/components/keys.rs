//! API key lists and the one-time display of a new key's secret, shared by
//! `/settings/api-keys` (an account's keys) and `/admin/keys` (platform keys).

use crate::components::table::DataTable;
use crate::format::datetime;
use crate::model::{ApiKeyView, NewApiKey};
use leptos::prelude::*;

/// The new key's secret, shown once, with a copy button.
#[component]
pub fn NewKeyBox(key: Signal<Option<NewApiKey>>) -> impl IntoView {
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

/// "Revoke…" link, or the confirmation when `?revoke=` names this key: a plain form
/// post to `revoke_url` (a server function that redirects back to `back`), the
/// same with or without JavaScript.
#[component]
fn RevokeControl(
    id: String,
    name: String,
    confirming: Memo<Option<String>>,
    revoke_url: &'static str,
    back: &'static str,
) -> impl IntoView {
    move || {
        if confirming.get().as_deref() == Some(id.as_str()) {
            let (id, question) = (
                id.clone(),
                format!("Revoke \"{name}\"? Requests with it will fail at once."),
            );
            view! {
                <form method="post" action=revoke_url class="flex flex-wrap items-center gap-2">
                    <input type="hidden" name="id" value=id.clone()/>
                    <span class="text-sm">{question.clone()}</span>
                    <button type="submit" class="rounded-md bg-red-600 px-3 py-1 text-sm font-semibold text-white hover:bg-red-500">"Revoke"</button>
                    <a href=back class="text-sm text-slate-600 hover:underline">"Cancel"</a>
                </form>
            }
            .into_any()
        } else {
            view! { <a href=format!("?revoke={id}") class="font-medium text-red-700 hover:underline">"Revoke…"</a> }.into_any()
        }
    }
}

/// The keys (name, prefix, created, last used) with their revoke controls;
/// `empty` when there are none.
#[component]
pub fn KeyTable(
    keys: Vec<ApiKeyView>,
    confirming: Memo<Option<String>>,
    revoke_url: &'static str,
    back: &'static str,
    empty: &'static str,
) -> impl IntoView {
    if keys.is_empty() {
        return view! { <p class="mt-6 rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-500" data-testid="no-keys">{empty}</p> }.into_any();
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
                            None => view! { <RevokeControl id name=k.name.clone() confirming revoke_url back/> }.into_any(),
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
