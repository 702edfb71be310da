//! `/admin/plans`: the live catalog's plans, and their limits edited, previewed and
//! published as a new catalog version.

use crate::error::AppError;
use crate::model::admin::{LimitEditPreview, PlansView};
use leptos::prelude::*;

/// Every plan (hidden and sales-only ones too) with prices, limits, features,
/// trial and subscribers, and the live catalog version.
#[server(prefix = "/_fn", endpoint = "admin_plans")]
pub async fn admin_plans() -> Result<PlansView, AppError> {
    use crate::model::admin::PlanView;
    use tollgate::catalog::edit::describe;
    let _me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let catalog = t.catalog.get()?;
    let version = tollgate::db::catalog::latest_version(&t.pool).await.map_err(tollgate::service::Error::from)?;
    let counts = tollgate::db::subscriptions::live_counts_by_plan(&t.pool).await.map_err(tollgate::service::Error::from)?;
    let plans = catalog
        .plans
        .iter()
        .map(|p| PlanView {
            key: p.key.to_string(),
            name: p.name.clone(),
            public: p.public,
            self_serve: p.self_serve,
            trial_days: p.trial_days,
            prices: p.prices.iter().map(|pr| format!("{}/{}{}", pr.amount.display(), pr.interval, if pr.per_seat { " per seat" } else { "" })).collect(),
            limits: catalog.meters.iter().map(|m| (m.key.to_string(), m.name.clone(), describe(&p.limit(m.key.as_str())))).collect(),
            features: p
                .features
                .iter()
                .map(|(k, v)| (catalog.feature(k.as_str()).map_or_else(|| k.to_string(), |f| f.name.clone()), crate::format::feature_value(v)))
                .collect(),
            subscribers: counts.get(p.key.as_str()).copied().unwrap_or(0),
        })
        .collect();
    Ok(PlansView {
        plans,
        thresholds: catalog.thresholds.iter().map(|th| format!("{} %: {}", th.percent.normalize(), th.actions.iter().map(|a| serde_json::to_value(a).ok().and_then(|v| v.as_str().map(|s| s.replace('_', " "))).unwrap_or_default()).collect::<Vec<_>>().join(", "))).collect(),
        version: version.map(|v| (v.version, v.source, v.created_at)),
        meters: catalog.meters.iter().map(|m| (m.key.to_string(), m.name.clone())).collect(),
    })
}

/// What setting `plan`'s limit on `meter` would change, validated by the catalog
/// loader.
#[server(prefix = "/_fn", endpoint = "admin_preview_limit")]
pub async fn admin_preview_limit(plan: String, meter: String, included: String, enforcement: String, grace_percent: Option<String>) -> Result<LimitEditPreview, AppError> {
    use tollgate::service::admin::plan_edits::{preview_limit, LimitInput};
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let input = LimitInput { plan: &plan, meter: &meter, included: &included, enforcement: &enforcement, grace_percent: grace_percent.as_deref().unwrap_or("") };
    let p = preview_limit(&t, &me.actor(), &input).await?;
    Ok(LimitEditPreview { base_version: p.base_version, changes: p.changes, subscribers: p.subscribers })
}

/// Publishes the previewed limit as a new catalog version; back to `/admin/plans`.
#[server(prefix = "/_fn", endpoint = "admin_publish_limit")]
pub async fn admin_publish_limit(plan: String, meter: String, included: String, enforcement: String, grace_percent: Option<String>, base_version: String) -> Result<i64, AppError> {
    use tollgate::service::admin::plan_edits::{publish_limit, LimitInput};
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let base: i64 = base_version.trim().parse().map_err(|_| crate::error::FormError::message("Preview the edit again."))?;
    let input = LimitInput { plan: &plan, meter: &meter, included: &included, enforcement: &enforcement, grace_percent: grace_percent.as_deref().unwrap_or("") };
    let version = publish_limit(&t, &me.actor(), &input, base).await?;
    leptos_axum::redirect(&format!("/admin/plans?published={version}"));
    Ok(version)
}
