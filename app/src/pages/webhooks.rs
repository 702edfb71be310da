//! `/settings/webhooks` (the account's endpoints) and `/admin/webhooks` (the
//! platform's, every account's events): add an endpoint (its secret shown once),
//! enable, disable, rotate the secret, delete with confirmation
//! (`?delete=<id>`), and an endpoint's delivery log (`?endpoint=<id>&page=n`)
//! with replay. Every control is a plain form: the page works before and after
//! hydration.

use super::admin::parts::AdminNav;
use crate::components::form::{action_error, field_error, kept_value, Field, FormAlert, Submit};
use crate::components::gate::Gate;
use crate::components::table::DataTable;
use crate::format::datetime;
use crate::model::{NewApiKey, WebhookDeliveryDetail, WebhookDeliveryPage, WebhookEndpointView};
use crate::server::webhooks::{
    page_path, take_new_webhook_secret, webhook_deliveries, webhook_delivery, webhook_endpoints, CreateWebhookEndpoint,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use tollgate::webhook::EventType;

/// The account's webhooks page.
#[component]
pub fn WebhooksPage() -> impl IntoView {
    view! {
        <Title text="Webhooks"/>
        <WebhooksPanel admin=false/>
    }
}

/// The platform's webhooks page.
#[component]
pub fn AdminWebhooksPage() -> impl IntoView {
    view! {
        <Title text="Webhooks · Admin"/>
        <AdminNav current="/admin/webhooks"/>
        <WebhooksPanel admin=true/>
    }
}

#[component]
fn WebhooksPanel(admin: bool) -> impl IntoView {
    let create = ServerAction::<CreateWebhookEndpoint>::new();
    let endpoints = Resource::new_blocking(move || create.version().get(), move |_| webhook_endpoints(admin));
    let flash = Resource::new_blocking(|| (), move |_| take_new_webhook_secret(admin));
    let query = use_query_map();
    let deleting = Memo::new(move |_| query.read().get("delete"));
    let showing = Memo::new(move |_| query.read().get("endpoint"));
    let page = Memo::new(move |_| query.read().get("page").and_then(|p| p.parse::<u32>().ok()).unwrap_or(0));
    let log = Resource::new_blocking(
        move || (showing.get(), page.get()),
        move |(id, page)| async move {
            match id {
                Some(id) => webhook_deliveries(admin, id, page).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let opened = Memo::new(move |_| query.read().get("delivery"));
    let detail = Resource::new_blocking(
        move || (showing.get(), opened.get()),
        move |(id, delivery)| async move {
            match (id, delivery) {
                (Some(id), Some(delivery)) => webhook_delivery(admin, id, delivery).await.map(Some),
                _ => Ok(None),
            }
        },
    );
    let error = action_error(create);
    let intro = if admin {
        "Platform endpoints receive the events of every account: your own systems (CRM, data warehouse, alerting)."
    } else {
        "Endpoints receive this account's events as they happen: usage limits, plan changes, invoices, members."
    };
    view! {
        <h1 class="text-2xl font-bold">"Webhooks"</h1>
        <p class="mt-1 max-w-2xl text-sm text-slate-600">
            {intro}
            " Each delivery is signed per "
            <a class="text-indigo-700 underline" href="https://www.standardwebhooks.com/">"Standard Webhooks"</a>
            " (" <code class="rounded bg-slate-100 px-1">"webhook-signature: v1,…"</code>
            "): verify it with their libraries and the endpoint's secret. Failed deliveries are retried for 3 days."
        </p>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let from_cookie = flash.await.ok().flatten();
                view! { <SecretBox secret=Signal::derive(move || create.value().get().and_then(Result::ok).or_else(|| from_cookie.clone()))/> }
            })}
        </Suspense>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading endpoints…"</p> }>
            {move || Suspend::new(async move {
                match endpoints.await {
                    Err(error) => view! { <Gate error/> }.into_any(),
                    Ok(list) => view! { <EndpointList admin list deleting/> }.into_any(),
                }
            })}
        </Suspense>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading deliveries…"</p> }>
            {move || Suspend::new(async move {
                match log.await {
                    Err(error) => view! { <Gate error/> }.into_any(),
                    Ok(None) => ().into_any(),
                    Ok(Some(p)) => view! { <DeliveryLog admin page=p replayed=query.read_untracked().get("replayed").is_some()/> }.into_any(),
                }
            })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(error) => view! { <Gate error/> }.into_any(),
                    Ok(None) => ().into_any(),
                    Ok(Some(d)) => view! { <DeliveryDetail d/> }.into_any(),
                }
            })}
        </Suspense>
        <section class="mt-8 max-w-2xl rounded-lg border border-slate-200 bg-white p-5 shadow-sm" aria-labelledby="new-endpoint">
            <h2 id="new-endpoint" class="font-semibold">"Add an endpoint"</h2>
            <ActionForm action=create attr:class="mt-3 space-y-3" attr:novalidate=true>
                <input type="hidden" name="admin" value=admin.to_string()/>
                <FormAlert error/>
                <Field label="URL" name="url" kind="url" hint="Where Tollgate POSTs the events, e.g. https://example.com/hooks/tollgate." value=kept_value(error, "url", None).unwrap_or_default() error=field_error(error, "url")/>
                <div class="space-y-1">
                    <label for="field-description" class="block text-sm font-medium text-slate-700">"Description (optional)"</label>
                    <input id="field-description" name="description" type="text" maxlength="200" value=kept_value(error, "description", None).unwrap_or_default()
                        aria-describedby="field-description-error"
                        class="block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:outline-none focus:ring-2 focus:ring-indigo-500"/>
                    <p id="field-description-error" class="text-sm text-red-700" role="alert">{move || field_error(error, "description").get()}</p>
                </div>
                <fieldset>
                    <legend class="text-sm font-medium text-slate-700">"Events (none ticked: every event)"</legend>
                    <div class="mt-2 grid gap-1 sm:grid-cols-2">
                        {EventType::ALL.iter().map(|t| view! {
                            <label class="flex items-start gap-2 text-sm" title=t.description()>
                                <input type="checkbox" name="event_types[]" value=t.as_str() class="mt-1"/>
                                <span><code class="text-xs">{t.as_str()}</code></span>
                            </label>
                        }).collect_view()}
                    </div>
                    <p class="text-sm text-red-700" role="alert">{move || field_error(error, "event_types").get()}</p>
                </fieldset>
                <Submit action=create label="Add endpoint" busy="Adding…"/>
            </ActionForm>
        </section>
    }
}

