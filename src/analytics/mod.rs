//! Revenue analytics for the operator's `/admin` page: MRR now, its monthly
//! movements, churn and retention, and what was billed and collected.
//!
//! Pure: the server loads subscriptions, their plan history, coupons and invoices,
//! and these modules compute every figure, so each can be tested without a
//! database. Amounts are exact [`rust_decimal::Decimal`]s in the catalog currency
//! (major units) until [`report::Report`] rounds each figure **once** to the
//! currency's minor unit (half away from zero, as [`crate::money::Money::round`]).
//!
//! The definitions follow ChartMogul's published ones
//! (<https://help.chartmogul.com/hc/en-us/articles/203299912>, "MRR movement
//! definitions", and <https://help.chartmogul.com/hc/en-us/articles/4416682609426>,
//! "Understanding MRR movements"), with Stripe's normalisation of intervals
//! (an annual price counts as one twelfth a month):
//!
//! - **MRR** (monthly recurring revenue): for every subscription that is `active`
//!   or `past_due` (a past-due subscription is still owed until it is canceled),
//!   its plan's price for the interval with its seats (per-seat price × seats, seat
//!   tiers priced as on the invoice), divided by 12 for annual prices, less a
//!   *recurring* coupon (`forever`, or `repeating` while it lasts; a `once` coupon
//!   is a one-off and does not lower MRR). Usage charges are not recurring: they
//!   are **usage revenue**, shown apart. Trials are not revenue yet: **trial MRR**
//!   is what trialing subscriptions would bring, counted apart. **ARR** = MRR × 12.
//!   Internally every amount is the exact yearly run rate (ARR), so no division
//!   leaves a remainder before the one rounding (see [`mrr`]).
//!   **ARPA** (average revenue per account) = MRR ÷ accounts with MRR > 0.
//! - **Movements** of a calendar month (UTC), per account, from its MRR just
//!   before the month starts to its MRR just before it ends (net of changes
//!   within the month): **new** (0 → x, the account never paid before),
//!   **reactivation** (0 → x, it paid before), **expansion** (x → y, y > x),
//!   **contraction** (x → y, 0 < y < x) and **churn** (x → 0). Closing MRR =
//!   opening + new + reactivation + expansion − contraction − churn, exactly.
//! - **Logo churn rate** = accounts churned in the month ÷ paying accounts at its
//!   start. **Revenue churn rate** (gross MRR churn) = (churn + contraction) ÷
//!   opening MRR. **Net revenue retention** = (opening + expansion − contraction −
//!   churn) ÷ opening MRR. All three are percentages, absent when the month opened
//!   with no MRR.
//! - **Billed**: totals of invoices issued in the month (voided ones left out).
//!   **Collected**: amounts paid in the month. **Outstanding** at the month's end:
//!   amounts due on issued invoices not paid, voided or written off by then;
//!   **overdue**: the part of it past its due date. **Failed payments**: card
//!   payments that failed in the month (Stripe's `invoice.payment_failed`).

pub mod cash;
pub mod month;
pub mod movements;
pub mod mrr;
pub mod report;
pub mod timeline;

#[cfg(test)]
mod tests;
