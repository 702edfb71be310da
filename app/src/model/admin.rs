//! What the super admin panel's server functions send to its pages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One page of an admin list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListPage<T> {
    /// The rows of this page.
    pub rows: Vec<T>,
    /// Matches in all.
    pub total: i64,
    /// This page (1-based).
    pub page: u32,
    /// Rows per page.
    pub page_size: i64,
    /// Plans for the plan filter, as `(key, name)`.
    pub plans: Vec<(String, String)>,
}

impl<T> ListPage<T> {
    /// Number of pages (at least 1).
    pub fn pages(&self) -> u32 {
        let size = self.page_size.max(1);
        u32::try_from(((self.total + size - 1) / size).max(1)).unwrap_or(u32::MAX)
    }
}

/// A user in the admin list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminUserRow {
    /// Id.
    pub id: Uuid,
    /// E-mail.
    pub email: String,
    /// Name.
    pub name: String,
    /// Operator staff.
    pub super_admin: bool,
    /// Disabled by an operator.
    pub disabled: bool,
    /// Plan key of the personal account, if subscribed.
    pub plan: Option<String>,
    /// Subscription status, if subscribed.
    pub status: Option<String>,
    /// Signed up.
    pub created_at: DateTime<Utc>,
    /// Last log-in.
    pub last_login_at: Option<DateTime<Utc>>,
}

/// An organization in the admin list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminOrgRow {
    /// Account id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Slug.
    pub slug: String,
    /// Members (the seat count).
    pub members: i64,
    /// Plan key, if subscribed.
    pub plan: Option<String>,
    /// Subscription status, if subscribed.
    pub status: Option<String>,
    /// Seats on the subscription.
    pub seats: Option<i32>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// An audit log entry for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditView {
    /// Entry id.
    pub id: i64,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// The acting user's e-mail, or the actor kind (`cli`, `system`, `api_key`).
    pub actor: String,
    /// The impersonating super admin's e-mail, if any.
    pub impersonator: Option<String>,
    /// Action (`subscription.plan_changed`).
    pub action: String,
    /// `kind:id` of the target.
    pub target: String,
    /// The account concerned.
    pub account_id: Option<Uuid>,
    /// Client IP, when known.
    pub ip: Option<String>,
    /// Details as compact JSON.
    pub details: String,
}

/// A live subscription for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionView {
    /// Plan key.
    pub plan: String,
    /// Billing interval.
    pub interval: String,
    /// Status (Stripe's names).
    pub status: String,
    /// Seats.
    pub seats: i32,
    /// Payment provider.
    pub provider: String,
    /// Trial end, while trialing.
    pub trial_end: Option<DateTime<Utc>>,
    /// Current period's start and end.
    pub period: (DateTime<Utc>, DateTime<Utc>),
    /// Set to end at the period end: when (UTC).
    pub cancel_at: Option<DateTime<Utc>>,
    /// Started.
    pub created_at: DateTime<Utc>,
}

/// An account's subscription, usage and credit balance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BillingView {
    /// The account.
    pub account_id: Uuid,
    /// The live subscription.
    pub subscription: Option<SubscriptionView>,
    /// Every meter now (effective limits), as the customer's dashboard shows it.
    pub meters: Vec<tollgate::usage::MeterUsage>,
    /// Credit balance per currency, formatted (`$25.00`).
    pub credits: Vec<String>,
    /// Entitlement overrides, newest first (expired ones too).
    pub overrides: Vec<OverrideView>,
    /// What may be overridden: `(key, name)` of the catalog's meters and features.
    pub meter_options: Vec<(String, String)>,
    pub feature_options: Vec<(String, String)>,
    /// Days a manual invoice is due after issue.
    pub net_terms_days: i32,
    /// The account's id in the operator's system.
    pub external_id: Option<String>,
    /// Every plan an operator may move the account to, as `(key, label)` (hidden
    /// and sales-only plans marked).
    pub plan_options: Vec<(String, String)>,
    /// The redeemed coupon, described (`nonprofit (Non-profit discount), since …`).
    pub coupon: Option<String>,
    /// The catalog's coupons, as `(code, name)`.
    pub coupon_options: Vec<(String, String)>,
    /// The latest usage corrections, newest first.
    pub corrections: Vec<CorrectionView>,
}

/// A usage correction for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrectionView {
    pub reason: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Events voided.
    pub events: i64,
    /// `queries 3, tokens 1200`.
    pub quantities: String,
    /// The invoice adjustments it made, formatted (`-$12.00`); `None` for none.
    pub adjusted: Option<String>,
}

/// An entitlement override for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverrideView {
    /// `limit` or `feature`.
    pub kind: String,
    /// Meter or feature key.
    pub key: String,
    /// What it sets, in words (`included 1,000 · hard · grace 10 %`).
    pub summary: String,
    pub reason: String,
    pub author: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Expired: kept for the record, no longer applied.
    pub expired: bool,
}

