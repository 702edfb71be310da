//! `subscriptions` and `subscription_changes`.

use crate::catalog::Price;
use crate::period::{Cycle, Interval};
use crate::subscription::{PlanTerms, Status};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// A subscription row.
#[derive(Debug, Clone, FromRow)]
pub struct SubscriptionRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub plan_key: String,
    pub interval: String,
    pub seats: i32,
    pub status: String,
    pub provider: String,
    pub cycle_anchor: DateTime<Utc>,
    pub trial_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
    pub created_at: DateTime<Utc>,
    /// While past due: when the dunning grace period ends.
    pub grace_until: Option<DateTime<Utc>>,
    /// Whether the plan's entitlements apply, as the database read it at the
    /// query's time: trialing, active, or past due within the grace period.
    pub entitled: bool,
    /// A plan change waiting for the period end: plan key, `month`/`year`, and the
    /// instant (UTC) it applies; all three or none.
    pub scheduled_plan_key: Option<String>,
    pub scheduled_interval: Option<String>,
    pub scheduled_at: Option<DateTime<Utc>>,
    /// With `cancel_at_period_end`: the instant (UTC) the subscription ends.
    pub cancel_at: Option<DateTime<Utc>>,
    /// Stripe's `sub_…` when the `stripe` provider bills it.
    pub provider_subscription_id: Option<String>,
    /// The price this subscriber keeps since a catalog version changed its plan's
    /// price (grandfathered); `None`: the catalog's current price.
    pub grandfathered_price: Option<Json<Price>>,
    /// With a grandfathered price being moved to the current one: the instant
    /// (UTC, exclusive) from which periods bill the current price.
    pub grandfathered_until: Option<DateTime<Utc>>,
}

impl SubscriptionRow {
    /// The row's status; an unknown name (impossible under the CHECK) reads as
    /// `incomplete`, which entitles to nothing.
    pub fn status(&self) -> Status {
        self.status.parse().unwrap_or(Status::Incomplete)
    }

    /// The row's billing cycle.
    pub fn cycle(&self) -> Cycle {
        Cycle {
            anchor: self.cycle_anchor,
            interval: self.interval.parse().unwrap_or(Interval::Month),
        }
    }

    /// The row's terms, for [`crate::subscription::change`].
    pub fn terms(&self) -> PlanTerms {
        PlanTerms {
            status: self.status(),
            trial_end: self.trial_end,
            cycle: self.cycle(),
        }
    }

    /// The subscriber's grandfathered price for a period starting (or a change
    /// made) at `at`, if the plan's price changed since they subscribed and they
    /// were not moved to the current price before `at` (see
    /// [`crate::catalog::Plan::price_for`]).
    pub fn kept_price_at(&self, at: DateTime<Utc>) -> Option<&Price> {
        kept_at(
            self.grandfathered_price.as_ref(),
            self.grandfathered_until,
            at,
        )
    }

    /// The plan change waiting for the period end, if any: plan key, interval, when.
    pub fn scheduled(&self) -> Option<(&str, Interval, DateTime<Utc>)> {
        Some((
            self.scheduled_plan_key.as_deref()?,
            self.scheduled_interval.as_deref()?.parse().ok()?,
            self.scheduled_at?,
        ))
    }
}

/// A kept price as it applies at `at`.
fn kept_at(
    price: Option<&Json<Price>>,
    until: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Option<&Price> {
    price.map(|j| &j.0).filter(|_| until.is_none_or(|u| at < u))
}

const COLUMNS: &str = "id, account_id, plan_key, interval, seats, status, provider, cycle_anchor, trial_end, cancel_at_period_end, created_at,
     grace_until, (status IN ('trialing', 'active') OR (status = 'past_due' AND grace_until > now())) AS entitled,
     scheduled_plan_key, scheduled_interval, scheduled_at, cancel_at, provider_subscription_id, grandfathered_price, grandfathered_until";

/// The account's live (not canceled) subscription.
pub async fn live_for_account(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
) -> Result<Option<SubscriptionRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE account_id = $1 AND status <> 'canceled'"
    ))
    .bind(account_id)
    .fetch_optional(db)
    .await
}

