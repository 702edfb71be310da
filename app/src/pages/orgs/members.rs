//! `/orgs/{slug}/members`: members with their roles (change, remove with
//! confirmation, transfer ownership), the invite form, and pending invitations with
//! resend and revoke (with confirmation). Confirmations are plain links
//! (`?remove=<user>`, `?transfer=<user>`, `?revoke=<invitation>`), so everything
//! works without JavaScript.

use super::billing::seats_line;
use super::{notice, query_flag, slug_param, OrgFrame, OrgGate, Tab};
use crate::components::form::{action_error, field_error, kept_value, Field, FormAlert, Submit};
use crate::components::table::DataTable;
use crate::error::AppError;
use crate::format::{capitalize, date, datetime};
use crate::org_model::{InvitationView, MemberView, MembersPage};
use crate::server::orgs::invitations::{InviteMember, ResendInvitation, RevokeInvitation};
use crate::server::orgs::members::{
    org_members, ChangeMemberRole, RemoveMember, TransferOwnership,
};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The actions of the page, created once.
#[derive(Clone, Copy)]
struct Actions {
    invite: ServerAction<InviteMember>,
    resend: ServerAction<ResendInvitation>,
    revoke: ServerAction<RevokeInvitation>,
    role: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
    transfer: ServerAction<TransferOwnership>,
}

impl Actions {
    fn version(&self) -> usize {
        self.invite.version().get()
            + self.resend.version().get()
            + self.revoke.version().get()
            + self.role.version().get()
            + self.remove.version().get()
            + self.transfer.version().get()
    }

    /// The latest error of the list's actions (the invite form shows its own).
    fn list_error(&self) -> Signal<Option<AppError>> {
        let errors = [
            action_error(self.resend),
            action_error(self.revoke),
            action_error(self.role),
            action_error(self.remove),
            action_error(self.transfer),
        ];
        Signal::derive(move || errors.iter().find_map(|e| e.get()))
    }
}

