//! `/admin/plans`: every plan of the live catalog (hidden and sales-only too) with
//! prices, limits, features, trial and subscribers. A limit, price, feature value,
//! trial or usage threshold is edited with a GET form
//! (`?kind=&plan=&target=&value=&enforcement=&grace_percent=`, so the preview works
//! without JavaScript), previewed as a diff, and published as a new catalog version
//! from the confirmation. Subscribers keeping an older price are moved to the
//! current one from `?move=<plan>&interval=`, after a preview of their MRR.

use super::parts::AdminNav;
use super::users::param;
use crate::components::form::{action_error, FormAlert, Submit};
use crate::components::gate::Gate;
use crate::components::table::DataTable;
use crate::format::datetime;
use crate::model::admin::{EditPreviewView, PlansView, PriceMoveView};
use crate::server::admin::plans::{
    admin_plans, admin_preview_edit, admin_preview_price_move, AdminMoveToCurrentPrice,
    AdminPublishEdit,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

const INPUT: &str = "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm";
const BUTTON: &str =
    "rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium hover:bg-slate-50";

/// An edit as the query string carries it.
#[derive(Debug, Clone, Default, PartialEq)]
struct EditQuery {
    kind: String,
    plan: String,
    target: String,
    value: String,
    enforcement: String,
    grace_percent: String,
}

impl EditQuery {
    fn read(q: Memo<ParamsMap>) -> Option<Self> {
        let kind = param(q, "kind");
        (!kind.is_empty()).then(|| EditQuery {
            kind,
            plan: param(q, "plan"),
            target: param(q, "target"),
            value: param(q, "value"),
            enforcement: param(q, "enforcement"),
            grace_percent: param(q, "grace_percent"),
        })
    }

    /// The value a form field starts with: the one asked for when this form was
    /// the one submitted.
    fn field(&self, kind: &str, f: fn(&EditQuery) -> &String) -> String {
        if self.kind == kind {
            f(self).clone()
        } else {
            String::new()
        }
    }
}

/// The plans page.
#[component]
pub fn AdminPlansPage() -> impl IntoView {
    let query = use_query_map();
    let q = Memo::new(move |_| query.get());
    let publish = ServerAction::<AdminPublishEdit>::new();
    let move_action = ServerAction::<AdminMoveToCurrentPrice>::new();
    let data = Resource::new_blocking(
        move || {
            (
                publish.version().get(),
                move_action.version().get(),
                param(q, "published"),
                param(q, "moved"),
            )
        },
        |_| admin_plans(),
    );
    let wanted = Memo::new(move |_| EditQuery::read(q));
    let preview = Resource::new_blocking(
        move || wanted.get(),
        |w| async move {
            match w {
                Some(w) => Some(
                    admin_preview_edit(
                        w.kind,
                        Some(w.plan),
                        Some(w.target),
                        Some(w.value),
                        Some(w.enforcement),
                        Some(w.grace_percent),
                    )
                    .await,
                ),
                None => None,
            }
        },
    );
    let move_wanted = Memo::new(move |_| {
        let plan = param(q, "move");
        (!plan.is_empty()).then(|| (plan, param(q, "interval")))
    });
    let move_preview = Resource::new_blocking(
        move || (move_wanted.get(), move_action.version().get()),
        |(w, _)| async move {
            match w {
                Some((plan, interval)) => Some(admin_preview_price_move(plan, interval).await),
                None => None,
            }
        },
    );
    view! {
        <Title text="Plans · Admin"/>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <AdminNav current="/admin/plans"/><Gate error/> }.into_any(),
                    Ok(plans) => view! {
                        <AdminNav current="/admin/plans"/>
                        <h1 class="text-2xl font-bold">"Plans"</h1>
                        {version_line(&plans, (param(q, "published"), param(q, "stripe")), (param(q, "moved"), param(q, "failed")))}
                        <Editors plans=plans.clone() asked=wanted.get_untracked().unwrap_or_default()/>
                        <Suspense fallback=|| view! { <p class="mt-3 text-sm text-slate-500">"Checking the edit…"</p> }>
                            {move || Suspend::new(async move {
                                match (preview.await, wanted.get()) {
                                    (Some(Ok(p)), Some(w)) => view! { <PublishBox p w publish/> }.into_any(),
                                    (Some(Err(e)), _) => view! { <p class="mt-3 rounded-md bg-red-50 p-3 text-sm text-red-800" role="alert" data-testid="edit-error">{e.explained()}</p> }.into_any(),
                                    _ => ().into_any(),
                                }
                            })}
                        </Suspense>
                        <Suspense fallback=|| view! { <p class="mt-3 text-sm text-slate-500">"Counting the subscribers…"</p> }>
                            {move || Suspend::new(async move {
                                match (move_preview.await, move_wanted.get()) {
                                    (Some(Ok(p)), Some(w)) => view! { <MoveBox p w move_action/> }.into_any(),
                                    (Some(Err(e)), _) => view! { <p class="mt-3 rounded-md bg-red-50 p-3 text-sm text-red-800" role="alert" data-testid="move-error">{e.explained()}</p> }.into_any(),
                                    _ => ().into_any(),
                                }
                            })}
                        </Suspense>
                        {plan_table(&plans)}
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

fn version_line(
    plans: &PlansView,
    (published, stripe): (String, String),
    (moved, failed): (String, String),
) -> impl IntoView {
    let failed = failed.parse::<usize>().unwrap_or(0);
    view! {
        <p class="mt-1 text-sm text-slate-600" data-testid="catalog-version">
            {match &plans.version {
                Some((v, source, at)) => format!("Live catalog version {v} (from {source}), published {}. `tollgate catalog export` writes it as TOML.", datetime(*at)),
                None => "No catalog version is kept yet: load the catalog file once more to edit plans here.".to_string(),
            }}
        </p>
        {(!published.is_empty()).then(|| view! {
            <p class="mt-2 rounded-md bg-emerald-50 p-3 text-sm text-emerald-900" role="status" data-testid="published">
                {format!("Published catalog version {published}: every server applies it now.")}
                {match stripe.as_str() {
                    "synced" => " Stripe's prices were synced: new card subscriptions pay the new price.",
                    "failed" => " Stripe's prices could not be synced (see the server log): run `tollgate stripe sync` before card customers choose this plan.",
                    _ => "",
                }}
            </p>
        })}
        {(!moved.is_empty()).then(|| view! {
            <p class="mt-2 rounded-md bg-emerald-50 p-3 text-sm text-emerald-900" role="status" data-testid="moved">
                {format!("Moved {moved} subscription(s) to the current price, from their next renewal.")}
                {(failed > 0).then(|| format!(" {failed} could not be moved (see the server log); they keep their price and can be moved again."))}
            </p>
        })}
        {(!plans.thresholds.is_empty()).then(|| view! { <p class="mt-1 text-xs text-slate-500" data-testid="thresholds">{format!("Usage thresholds: {}", plans.thresholds.join(" · "))}</p> })}
    }
}

/// A labelled text input of an editor.
struct TextInput {
    id: &'static str,
    label: &'static str,
    name: &'static str,
    required: bool,
    inputmode: &'static str,
    placeholder: &'static str,
}

fn text_input(i: TextInput, value: String) -> impl IntoView {
    view! {
        <div class="space-y-1">
            <label for=i.id class="block text-sm text-slate-700">{i.label}</label>
            <input id=i.id name=i.name required=i.required inputmode=i.inputmode placeholder=i.placeholder value=value class=INPUT/>
        </div>
    }
}

fn plan_select(id: &'static str, plans: &PlansView, selected: &str) -> impl IntoView {
    view! {
        <div class="space-y-1">
            <label for=id class="block text-sm text-slate-700">"Plan"</label>
            <select id=id name="plan" class=INPUT>
                {plans.plans.iter().map(|p| view! { <option value=p.key.clone() selected=p.key == selected>{p.name.clone()}</option> }).collect_view()}
            </select>
        </div>
    }
}

/// One editor: a GET form asking for the edit's preview.
#[component]
fn EditorCard(
    kind: &'static str,
    title: &'static str,
    note: &'static str,
    children: Children,
) -> impl IntoView {
    let heading = format!("edit-{kind}-h");
    let labelled_by = heading.clone();
    view! {
        <section class="rounded-lg border border-slate-200 bg-white p-4" aria-labelledby=labelled_by data-editor=kind>
            <h2 id=heading class="font-semibold">{title}</h2>
            <p class="mt-1 text-sm text-slate-600">{note}</p>
            <form method="get" action="/admin/plans" class="mt-3 grid items-end gap-3 sm:grid-cols-2">
                <input type="hidden" name="kind" value=kind/>
                {children()}
                <button type="submit" class=BUTTON>"Preview"</button>
            </form>
        </section>
    }
}

/// The five editors: limit, price, feature, trial, threshold.
#[component]
fn Editors(plans: PlansView, asked: EditQuery) -> impl IntoView {
    let a = asked;
    let limit_fields = view! {
                {plan_select("limit-plan", &plans, &a.field("limit", |q| &q.plan))}
                <div class="space-y-1">
                    <label for="limit-meter" class="block text-sm text-slate-700">"Meter"</label>
                    <select id="limit-meter" name="target" class=INPUT>
                        {plans.meters.iter().map(|(k, n)| view! { <option value=k.clone() selected=*k == a.field("limit", |q| &q.target)>{n.clone()}</option> }).collect_view()}
                    </select>
                </div>
                {text_input(TextInput { id: "limit-included", label: "Included", name: "value", required: true, inputmode: "text", placeholder: "1000 or unlimited" }, a.field("limit", |q| &q.value))}
                <div class="space-y-1">
                    <label for="limit-enforcement" class="block text-sm text-slate-700">"Enforcement"</label>
                    <select id="limit-enforcement" name="enforcement" class=INPUT>
                        <option value="soft">"soft"</option>
                        <option value="hard" selected=a.field("limit", |q| &q.enforcement) == "hard">"hard"</option>
                    </select>
                </div>
                {text_input(TextInput { id: "limit-grace", label: "Grace % (hard)", name: "grace_percent", required: false, inputmode: "decimal", placeholder: "" }, a.field("limit", |q| &q.grace_percent))}
    };
    let price_fields = view! {
                {plan_select("price-plan", &plans, &a.field("price", |q| &q.plan))}
                <div class="space-y-1">
                    <label for="price-interval" class="block text-sm text-slate-700">"Billed"</label>
                    <select id="price-interval" name="target" class=INPUT>
                        <option value="month">"monthly"</option>
                        <option value="year" selected=a.field("price", |q| &q.target) == "year">"yearly"</option>
                    </select>
                </div>
                {text_input(TextInput { id: "price-amount", label: "Amount", name: "value", required: true, inputmode: "decimal", placeholder: "25 or 24.50" }, a.field("price", |q| &q.value))}
    };
    let feature_fields = view! {
                {plan_select("feature-plan", &plans, &a.field("feature", |q| &q.plan))}
                <div class="space-y-1">
                    <label for="feature-key" class="block text-sm text-slate-700">"Feature"</label>
                    <select id="feature-key" name="target" class=INPUT>
                        {plans.features.iter().map(|(k, n, hint)| view! { <option value=k.clone() selected=*k == a.field("feature", |q| &q.target)>{format!("{n} ({hint})")}</option> }).collect_view()}
                    </select>
                </div>
                {text_input(TextInput { id: "feature-value", label: "Value", name: "value", required: true, inputmode: "text", placeholder: "true, 120, priority or none" }, a.field("feature", |q| &q.value))}
    };
    let trial_fields = view! {
                {plan_select("trial-plan", &plans, &a.field("trial", |q| &q.plan))}
                {text_input(TextInput { id: "trial-days", label: "Trial days", name: "value", required: true, inputmode: "numeric", placeholder: "14 (0 for none)" }, a.field("trial", |q| &q.value))}
    };
    let threshold_fields = view! {
                {text_input(TextInput { id: "threshold-percent", label: "Percent of the limit", name: "target", required: true, inputmode: "decimal", placeholder: "80" }, a.field("threshold", |q| &q.target))}
                {text_input(TextInput { id: "threshold-actions", label: "Actions", name: "value", required: true, inputmode: "text", placeholder: "email, banner" }, a.field("threshold", |q| &q.value))}
    };
    view! {
        <div class="mt-6 grid gap-4 lg:grid-cols-2">
            <EditorCard kind="limit" title="Change a plan's limit" note="A new limit applies to the plan's current subscribers at once, on every server.">{limit_fields}</EditorCard>
            <EditorCard kind="price" title="Change a plan's price" note="New subscriptions pay the new price; current subscribers keep theirs until you move them.">{price_fields}</EditorCard>
            <EditorCard kind="feature" title="Change a plan's feature" note="A feature value applies to the plan's current subscribers at once. `none` stops granting it.">{feature_fields}</EditorCard>
            <EditorCard kind="trial" title="Change a plan's trial" note="The trial length applies to new subscriptions; running trials keep their end.">{trial_fields}</EditorCard>
            <EditorCard kind="threshold" title="Change a usage threshold" note="Thresholds apply to every plan's limits at once. Actions: in_app, email, banner, upgrade_prompt, block; `none` removes the threshold.">{threshold_fields}</EditorCard>
        </div>
    }
}

/// The diff and the publish button.
#[component]
fn PublishBox(
    p: EditPreviewView,
    w: EditQuery,
    publish: ServerAction<AdminPublishEdit>,
) -> impl IntoView {
    view! {
        <div class="mt-3 rounded-lg border border-indigo-200 bg-indigo-50 p-4 text-sm" data-testid="edit-preview" role="region" aria-label="Edit preview">
            <ul class="list-inside list-disc">{p.changes.iter().map(|c| view! { <li data-testid="edit-change">{c.clone()}</li> }).collect_view()}</ul>
            <p class="mt-2" data-testid="edit-reach">{p.reach.clone()}</p>
            <ActionForm action=publish attr:class="mt-3 flex flex-wrap items-center gap-3">
                <FormAlert error=action_error(publish)/>
                <input type="hidden" name="kind" value=w.kind/>
                <input type="hidden" name="plan" value=w.plan/>
                <input type="hidden" name="target" value=w.target/>
                <input type="hidden" name="value" value=w.value/>
                <input type="hidden" name="enforcement" value=w.enforcement/>
                <input type="hidden" name="grace_percent" value=w.grace_percent/>
                <input type="hidden" name="base_version" value=p.base_version.to_string()/>
                <Submit action=publish label="Publish new version" busy="Publishing…"/>
                <a href="/admin/plans" class="text-sm text-slate-700 underline">"Cancel"</a>
            </ActionForm>
        </div>
    }
}

/// The move's figures and its confirmation.
#[component]
fn MoveBox(
    p: PriceMoveView,
    w: (String, String),
    move_action: ServerAction<AdminMoveToCurrentPrice>,
) -> impl IntoView {
    let (plan, interval) = w;
    let n = p.subscriptions;
    view! {
        <div id="move" class="mt-3 rounded-lg border border-amber-200 bg-amber-50 p-4 text-sm" data-testid="move-preview" role="region" aria-label="Move to the current price">
            <h2 class="font-semibold">{format!("{} billed {}ly: move subscribers to the current price", p.plan_name, p.interval)}</h2>
            <dl class="mt-2 grid gap-x-6 gap-y-1 sm:grid-cols-2">
                <dt class="text-slate-600">"Subscriptions keeping an older price"</dt>
                <dd data-testid="move-count">{format!("{n} ({} billed by Stripe)", p.billed_by_stripe)}</dd>
                <dt class="text-slate-600">"They pay"</dt>
                <dd>{p.kept.join(", ")}</dd>
                <dt class="text-slate-600">"Current price"</dt>
                <dd>{p.current.clone()}</dd>
                <dt class="text-slate-600">"Their MRR now → after"</dt>
                <dd data-testid="move-mrr">{format!("{} → {}", p.mrr_before, p.mrr_after)}</dd>
            </dl>
            <p class="mt-2 text-slate-700">"Each moves through its payment provider: the current price applies from the next renewal; the period under way keeps its price unless you prorate it."</p>
            {(p.billed_by_stripe > 0 && !p.stripe_configured).then(|| view! {
                <p class="mt-2 text-amber-900" role="note" data-testid="move-stripe-unavailable">
                    {format!("Stripe is not configured on this server: the {} Stripe-billed subscription(s) cannot be moved from here and keep their price.", p.billed_by_stripe)}
                </p>
            })}
            <ActionForm action=move_action attr:class="mt-3 flex flex-wrap items-center gap-3">
                <FormAlert error=action_error(move_action)/>
                <input type="hidden" name="plan" value=plan/>
                <input type="hidden" name="interval" value=interval/>
                <input type="hidden" name="expected" value=n.to_string()/>
                <label class="flex items-center gap-2">
                    <input type="checkbox" name="prorate" value="yes"/>
                    "Also prorate the rest of the current period"
                </label>
                <Submit action=move_action label="Move them to the current price" busy="Moving…"/>
                <a href="/admin/plans" class="text-sm text-slate-700 underline">"Cancel"</a>
            </ActionForm>
        </div>
    }
}

fn plan_table(plans: &PlansView) -> impl IntoView {
    let rows = plans.plans.clone();
    view! {
        <DataTable headers=&["Plan", "Prices", "Limits", "Features", "Trial", "Subscribers"] dense=true class="mt-6" testid="plans">
            {rows.into_iter().map(|p| {
                let key = p.key.clone();
                view! {
                <tr data-plan=p.key.clone()>
                    <td class="px-3 py-2 align-top">
                        <span class="font-medium">{p.name.clone()}</span>
                        <span class="block font-mono text-xs text-slate-500">{p.key.clone()}</span>
                        {(!p.public).then(|| view! { <span class="mr-1 rounded bg-slate-100 px-1.5 py-0.5 text-xs">"hidden"</span> })}
                        {(!p.self_serve).then(|| view! { <span class="rounded bg-amber-100 px-1.5 py-0.5 text-xs text-amber-900">"sales-only"</span> })}
                    </td>
                    <td class="px-3 py-2 align-top">
                        <ul>{p.prices.iter().map(|pr| view! { <li data-testid="plan-price">{pr.clone()}</li> }).collect_view()}</ul>
                        {p.prices.is_empty().then_some("—")}
                        <ul>
                            {p.kept.iter().map(|(interval, n)| view! {
                                <li class="mt-1 text-xs text-amber-900" data-kept=interval.clone()>
                                    {format!("{n} {interval}ly subscriber{} an older price · ", if *n == 1 { " keeps" } else { "s keep" })}
                                    <a class="underline" href=format!("/admin/plans?move={key}&interval={interval}#move")>"Move to the current price"</a>
                                </li>
                            }).collect_view()}
                        </ul>
                    </td>
                    <td class="px-3 py-2 align-top">
                        <ul>{p.limits.iter().map(|(k, n, l)| view! { <li data-limit=k.clone()>{format!("{n}: {l}")}</li> }).collect_view()}</ul>
                    </td>
                    <td class="px-3 py-2 align-top"><ul>{p.features.iter().map(|(n, v)| view! { <li>{format!("{n}: {v}")}</li> }).collect_view()}</ul></td>
                    <td class="px-3 py-2 align-top" data-testid="plan-trial">{if p.trial_days == 0 { "—".to_string() } else { format!("{} days", p.trial_days) }}</td>
                    <td class="px-3 py-2 align-top tabular-nums">{p.subscribers}</td>
                </tr>
            }}).collect_view()}
        </DataTable>
    }
}
