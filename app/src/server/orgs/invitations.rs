//! Invitations: sending, resending and revoking (owner and admins), and the
//! `/invite/{token}` link: preview, accept when signed in, or sign up and join.

use crate::error::AppError;
use crate::org_model::InvitationPreview;
use leptos::prelude::*;

/// Invites `email` as `role`; the link goes out by e-mail.
#[server(prefix = "/_fn", endpoint = "org_invite")]
pub async fn invite_member(slug: String, email: String, role: String) -> Result<(), AppError> {
    use tollgate::service::accounts::Role;
    use tollgate::service::organizations::{invitations, roles};
    let o = super::super::org_ctx::require_org(&slug, Role::Admin).await?;
    let keep = [("email", email.as_str()), ("role", role.as_str())];
    let role = roles::parse_role(&role).map_err(|e| AppError::from(e).with_values(&keep))?;
    invitations::invite(
        &o.t,
        o.org.id,
        &o.me.user,
        &email,
        role,
        &o.me.actor(),
        chrono::Utc::now(),
    )
    .await
    .map_err(|e| AppError::from(e).with_values(&keep))?;
    leptos_axum::redirect(&format!("/orgs/{}/members?invited=1", o.org.slug));
    Ok(())
}

#[cfg(feature = "ssr")]
fn invitation_id(s: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(s.trim())
        .map_err(|_| AppError::NotFound("No such pending invitation.".into()))
}

/// Sends an invitation again with a new link; the old link stops working.
#[server(prefix = "/_fn", endpoint = "org_invitation_resend")]
pub async fn resend_invitation(slug: String, id: String) -> Result<(), AppError> {
    use tollgate::service::accounts::Role;
    let o = super::super::org_ctx::require_org(&slug, Role::Admin).await?;
    tollgate::service::organizations::invitations::resend(
        &o.t,
        o.org.id,
        &o.me.user,
        invitation_id(&id)?,
        &o.me.actor(),
        chrono::Utc::now(),
    )
    .await?;
    leptos_axum::redirect(&format!("/orgs/{}/members?resent=1", o.org.slug));
    Ok(())
}

/// Revokes an invitation; its link stops working and its seat is free again.
#[server(prefix = "/_fn", endpoint = "org_invitation_revoke")]
pub async fn revoke_invitation(slug: String, id: String) -> Result<(), AppError> {
    use tollgate::service::accounts::Role;
    let o = super::super::org_ctx::require_org(&slug, Role::Admin).await?;
    tollgate::service::organizations::invitations::revoke(
        &o.t,
        o.org.id,
        o.me.user.id,
        invitation_id(&id)?,
        &o.me.actor(),
    )
    .await?;
    leptos_axum::redirect(&format!("/orgs/{}/members", o.org.slug));
    Ok(())
}

/// What the invitation link shows; anyone holding the link may see it.
#[server(prefix = "/_fn", endpoint = "invitation")]
pub async fn get_invitation(token: String) -> Result<InvitationPreview, AppError> {
    use tollgate::service::organizations::invitations;
    let t = super::super::ctx::tollgate()?;
    let p = invitations::preview(&t, &token, chrono::Utc::now()).await?;
    let signed_in_as = super::super::ctx::signed_in()
        .await?
        .map(|me| me.user.email);
    let has_account = tollgate::db::users::by_email(&t.pool, &p.invitation.email)
        .await
        .map_err(tollgate::service::Error::from)?
        .is_some();
    Ok(InvitationPreview {
        organization: p.organization,
        inviter: p.inviter,
        email: p.invitation.email,
        role: p.invitation.role,
        closed: p.state.refusal().map(str::to_string),
        signed_in_as,
        has_account,
    })
}

/// The signed-in user accepts and joins; the pages then act for the organization.
#[server(prefix = "/_fn", endpoint = "invitation_accept")]
pub async fn accept_invitation(token: String) -> Result<(), AppError> {
    let me = super::super::ctx::require_signed_in().await?;
    let t = super::super::ctx::tollgate()?;
    let (id, slug) = tollgate::service::organizations::invitations::accept(
        &t,
        &token,
        &me.user,
        &me.actor(),
        chrono::Utc::now(),
    )
    .await?;
    super::set_session_account(id).await?;
    leptos_axum::redirect(&format!("/orgs/{slug}/usage"));
    Ok(())
}

/// A new user signs up from the link with the invited address and joins at once.
#[server(prefix = "/_fn", endpoint = "invitation_sign_up")]
pub async fn invitation_sign_up(
    token: String,
    name: String,
    password: String,
) -> Result<(), AppError> {
    use tollgate::identity::{Email, NewPassword, PersonName};
    use tollgate::service::{auth, organizations::invitations, Actor};
    let t = super::super::ctx::tollgate()?;
    let keep = [("name", name.as_str())];
    let p = invitations::preview(&t, &token, chrono::Utc::now()).await?;
    if let Some(why) = p.state.refusal() {
        return Err(crate::error::FormError::message(why)
            .with_values(&keep)
            .into());
    }
    let mut errors = crate::error::FormError::default();
    let parsed_name = PersonName::parse(&name)
        .map_err(|e| errors.fields.insert("name".into(), e.0))
        .ok();
    let parsed_password = NewPassword::parse(&password)
        .map_err(|e| errors.fields.insert("password".into(), e.0))
        .ok();
    let (Some(name_ok), Some(password_ok)) = (parsed_name, parsed_password) else {
        return Err(errors.with_values(&keep).into());
    };
    let email = Email::parse(&p.invitation.email).map_err(|e| AppError::Server(e.0))?;
    let created = auth::sign_up(&t.pool, &email, &name_ok, &password_ok, false, None)
        .await
        .map_err(|e| AppError::from(e).with_values(&keep))?;
    super::super::ctx::start_session(created.user_id, created.account_id).await?;
    let user = tollgate::db::users::by_id(&t.pool, created.user_id)
        .await
        .map_err(tollgate::service::Error::from)?
        .ok_or_else(|| AppError::Server("The new user vanished.".into()))?;
    let (id, slug) =
        invitations::accept(&t, &token, &user, &Actor::user(user.id), chrono::Utc::now()).await?;
    super::set_session_account(id).await?;
    leptos_axum::redirect(&format!("/orgs/{slug}/usage"));
    Ok(())
}
