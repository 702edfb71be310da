//! Organizations from the pages: the account switcher, creating an organization
//! and its general settings. Members, invitations, billing and usage are in the
//! submodules. Every function re-reads the caller's membership from the database
//! ([`super::org_ctx::require_org`]).

pub mod billing;
pub mod invitations;
pub mod members;
pub mod usage;

use crate::error::AppError;
use crate::org_model::{AccountChoice, OrgHeader};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use uuid::Uuid;

/// The accounts the signed-in user can act for: the personal account, then each
/// organization. Empty when signed out.
#[server(prefix = "/_fn", endpoint = "accounts")]
pub async fn my_accounts() -> Result<Vec<AccountChoice>, AppError> {
    use tollgate::service::Error;
    let Some(me) = super::ctx::signed_in_for_navigation().await? else {
        return Ok(Vec::new());
    };
    let t = super::ctx::tollgate()?;
    let mut out = Vec::new();
    if let Some(p) = tollgate::db::accounts::personal_of(&t.pool, me.user.id)
        .await
        .map_err(Error::from)?
    {
        out.push(AccountChoice {
            id: p.id,
            name: format!("{} (personal)", p.name),
            slug: None,
            role: "owner".into(),
            current: p.id == me.account_id,
        });
    }
    for o in tollgate::db::memberships::orgs_of_user(&t.pool, me.user.id)
        .await
        .map_err(Error::from)?
    {
        out.push(AccountChoice {
            id: o.id,
            name: o.name,
            slug: Some(o.slug),
            role: o.role,
            current: o.id == me.account_id,
        });
    }
    Ok(out)
}

/// Makes the pages act for `account_id` (the personal account or an organization
/// the user belongs to), then goes to its dashboard or the organization's usage.
#[server(prefix = "/_fn", endpoint = "switch_account")]
pub async fn switch_account(account_id: String) -> Result<(), AppError> {
    use tollgate::service::Error;
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    let id = Uuid::parse_str(account_id.trim()).map_err(|_| super::org_ctx::not_found())?;
    if tollgate::db::accounts::role_of(&t.pool, id, me.user.id)
        .await
        .map_err(Error::from)?
        .is_none()
    {
        return Err(super::org_ctx::not_found());
    }
    let account = tollgate::db::accounts::by_id(&t.pool, id)
        .await
        .map_err(Error::from)?
        .ok_or_else(super::org_ctx::not_found)?;
    set_session_account(id).await?;
    match account.slug {
        Some(slug) => leptos_axum::redirect(&format!("/orgs/{slug}/usage")),
        None => leptos_axum::redirect("/dashboard"),
    }
    Ok(())
}

/// Stores the account the pages act for in the session.
#[cfg(feature = "ssr")]
pub(crate) async fn set_session_account(id: Uuid) -> Result<(), AppError> {
    super::ctx::session()
        .await?
        .insert(super::ctx::ACCOUNT_ID_KEY, id)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "session store failed");
            AppError::Server("Your session could not be saved. Try again.".into())
        })
}

/// Creates an organization owned by the signed-in user, switches to it and goes to
/// its billing page to choose a team plan.
#[server(prefix = "/_fn", endpoint = "org_create")]
pub async fn create_org(name: String, slug: String, billing_email: String) -> Result<(), AppError> {
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    let keep = [
        ("name", name.as_str()),
        ("slug", slug.as_str()),
        ("billing_email", billing_email.as_str()),
    ];
    let id = tollgate::service::organizations::create(
        &t.pool,
        &name,
        &slug,
        &billing_email,
        me.user.id,
        &me.actor(),
    )
    .await
    .map_err(|e| AppError::from(e).with_values(&keep))?;
    set_session_account(id).await?;
    let slug = tollgate::service::organizations::parse_slug(&slug)?;
    leptos_axum::redirect(&format!("/orgs/{slug}/billing"));
    Ok(())
}

/// The organization `slug` for its pages' header; any member.
#[server(prefix = "/_fn", endpoint = "org")]
pub async fn get_org(slug: String) -> Result<OrgHeader, AppError> {
    use tollgate::service::accounts::Role;
    Ok(super::org_ctx::require_org(&slug, Role::Viewer)
        .await?
        .header())
}

/// Changes the name and billing e-mail (owner and admins).
#[server(prefix = "/_fn", endpoint = "org_update")]
pub async fn update_org(slug: String, name: String, billing_email: String) -> Result<(), AppError> {
    use tollgate::service::accounts::Role;
    let o = super::org_ctx::require_org(&slug, Role::Admin).await?;
    let keep = [
        ("name", name.as_str()),
        ("billing_email", billing_email.as_str()),
    ];
    tollgate::service::organizations::update_settings(
        &o.t.pool,
        o.org.id,
        o.me.user.id,
        &name,
        &billing_email,
        &o.me.actor(),
    )
    .await
    .map_err(|e| AppError::from(e).with_values(&keep))?;
    leptos_axum::redirect(&format!("/orgs/{}/settings?saved=1", o.org.slug));
    Ok(())
}
