//! The notification list.

use crate::error::AppError;
use crate::model::NotificationView;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Notifications shown per page.
pub const PER_PAGE: u32 = 20;

/// A page of notifications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationsPage {
    /// Newest first.
    pub items: Vec<NotificationView>,
    /// This page, from 0.
    pub page: u32,
    /// Number of pages (at least 1).
    pub pages: u32,
    /// Unread in all.
    pub unread: i64,
}

/// Page `page` (from 0) of the account's notifications.
#[server(prefix = "/_fn", endpoint = "notifications")]
pub async fn list_notifications(page: u32) -> Result<NotificationsPage, AppError> {
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    let p =
        tollgate::service::notifications::list(&t.pool, me.account_id, me.user.id, page, PER_PAGE)
            .await?;
    let pages = u32::try_from((p.total + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE))
        .unwrap_or(1)
        .max(1);
    Ok(NotificationsPage {
        items: p.items.into_iter().map(Into::into).collect(),
        page,
        pages,
        unread: p.unread,
    })
}

/// Marks every notification read.
#[server(prefix = "/_fn", endpoint = "notifications_read")]
pub async fn mark_notifications_read() -> Result<(), AppError> {
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    tollgate::service::notifications::mark_all_read(&t.pool, me.account_id, me.user.id).await?;
    Ok(())
}