/// The members page.
#[component]
pub fn OrgMembersPage() -> impl IntoView {
    let slug = slug_param();
    let actions = Actions {
        invite: ServerAction::new(),
        resend: ServerAction::new(),
        revoke: ServerAction::new(),
        role: ServerAction::new(),
        remove: ServerAction::new(),
        transfer: ServerAction::new(),
    };
    let data = Resource::new_blocking(
        move || (slug.get(), actions.version()),
        |(s, _)| org_members(s),
    );
    let invited = query_flag("invited");
    let resent = query_flag("resent");
    let query = use_query_map();
    let confirming = Memo::new(move |_| {
        let q = query.read();
        Confirming {
            remove: q.get("remove").unwrap_or_default(),
            transfer: q.get("transfer").unwrap_or_default(),
            revoke: q.get("revoke").unwrap_or_default(),
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading members…"</p> }>
            {move || {
                let (confirm, invited, resent) = (confirming.get(), invited.get(), resent.get());
                Suspend::new(async move {
                    match data.await {
                        Err(error) => view! { <OrgGate error/> }.into_any(),
                        Ok(page) => view! {
                            <OrgFrame org=page.org.clone() tab=Tab::Members>
                                {notice(invited.then_some("Invitation sent."))}
                                {notice(resent.then_some("Invitation sent again with a new link; the old link no longer works."))}
                                <Members page actions confirm/>
                            </OrgFrame>
                        }
                        .into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// What the address asks to confirm (`?remove=`, `?transfer=`, `?revoke=`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Confirming {
    remove: String,
    transfer: String,
    revoke: String,
}

#[component]
fn Members(page: MembersPage, actions: Actions, confirm: Confirming) -> impl IntoView {
    let slug = page.org.slug.clone();
    let owner = page.org.owner;
    let full = page
        .seats
        .purchased
        .is_some_and(|p| page.seats.members + page.seats.pending >= i64::from(p));
    let rows = page
        .members
        .into_iter()
        .map(|m| member_row(m, &slug, owner, &confirm.remove, &confirm.transfer, actions))
        .collect_view();
    let invitations = page.invitations.clone();
    view! {
        <p class="mb-4 text-sm text-slate-600" data-testid="seats-line">
            {seats_line(page.seats)}
            {(full && owner).then(|| view! { " · " <a href=format!("/orgs/{slug}/billing") class="font-medium text-indigo-700 underline hover:text-indigo-900">"Add seats"</a> })}
        </p>
        <FormAlert error=actions.list_error()/>
        <DataTable headers=&["Member", "Role", "Joined", ""] testid="members">{rows}</DataTable>
        {(!page.invitable.is_empty()).then(|| view! { <InviteForm slug=slug.clone() roles=page.invitable.clone() full owner action=actions.invite/> })}
        {(page.org.manages).then(|| pending_list(invitations, &slug, &confirm.revoke, actions))}
    }
}

fn role_options(roles: &[String], selected: &str) -> impl IntoView {
    roles
        .iter()
        .map(|r| view! { <option value=r.clone() selected=r == selected>{capitalize(r)}</option> })
        .collect_view()
}

fn member_row(
    m: MemberView,
    slug: &str,
    owner: bool,
    removing: &str,
    transferring: &str,
    a: Actions,
) -> impl IntoView {
    let id = m.user_id.to_string();
    let role_cell = if m.assignable.is_empty() {
        view! { <span data-testid="role">{capitalize(&m.role)}</span> }.into_any()
    } else {
        let (slug_v, id_v, select_id, label) = (
            slug.to_string(),
            id.clone(),
            format!("role-{id}"),
            format!("Role of {}", m.name),
        );
        let options = role_options(&m.assignable, &m.role);
        view! {
            <ActionForm action=a.role attr:class="flex items-center gap-2">
                <input type="hidden" name="slug" value=slug_v/>
                <input type="hidden" name="user_id" value=id_v/>
                <label class="sr-only" for=select_id.clone()>{label}</label>
                <select id=select_id name="role" data-testid="role-select" class="rounded-md border border-slate-300 px-2 py-1 text-sm">
                    {options}
                </select>
                <button type="submit" class="text-sm font-medium text-indigo-700 underline hover:text-indigo-900">"Change role"</button>
            </ActionForm>
        }
        .into_any()
    };
    let actions = if removing == id && m.removable {
        let (slug_v, id_v, question) = (
            slug.to_string(),
            id.clone(),
            format!("Remove {}? They lose access at once.", m.name),
        );
        view! {
            <ActionForm action=a.remove attr:class="flex flex-wrap items-center gap-2">
                <input type="hidden" name="slug" value=slug_v/>
                <input type="hidden" name="user_id" value=id_v/>
                <span class="text-sm">{question}</span>
                <button type="submit" class="rounded-md bg-red-600 px-3 py-1 text-sm font-semibold text-white hover:bg-red-500">"Remove"</button>
                <a href="?" class="text-sm text-slate-600 hover:underline">"Cancel"</a>
            </ActionForm>
        }
        .into_any()
    } else if transferring == id && owner && !m.me {
        let (slug_v, id_v, question) = (
            slug.to_string(),
            id.clone(),
            format!("Make {} the owner? You become an admin.", m.name),
        );
        view! {
            <ActionForm action=a.transfer attr:class="flex flex-wrap items-center gap-2">
                <input type="hidden" name="slug" value=slug_v/>
                <input type="hidden" name="user_id" value=id_v/>
                <span class="text-sm">{question}</span>
                <button type="submit" class="rounded-md bg-amber-700 px-3 py-1 text-sm font-semibold text-white hover:bg-amber-800">"Transfer ownership"</button>
                <a href="?" class="text-sm text-slate-600 hover:underline">"Cancel"</a>
            </ActionForm>
        }
        .into_any()
    } else {
        view! {
            <div class="flex gap-3">
                {m.removable.then(|| view! { <a href=format!("?remove={id}") class="font-medium text-red-700 hover:underline">"Remove…"</a> })}
                {(owner && !m.me).then(|| view! { <a href=format!("?transfer={id}") class="text-slate-600 hover:underline">"Make owner…"</a> })}
                {m.me.then(|| view! { <span class="text-slate-500">"You"</span> })}
            </div>
        }
        .into_any()
    };
    view! {
        <tr data-member=m.email.clone() data-role=m.role.clone()>
            <td class="px-4 py-2"><p class="font-medium">{m.name.clone()}</p><p class="text-xs text-slate-500">{m.email.clone()}</p></td>
            <td class="px-4 py-2">{role_cell}</td>
            <td class="px-4 py-2 text-slate-600">{date(m.joined_at)}</td>
            <td class="px-4 py-2">{actions}</td>
        </tr>
    }
}

#[component]
fn InviteForm(
    slug: String,
    roles: Vec<String>,
    full: bool,
    owner: bool,
    action: ServerAction<InviteMember>,
) -> impl IntoView {
    let error = action_error(action);
    let chosen = kept_value(error, "role", None).unwrap_or_else(|| "member".into());
    view! {
        <section class="mt-8 max-w-md rounded-lg border border-slate-200 bg-white p-5 shadow-sm" aria-labelledby="invite">
            <h2 id="invite" class="font-semibold">"Invite someone"</h2>
            {full.then(|| view! {
                <p class="mt-2 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-950" data-testid="seats-full">
                    {if owner { "All seats are taken. Add seats on the billing page to invite more people." } else { "All seats are taken. Ask the owner to add seats." }}
                </p>
            })}
            <ActionForm action attr:class="mt-3 space-y-3" attr:novalidate=true>
                <FormAlert error/>
                <input type="hidden" name="slug" value=slug/>
                <Field label="E-mail" name="email" kind="email" value=kept_value(error, "email", None).unwrap_or_default() error=field_error(error, "email")/>
                <div class="space-y-1">
                    <label for="field-role" class="block text-sm font-medium text-slate-700">"Role"</label>
                    <select id="field-role" name="role" class="block w-full rounded-md border border-slate-300 px-3 py-2 text-sm">{role_options(&roles, &chosen)}</select>
                    <p class="text-xs text-slate-500">"Admins manage members; members use the plan; viewers only read."</p>
                </div>
                <p class="text-sm text-red-700" role="alert">{move || field_error(error, "seats").get()}</p>
                <Submit action label="Send invitation" busy="Sending…"/>
            </ActionForm>
        </section>
    }
}

fn pending_list(
    items: Vec<InvitationView>,
    slug: &str,
    revoking: &str,
    a: Actions,
) -> impl IntoView {
    let body = if items.is_empty() {
        view! { <p class="mt-3 rounded-lg border border-dashed border-slate-300 p-4 text-sm text-slate-500">"No pending invitations."</p> }.into_any()
    } else {
        let rows = items
            .into_iter()
            .map(|i| {
                let id = i.id.to_string();
                let controls = if !i.manageable {
                    ().into_any()
                } else if revoking == id {
                    let (slug_v, id_v, question) = (slug.to_string(), id.clone(), format!("Revoke the invitation for {}? The link stops working.", i.email));
                    view! {
                        <ActionForm action=a.revoke attr:class="flex flex-wrap items-center gap-2">
                            <input type="hidden" name="slug" value=slug_v/>
                            <input type="hidden" name="id" value=id_v/>
                            <span class="text-sm">{question}</span>
                            <button type="submit" class="rounded-md bg-red-600 px-3 py-1 text-sm font-semibold text-white hover:bg-red-500">"Revoke"</button>
                            <a href="?" class="text-sm text-slate-600 hover:underline">"Cancel"</a>
                        </ActionForm>
                    }
                    .into_any()
                } else {
                    let (slug_v, id_v) = (slug.to_string(), id.clone());
                    view! {
                        <div class="flex items-center gap-3">
                            <ActionForm action=a.resend>
                                <input type="hidden" name="slug" value=slug_v/>
                                <input type="hidden" name="id" value=id_v/>
                                <button type="submit" class="font-medium text-indigo-700 underline hover:text-indigo-900">"Resend"</button>
                            </ActionForm>
                            <a href=format!("?revoke={id}") class="font-medium text-red-700 hover:underline">"Revoke…"</a>
                        </div>
                    }
                    .into_any()
                };
                view! {
                    <tr data-invitation=i.email.clone()>
                        <td class="px-4 py-2">{i.email.clone()}</td>
                        <td class="px-4 py-2">{capitalize(&i.role)}</td>
                        <td class="px-4 py-2 text-slate-600">{datetime(i.sent_at)}</td>
                        <td class="px-4 py-2 text-slate-600">{date(i.expires_at)}</td>
                        <td class="px-4 py-2">{controls}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <DataTable headers=&["E-mail", "Role", "Sent", "Expires", ""] class="mt-3" testid="invitations">{rows}</DataTable>
        }
        .into_any()
    };
    view! {
        <section class="mt-8" aria-labelledby="pending">
            <h2 id="pending" class="text-lg font-semibold">"Pending invitations"</h2>
            {body}
        </section>
    }
}

