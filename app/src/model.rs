//! What server functions send to the pages: plain serialisable views.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tollgate::usage::Snapshot;
use uuid::Uuid;

pub mod admin;
pub mod billing;

/// The signed-in user, for the navigation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Viewer {
    /// User id.
    pub user_id: Uuid,
    /// Display name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// The account the pages act for.
    pub account_id: Uuid,
    /// Its name.
    pub account_name: String,
    /// Operator staff (false while impersonating: the powers are the user's).
    pub super_admin: bool,
    /// While a super admin views as this user: the admin's e-mail (the banner).
    pub impersonator: Option<String>,
    /// Unread notifications.
    pub unread: i64,
}

/// A notification, for lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationView {
    /// Id.
    pub id: Uuid,
    /// Kind (`limit_warning`, …).
    pub kind: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Read yet.
    pub read: bool,
}

/// The plan an upgrade prompt suggests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpgradeSuggestion {
    /// The meter that prompted it.
    pub meter: String,
    /// Plan key.
    pub plan: String,
    /// Plan name.
    pub plan_name: String,
    /// Price per interval for display (`$49/month`).
    pub price: String,
}

/// Everything the dashboard shows; also what the live stream sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardData {
    /// Usage and plan.
    pub snapshot: Snapshot,
    /// Latest notifications.
    pub notifications: Vec<NotificationView>,
    /// Unread notifications in all.
    pub unread: i64,
    /// Suggested upgrade when a meter prompts one.
    pub upgrade: Option<UpgradeSuggestion>,
}

/// An API key, for the list (never the secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyView {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Visible start of the key.
    pub prefix: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last used.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A freshly created key, shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewApiKey {
    /// Its name.
    pub name: String,
    /// The whole secret.
    pub secret: String,
}

/// The pricing page's bill estimator: the meters to fill in and, once usage is
/// given, each plan's bill for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstimateData {
    /// Seats as typed (empty: 1).
    pub seats: String,
    /// The catalog's meters, with the usage given for each (empty: none).
    pub meters: Vec<MeterInput>,
    /// Each public plan priced for the interval, in the catalog's order; empty
    /// until usage is given.
    pub plans: Vec<PlanEstimate>,
    /// A usage value that is not a number ≥ 0, or seats that are not a whole
    /// number from 1 (the plans are then not priced).
    pub error: Option<String>,
}

/// One meter of the estimator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterInput {
    pub key: String,
    pub name: String,
    pub unit: String,
    /// What was typed.
    pub value: String,
}

/// One plan's estimated bill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanEstimate {
    pub key: String,
    pub name: String,
    /// The bill, formatted (`$63.19`).
    pub total: String,
    /// The invoice lines: description, formatted amount.
    pub lines: Vec<(String, String)>,
    /// The meter whose hard limit this usage passes (the plan cannot serve it).
    pub blocked_by: Option<String>,
    /// The cheapest plan that serves the usage.
    pub cheapest: bool,
}

/// A plan as the pricing page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanCard {
    /// Key.
    pub key: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Price for the chosen interval (`$19`), if any.
    pub price: Option<String>,
    /// Unit after the price (`/month`, `/seat/year`).
    pub price_unit: String,
    /// What the annual price saves compared to twelve months, in percent.
    pub annual_saving_percent: Option<u32>,
    /// Trial length for a new subscription.
    pub trial_days: u32,
    /// Selling points.
    pub highlights: Vec<String>,
    /// Chosen online (else "contact sales").
    pub self_serve: bool,
    /// For organizations (seats), not personal accounts.
    pub for_teams: bool,
    /// Has a price for the chosen interval.
    pub available: bool,
    /// The viewer is on this plan and interval.
    pub current: bool,
}

/// One row of the comparison table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonRow {
    /// What is compared.
    pub label: String,
    /// One cell per plan, in card order.
    pub cells: Vec<String>,
}

/// The pricing page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PricingData {
    /// Product name.
    pub title: String,
    /// Plans for the chosen interval.
    pub plans: Vec<PlanCard>,
    /// Feature comparison.
    pub comparison: Vec<ComparisonRow>,
    /// Questions and answers.
    pub faq: Vec<(String, String)>,
    /// Signed in.
    pub signed_in: bool,
    /// Signed in with a live subscription (a change needs confirming).
    pub subscribed: bool,
    /// Contact-sales address.
    pub sales_email: String,
}

