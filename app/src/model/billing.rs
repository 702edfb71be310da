//! What the billing pages (`/billing`, `/admin/billing/*`) receive.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One invoice in a list. Amounts are display strings with their currency
/// (`$63.19`); times are UTC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceView {
    /// Invoice id (for the PDF link and the admin actions).
    pub id: Uuid,
    /// Number, or `Draft`.
    pub number: String,
    /// The billed account.
    pub account_id: Uuid,
    /// Its name.
    pub account_name: String,
    /// `draft`, `open`, `paid`, `void`, `uncollectible`.
    pub status: String,
    /// Open and past its due date.
    pub overdue: bool,
    /// The billing period, `2026-09-01 – 2026-09-30` (inclusive days, UTC).
    pub period: String,
    /// Total after discounts.
    pub total: String,
    /// Still to pay (zero once paid or void).
    pub amount_due: String,
    /// When issued.
    pub issued_at: Option<DateTime<Utc>>,
    /// When due.
    pub due_at: Option<DateTime<Utc>>,
    /// `manual` or `stripe`.
    pub provider: String,
}

/// The customer's billing page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BillingSummary {
    /// The account the page is for.
    pub account_name: String,
    /// The live subscription, if any.
    pub subscription: Option<PlanLine>,
    /// Credit balances, one display string per currency (`$10.00 USD`).
    pub credits: Vec<String>,
    /// The coupon in force, described (`Non-profit discount: 50 % off, forever`).
    pub coupon: Option<String>,
    /// This page of the account's invoices, newest first.
    pub invoices: Vec<InvoiceView>,
    /// Invoices in all.
    pub total: i64,
    /// This page (1-based).
    pub page: u32,
    /// Pages in all (at least 1).
    pub pages: u32,
    /// What this period's invoice comes to so far and at its end (the manual
    /// provider only; Stripe bills its own).
    pub owed: Option<OwedView>,
    /// The stored monthly usage reports, newest first.
    pub usage_reports: Vec<UsageReportView>,
}

/// A stored monthly usage report, downloadable at `/usage/reports/{month}.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageReportView {
    /// `2026-11`.
    pub month: String,
    /// `November 2026`.
    pub label: String,
    pub generated_at: chrono::DateTime<chrono::Utc>,
}

/// This billing period's invoice as it stands and as projected, priced by the
/// invoice run's code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwedView {
    /// The period, `6 Dec 2026 – 5 Jan 2027` (inclusive days, UTC).
    pub period: String,
    /// The invoice if the period closed now.
    pub accrued: tollgate::invoice::Draft,
    /// The invoice at the period's end, usage projected linearly.
    pub projected: tollgate::invoice::Draft,
}

/// The plan part of the billing page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanLine {
    /// Plan name.
    pub plan: String,
    /// `month` or `year`.
    pub interval: String,
    /// Subscription status.
    pub status: String,
    /// Seats bought.
    pub seats: i32,
    /// `manual` (invoices by bank transfer) or `stripe`.
    pub provider: String,
    /// Price per period as shown (`$49.99 / month`), if the plan has one.
    pub price: Option<String>,
    /// End of the current period.
    pub period_end: DateTime<Utc>,
    /// End of the trial, while trialing.
    pub trial_end: Option<DateTime<Utc>>,
    /// When a subscription canceled at its period end ends (UTC).
    pub ends_at: Option<DateTime<Utc>>,
    /// The plan change waiting for the period end: new plan's name and interval, and
    /// when it applies.
    pub scheduled: Option<(String, DateTime<Utc>)>,
}

/// One subscription in the admin list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionRowView {
    /// Subscription id.
    pub id: Uuid,
    /// Account id.
    pub account_id: Uuid,
    /// Account name.
    pub account_name: String,
    /// `personal` or `organization`.
    pub account_kind: String,
    /// Plan key.
    pub plan: String,
    /// Interval.
    pub interval: String,
    /// Seats.
    pub seats: i32,
    /// Status.
    pub status: String,
    /// Provider.
    pub provider: String,
    /// Started.
    pub created_at: DateTime<Utc>,
}
