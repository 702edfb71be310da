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

/// One kind in the preferences form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreferenceView {
    /// Stored name (`trial_ending`).
    pub kind: String,
    pub label: String,
    /// On in the app.
    pub in_app: bool,
    /// On by e-mail (`false` also when never e-mailed).
    pub email: bool,
    /// Whether Tollgate e-mails this kind at all.
    pub emailed: bool,
    /// Invoices and payment problems: always on.
    pub transactional: bool,
}

/// The signed-in user's notification preferences, every kind.
#[server(prefix = "/_fn", endpoint = "notification_preferences")]
pub async fn notification_preferences() -> Result<Vec<PreferenceView>, AppError> {
    use tollgate::notification::{Channel, Kind};
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    let p = tollgate::service::notifications::preferences(&t.pool, me.user.id).await?;
    Ok(Kind::ALL
        .into_iter()
        .map(|k| PreferenceView {
            kind: k.as_str().to_owned(),
            label: k.label().to_owned(),
            in_app: p.allows(k, Channel::InApp),
            email: p.allows(k, Channel::Email),
            emailed: k.emailed(),
            transactional: k.transactional(),
        })
        .collect())
}

/// Saves the preferences: the kinds ticked stay on, the others go off (not the
/// transactional ones). A plain form post; goes back to the page.
#[server(prefix = "/_fn", endpoint = "notification_preferences_save")]
pub async fn save_notification_preferences(in_app: Option<Vec<String>>, email: Option<Vec<String>>) -> Result<(), AppError> {
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    let p = tollgate::notification::Preferences::from_enabled(&in_app.unwrap_or_default(), &email.unwrap_or_default())
        .map_err(|e| AppError::from(tollgate::service::Error::invalid("kind", e.to_string())))?;
    tollgate::service::notifications::save_preferences(&t.pool, &me.actor(), me.user.id, &p).await?;
    leptos_axum::redirect("/notifications?saved=1#preferences");
    Ok(())
}