/// The plan-change confirmation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangePreview {
    /// Current plan's name and interval.
    pub from: String,
    /// New plan's name and interval.
    pub to: String,
    /// New plan key.
    pub plan: String,
    /// New interval.
    pub interval: String,
    /// New price for display.
    pub price: String,
    /// Status after the change (`trialing`, `active`).
    pub status_after: String,
    /// Meters whose current usage is above the new plan's limits.
    pub over_limits: Vec<String>,
    /// The proration for the rest of this period: `+$25.00` owed, `-$14.50`
    /// credited; `None` when nothing is prorated (a trial, a change at period end).
    pub proration: Option<String>,
    /// How the proration is collected ("Charged now to your card", "On your next
    /// invoice").
    pub proration_label: String,
    /// The provider's proration lines (description, signed amount), e.g. Stripe's
    /// "Unused time on …" and "Remaining time on …".
    pub lines: Vec<(String, String)>,
    /// `now` or `period_end`: when the previewed change applies.
    pub timing: String,
    /// When the change applies, for display (`2026-12-01`, or "at once").
    pub effective: String,
    /// For a downgrade of an active subscription: the period end (`2026-12-01`),
    /// offered as the other time to make it.
    pub period_end_option: Option<String>,
}

/// A chart drawn on the server: an SVG document and its text alternative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chart {
    /// Stable id (`mrr`, `usage-period`), for element ids and tests.
    pub id: String,
    /// Heading, with the date range and currency.
    pub title: String,
    /// One sentence saying what it shows, for readers who cannot see it.
    pub summary: String,
    /// The `<svg>` markup (generated by plotters from numbers only: no user text).
    pub svg: String,
    /// What each colour stands for, `(name, #rrggbb)`; empty for a single series.
    pub legend: Vec<(String, String)>,
}

/// One meter's usage over time, drawn on the server (the dashboard's charts, and
/// the same for an account on the admin pages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageChartsView {
    /// The meter shown (key).
    pub meter: String,
    /// Every meter of the catalog, `(key, name)`, to switch between.
    pub meters: Vec<(String, String)>,
    /// This period by day: usage to date against the limit.
    pub period: Chart,
    /// The last six periods' usage against today's limit.
    pub periods: Chart,
    /// The period chart's numbers: `(day, usage to date)`, formatted.
    pub day_rows: Vec<(String, String)>,
    /// The periods chart's numbers: `(period, usage)`, formatted.
    pub period_rows: Vec<(String, String)>,
    /// What this period's invoice comes to `(so far, projected)`, formatted, for
    /// the account's owner and admins on the manual provider (see `/billing`).
    pub owed: Option<(String, String)>,
}

/// One meter's usage over time split by member or by an event property (the
/// organization's usage page), drawn on the server as stacked bars.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageBreakdownView {
    /// The meter shown (key).
    pub meter: String,
    /// Every meter of the catalog, `(key, name)`.
    pub meters: Vec<(String, String)>,
    /// The split: `user` or `property:<name>`.
    pub by: String,
    /// The splits this meter offers, `(value, label)`: members, then each property
    /// the catalog groups it by.
    pub splits: Vec<(String, String)>,
    /// `day` (the last 30 days) or `month` (the last 12 months).
    pub granularity: String,
    /// The stacked bars.
    pub chart: Chart,
    /// The chart's numbers: `(series, total, share of the whole)`, formatted,
    /// largest first.
    pub rows: Vec<(String, String, String)>,
}

/// A webhook endpoint, for `/settings/webhooks` and `/admin/webhooks` (never its
/// secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEndpointView {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    /// Wanted types; empty: every type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// `manual` or `failing` while disabled.
    pub disabled_reason: Option<String>,
    /// Failing every attempt since.
    pub failing_since: Option<DateTime<Utc>>,
    /// After a rotation: the previous secret signs too until then.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

/// One delivery of an endpoint's log, with its last attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDeliveryView {
    pub id: Uuid,
    pub event_type: String,
    pub sequence: i64,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    /// When a pending one is tried next.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub replay_of: Option<Uuid>,
    /// The last answer's HTTP status; `None`: no answer (or no attempt yet).
    pub response_status: Option<i32>,
    pub latency_ms: Option<i32>,
    pub error: Option<String>,
}

/// A page of an endpoint's delivery log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDeliveryPage {
    pub endpoint: WebhookEndpointView,
    pub deliveries: Vec<WebhookDeliveryView>,
    /// Deliveries in all.
    pub total: i64,
    /// Page from 0.
    pub page: u32,
}

/// One attempt of a webhook delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookAttemptView {
    pub attempted_at: DateTime<Utc>,
    pub response_status: Option<i32>,
    /// The answer's first 1024 characters.
    pub response_body: String,
    pub latency_ms: i32,
    pub error: Option<String>,
}

/// A webhook delivery in full: the request body and every attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDeliveryDetail {
    pub delivery: WebhookDeliveryView,
    pub request_body: String,
    pub attempts: Vec<WebhookAttemptView>,
}
