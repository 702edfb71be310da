//! The super admin panel's server functions. Every one starts with
//! [`super::ctx::require_super_admin`] (signed out: sign-in required; anyone else,
//! an impersonating super admin included: forbidden), and the services check
//! again.

pub mod accounts;
pub mod actions;
#[cfg(feature = "ssr")]
pub mod charts;
pub mod corrections;
pub mod impersonation;
pub mod plans;
pub mod platform_keys;
pub mod usage;
#[cfg(feature = "ssr")]
pub mod views;

use crate::error::AppError;
use crate::model::admin::{
    AdminOrgDetail, AdminOrgRow, AdminOverview, AdminUserDetail, AdminUserRow, AuditView, ListPage,
};
use leptos::prelude::*;

/// Parses an id from a path or form; anything else is "not found".
#[cfg(feature = "ssr")]
pub(crate) fn parse_id(id: &str, what: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(id.trim())
        .map_err(|_| AppError::NotFound(format!("There is no such {what}.")))
}

#[cfg(feature = "ssr")]
fn filter(
    q: Option<String>,
    plan: Option<String>,
    status: Option<String>,
) -> tollgate::db::admin::Filter {
    let keep = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    tollgate::db::admin::Filter {
        query: keep(q),
        plan: keep(plan),
        status: keep(status),
    }
}

