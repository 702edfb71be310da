//! `/admin/plans`: the live catalog's plans; their limits, prices, features and
//! trials, and the usage thresholds, edited, previewed and published as a new
//! catalog version; grandfathered subscribers moved to the current price.

use crate::error::AppError;
use crate::model::admin::{EditPreviewView, PlansView, PriceMoveView};
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
    let version = tollgate::db::catalog::latest_version(&t.pool)
        .await
        .map_err(tollgate::service::Error::from)?;
    let counts = tollgate::db::subscriptions::live_counts_by_plan(&t.pool)
        .await
        .map_err(tollgate::service::Error::from)?;
    let kept = tollgate::db::subscriptions::grandfathered_counts(&t.pool)
        .await
        .map_err(tollgate::service::Error::from)?;
    let plans = catalog
        .plans
        .iter()
        .map(|p| PlanView {
            key: p.key.to_string(),
            name: p.name.clone(),
            public: p.public,
            self_serve: p.self_serve,
            trial_days: p.trial_days,
            prices: p
                .prices
                .iter()
                .map(tollgate::catalog::edit::describe_price)
                .collect(),
            limits: catalog
                .meters
                .iter()
                .map(|m| {
                    (
                        m.key.to_string(),
                        m.name.clone(),
                        describe(&p.limit(m.key.as_str())),
                    )
                })
                .collect(),
            features: p
                .features
                .iter()
                .map(|(k, v)| {
                    (
                        catalog
                            .feature(k.as_str())
                            .map_or_else(|| k.to_string(), |f| f.name.clone()),
                        crate::format::feature_value(v),
                    )
                })
                .collect(),
            subscribers: counts.get(p.key.as_str()).copied().unwrap_or(0),
            kept: ["month", "year"]
                .iter()
                .filter_map(|i| {
                    kept.get(&(p.key.to_string(), (*i).to_string()))
                        .map(|n| ((*i).to_string(), *n))
                })
                .collect(),
        })
        .collect();
    Ok(PlansView {
        plans,
        thresholds: catalog
            .thresholds
            .iter()
            .map(|th| {
                format!(
                    "{} %: {}",
                    th.percent.normalize(),
                    th.actions
                        .iter()
                        .map(|a| tollgate::catalog::edit::action_name(*a).replace('_', " "))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect(),
        version: version.map(|v| (v.version, v.source, v.created_at)),
        meters: catalog
            .meters
            .iter()
            .map(|m| (m.key.to_string(), m.name.clone()))
            .collect(),
        features: catalog
            .features
            .iter()
            .map(|f| (f.key.to_string(), f.name.clone(), feature_hint(&f.kind)))
            .collect(),
    })
}

/// What a feature's value may be, for the editor's hint.
#[cfg(feature = "ssr")]
fn feature_hint(kind: &tollgate::catalog::FeatureKind) -> String {
    use tollgate::catalog::FeatureKind;
    match kind {
        FeatureKind::Boolean => "true or false".into(),
        FeatureKind::Numeric { .. } => "a number or unlimited".into(),
        FeatureKind::Rate { .. } => "calls per window, or unlimited".into(),
        FeatureKind::Enum { values } => values.join(", "),
    }
}

/// The form's fields as an edit (absent ones empty): plan, target, value,
/// enforcement and grace, in that order.
#[cfg(feature = "ssr")]
fn edit_input<'a>(
    kind: &'a str,
    [plan, target, value, enforcement, grace_percent]: [&'a Option<String>; 5],
) -> tollgate::catalog::edit::EditInput<'a> {
    let text = |f: &'a Option<String>| f.as_deref().unwrap_or("");
    tollgate::catalog::edit::EditInput {
        kind,
        plan: text(plan),
        target: text(target),
        value: text(value),
        enforcement: text(enforcement),
        grace_percent: text(grace_percent),
    }
}

/// What the catalog edit would change, validated by the catalog loader (fields as
/// [`tollgate::catalog::edit::EditInput`]).
#[server(prefix = "/_fn", endpoint = "admin_preview_edit")]
pub async fn admin_preview_edit(
    kind: String,
    plan: Option<String>,
    target: Option<String>,
    value: Option<String>,
    enforcement: Option<String>,
    grace_percent: Option<String>,
) -> Result<EditPreviewView, AppError> {
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let input = edit_input(
        &kind,
        [&plan, &target, &value, &enforcement, &grace_percent],
    );
    let p = tollgate::service::admin::plan_edits::preview(&t, &me.actor(), &input).await?;
    Ok(EditPreviewView {
        base_version: p.base_version,
        changes: p.changes,
        reach: p.reach,
    })
}

/// Publishes the previewed edit as a new catalog version; back to `/admin/plans`
/// (with `stripe=synced|failed` after a price edit with Stripe configured).
#[server(prefix = "/_fn", endpoint = "admin_publish_edit")]
pub async fn admin_publish_edit(
    kind: String,
    plan: Option<String>,
    target: Option<String>,
    value: Option<String>,
    enforcement: Option<String>,
    grace_percent: Option<String>,
    base_version: String,
) -> Result<i64, AppError> {
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let base: i64 = base_version
        .trim()
        .parse()
        .map_err(|_| crate::error::FormError::message("Preview the edit again."))?;
    let input = edit_input(
        &kind,
        [&plan, &target, &value, &enforcement, &grace_percent],
    );
    let published =
        tollgate::service::admin::plan_edits::publish(&t, &me.actor(), &input, base).await?;
    let stripe = match &published.stripe_sync {
        None => "",
        Some(Ok(())) => "&stripe=synced",
        Some(Err(_)) => "&stripe=failed",
    };
    leptos_axum::redirect(&format!(
        "/admin/plans?published={}{stripe}",
        published.version
    ));
    Ok(published.version)
}

/// How many subscribers of `plan` on `interval` keep an older price, and their MRR
/// before and after a move to the current price.
#[server(prefix = "/_fn", endpoint = "admin_preview_price_move")]
pub async fn admin_preview_price_move(
    plan: String,
    interval: String,
) -> Result<PriceMoveView, AppError> {
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let p = tollgate::service::admin::price_migration::preview(
        &t,
        &me.actor(),
        &plan,
        &interval,
        chrono::Utc::now(),
    )
    .await?;
    Ok(PriceMoveView {
        plan_name: p.plan_name,
        interval: p.interval.to_string(),
        subscriptions: p.subscriptions,
        billed_by_stripe: p.billed_by_stripe,
        stripe_configured: p.stripe_configured,
        kept: p.kept,
        current: p.current,
        mrr_before: p.mrr_before.display(),
        mrr_after: p.mrr_after.display(),
    })
}

/// Moves the previewed subscribers (`expected` of them) to the current price, from
/// their next renewal or, with `prorate`, also for the rest of the period; back to
/// `/admin/plans` with how many moved and failed.
#[server(prefix = "/_fn", endpoint = "admin_move_to_current_price")]
pub async fn admin_move_to_current_price(
    plan: String,
    interval: String,
    prorate: Option<String>,
    expected: String,
) -> Result<usize, AppError> {
    let me = super::super::ctx::require_super_admin().await?;
    let t = super::super::ctx::tollgate()?;
    let expected: usize = expected
        .trim()
        .parse()
        .map_err(|_| crate::error::FormError::message("Preview the move again."))?;
    let prorate = prorate.is_some_and(|p| !p.is_empty());
    let report = tollgate::service::admin::price_migration::move_to_current(
        &t,
        &me.actor(),
        &plan,
        &interval,
        prorate,
        expected,
        chrono::Utc::now(),
    )
    .await?;
    leptos_axum::redirect(&format!(
        "/admin/plans?moved={}&failed={}",
        report.moved,
        report.failed.len()
    ));
    Ok(report.moved)
}