/// Live subscriptions of several accounts.
pub async fn live_for_accounts(
    db: impl PgExecutor<'_>,
    account_ids: &[Uuid],
) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE account_id = ANY($1) AND status <> 'canceled'"
    ))
    .bind(account_ids)
    .fetch_all(db)
    .await
}

/// How many live subscriptions each plan has (plans without any are absent).
pub async fn live_counts_by_plan(
    db: impl PgExecutor<'_>,
) -> Result<std::collections::HashMap<String, i64>, sqlx::Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT plan_key, count(*) FROM subscriptions WHERE status <> 'canceled' GROUP BY plan_key",
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().collect())
}

/// A live subscription with its account's name and, for a personal account, its
/// user (the usage board's rows).
#[derive(Debug, Clone, FromRow)]
pub struct LiveWithAccount {
    #[sqlx(flatten)]
    pub subscription: SubscriptionRow,
    pub account_name: String,
    pub personal_user_id: Option<Uuid>,
}

/// Every live subscription with its account (`only`: of those accounts only).
pub async fn live_with_accounts(
    db: impl PgExecutor<'_>,
    only: Option<&[Uuid]>,
) -> Result<Vec<LiveWithAccount>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT s.*, a.name AS account_name, a.personal_user_id
         FROM (SELECT {COLUMNS} FROM subscriptions WHERE status <> 'canceled' AND ($1::uuid[] IS NULL OR account_id = ANY($1))) s
         JOIN accounts a ON a.id = s.account_id"
    ))
    .bind(only)
    .fetch_all(db)
    .await
}

/// Inserts a new live subscription on the manual provider, created at its cycle
/// anchor (the instant it starts). Fails with a unique
/// violation on `subscriptions_one_live` when the account already has one.
pub async fn insert(
    db: impl PgExecutor<'_>,
    id: Uuid,
    account_id: Uuid,
    plan_key: &str,
    seats: i32,
    terms: &PlanTerms,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO subscriptions (id, account_id, plan_key, interval, seats, status, provider, cycle_anchor, trial_end, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'manual', $7, $8, $7)",
    )
    .bind(id)
    .bind(account_id)
    .bind(plan_key)
    .bind(terms.cycle.interval.as_str())
    .bind(seats)
    .bind(terms.status.as_str())
    .bind(terms.cycle.anchor)
    .bind(terms.trial_end)
    .execute(db)
    .await?;
    Ok(())
}

/// Moves a subscription to another plan with new terms; a grandfathered price
/// ends when the plan or the interval changes.
pub async fn update_plan(
    db: impl PgExecutor<'_>,
    id: Uuid,
    plan_key: &str,
    seats: i32,
    terms: &PlanTerms,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE subscriptions SET plan_key = $2, interval = $3, seats = $4, status = $5, cycle_anchor = $6, trial_end = $7,
             cancel_at_period_end = false, cancel_at = NULL,
             scheduled_plan_key = NULL, scheduled_interval = NULL, scheduled_at = NULL, updated_at = now(),
             grandfathered_price = CASE WHEN plan_key = $2 AND interval = $3 THEN grandfathered_price END,
             grandfathered_at = CASE WHEN plan_key = $2 AND interval = $3 THEN grandfathered_at END,
             grandfathered_until = CASE WHEN plan_key = $2 AND interval = $3 THEN grandfathered_until END
         WHERE id = $1",
    )
    .bind(id)
    .bind(plan_key)
    .bind(terms.cycle.interval.as_str())
    .bind(seats)
    .bind(terms.status.as_str())
    .bind(terms.cycle.anchor)
    .bind(terms.trial_end)
    .execute(db)
    .await?;
    Ok(())
}