/// The secret of an endpoint just added or rotated, shown once, selectable.
#[component]
fn SecretBox(secret: Signal<Option<NewApiKey>>) -> impl IntoView {
    move || {
        secret.get().map(|s| view! {
            <div class="mt-6 max-w-2xl rounded-lg border border-emerald-300 bg-emerald-50 p-4" role="status" data-testid="new-webhook-secret">
                <p class="font-semibold text-emerald-900">{format!("The signing secret of {}. Copy it now: it will not be shown again.", s.name)}</p>
                <input readonly=true value=s.secret aria-label="Signing secret" data-testid="webhook-secret"
                    class="mt-2 w-full rounded-md border border-emerald-300 bg-white px-3 py-2 font-mono text-sm"/>
            </div>
        })
    }
}

fn change_form(admin: bool, id: &str, change: &'static str, label: &'static str, class: &'static str) -> impl IntoView {
    view! {
        <form method="post" action="/_fn/webhook_endpoint_change" class="inline">
            <input type="hidden" name="admin" value=admin.to_string()/>
            <input type="hidden" name="id" value=id.to_owned()/>
            <input type="hidden" name="change" value=change/>
            <button type="submit" class=class>{label}</button>
        </form>
    }
}

#[component]
fn EndpointList(admin: bool, list: Vec<WebhookEndpointView>, deleting: Memo<Option<String>>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="mt-6 max-w-2xl rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-500" data-testid="no-endpoints">"No endpoints yet. Add one below."</p> }.into_any();
    }
    let path = page_path(admin);
    let link = "font-medium text-indigo-700 hover:underline";
    let rows = list
        .into_iter()
        .map(|e| {
            let id = e.id.to_string();
            let types = if e.event_types.is_empty() { "Every event".to_owned() } else { e.event_types.join(", ") };
            let state = match (e.enabled, e.disabled_reason.as_deref(), e.failing_since) {
                (true, _, Some(since)) => format!("Enabled, failing since {}", datetime(since)),
                (true, _, None) => "Enabled".to_owned(),
                (false, Some("failing"), _) => "Disabled: failed for 3 days".to_owned(),
                (false, _, _) => "Disabled".to_owned(),
            };
            let confirm = {
                let id = id.clone();
                let url = e.url.clone();
                move || {
                    (deleting.get().as_deref() == Some(id.as_str())).then(|| view! {
                        <form method="post" action="/_fn/webhook_endpoint_change" class="mt-2 flex flex-wrap items-center gap-2" data-testid="confirm-delete">
                            <input type="hidden" name="admin" value=admin.to_string()/>
                            <input type="hidden" name="id" value=id.clone()/>
                            <input type="hidden" name="change" value="delete"/>
                            <span class="text-sm">{format!("Delete {url} and its delivery log?")}</span>
                            <button type="submit" class="rounded-md bg-red-600 px-3 py-1 text-sm font-semibold text-white hover:bg-red-500">"Delete"</button>
                            <a href=path class="text-sm text-slate-600 hover:underline">"Cancel"</a>
                        </form>
                    })
                }
            };
            view! {
                <tr data-endpoint=e.url.clone()>
                    <td class="px-4 py-2">
                        <div class="font-mono text-xs break-all">{e.url.clone()}</div>
                        {(!e.description.is_empty()).then(|| view! { <div class="text-xs text-slate-500">{e.description.clone()}</div> })}
                        {confirm}
                    </td>
                    <td class="px-4 py-2 text-xs text-slate-600">{types}</td>
                    <td class="px-4 py-2 text-sm" data-testid="endpoint-state">
                        {state}
                        {e.previous_secret_expires_at.map(|at| view! { <div class="text-xs text-slate-500">{format!("Old secret signs until {}", datetime(at))}</div> })}
                    </td>
                    <td class="px-4 py-2 text-sm">
                        <div class="flex flex-wrap gap-3">
                            <a href=format!("{path}?endpoint={id}") class=link>"Deliveries"</a>
                            {if e.enabled {
                                change_form(admin, &id, "disable", "Disable", "font-medium text-slate-700 hover:underline").into_any()
                            } else {
                                change_form(admin, &id, "enable", "Enable", link).into_any()
                            }}
                            {change_form(admin, &id, "rotate", "Rotate secret", "font-medium text-slate-700 hover:underline")}
                            <a href=format!("{path}?delete={id}") class="font-medium text-red-700 hover:underline">"Delete…"</a>
                        </div>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! { <DataTable headers=&["Endpoint", "Events", "State", ""] class="mt-6">{rows}</DataTable> }.into_any()
}

#[component]
fn DeliveryLog(admin: bool, page: WebhookDeliveryPage, replayed: bool) -> impl IntoView {
    let path = page_path(admin);
    let endpoint = page.endpoint.id.to_string();
    let pages = u32::try_from((page.total + 24) / 25).unwrap_or(u32::MAX).max(1);
    let rows = page
        .deliveries
        .into_iter()
        .map(|d| {
            let answer = match (d.response_status, d.error.as_deref()) {
                (Some(s), _) => s.to_string(),
                (None, Some(e)) => e.to_owned(),
                (None, None) => "–".to_owned(),
            };
            let status = match (d.status.as_str(), d.next_attempt_at) {
                ("pending", Some(at)) if d.attempts > 0 => format!("Retrying at {}", datetime(at)),
                ("pending", _) => "Pending".to_owned(),
                ("succeeded", _) => "Delivered".to_owned(),
                _ => "Failed".to_owned(),
            };
            view! {
                <tr data-event-type=d.event_type.clone() data-status=d.status.clone()>
                    <td class="px-4 py-2 text-slate-600">{datetime(d.created_at)}</td>
                    <td class="px-4 py-2">
                        <a href=format!("{path}?endpoint={endpoint}&delivery={}#delivery", d.id) class="font-mono text-xs text-indigo-700 underline">{d.event_type.clone()}</a>
                        {d.replay_of.map(|_| view! { <span class="ml-1 text-xs text-slate-500">"(replay)"</span> })}
                    </td>
                    <td class="px-4 py-2">{status}</td>
                    <td class="px-4 py-2 text-right">{d.attempts}</td>
                    <td class="px-4 py-2 font-mono text-xs" title=d.error.clone().unwrap_or_default()>{answer}</td>
                    <td class="px-4 py-2 text-right">{d.latency_ms.map_or("–".to_owned(), |l| format!("{l} ms"))}</td>
                    <td class="px-4 py-2">
                        <form method="post" action="/_fn/webhook_delivery_replay">
                            <input type="hidden" name="admin" value=admin.to_string()/>
                            <input type="hidden" name="id" value=endpoint.clone()/>
                            <input type="hidden" name="delivery" value=d.id.to_string()/>
                            <button type="submit" class="font-medium text-indigo-700 hover:underline" aria-label=format!("Replay the {} delivery #{}", d.event_type, d.sequence)>"Replay"</button>
                        </form>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let nav = |p: u32, label: &'static str| view! { <a href=format!("{path}?endpoint={endpoint}&page={p}") class="font-medium text-indigo-700 hover:underline">{label}</a> };
    view! {
        <section class="mt-8" aria-labelledby="deliveries">
            <h2 id="deliveries" class="font-semibold">{format!("Deliveries to {}", page.endpoint.url)}</h2>
            <p class="text-sm text-slate-600">{format!("{} in all, newest first.", page.total)} " " <a href=path class="text-indigo-700 underline">"Close"</a></p>
            {replayed.then(|| view! { <p class="mt-2 rounded-md bg-green-50 p-3 text-sm text-green-800" role="status">"Replay queued: it goes out within seconds."</p> })}
            {if page.total == 0 {
                view! { <p class="mt-3 rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-500" data-testid="no-deliveries">"No deliveries yet: they appear when an event this endpoint wants happens."</p> }.into_any()
            } else {
                view! { <DataTable headers=&["Event time", "Type", "Status", "Attempts", "Answer", "Latency", ""] class="mt-3">{rows}</DataTable> }.into_any()
            }}
            <div class="mt-2 flex gap-4 text-sm">
                {(page.page > 0).then(|| nav(page.page - 1, "Newer"))}
                {(page.page + 1 < pages).then(|| nav(page.page + 1, "Older"))}
            </div>
        </section>
    }
}

/// A delivery in full: the request as sent, and every attempt with its answer.
#[component]
fn DeliveryDetail(d: WebhookDeliveryDetail) -> impl IntoView {
    let rows = d
        .attempts
        .into_iter()
        .map(|a| view! {
            <tr>
                <td class="px-4 py-2 text-slate-600">{datetime(a.attempted_at)}</td>
                <td class="px-4 py-2 font-mono text-xs">{a.response_status.map_or("–".to_owned(), |s| s.to_string())}</td>
                <td class="px-4 py-2 text-right">{format!("{} ms", a.latency_ms)}</td>
                <td class="px-4 py-2 text-xs">{a.error.unwrap_or_default()}</td>
                <td class="px-4 py-2 font-mono text-xs break-all">{a.response_body}</td>
            </tr>
        })
        .collect_view();
    view! {
        <section id="delivery" class="mt-8" aria-labelledby="delivery-title" data-testid="delivery-detail">
            <h2 id="delivery-title" class="font-semibold">{format!("Delivery of {} #{}", d.delivery.event_type, d.delivery.sequence)}</h2>
            <h3 class="mt-3 text-sm font-medium">"Request body"</h3>
            <pre class="mt-1 max-h-80 overflow-auto rounded-md bg-slate-900 p-3 text-xs text-slate-100" tabindex="0">{d.request_body}</pre>
            <h3 class="mt-4 text-sm font-medium">"Attempts"</h3>
            <DataTable headers=&["When", "Status", "Latency", "Error", "Answer"] class="mt-1">{rows}</DataTable>
        </section>
    }
}
