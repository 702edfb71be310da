//! Members: the list, role changes, removal, leaving and ownership transfer.

use crate::error::AppError;
use crate::org_model::MembersPage;
use leptos::prelude::*;

/// The members page: members, pending invitations (owner and admins) and seats.
#[server(prefix = "/_fn", endpoint = "org_members")]
pub async fn org_members(slug: String) -> Result<MembersPage, AppError> {
    use crate::org_model::{InvitationView, MemberView, SeatsView};
    use tollgate::service::accounts::Role;
    use tollgate::service::organizations::{invitations, roles, seats};
    let o = super::super::org_ctx::require_org(&slug, Role::Viewer).await?;
    let now = chrono::Utc::now();
    let rows = tollgate::db::memberships::members(&o.t.pool, o.org.id)
        .await
        .map_err(tollgate::service::Error::from)?;
    let members = rows
        .into_iter()
        .map(|m| {
            let theirs = Role::parse(&m.role).unwrap_or(Role::Viewer);
            let me = m.user_id == o.me.user.id;
            let assignable = [Role::Admin, Role::Member, Role::Viewer]
                .into_iter()
                .filter(|r| {
                    !me && roles::may_change(o.role, theirs, roles::MemberChange::SetRole(*r))
                        .is_ok()
                })
                .map(|r| roles::role_name(r).to_string())
                .collect();
            let removable =
                !me && roles::may_change(o.role, theirs, roles::MemberChange::Remove).is_ok();
            MemberView {
                user_id: m.user_id,
                name: m.name,
                email: m.email,
                role: m.role,
                joined_at: m.joined_at,
                assignable,
                removable,
                me,
            }
        })
        .collect();
    let invitations = if o.role <= Role::Admin {
        invitations::pending(&o.t, o.org.id, o.me.user.id, now)
            .await?
            .into_iter()
            .map(|i| {
                let manageable =
                    roles::may_invite(o.role, Role::parse(&i.role).unwrap_or(Role::Admin)).is_ok();
                InvitationView {
                    id: i.id,
                    email: i.email,
                    role: i.role,
                    sent_at: i.sent_at,
                    expires_at: i.expires_at,
                    manageable,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let invitable = [Role::Admin, Role::Member, Role::Viewer]
        .into_iter()
        .filter(|r| roles::may_invite(o.role, *r).is_ok())
        .map(|r| roles::role_name(r).to_string())
        .collect();
    let mut conn =
        o.t.pool
            .acquire()
            .await
            .map_err(tollgate::service::Error::from)?;
    let s = seats::seat_use(&o.t, &mut conn, o.org.id, now).await?;
    Ok(MembersPage {
        org: o.header(),
        members,
        invitations,
        invitable,
        seats: SeatsView {
            members: s.members,
            pending: s.pending,
            purchased: s.purchased,
        },
    })
}

#[cfg(feature = "ssr")]
fn member_id(s: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(s.trim())
        .map_err(|_| AppError::NotFound("This person is not a member of the organization.".into()))
}

#[cfg(feature = "ssr")]
fn back_to_members(slug: &str) {
    leptos_axum::redirect(&format!("/orgs/{slug}/members"));
}

/// Gives a member another role (owner: any but owner; admins: member or viewer,
/// for members and viewers).
#[server(prefix = "/_fn", endpoint = "org_member_role")]
pub async fn change_member_role(
    slug: String,
    user_id: String,
    role: String,
) -> Result<(), AppError> {
    use tollgate::service::accounts::Role;
    use tollgate::service::organizations::roles;
    let o = super::super::org_ctx::require_org(&slug, Role::Viewer).await?;
    let role = roles::parse_role(&role)?;
    roles::change_role(
        &o.t.pool,
        o.org.id,
        o.me.user.id,
        member_id(&user_id)?,
        role,
        &o.me.actor(),
    )
    .await?;
    back_to_members(&o.org.slug);
    Ok(())
}

/// Removes a member; their access ends at once.
#[server(prefix = "/_fn", endpoint = "org_member_remove")]
pub async fn remove_member(slug: String, user_id: String) -> Result<(), AppError> {
    use tollgate::service::accounts::Role;
    use tollgate::service::organizations::roles;
    let o = super::super::org_ctx::require_org(&slug, Role::Viewer).await?;
    roles::remove(
        &o.t.pool,
        o.org.id,
        o.me.user.id,
        member_id(&user_id)?,
        &o.me.actor(),
    )
    .await?;
    back_to_members(&o.org.slug);
    Ok(())
}

/// The caller leaves the organization (not the owner) and goes back to their
/// personal dashboard.
#[server(prefix = "/_fn", endpoint = "org_leave")]
pub async fn leave_org(slug: String) -> Result<(), AppError> {
    use tollgate::service::accounts::Role;
    let o = super::super::org_ctx::require_org(&slug, Role::Viewer).await?;
    tollgate::service::organizations::roles::leave(
        &o.t.pool,
        o.org.id,
        o.me.user.id,
        &o.me.actor(),
    )
    .await?;
    if let Some(p) = tollgate::db::accounts::personal_of(&o.t.pool, o.me.user.id)
        .await
        .map_err(tollgate::service::Error::from)?
    {
        super::set_session_account(p.id).await?;
    }
    leptos_axum::redirect("/dashboard");
    Ok(())
}

/// The owner makes another member the owner and becomes an admin.
#[server(prefix = "/_fn", endpoint = "org_transfer")]
pub async fn transfer_ownership(slug: String, user_id: String) -> Result<(), AppError> {
    use tollgate::service::accounts::Role;
    let o = super::super::org_ctx::require_org(&slug, Role::Owner).await?;
    tollgate::service::organizations::roles::transfer_ownership(
        &o.t.pool,
        o.org.id,
        o.me.user.id,
        member_id(&user_id)?,
        &o.me.actor(),
    )
    .await?;
    back_to_members(&o.org.slug);
    Ok(())
}
