//! The in-app notification list.

use super::accounts::{require_role, Role};
use super::Error;
use crate::db::{self, notifications::NotificationRow};
use sqlx::PgPool;
use uuid::Uuid;

/// A page of notifications.
#[derive(Debug, Clone)]
pub struct Page {
    /// Newest first.
    pub items: Vec<NotificationRow>,
    /// All notifications of the account.
    pub total: i64,
    /// Unread ones.
    pub unread: i64,
}

/// Page `page` (from 0) of `per_page` notifications of the account, for a member.
///
/// # Errors
/// [`Error::Forbidden`] for non-members.
pub async fn list(
    pool: &PgPool,
    account_id: Uuid,
    user_id: Uuid,
    page: u32,
    per_page: u32,
) -> Result<Page, Error> {
    require_role(pool, account_id, user_id, Role::Viewer).await?;
    let per_page = i64::from(per_page.clamp(1, 100));
    let items =
        db::notifications::list(pool, account_id, per_page, i64::from(page) * per_page).await?;
    let (total, unread) = db::notifications::counts(pool, account_id).await?;
    Ok(Page {
        items,
        total,
        unread,
    })
}

/// Marks all of the account's notifications read.
///
/// # Errors
/// [`Error::Forbidden`] for non-members.
pub async fn mark_all_read(pool: &PgPool, account_id: Uuid, user_id: Uuid) -> Result<u64, Error> {
    require_role(pool, account_id, user_id, Role::Viewer).await?;
    Ok(db::notifications::mark_all_read(pool, account_id).await?)
}