/// One entry of a subscription's plan history.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub subscription_id: Uuid,
    pub account_id: Uuid,
    pub from: Option<(&'a str, Interval, Status)>,
    pub to: (&'a str, Interval, Status),
    pub changed_by: Option<Uuid>,
    /// Seats before and after, when they are known.
    pub seats: Option<(i32, i32)>,
    /// What the change owes for the rest of the period (negative: a credit),
    /// unrounded, in the catalog currency; `None` when nothing is prorated (a new
    /// subscription, a trial).
    pub proration: Option<rust_decimal::Decimal>,
    /// When the change took effect.
    pub at: DateTime<Utc>,
}

/// Appends to the plan history.
pub async fn record_change(db: impl PgExecutor<'_>, c: &Change<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO subscription_changes (subscription_id, account_id, from_plan, to_plan, from_interval, to_interval, from_status, to_status, changed_by,
             from_seats, to_seats, proration, effective_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(c.subscription_id)
    .bind(c.account_id)
    .bind(c.from.map(|f| f.0))
    .bind(c.to.0)
    .bind(c.from.map(|f| f.1.as_str()))
    .bind(c.to.1.as_str())
    .bind(c.from.map(|f| f.2.as_str()))
    .bind(c.to.2.as_str())
    .bind(c.changed_by)
    .bind(c.seats.map(|s| s.0))
    .bind(c.seats.map(|s| s.1))
    .bind(c.proration)
    .bind(c.at)
    .execute(db)
    .await?;
    Ok(())
}

/// A past plan change, newest first.
#[derive(Debug, Clone, FromRow)]
pub struct ChangeRow {
    pub from_plan: Option<String>,
    pub to_plan: String,
    pub to_interval: String,
    pub to_status: String,
    pub effective_at: DateTime<Utc>,
}

/// The account's latest plan changes.
pub async fn history(
    db: impl PgExecutor<'_>,
    account_id: Uuid,
    limit: i64,
) -> Result<Vec<ChangeRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT from_plan, to_plan, to_interval, to_status, effective_at FROM subscription_changes
         WHERE account_id = $1 ORDER BY effective_at DESC, id DESC LIMIT $2",
    )
    .bind(account_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Schedules (or with `None` clears) a plan change of subscription `id` at the
/// period end: `(plan_key, interval, at)`.
pub async fn set_schedule(
    db: impl PgExecutor<'_>,
    id: Uuid,
    schedule: Option<(&str, Interval, DateTime<Utc>)>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE subscriptions SET scheduled_plan_key = $2, scheduled_interval = $3, scheduled_at = $4, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(schedule.map(|s| s.0))
        .bind(schedule.map(|s| s.1.as_str()))
        .bind(schedule.map(|s| s.2))
        .execute(db)
        .await?;
    Ok(())
}

/// Sets subscription `id` to end at `cancel_at` (its period end), dropping any
/// scheduled plan change, or with `None` keeps it going (reactivation).
pub async fn set_cancel_at(
    db: impl PgExecutor<'_>,
    id: Uuid,
    cancel_at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE subscriptions SET cancel_at_period_end = $2 IS NOT NULL, cancel_at = $2,
             scheduled_plan_key = CASE WHEN $2 IS NULL THEN scheduled_plan_key END,
             scheduled_interval = CASE WHEN $2 IS NULL THEN scheduled_interval END,
             scheduled_at = CASE WHEN $2 IS NULL THEN scheduled_at END, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(cancel_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Manual-provider subscriptions set to cancel at a period end that has come by
/// `now`: they end at that instant. Returns `(id, account_id, plan_key, ended_at)`.
pub async fn end_canceled(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, Uuid, String, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE subscriptions SET status = 'canceled', canceled_at = cancel_at, trial_ended_at = CASE WHEN status = 'trialing' THEN cancel_at ELSE trial_ended_at END,
             trial_end = CASE WHEN status = 'trialing' THEN NULL ELSE trial_end END, updated_at = now()
         WHERE provider = 'manual' AND cancel_at_period_end AND cancel_at <= $1 AND status <> 'canceled'
         RETURNING id, account_id, plan_key, cancel_at",
    )
    .bind(now)
    .fetch_all(db)
    .await
}

/// Manual-provider subscriptions whose scheduled plan change is due by `now`
/// (at most 100, the oldest first).
pub async fn due_schedules(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE provider = 'manual' AND scheduled_at <= $1 AND status <> 'canceled'
         ORDER BY scheduled_at LIMIT 100"
    ))
    .bind(now)
    .fetch_all(db)
    .await
}

