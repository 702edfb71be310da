//! What the admin panel reads: lists with filters and pages, and the user and
//! organization pages.

use super::{page_window, require_super_admin, user};
use crate::db::{
    self, admin::Filter, audit::AuditRow, credits::BalanceRow, subscriptions::SubscriptionRow,
    users::UserRow,
};
use crate::service::{usage, Actor, Error, Tollgate};
use crate::usage::Snapshot;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Entries of "recent activity" on the detail pages.
pub const RECENT_ACTIVITY: i64 = 20;

/// One page of a list and the number of matches.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows.
    pub rows: Vec<T>,
    /// All matches.
    pub total: i64,
    /// This page (1-based).
    pub page: u32,
}

/// Users matching `f`, page `page`.
///
/// # Errors
/// [`Error::Forbidden`] for a non-admin actor; database errors.
pub async fn users(
    t: &Tollgate,
    actor: &Actor,
    f: &Filter,
    page: u32,
) -> Result<Page<db::admin::UserListRow>, Error> {
    require_super_admin(&t.pool, actor).await?;
    let (limit, offset) = page_window(page);
    let (rows, total) = db::admin::search_users(&t.pool, f, limit, offset).await?;
    Ok(Page {
        rows,
        total,
        page: page.max(1),
    })
}

/// Organizations matching `f`, page `page`.
///
/// # Errors
/// [`Error::Forbidden`] for a non-admin actor; database errors.
pub async fn organizations(
    t: &Tollgate,
    actor: &Actor,
    f: &Filter,
    page: u32,
) -> Result<Page<db::admin::OrgListRow>, Error> {
    require_super_admin(&t.pool, actor).await?;
    let (limit, offset) = page_window(page);
    let (rows, total) = db::admin::search_orgs(&t.pool, f, limit, offset).await?;
    Ok(Page {
        rows,
        total,
        page: page.max(1),
    })
}

/// Audit entries matching `f`, newest first, page `page`.
///
/// # Errors
/// [`Error::Forbidden`] for a non-admin actor; [`Error::Invalid`] (field `to`)
/// when the range ends before it starts; database errors.
pub async fn audit(
    t: &Tollgate,
    actor: &Actor,
    f: &db::audit::Filter,
    page: u32,
) -> Result<Page<AuditRow>, Error> {
    require_super_admin(&t.pool, actor).await?;
    if let (Some(from), Some(to)) = (f.from, f.to) {
        if to < from {
            return Err(Error::invalid("to", "The range ends before it starts."));
        }
    }
    let (limit, offset) = page_window(page);
    let (rows, total) = db::audit::search(&t.pool, f, limit, offset).await?;
    Ok(Page {
        rows,
        total,
        page: page.max(1),
    })
}

/// An account's billing state as the detail pages show it.
#[derive(Debug, Clone)]
pub struct AccountBilling {
    /// The account (net terms, external id).
    pub account: db::accounts::AccountRow,
    /// The live subscription, if any.
    pub subscription: Option<SubscriptionRow>,
    /// Current usage per meter.
    pub usage: Snapshot,
    /// Credit balance per currency.
    pub credits: Vec<BalanceRow>,
    /// Entitlement overrides, newest first (expired ones too).
    pub overrides: Vec<crate::overrides::Override>,
    /// The redeemed coupon, if any.
    pub coupon: Option<db::coupons::Redemption>,
    /// The latest usage corrections, newest first (at most [`RECENT_CORRECTIONS`]).
    pub corrections: Vec<db::usage_corrections::Summary>,
}

/// Usage corrections an account's admin page lists.
pub const RECENT_CORRECTIONS: i64 = 10;

async fn billing(
    t: &Tollgate,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<AccountBilling, Error> {
    Ok(AccountBilling {
        account: db::accounts::by_id(&t.pool, account_id)
            .await?
            .ok_or_else(|| Error::NotFound("There is no such account.".into()))?,
        subscription: db::subscriptions::live_for_account(&t.pool, account_id).await?,
        usage: usage::snapshot(t, account_id, now).await?,
        credits: db::credits::balances(&t.pool, account_id).await?,
        overrides: db::overrides::all_for_account(&t.pool, account_id).await?,
        coupon: db::coupons::for_account(&t.pool, account_id).await?,
        corrections: db::usage_corrections::recent(&t.pool, account_id, RECENT_CORRECTIONS).await?,
    })
}

/// Everything `/admin/users/{id}` shows.
#[derive(Debug, Clone)]
pub struct UserDetail {
    /// The user.
    pub user: UserRow,
    /// Their accounts with roles (personal first).
    pub memberships: Vec<db::admin::MembershipRow>,
    /// Their personal account.
    pub personal_account_id: Option<Uuid>,
    /// The personal account's billing.
    pub billing: Option<AccountBilling>,
    /// Live sessions.
    pub sessions: i64,
    /// Latest audit entries where they acted, impersonated or were the target.
    pub activity: Vec<AuditRow>,
}

/// The user page's data.
///
/// # Errors
/// [`Error::Forbidden`] for a non-admin actor; [`Error::NotFound`].
pub async fn user_detail(
    t: &Tollgate,
    actor: &Actor,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<UserDetail, Error> {
    require_super_admin(&t.pool, actor).await?;
    let found = user(&t.pool, user_id).await?;
    let memberships = db::admin::memberships_of(&t.pool, user_id).await?;
    let personal = db::accounts::personal_of(&t.pool, user_id)
        .await?
        .map(|a| a.id);
    let billing = match personal {
        Some(id) => Some(billing(t, id, now).await?),
        None => None,
    };
    Ok(UserDetail {
        user: found,
        memberships,
        personal_account_id: personal,
        billing,
        sessions: db::sessions::count_for_user(&t.pool, user_id).await?,
        activity: db::audit::recent_for_user(&t.pool, user_id, RECENT_ACTIVITY).await?,
    })
}

/// Everything `/admin/organizations/{id}` shows.
#[derive(Debug, Clone)]
pub struct OrgDetail {
    /// The organization's account.
    pub account: db::accounts::AccountRow,
    /// Members with roles (owner first).
    pub members: Vec<db::admin::MemberRow>,
    /// Billing.
    pub billing: AccountBilling,
    /// Latest audit entries about it.
    pub activity: Vec<AuditRow>,
}

/// The organization page's data.
///
/// # Errors
/// [`Error::Forbidden`] for a non-admin actor; [`Error::NotFound`] (also for a
/// personal account).
pub async fn org_detail(
    t: &Tollgate,
    actor: &Actor,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<OrgDetail, Error> {
    require_super_admin(&t.pool, actor).await?;
    let account = db::accounts::by_id(&t.pool, account_id)
        .await?
        .filter(|a| a.kind == "organization")
        .ok_or_else(|| Error::NotFound("There is no such organization.".into()))?;
    Ok(OrgDetail {
        members: db::admin::members_of(&t.pool, account_id).await?,
        billing: billing(t, account_id, now).await?,
        activity: db::audit::recent_for_account(&t.pool, account_id, RECENT_ACTIVITY).await?,
        account,
    })
}

/// The landing page's counts: users and organizations.
///
/// # Errors
/// [`Error::Forbidden`] for a non-admin actor; database errors.
pub async fn overview(t: &Tollgate, actor: &Actor) -> Result<(i64, i64), Error> {
    require_super_admin(&t.pool, actor).await?;
    Ok(db::admin::counts(&t.pool).await?)
}