#[cfg(feature = "ssr")]
fn plan_options(t: &tollgate::service::Tollgate) -> Vec<(String, String)> {
    t.catalog
        .get()
        .map(|c| {
            c.plans
                .iter()
                .map(|p| (p.key.to_string(), p.name.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// `/admin`: counts of users and organizations, and the revenue analytics with
/// their charts.
#[server(prefix = "/_fn", endpoint = "admin_overview")]
pub async fn get_admin_overview() -> Result<AdminOverview, AppError> {
    let me = super::ctx::require_super_admin().await?;
    let t = super::ctx::tollgate()?;
    let (users, organizations) =
        tollgate::service::admin::look_up::overview(&t, &me.actor()).await?;
    let report =
        tollgate::service::admin::analytics::report(&t, &me.actor(), chrono::Utc::now()).await?;
    let charts = charts::all(&report);
    Ok(AdminOverview {
        users,
        organizations,
        report,
        charts,
    })
}

/// `/admin/users`: users whose e-mail or name contains `q`, on `plan`, with
/// subscription `status` (`none`: no subscription), page `page` (1-based).
#[server(prefix = "/_fn", endpoint = "admin_users")]
pub async fn admin_users(
    q: Option<String>,
    plan: Option<String>,
    status: Option<String>,
    page: Option<u32>,
) -> Result<ListPage<AdminUserRow>, AppError> {
    let me = super::ctx::require_super_admin().await?;
    let t = super::ctx::tollgate()?;
    let found = tollgate::service::admin::look_up::users(
        &t,
        &me.actor(),
        &filter(q, plan, status),
        page.unwrap_or(1),
    )
    .await?;
    Ok(ListPage {
        rows: found
            .rows
            .into_iter()
            .map(|u| AdminUserRow {
                id: u.id,
                email: u.email,
                name: u.name,
                super_admin: u.is_super_admin,
                disabled: u.disabled_at.is_some(),
                plan: u.plan_key,
                status: u.status,
                created_at: u.created_at,
                last_login_at: u.last_login_at,
            })
            .collect(),
        total: found.total,
        page: found.page,
        page_size: tollgate::service::admin::PAGE_SIZE,
        plans: plan_options(&t),
    })
}

/// `/admin/users/{id}`.
#[server(prefix = "/_fn", endpoint = "admin_user")]
pub async fn admin_user(id: String) -> Result<AdminUserDetail, AppError> {
    let me = super::ctx::require_super_admin().await?;
    let t = super::ctx::tollgate()?;
    let id = parse_id(&id, "user")?;
    let d = tollgate::service::admin::look_up::user_detail(&t, &me.actor(), id, chrono::Utc::now())
        .await?;
    Ok(AdminUserDetail {
        id: d.user.id,
        email: d.user.email,
        name: d.user.name,
        super_admin: d.user.is_super_admin,
        disabled_at: d.user.disabled_at,
        created_at: d.user.created_at,
        last_login_at: d.user.last_login_at,
        sessions: d.sessions,
        memberships: d
            .memberships
            .into_iter()
            .map(|m| crate::model::admin::MembershipView {
                account_id: m.account_id,
                kind: m.kind,
                name: m.name,
                slug: m.slug,
                role: m.role,
            })
            .collect(),
        billing: d
            .personal_account_id
            .zip(d.billing)
            .map(|(a, b)| views::billing(a, b, t.catalog.get().ok().as_deref())),
        activity: d.activity.into_iter().map(views::audit).collect(),
        is_self: id == me.user.id,
    })
}

/// `/admin/organizations`: organizations whose name or slug contains `q`, on
/// `plan`, with subscription `status`, page `page`.
#[server(prefix = "/_fn", endpoint = "admin_orgs")]
pub async fn admin_orgs(
    q: Option<String>,
    plan: Option<String>,
    status: Option<String>,
    page: Option<u32>,
) -> Result<ListPage<AdminOrgRow>, AppError> {
    let me = super::ctx::require_super_admin().await?;
    let t = super::ctx::tollgate()?;
    let found = tollgate::service::admin::look_up::organizations(
        &t,
        &me.actor(),
        &filter(q, plan, status),
        page.unwrap_or(1),
    )
    .await?;
    Ok(ListPage {
        rows: found
            .rows
            .into_iter()
            .map(|o| AdminOrgRow {
                id: o.id,
                name: o.name,
                slug: o.slug,
                members: o.members,
                plan: o.plan_key,
                status: o.status,
                seats: o.seats,
                created_at: o.created_at,
            })
            .collect(),
        total: found.total,
        page: found.page,
        page_size: tollgate::service::admin::PAGE_SIZE,
        plans: plan_options(&t),
    })
}

/// `/admin/organizations/{id}`.
#[server(prefix = "/_fn", endpoint = "admin_org")]
pub async fn admin_org(id: String) -> Result<AdminOrgDetail, AppError> {
    let me = super::ctx::require_super_admin().await?;
    let t = super::ctx::tollgate()?;
    let id = parse_id(&id, "organization")?;
    let d = tollgate::service::admin::look_up::org_detail(&t, &me.actor(), id, chrono::Utc::now())
        .await?;
    Ok(AdminOrgDetail {
        id: d.account.id,
        name: d.account.name,
        slug: d.account.slug,
        created_at: d.account.created_at,
        members: d
            .members
            .into_iter()
            .map(|m| crate::model::admin::MemberView {
                user_id: m.user_id,
                email: m.email,
                name: m.name,
                role: m.role,
                disabled: m.disabled_at.is_some(),
            })
            .collect(),
        billing: views::billing(id, d.billing, t.catalog.get().ok().as_deref()),
        activity: d.activity.into_iter().map(views::audit).collect(),
    })
}

/// `/admin/audit`: entries by actor e-mail (part of it), action prefix, target id
/// and UTC date range (`YYYY-MM-DD`, inclusive), newest first, page `page`.
#[server(prefix = "/_fn", endpoint = "admin_audit")]
pub async fn admin_audit(
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u32>,
) -> Result<ListPage<AuditView>, AppError> {
    let me = super::ctx::require_super_admin().await?;
    let t = super::ctx::tollgate()?;
    let date = |s: Option<String>, field: &str| -> Result<Option<chrono::NaiveDate>, AppError> {
        match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| {
                    crate::error::FormError::field(field, "Use a date such as 2026-11-22.").into()
                }),
        }
    };
    let f = tollgate::db::audit::Filter {
        actor,
        action,
        target,
        from: date(from, "from")?,
        to: date(to, "to")?,
    };
    let found =
        tollgate::service::admin::look_up::audit(&t, &me.actor(), &f, page.unwrap_or(1)).await?;
    Ok(ListPage {
        rows: found.rows.into_iter().map(views::audit).collect(),
        total: found.total,
        page: found.page,
        page_size: tollgate::service::admin::PAGE_SIZE,
        plans: Vec::new(),
    })
}