/// Trials that ended before `now`: manual-provider subscriptions move to `active`
/// (there is no payment to wait for). Returns the ids moved.
pub async fn end_trials(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, Uuid)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE subscriptions SET status = 'active', trial_ended_at = trial_end, trial_end = NULL, updated_at = now()
         WHERE status = 'trialing' AND provider = 'manual' AND trial_end <= $1
         RETURNING id, account_id",
    )
    .bind(now)
    .fetch_all(db)
    .await
}

/// Moves a trialing subscription's trial end.
pub async fn set_trial_end(
    db: impl PgExecutor<'_>,
    id: Uuid,
    trial_end: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE subscriptions SET trial_end = $2, updated_at = now() WHERE id = $1 AND status = 'trialing'")
        .bind(id)
        .bind(trial_end)
        .execute(db)
        .await?;
    Ok(())
}

/// A subscription's terms and the instants of its life, as the invoice run (manual
/// ones) and the revenue analytics (every one) read it.
#[derive(Debug, Clone, FromRow)]
pub struct InvoicingRow {
    pub id: Uuid,
    pub account_id: Uuid,
    /// `manual` or `stripe`.
    pub provider: String,
    pub plan_key: String,
    pub interval: String,
    pub seats: i32,
    pub status: String,
    pub cycle_anchor: DateTime<Utc>,
    pub trial_end: Option<DateTime<Utc>>,
    pub trial_ended_at: Option<DateTime<Utc>>,
    pub canceled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The grandfathered price of the row's plan and interval, if any, and when
    /// periods stop billing it (see [`SubscriptionRow::grandfathered_until`]).
    pub grandfathered_price: Option<Json<Price>>,
    pub grandfathered_until: Option<DateTime<Utc>>,
}

impl InvoicingRow {
    /// As [`SubscriptionRow::kept_price_at`].
    pub fn kept_price_at(&self, at: DateTime<Utc>) -> Option<&Price> {
        kept_at(
            self.grandfathered_price.as_ref(),
            self.grandfathered_until,
            at,
        )
    }

    /// The row's billing cycle.
    pub fn cycle(&self) -> Cycle {
        Cycle {
            anchor: self.cycle_anchor,
            interval: self.interval.parse().unwrap_or(Interval::Month),
        }
    }
}

/// Manual-provider subscriptions created before `before` (canceled ones too: their
/// last period is still billed).
pub async fn manual_for_invoicing(
    db: impl PgExecutor<'_>,
    before: DateTime<Utc>,
) -> Result<Vec<InvoicingRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, account_id, provider, plan_key, interval, seats, status, cycle_anchor, trial_end, trial_ended_at, canceled_at, created_at,
             grandfathered_price, grandfathered_until
         FROM subscriptions WHERE provider = 'manual' AND created_at < $1 AND status <> 'incomplete' ORDER BY created_at, id",
    )
    .bind(before)
    .fetch_all(db)
    .await
}

/// `account_id`'s live subscription on the manual provider, for the projected
/// invoice (none when canceled, incomplete or on Stripe).
pub async fn manual_live_for_invoicing(
    db: impl PgExecutor<'_>,
    account_id: uuid::Uuid,
) -> Result<Option<InvoicingRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, account_id, provider, plan_key, interval, seats, status, cycle_anchor, trial_end, trial_ended_at, canceled_at, created_at,
             grandfathered_price, grandfathered_until
         FROM subscriptions WHERE account_id = $1 AND provider = 'manual' AND status NOT IN ('canceled', 'incomplete')",
    )
    .bind(account_id)
    .fetch_optional(db)
    .await
}

