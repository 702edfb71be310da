//! The dashboard's data, also sent by the live stream (`/live/usage`).

use crate::error::AppError;
use crate::model::DashboardData;
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
