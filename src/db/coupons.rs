//! `account_coupons`: the coupon an account has redeemed (the `coupons` themselves
//! are catalog data, see [`super::catalog`]).

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// An account's redeemed coupon.
#[derive(Debug, Clone, FromRow)]
pub struct Redemption {
    pub coupon_code: String,
    pub redeemed_at: DateTime<Utc>,
    pub invoices_applied: i32,
}

/// The account's redeemed coupon, if any.
pub async fn for_account(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> Result<Option<Redemption>, sqlx::Error> {
    sqlx::query_as("SELECT coupon_code, redeemed_at, invoices_applied FROM account_coupons WHERE account_id = $1")
        .bind(account_id)
        .fetch_optional(db)
        .await
}

/// The redeemed coupon of each of `account_ids` (accounts without one are absent).
pub async fn for_accounts(
    db: impl PgExecutor<'_>,
    account_ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, Redemption>, sqlx::Error> {
    #[derive(FromRow)]
    struct Keyed {
        account_id: Uuid,
        #[sqlx(flatten)]
        redemption: Redemption,
    }
    let rows: Vec<Keyed> = sqlx::query_as(
        "SELECT account_id, coupon_code, redeemed_at, invoices_applied FROM account_coupons WHERE account_id = ANY($1)",
    )
    .bind(account_ids)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.account_id, r.redemption))
        .collect())
}

/// Redeems `code` for the account, replacing any earlier coupon.
pub async fn redeem(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    code: &str,
    by: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO account_coupons (account_id, coupon_code, redeemed_at, redeemed_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (account_id) DO UPDATE SET coupon_code = $2, redeemed_at = $3, redeemed_by = $4, invoices_applied = 0",
    )
    .bind(account_id)
    .bind(code)
    .bind(at)
    .bind(by)
    .execute(db)
    .await?;
    Ok(())
}

/// Removes the account's coupon; `true` when there was one.
pub async fn remove(db: impl PgExecutor<'_>, account_id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM account_coupons WHERE account_id = $1")
            .bind(account_id)
            .execute(db)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Counts one more invoice the coupon was applied to.
pub async fn mark_applied(db: impl PgExecutor<'_>, account_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE account_coupons SET invoices_applied = invoices_applied + 1 WHERE account_id = $1",
    )
    .bind(account_id)
    .execute(db)
    .await?;
    Ok(())
}

/// [`mark_applied`] once per occurrence of an account in `account_ids`.
pub async fn mark_applied_many(
    db: impl PgExecutor<'_>,
    account_ids: &[Uuid],
) -> Result<(), sqlx::Error> {
    if account_ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE account_coupons c SET invoices_applied = c.invoices_applied + n.times
         FROM (SELECT a, count(*)::int AS times FROM unnest($1::uuid[]) AS t(a) GROUP BY a) n WHERE c.account_id = n.a",
    )
    .bind(account_ids)
    .execute(db)
    .await?;
    Ok(())
}

/// A redemption with its coupon's terms (the `coupons` row's JSON, as
/// [`crate::coupon::Discount`] and [`crate::coupon::Duration`] serialise).
#[derive(Debug, Clone, FromRow)]
pub struct RedemptionTerms {
    pub account_id: Uuid,
    pub coupon_code: String,
    pub name: String,
    pub discount: sqlx::types::Json<crate::coupon::Discount>,
    pub duration: sqlx::types::Json<crate::coupon::Duration>,
    pub redeemed_at: DateTime<Utc>,
}

/// Every account's redeemed coupon with its terms (archived coupons too).
pub async fn all_redemptions(db: impl PgExecutor<'_>) -> Result<Vec<RedemptionTerms>, sqlx::Error> {
    sqlx::query_as(
        "SELECT ac.account_id, ac.coupon_code, c.name, c.discount, c.duration, ac.redeemed_at
         FROM account_coupons ac JOIN coupons c ON c.code = ac.coupon_code",
    )
    .fetch_all(db)
    .await
}