/// One of `account_id`'s subscriptions by id, as the invoice run reads it (a
/// correction re-prices a period it invoiced).
pub async fn for_invoicing_by_id(
    db: impl PgExecutor<'_>,
    account_id: uuid::Uuid,
    id: uuid::Uuid,
) -> Result<Option<InvoicingRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, account_id, provider, plan_key, interval, seats, status, cycle_anchor, trial_end, trial_ended_at, canceled_at, created_at,
             grandfathered_price, grandfathered_until
         FROM subscriptions WHERE account_id = $1 AND id = $2",
    )
    .bind(account_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// One recorded change, oldest first, for invoicing.
#[derive(Debug, Clone, FromRow)]
pub struct ChangeRecord {
    pub from_plan: Option<String>,
    pub to_plan: String,
    pub to_interval: String,
    pub to_status: String,
    pub from_seats: Option<i32>,
    pub to_seats: Option<i32>,
    pub proration: Option<rust_decimal::Decimal>,
    pub effective_at: DateTime<Utc>,
}

/// The subscription's changes effective before `until`, oldest first.
pub async fn changes_until(
    db: impl PgExecutor<'_>,
    subscription_id: Uuid,
    until: DateTime<Utc>,
) -> Result<Vec<ChangeRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT from_plan, to_plan, to_interval, to_status, from_seats, to_seats, proration, effective_at FROM subscription_changes
         WHERE subscription_id = $1 AND effective_at < $2 ORDER BY effective_at, id",
    )
    .bind(subscription_id)
    .bind(until)
    .fetch_all(db)
    .await
}

/// The changes of each of `subscription_ids` that took effect before `until`, oldest
/// first, by subscription (subscriptions without changes are absent): one statement
/// for a batch of the invoice run.
pub async fn changes_until_many(
    db: impl PgExecutor<'_>,
    subscription_ids: &[Uuid],
    until: DateTime<Utc>,
) -> Result<std::collections::HashMap<Uuid, Vec<ChangeRecord>>, sqlx::Error> {
    #[derive(FromRow)]
    struct Keyed {
        subscription_id: Uuid,
        #[sqlx(flatten)]
        change: ChangeRecord,
    }
    let rows: Vec<Keyed> = sqlx::query_as(
        "SELECT subscription_id, from_plan, to_plan, to_interval, to_status, from_seats, to_seats, proration, effective_at FROM subscription_changes
         WHERE subscription_id = ANY($1) AND effective_at < $2 ORDER BY subscription_id, effective_at, id",
    )
    .bind(subscription_ids)
    .bind(until)
    .fetch_all(db)
    .await?;
    let mut out: std::collections::HashMap<Uuid, Vec<ChangeRecord>> =
        std::collections::HashMap::new();
    for row in rows {
        out.entry(row.subscription_id).or_default().push(row.change);
    }
    Ok(out)
}

/// A subscription with its account's name, for the admin list and its CSV.
#[derive(Debug, Clone, FromRow)]
pub struct ListedSubscription {
    pub id: Uuid,
    pub account_id: Uuid,
    pub account_name: String,
    pub account_kind: String,
    pub plan_key: String,
    pub interval: String,
    pub seats: i32,
    pub status: String,
    pub provider: String,
    pub cycle_anchor: DateTime<Utc>,
    pub trial_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
    pub created_at: DateTime<Utc>,
}

/// Subscriptions with `status`, on `plan`, through `provider`, whose account name
/// contains `search` (each `None` matches all), newest first, and how many match.
pub async fn search(
    db: &mut sqlx::PgConnection,
    status: Option<&str>,
    plan: Option<&str>,
    provider: Option<&str>,
    search: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ListedSubscription>, i64), sqlx::Error> {
    const WHERE: &str = "WHERE ($1::text IS NULL OR s.status = $1) AND ($2::text IS NULL OR s.plan_key = $2)
          AND ($3::text IS NULL OR s.provider = $3) AND ($4::text IS NULL OR a.name ILIKE '%' || $4 || '%')";
    let rows = sqlx::query_as(&format!(
        "SELECT s.id, s.account_id, a.name AS account_name, a.kind AS account_kind, s.plan_key, s.interval, s.seats, s.status, s.provider,
                s.cycle_anchor, s.trial_end, s.cancel_at_period_end, s.created_at
         FROM subscriptions s JOIN accounts a ON a.id = s.account_id {WHERE} ORDER BY s.created_at DESC, s.id LIMIT $5 OFFSET $6"
    ))
    .bind(status)
    .bind(plan)
    .bind(provider)
    .bind(search)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *db)
    .await?;
    let total = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM subscriptions s JOIN accounts a ON a.id = s.account_id {WHERE}"
    ))
    .bind(status)
    .bind(plan)
    .bind(provider)
    .bind(search)
    .fetch_one(&mut *db)
    .await?;
    Ok((rows, total))
}