/// An account a user belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembershipView {
    /// Account id.
    pub account_id: Uuid,
    /// `personal` or `organization`.
    pub kind: String,
    /// Account name.
    pub name: String,
    /// Slug (organizations).
    pub slug: Option<String>,
    /// The user's role.
    pub role: String,
}

/// `/admin/users/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminUserDetail {
    /// Id.
    pub id: Uuid,
    /// E-mail.
    pub email: String,
    /// Name.
    pub name: String,
    /// Operator staff (cannot be impersonated).
    pub super_admin: bool,
    /// When disabled, if disabled.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Signed up.
    pub created_at: DateTime<Utc>,
    /// Last log-in.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Live sessions.
    pub sessions: i64,
    /// Accounts and roles.
    pub memberships: Vec<MembershipView>,
    /// The personal account's billing.
    pub billing: Option<BillingView>,
    /// Recent audit entries.
    pub activity: Vec<AuditView>,
    /// The viewing admin themself (no impersonation, no disabling).
    pub is_self: bool,
}

/// A member of an organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberView {
    /// User id.
    pub user_id: Uuid,
    /// E-mail.
    pub email: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Disabled user.
    pub disabled: bool,
}

/// `/admin/organizations/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminOrgDetail {
    /// Account id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Slug.
    pub slug: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Members with roles (the seat count).
    pub members: Vec<MemberView>,
    /// Subscription, usage and credit.
    pub billing: BillingView,
    /// Recent audit entries.
    pub activity: Vec<AuditView>,
}

/// `/admin`: real counts only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminOverview {
    /// Users.
    pub users: i64,
    /// Organizations.
    pub organizations: i64,
    /// The revenue analytics (definitions in [`tollgate::analytics`]).
    pub report: tollgate::analytics::report::Report,
    /// Its charts, drawn on the server.
    pub charts: Vec<Chart>,
}

pub use crate::model::Chart;

/// `/admin/usage`: one page of the usage board's lines (one account's one meter),
/// with totals over every subscribed account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageBoardView {
    /// The lines the filter keeps, this page of them.
    pub list: ListPage<tollgate::board::Line>,
    /// Totals per meter and plan, and the lines nearest their limits.
    pub summary: tollgate::board::Summary,
    /// Meters for the meter filter, as `(key, name)`.
    pub meters: Vec<(String, String)>,
}

/// `/admin/plans`: every plan of the live catalog, and the version it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlansView {
    pub plans: Vec<PlanView>,
    /// Usage thresholds in words (`90 %: email, banner`).
    pub thresholds: Vec<String>,
    /// The live version: number, where it came from, when (UTC); `None` before
    /// any version was kept.
    pub version: Option<(i64, String, DateTime<Utc>)>,
    /// Meters, as `(key, name)`, for the limit editor.
    pub meters: Vec<(String, String)>,
    /// Features, as `(key, name, allowed values in words)`, for the feature editor.
    pub features: Vec<(String, String, String)>,
}

/// One plan for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanView {
    pub key: String,
    pub name: String,
    pub public: bool,
    pub self_serve: bool,
    pub trial_days: u32,
    /// Prices in words (`$19.00/month`, `$15.00/month per seat`).
    pub prices: Vec<String>,
    /// `(meter key, meter name, limit in words)`, every meter.
    pub limits: Vec<(String, String, String)>,
    /// `(feature name, value in words)`.
    pub features: Vec<(String, String)>,
    /// Live subscriptions on it.
    pub subscribers: i64,
    /// `(interval, subscriptions)` keeping an older price on that interval.
    pub kept: Vec<(String, i64)>,
}

/// What publishing a catalog edit would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditPreviewView {
    /// The version the edit starts from.
    pub base_version: i64,
    /// Each change in words.
    pub changes: Vec<String>,
    /// Whom it reaches, in one sentence.
    pub reach: String,
}

/// What moving a plan's grandfathered subscribers to the current price would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceMoveView {
    pub plan_name: String,
    /// `month` or `year`.
    pub interval: String,
    pub subscriptions: usize,
    pub billed_by_stripe: usize,
    /// Whether this server can reach Stripe.
    pub stripe_configured: bool,
    /// The kept prices in words, lowest first.
    pub kept: Vec<String>,
    /// The current price in words.
    pub current: String,
    /// MRR before and after, formatted with the currency.
    pub mrr_before: String,
    pub mrr_after: String,
}

/// `/admin/costs`: a month's provider cost by model and by client, with margins.
/// Amounts are display strings with their currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostsView {
    /// The month, `2026-11`.
    pub month: String,
    /// Cost of the month, all clients.
    pub total_cost: String,
    /// Cost per meter and model or provider, the costliest first (drawn too).
    pub chart: Chart,
    /// `(meter, model and provider, usage, cost)`.
    pub by_dimensions: Vec<(String, String, String, String)>,
    /// Per client: `(account id, name, revenue, cost, margin, margin %)`.
    pub by_client: Vec<(Uuid, String, String, String, String, String)>,
}
