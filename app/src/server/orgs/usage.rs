//! Team usage: the organization's meters (as on the dashboard, kept live by
//! `/live/usage?org={slug}`) and the current period per member.

use crate::error::AppError;
use crate::model::UsageBreakdownView;
use crate::org_model::TeamUsage;
use leptos::prelude::*;

/// The team usage page's data; any member.
#[server(prefix = "/_fn", endpoint = "org_usage")]
pub async fn org_usage(slug: String) -> Result<TeamUsage, AppError> {
    use crate::org_model::{UsageColumn, UsageRow};
    use tollgate::service::accounts::Role;
    use tollgate::service::organizations::team_usage;
    let o = super::super::org_ctx::require_org(&slug, Role::Viewer).await?;
    let dashboard = match crate::server::dashboard::ssr::load(&o.t, o.org.id, o.me.user.id).await {
        Ok(d) => Some(d),
        Err(AppError::PlanRequired) => None,
        Err(e) => return Err(e),
    };
    let b = team_usage::by_member(&o.t, o.org.id, o.me.user.id, chrono::Utc::now()).await?;
    let columns = b
        .columns
        .iter()
        .map(|c| UsageColumn {
            meter: c.meter.clone(),
            name: if c.peak {
                format!("{} (peak)", c.name)
            } else {
                c.name.clone()
            },
        })
        .collect();
    let rows = b
        .rows
        .into_iter()
        .map(|r| UsageRow {
            user_id: r.user_id,
            name: r.name,
            email: r.email,
            values: r.values.into_iter().map(crate::format::quantity).collect(),
        })
        .collect();
    Ok(TeamUsage {
        org: o.header(),
        dashboard,
        columns,
        rows,
    })
}

/// The organization's usage of `meter` (default: the catalog's first) over the
/// last 30 days (`granularity` `day`, the default) or 12 months (`month`), split
/// `by` member (`user`, the default) or by a property the meter groups by
/// (`property:<name>`); any member.
///
/// # Errors
/// Not a member: not found (as for an unknown slug); a bad split or granularity:
/// a form error naming it.
#[server(prefix = "/_fn", endpoint = "org_usage_history")]
pub async fn org_usage_history(
    slug: String,
    meter: Option<String>,
    by: Option<String>,
    granularity: Option<String>,
) -> Result<UsageBreakdownView, AppError> {
    use tollgate::service::accounts::Role;
    let o = super::super::org_ctx::require_org(&slug, Role::Viewer).await?;
    let members = tollgate::db::memberships::members(&o.t.pool, o.org.id)
        .await
        .map_err(tollgate::service::Error::from)?;
    let names: std::collections::HashMap<String, String> = members
        .into_iter()
        .map(|m| (m.user_id.to_string(), m.name))
        .collect();
    crate::server::usage_charts::breakdown(
        &o.t,
        o.org.id,
        meter.as_deref(),
        by.as_deref(),
        granularity.as_deref(),
        &names,
    )
    .await
}