/// A subscription as Stripe currently reports it, in Tollgate's terms.
#[derive(Debug, Clone)]
pub struct StripeState<'a> {
    /// `sub_…`.
    pub provider_subscription_id: &'a str,
    pub plan_key: &'a str,
    pub interval: Interval,
    pub seats: i32,
    pub status: Status,
    /// The current period's start (Stripe's `current_period_start` of the item).
    pub cycle_anchor: DateTime<Utc>,
    /// Set exactly when `status` is trialing.
    pub trial_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
    /// With `cancel_at_period_end`: when it ends (Stripe's `cancel_at`).
    pub cancel_at: Option<DateTime<Utc>>,
    /// Set exactly when `status` is canceled.
    pub canceled_at: Option<DateTime<Utc>>,
    /// Whether a scheduled plan change stays (Stripe bills its price from the next
    /// period while Tollgate keeps the current plan until then); `false` clears it.
    pub keep_schedule: bool,
}

/// The subscription billed as Stripe subscription `provider_subscription_id`.
pub async fn by_provider_id(
    db: impl PgExecutor<'_>,
    provider_subscription_id: &str,
) -> Result<Option<SubscriptionRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM subscriptions WHERE provider = 'stripe' AND provider_subscription_id = $1"))
        .bind(provider_subscription_id)
        .fetch_optional(db)
        .await
}

/// Up to `limit` live Stripe subscriptions whose metered items may not match their plan:
/// `stripe_metered_for` (migration 0013) is not `<plan>_<interval>`.
pub async fn stripe_items_unchecked(
    db: impl PgExecutor<'_>,
    limit: i64,
) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM subscriptions
         WHERE provider = 'stripe' AND status <> 'canceled' AND provider_subscription_id IS NOT NULL
           AND stripe_metered_for IS DISTINCT FROM plan_key || '_' || interval
         ORDER BY id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Records that subscription `id`'s metered items on Stripe match `<plan>_<interval>`.
pub async fn set_stripe_metered_for(
    db: impl PgExecutor<'_>,
    id: Uuid,
    plan_key: &str,
    interval: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE subscriptions SET stripe_metered_for = $2 || '_' || $3 WHERE id = $1")
        .bind(id)
        .bind(plan_key)
        .bind(interval)
        .execute(db)
        .await?;
    Ok(())
}

