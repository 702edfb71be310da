//! `/orgs/{slug}/billing`: the team plan and seats. The owner chooses or changes the
//! plan and sets the seats (manual provider: at once); admins read. Payment details
//! come with the Stripe work.

use super::{notice, query_flag, slug_param, OrgFrame, OrgGate, Tab};
use crate::components::form::{action_error, field_error, kept_value, FormAlert};
use crate::org_model::{BillingPage, SeatsView};
use crate::server::orgs::billing::{org_billing, ChooseOrgPlan, SetOrgSeats};
use leptos::prelude::*;

/// The billing page.
#[component]
pub fn OrgBillingPage() -> impl IntoView {
    let slug = slug_param();
    let choose = ServerAction::<ChooseOrgPlan>::new();
    let seats = ServerAction::<SetOrgSeats>::new();
    let data = Resource::new_blocking(
        move || (slug.get(), choose.version().get(), seats.version().get()),
        |(s, _, _)| org_billing(s),
    );
    let changed = query_flag("changed");
    let seats_saved = query_flag("seats");
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || {
                let (changed, seats_saved) = (changed.get(), seats_saved.get());
                Suspend::new(async move {
                    match data.await {
                        Err(error) => view! { <OrgGate error/> }.into_any(),
                        Ok(p) => view! {
                            <OrgFrame org=p.org.clone() tab=Tab::Billing>
                                {notice(changed.then_some("The plan changed."))}
                                {notice(seats_saved.then_some("Seats updated."))}
                                <Billing page=p choose seats/>
                            </OrgFrame>
                        }
                        .into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// "3 of 5 seats used (2 members, 1 pending invitation)".
pub fn seats_line(s: SeatsView) -> String {
    let used = s.members + s.pending;
    let detail = format!(
        "{} member{}, {} pending invitation{}",
        s.members,
        if s.members == 1 { "" } else { "s" },
        s.pending,
        if s.pending == 1 { "" } else { "s" }
    );
    match s.purchased {
        Some(p) => format!("{used} of {p} seats used ({detail})"),
        None => format!("{used} seats used ({detail}); seats are bought with a team plan"),
    }
}

#[component]
fn Billing(
    page: BillingPage,
    choose: ServerAction<ChooseOrgPlan>,
    seats: ServerAction<SetOrgSeats>,
) -> impl IntoView {
    let owner = page.org.owner;
    let slug = page.org.slug.clone();
    let choose_error = action_error(choose);
    let seats_error = action_error(seats);
    let options = page
        .options
        .into_iter()
        .map(|o| {
            let slug = slug.clone();
            let (key, interval) = (o.key.clone(), o.interval.clone());
            view! {
                <li class="flex items-center justify-between gap-3 px-4 py-3" data-plan=o.key.clone() data-interval=o.interval.clone()>
                    <div><p class="font-medium">{o.name.clone()}</p><p class="text-sm text-slate-600">{o.price.clone()}</p></div>
                    {if o.current {
                        view! { <span class="text-sm font-medium text-emerald-700">"Current plan"</span> }.into_any()
                    } else if owner {
                        view! {
                            <ActionForm action=choose>
                                <input type="hidden" name="slug" value=slug/>
                                <input type="hidden" name="plan" value=key/>
                                <input type="hidden" name="interval" value=interval/>
                                <button type="submit" class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-indigo-500">"Choose"</button>
                            </ActionForm>
                        }
                        .into_any()
                    } else {
                        ().into_any()
                    }}
                </li>
            }
        })
        .collect_view();
    let purchased = page.seats.purchased;
    view! {
        <div class="grid gap-6 lg:grid-cols-2">
            <section class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm" aria-labelledby="plan" data-testid="org-plan">
                <h2 id="plan" class="font-semibold">"Plan"</h2>
                <p class="mt-2 text-sm">{page.plan.unwrap_or_else(|| "No plan yet. Choose a team plan below.".into())}</p>
                <FormAlert error=choose_error/>
                <ul class="mt-4 divide-y divide-slate-100 rounded-md border border-slate-200">{options}</ul>
                {(!owner).then(|| view! { <p class="mt-3 text-xs text-slate-500">"Only the owner changes the plan."</p> })}
                <p class="mt-3 text-xs text-slate-500">"Billed by invoice for now; payment by card comes later."</p>
            </section>
            <section class="rounded-lg border border-slate-200 bg-white p-5 shadow-sm" aria-labelledby="seats" data-testid="org-seats">
                <h2 id="seats" class="font-semibold">"Seats"</h2>
                <p class="mt-2 text-sm" data-testid="seats-line">{seats_line(page.seats)}</p>
                <p class="mt-1 text-xs text-slate-500">"Every member takes a seat, and so does every pending invitation until it is accepted, revoked or expires."</p>
                {(owner && purchased.is_some()).then(|| view! {
                    <ActionForm action=seats attr:class="mt-4 space-y-2" attr:novalidate=true>
                        <FormAlert error=seats_error/>
                        <input type="hidden" name="slug" value=slug.clone()/>
                        <label for="field-seats" class="block text-sm font-medium text-slate-700">"Seats bought"</label>
                        <div class="flex gap-2">
                            <input id="field-seats" name="seats" type="number" min="1" required=true
                                value=kept_value(seats_error, "seats", purchased.map(|p| p.to_string())).unwrap_or_default()
                                class="w-28 rounded-md border border-slate-300 px-3 py-2 text-sm"/>
                            <button type="submit" class="rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white hover:bg-indigo-500">"Update seats"</button>
                        </div>
                        <p class="text-sm text-red-700" role="alert">{move || field_error(seats_error, "seats").get()}</p>
                        <p class="text-xs text-slate-500">"The change applies at once and shows on the next invoice."</p>
                    </ActionForm>
                })}
            </section>
        </div>
    }
}
