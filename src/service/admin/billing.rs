//! The admin panel's billing lists: invoices and subscriptions, with filters,
//! pages of [`super::PAGE_SIZE`] and unpaged exports for CSV.

use super::{page_window, require_super_admin};
use crate::db;
use crate::db::invoices::ListedInvoice;
use crate::db::subscriptions::ListedSubscription;
use crate::service::{Actor, Error, Tollgate};

/// Most rows a CSV export holds.
pub const EXPORT_LIMIT: i64 = 100_000;

/// Filters of the subscriptions list; `None` matches all.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionFilter {
    /// Exact status.
    pub status: Option<String>,
    /// Plan key.
    pub plan: Option<String>,
    /// `manual` or `stripe`.
    pub provider: Option<String>,
    /// Part of the account's name.
    pub search: Option<String>,
}

/// Invoices matching `f`, page `page` (`None`: everything up to
/// [`EXPORT_LIMIT`], for the CSV), and how many match.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but a super admin.
pub async fn invoices(
    t: &Tollgate,
    actor: &Actor,
    f: &db::invoices::Filter,
    page: Option<u32>,
) -> Result<(Vec<ListedInvoice>, i64), Error> {
    require_super_admin(&t.pool, actor).await?;
    let (limit, offset) = page.map_or((EXPORT_LIMIT, 0), page_window);
    let mut conn = t.pool.acquire().await?;
    Ok(db::invoices::search(&mut conn, f, limit, offset).await?)
}

/// Subscriptions matching `f`, page `page` (`None`: all, for the CSV).
///
/// # Errors
/// [`Error::Forbidden`] for anyone but a super admin.
pub async fn subscriptions(
    t: &Tollgate,
    actor: &Actor,
    f: &SubscriptionFilter,
    page: Option<u32>,
) -> Result<(Vec<ListedSubscription>, i64), Error> {
    require_super_admin(&t.pool, actor).await?;
    let (limit, offset) = page.map_or((EXPORT_LIMIT, 0), page_window);
    let mut conn = t.pool.acquire().await?;
    Ok(db::subscriptions::search(
        &mut conn,
        f.status.as_deref(),
        f.plan.as_deref(),
        f.provider.as_deref(),
        f.search.as_deref(),
        limit,
        offset,
    )
    .await?)
}