/// Stores subscription `id` of `account_id` in Stripe's state `s`: inserts it, or
/// brings an existing row there (a manual one moves to Stripe). When it becomes past
/// due its grace period ends at `grace_until`, kept while it stays past due and cleared
/// when it no longer is; leaving a trial records `trial_ended_at`; a plan or interval
/// change ends a grandfathered price.
pub async fn save_stripe(
    db: impl PgExecutor<'_>,
    id: Uuid,
    account_id: Uuid,
    s: &StripeState<'_>,
    now: DateTime<Utc>,
    grace_until: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO subscriptions (id, account_id, plan_key, interval, seats, status, provider, provider_subscription_id, cycle_anchor,
             trial_end, cancel_at_period_end, canceled_at, grace_until, created_at, cancel_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'stripe', $7, $8, $9, $10, $11, CASE WHEN $6 = 'past_due' THEN $13 END, $12, $14)
         ON CONFLICT (account_id, id) DO UPDATE SET plan_key = EXCLUDED.plan_key, interval = EXCLUDED.interval, seats = EXCLUDED.seats,
             status = EXCLUDED.status, provider = 'stripe', provider_subscription_id = EXCLUDED.provider_subscription_id,
             cycle_anchor = EXCLUDED.cycle_anchor, trial_end = EXCLUDED.trial_end,
             cancel_at_period_end = EXCLUDED.cancel_at_period_end, canceled_at = EXCLUDED.canceled_at, cancel_at = EXCLUDED.cancel_at,
             scheduled_plan_key = CASE WHEN $15 AND NOT EXCLUDED.cancel_at_period_end THEN subscriptions.scheduled_plan_key END,
             scheduled_interval = CASE WHEN $15 AND NOT EXCLUDED.cancel_at_period_end THEN subscriptions.scheduled_interval END,
             scheduled_at = CASE WHEN $15 AND NOT EXCLUDED.cancel_at_period_end THEN subscriptions.scheduled_at END,
             grace_until = CASE WHEN EXCLUDED.status <> 'past_due' THEN NULL
                                WHEN subscriptions.status = 'past_due' THEN coalesce(subscriptions.grace_until, $13) ELSE $13 END,
             trial_ended_at = CASE WHEN subscriptions.status = 'trialing' AND EXCLUDED.status <> 'trialing' THEN $12
                                   ELSE subscriptions.trial_ended_at END,
             grandfathered_price = CASE WHEN subscriptions.plan_key = EXCLUDED.plan_key AND subscriptions.interval = EXCLUDED.interval
                                        THEN subscriptions.grandfathered_price END,
             grandfathered_at = CASE WHEN subscriptions.plan_key = EXCLUDED.plan_key AND subscriptions.interval = EXCLUDED.interval
                                     THEN subscriptions.grandfathered_at END,
             grandfathered_until = CASE WHEN subscriptions.plan_key = EXCLUDED.plan_key AND subscriptions.interval = EXCLUDED.interval
                                        THEN subscriptions.grandfathered_until END,
             updated_at = now()",
    )
    .bind(id)
    .bind(account_id)
    .bind(s.plan_key)
    .bind(s.interval.as_str())
    .bind(s.seats)
    .bind(s.status.as_str())
    .bind(s.provider_subscription_id)
    .bind(s.cycle_anchor)
    .bind(s.trial_end)
    .bind(s.cancel_at_period_end)
    .bind(s.canceled_at)
    .bind(now)
    .bind(grace_until)
    .bind(s.cancel_at.filter(|_| s.cancel_at_period_end))
    .bind(s.keep_schedule)
    .execute(db)
    .await?;
    Ok(())
}

/// Every subscription of both providers (canceled ones too) but the incomplete
/// ones (never started), oldest first, for the revenue analytics.
pub async fn all_for_analytics(db: impl PgExecutor<'_>) -> Result<Vec<InvoicingRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, account_id, provider, plan_key, interval, seats, status, cycle_anchor, trial_end, trial_ended_at, canceled_at, created_at,
             grandfathered_price, grandfathered_until
         FROM subscriptions WHERE status <> 'incomplete' ORDER BY created_at, id",
    )
    .fetch_all(db)
    .await
}

/// One plan-history entry as the analytics read it: the terms a change moved to.
#[derive(Debug, Clone, FromRow)]
pub struct AnalyticsChange {
    pub subscription_id: Uuid,
    pub to_plan: String,
    pub to_interval: String,
    pub to_seats: Option<i32>,
    pub to_status: String,
    pub effective_at: DateTime<Utc>,
}

/// Every plan-history entry, by subscription, oldest first.
pub async fn all_changes_for_analytics(
    db: impl PgExecutor<'_>,
) -> Result<Vec<AnalyticsChange>, sqlx::Error> {
    sqlx::query_as(
        "SELECT subscription_id, to_plan, to_interval, to_seats, to_status, effective_at FROM subscription_changes
         ORDER BY subscription_id, effective_at, id",
    )
    .fetch_all(db)
    .await
}

/// Live subscriptions on `plan_key` billed every `interval`.
pub async fn live_count(
    db: impl PgExecutor<'_>,
    plan_key: &str,
    interval: Interval,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM subscriptions WHERE plan_key = $1 AND interval = $2 AND status <> 'canceled'")
        .bind(plan_key)
        .bind(interval.as_str())
        .fetch_one(db)
        .await
}

