//! The dashboard's data, also sent by the live stream (`/live/usage`).

use crate::error::AppError;
use crate::model::{DashboardData, UsageChartsView};
use leptos::prelude::*;

/// The signed-in account's plan, meters and latest notifications. Without a live
/// subscription the answer is [`AppError::PlanRequired`] (the paywall sends the
/// user to the pricing page).
#[server(prefix = "/_fn", endpoint = "dashboard")]
pub async fn get_dashboard() -> Result<DashboardData, AppError> {
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    ssr::load(&t, me.account_id, me.user.id).await
}

/// The signed-in account's usage of one meter over time (`meter`, a catalog key;
/// absent or unknown: the catalog's first meter), drawn on the server. Any member
/// may see it, as the dashboard.
#[server(prefix = "/_fn", endpoint = "usage_charts")]
pub async fn get_usage_charts(meter: Option<String>) -> Result<UsageChartsView, AppError> {
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    let mut charts = ssr::charts(&t, me.account_id, meter.as_deref()).await?;
    // What is owed is billing: the owner's and admins' (as `/billing`).
    let role = tollgate::db::accounts::role_of(&t.pool, me.account_id, me.user.id)
        .await
        .map_err(tollgate::service::Error::from)?;
    if matches!(role.as_deref(), Some("owner" | "admin")) {
        charts.owed = tollgate::service::invoices::preview::current(&t, me.account_id, chrono::Utc::now())
            .await?
            .map(|p| (p.accrued.amount_due.display(), p.projected.amount_due.display()));
    }
    Ok(charts)
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::error::AppError;
    use crate::model::{DashboardData, NotificationView, UpgradeSuggestion};
    use tollgate::service::{notifications, usage, Tollgate};
    use uuid::Uuid;

    /// Latest notifications shown on the dashboard.
    pub const RECENT_NOTIFICATIONS: u32 = 5;

    /// Builds the dashboard for `user_id` acting on `account_id`.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] for non-members, [`AppError::PlanRequired`] without a
    /// live subscription.
    pub async fn load(
        t: &Tollgate,
        account_id: Uuid,
        user_id: Uuid,
    ) -> Result<DashboardData, AppError> {
        let page =
            notifications::list(&t.pool, account_id, user_id, 0, RECENT_NOTIFICATIONS).await?;
        let snapshot = usage::snapshot(t, account_id, chrono::Utc::now()).await?;
        let Some(plan) = &snapshot.plan else {
            return Err(AppError::PlanRequired);
        };
        let catalog = t.catalog.get()?;
        let upgrade = snapshot
            .meters
            .iter()
            .filter(|m| m.upgrade_prompt)
            .find_map(|m| {
                let target = catalog.upgrade_for(&plan.key, &m.meter, plan.interval)?;
                let price = target.price(plan.interval)?;
                Some(UpgradeSuggestion {
                    meter: m.meter.clone(),
                    plan: target.key.to_string(),
                    plan_name: target.name.clone(),
                    price: format!("{}/{}", price.amount.display_short(), plan.interval),
                })
            });
        Ok(DashboardData {
            snapshot,
            notifications: page.items.into_iter().map(NotificationView::from).collect(),
            unread: page.unread,
            upgrade,
        })
    }

    /// The usage charts of `meter` (or the catalog's first meter) for `account_id`.
    ///
    /// # Errors
    /// No catalog, or one without meters; a database error.
    pub async fn charts(
        t: &Tollgate,
        account_id: Uuid,
        meter: Option<&str>,
    ) -> Result<crate::model::UsageChartsView, AppError> {
        let catalog = t.catalog.get()?;
        let key = meter
            .and_then(|m| catalog.meter(m))
            .or_else(|| catalog.meters.first())
            .map(|m| m.key.to_string())
            .ok_or_else(|| AppError::NotFound("this catalog has no meters".into()))?;
        let timeline =
            tollgate::service::usage_history::timeline(t, account_id, &key, chrono::Utc::now())
                .await?;
        Ok(crate::server::usage_charts::view(&catalog, &timeline))
    }

    impl From<tollgate::db::notifications::NotificationRow> for NotificationView {
        fn from(n: tollgate::db::notifications::NotificationRow) -> Self {
            NotificationView {
                id: n.id,
                kind: n.kind,
                title: n.title,
                body: n.body,
                created_at: n.created_at,
                read: n.read_at.is_some(),
            }
        }
    }
}
