//! Team usage: the organization's meters (as on the dashboard, kept live by
//! `/live/usage?org={slug}`) and the current period per member.

use crate::error::AppError;
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