/// Keeps `price` (the plan's price before a catalog change) for every live
/// subscription on `plan_key` and `interval` that pays the catalog's price at
/// `at`: none kept, or a kept one whose move to the current price is done; but
/// not those in `except` (they keep nothing because they kept the new price).
/// Returns how many rows now keep it.
pub async fn grandfather(
    db: impl PgExecutor<'_>,
    plan_key: &str,
    interval: Interval,
    price: &Price,
    at: DateTime<Utc>,
    except: &[Uuid],
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE subscriptions SET grandfathered_price = $3, grandfathered_at = $4, grandfathered_until = NULL, updated_at = now()
         WHERE plan_key = $1 AND interval = $2 AND status <> 'canceled'
           AND (grandfathered_price IS NULL OR grandfathered_until <= $4) AND NOT (id = ANY($5))",
    )
    .bind(plan_key)
    .bind(interval.as_str())
    .bind(Json(price))
    .bind(at)
    .bind(except)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Live subscriptions on `plan_key` and `interval` that keep a grandfathered price
/// and are not being moved off it, oldest first.
pub async fn grandfathered(
    db: impl PgExecutor<'_>,
    plan_key: &str,
    interval: Interval,
) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM subscriptions
         WHERE plan_key = $1 AND interval = $2 AND status <> 'canceled' AND grandfathered_price IS NOT NULL
           AND grandfathered_until IS NULL ORDER BY created_at, id"
    ))
    .bind(plan_key)
    .bind(interval.as_str())
    .fetch_all(db)
    .await
}

/// Ends subscription `id`'s grandfathered price outright (it equals the catalog's
/// price again).
pub async fn release_grandfathered(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE subscriptions SET grandfathered_price = NULL, grandfathered_at = NULL, grandfathered_until = NULL, updated_at = now() WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Live subscriptions keeping a grandfathered price (not being moved off it), by
/// plan key and interval.
pub async fn grandfathered_counts(
    db: impl PgExecutor<'_>,
) -> Result<std::collections::HashMap<(String, String), i64>, sqlx::Error> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT plan_key, interval, count(*) FROM subscriptions
         WHERE status <> 'canceled' AND grandfathered_price IS NOT NULL AND grandfathered_until IS NULL
         GROUP BY plan_key, interval",
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(p, i, n)| ((p, i), n)).collect())
}

/// Ends subscription `id`'s grandfathered price at `until` (UTC): periods starting
/// from then bill the catalog's current price. Only while it is still on
/// `plan_key` and `interval` and not being moved already (so a concurrent change is
/// not overwritten); returns whether it did.
pub async fn end_grandfathered(
    db: impl PgExecutor<'_>,
    id: Uuid,
    plan_key: &str,
    interval: Interval,
    until: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE subscriptions SET grandfathered_until = $4, updated_at = now()
         WHERE id = $1 AND plan_key = $2 AND interval = $3 AND grandfathered_price IS NOT NULL AND grandfathered_until IS NULL",
    )
    .bind(id)
    .bind(plan_key)
    .bind(interval.as_str())
    .bind(until)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The manual dunning (issue 14): makes a manual subscription that is active or
/// trialing `past_due` until `grace_until`; returns its status before, or `None`
/// when it is neither (ended, or past due already).
pub async fn mark_manual_past_due(
    db: impl PgExecutor<'_>,
    id: Uuid,
    grace_until: DateTime<Utc>,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "WITH before AS (SELECT status FROM subscriptions WHERE id = $1 AND provider = 'manual' FOR UPDATE)
         UPDATE subscriptions s SET status = 'past_due', grace_until = $2, updated_at = now()
           FROM before
          WHERE s.id = $1 AND before.status IN ('active', 'trialing')
         RETURNING before.status",
    )
    .bind(id)
    .bind(grace_until)
    .fetch_optional(db)
    .await
}

/// Restores a manual subscription that the dunning made past due (trialing while
/// its trial lasts, else active) when none of its invoices that made it so is
/// still open; returns whether it did.
pub async fn restore_manual_if_settled(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE subscriptions SET status = CASE WHEN trial_end > now() THEN 'trialing' ELSE 'active' END,
                grace_until = NULL, updated_at = now()
          WHERE id = $1 AND provider = 'manual' AND status = 'past_due'
            AND NOT EXISTS (SELECT 1 FROM invoices i JOIN invoice_mailings m ON m.account_id = i.account_id AND m.invoice_id = i.id AND m.kind = 'past_due'
                             WHERE i.subscription_id = $1 AND i.status = 'open')",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
