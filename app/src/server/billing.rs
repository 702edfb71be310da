//! The billing server functions: the customer's `/billing`, and the super admin's
//! invoice and subscription lists with their status actions. Thin over
//! `tollgate::service::invoices` and `tollgate::service::admin::billing`.

use crate::error::AppError;
use crate::model::admin::ListPage;
use crate::model::billing::{BillingSummary, InvoiceView, SubscriptionRowView};
use leptos::prelude::*;

/// Invoices per page on `/billing`.
pub const BILLING_PAGE_SIZE: i64 = 12;

#[cfg(feature = "ssr")]
fn invoice_view(
    i: tollgate::db::invoices::InvoiceRow,
    account_name: String,
    now: chrono::DateTime<chrono::Utc>,
) -> InvoiceView {
    use tollgate::invoice::InvoiceStatus;
    use tollgate::money::{Currency, Money};
    let currency = Currency::parse(&i.currency).unwrap_or(Currency::USD);
    let status = i.status();
    let due = if matches!(status, InvoiceStatus::Paid | InvoiceStatus::Void) {
        rust_decimal::Decimal::ZERO
    } else {
        i.amount_due - i.amount_paid
    };
    InvoiceView {
        id: i.id,
        number: i.number.clone().unwrap_or_else(|| "Draft".into()),
        account_id: i.account_id,
        account_name,
        status: i.status.clone(),
        overdue: status.is_overdue(i.due_at, now),
        period: format!(
            "{} – {}",
            i.period_start.format("%Y-%m-%d"),
            (i.period_end - chrono::Duration::seconds(1)).format("%Y-%m-%d")
        ),
        total: Money::new(i.total, currency).display(),
        amount_due: Money::new(due, currency).display(),
        issued_at: i.issued_at,
        due_at: i.due_at,
        provider: i.provider,
    }
}

#[cfg(feature = "ssr")]
fn keep(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// `/billing`: the plan, credit, coupon and invoices of the account the session
/// acts for, page `page` of the invoices. Only the account's owner or an admin
/// sees billing.
#[server(prefix = "/_fn", endpoint = "billing")]
pub async fn billing_overview(page: Option<u32>) -> Result<BillingSummary, AppError> {
    use crate::model::billing::PlanLine;
    use tollgate::money::{Currency, Money};
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    let db_err = tollgate::service::Error::from;
    let role = tollgate::db::accounts::role_of(&t.pool, me.account_id, me.user.id)
        .await
        .map_err(db_err)?;
    if !matches!(role.as_deref(), Some("owner" | "admin")) {
        return Err(super::ctx::forbidden(
            "Only the account's owner and admins see its billing.",
        ));
    }
    let now = chrono::Utc::now();
    let account = tollgate::db::accounts::by_id(&t.pool, me.account_id)
        .await
        .map_err(db_err)?
        .ok_or_else(|| AppError::NotFound("There is no such account.".into()))?;
    let catalog = t.catalog.get()?;
    let subscription = tollgate::db::subscriptions::live_for_account(&t.pool, me.account_id)
        .await
        .map_err(db_err)?
        .map(|s| {
            let plan = catalog.plan(&s.plan_key);
            let interval = s
                .interval
                .parse()
                .unwrap_or(tollgate::period::Interval::Month);
            PlanLine {
                plan: plan.map_or_else(|| s.plan_key.clone(), |p| p.name.clone()),
                interval: s.interval.clone(),
                status: s.status.clone(),
                seats: s.seats,
                provider: s.provider.clone(),
                price: plan.and_then(|p| p.price(interval)).map(|p| {
                    let each = if p.per_seat || p.seat_pricing.is_some() {
                        " per seat"
                    } else {
                        ""
                    };
                    format!("{}{each} / {}", p.amount.display(), interval.as_str())
                }),
                period_end: tollgate::service::provider::period_end(&s, now),
                trial_end: s.trial_end,
                ends_at: s.cancel_at.filter(|_| s.cancel_at_period_end),
                scheduled: s.scheduled().map(|(key, interval, at)| {
                    (
                        format!(
                            "{}, billed every {interval}",
                            catalog.plan(key).map_or(key, |p| p.name.as_str())
                        ),
                        at,
                    )
                }),
            }
        });
    let credits = tollgate::db::credits::balances(&t.pool, me.account_id)
        .await
        .map_err(db_err)?
        .into_iter()
        .filter(|b| !b.balance.is_zero())
        .filter_map(|b| {
            Currency::parse(&b.currency)
                .ok()
                .map(|c| format!("{} {}", Money::new(b.balance, c).display(), c.code()))
        })
        .collect();
    let coupon = tollgate::db::coupons::for_account(&t.pool, me.account_id)
        .await
        .map_err(db_err)?
        .and_then(|r| {
            let c = catalog.coupon(&r.coupon_code)?;
            let off = match c.discount {
                tollgate::coupon::Discount::PercentOff(p) => format!("{} % off", p.normalize()),
                tollgate::coupon::Discount::AmountOff(a) => {
                    format!("{} off", Money::new(a, catalog.currency).display())
                }
            };
            let how_long = match c.duration {
                tollgate::coupon::Duration::Once => "on the next invoice".to_string(),
                tollgate::coupon::Duration::Forever => "forever".to_string(),
                tollgate::coupon::Duration::Repeating { months } => format!(
                    "for {months} months from {}",
                    r.redeemed_at.format("%Y-%m-%d")
                ),
            };
            Some(format!("{}: {off}, {how_long}", c.name))
        });
    let page = page.unwrap_or(1).max(1);
    let offset = (i64::from(page) - 1) * BILLING_PAGE_SIZE;
    let rows =
        tollgate::db::invoices::for_account(&t.pool, me.account_id, BILLING_PAGE_SIZE, offset)
            .await
            .map_err(db_err)?;
    let total = tollgate::db::invoices::count_for_account(&t.pool, me.account_id)
        .await
        .map_err(db_err)?;
    let owed = tollgate::service::invoices::preview::current(&t, me.account_id, now)
        .await?
        .map(|p| crate::model::billing::OwedView {
            period: format!(
                "{} – {}",
                crate::format::date(p.period.start),
                crate::format::date(p.period.end - chrono::Duration::seconds(1))
            ),
            accrued: p.accrued,
            projected: p.projected,
        });
    Ok(BillingSummary {
        account_name: account.name.clone(),
        subscription,
        credits,
        coupon,
        invoices: rows
            .into_iter()
            .map(|i| invoice_view(i, account.name.clone(), now))
            .collect(),
        total,
        page,
        pages: u32::try_from(((total + BILLING_PAGE_SIZE - 1) / BILLING_PAGE_SIZE).max(1))
            .unwrap_or(1),
        owed,
        usage_reports: tollgate::service::usage_reports::list(&t, me.account_id)
            .await?
            .into_iter()
            .map(|r| crate::model::billing::UsageReportView {
                month: r.month.format("%Y-%m").to_string(),
                label: r.month.format("%B %Y").to_string(),
                generated_at: r.generated_at,
            })
            .collect(),
    })
}

/// `/admin/billing/invoices`: invoices with `status`, only overdue ones when
/// `overdue` is set, whose number or account contains `q`, page `page`.
#[server(prefix = "/_fn", endpoint = "admin_invoices")]
pub async fn admin_invoices(
    status: Option<String>,
    overdue: Option<String>,
    q: Option<String>,
    page: Option<u32>,
) -> Result<ListPage<InvoiceView>, AppError> {
    let me = super::ctx::require_super_admin().await?;
    let t = super::ctx::tollgate()?;
    let now = chrono::Utc::now();
    let filter = tollgate::db::invoices::Filter {
        status: keep(status),
        overdue_at: keep(overdue).map(|_| now),
        search: keep(q),
    };
    let page = page.unwrap_or(1).max(1);
    let (rows, total) =
        tollgate::service::admin::billing::invoices(&t, &me.actor(), &filter, Some(page)).await?;
    Ok(ListPage {
        rows: rows
            .into_iter()
            .map(|r| invoice_view(r.invoice, r.account_name, now))
            .collect(),
        total,
        page,
        page_size: tollgate::service::admin::PAGE_SIZE,
        plans: Vec::new(),
    })
}

/// Marks an invoice `paid`, `void` or `uncollectible`, then goes back to `back`
/// (a path of the invoice list, with its filters).
#[server(prefix = "/_fn", endpoint = "admin_invoice_status")]
pub async fn admin_invoice_status(
    id: String,
    status: String,
    back: Option<String>,
) -> Result<(), AppError> {
    let me = super::ctx::require_super_admin().await?;
    let t = super::ctx::tollgate()?;
    let id = super::admin::parse_id(&id, "invoice")?;
    let to = tollgate::invoice::InvoiceStatus::parse(status.trim()).ok_or_else(|| {
        crate::error::FormError::field("status", "Choose paid, void or uncollectible.")
    })?;
    tollgate::service::invoices::set_status(&t, &me.actor(), id, to, chrono::Utc::now()).await?;
    let back = back
        .filter(|b| b.starts_with("/admin/billing/invoices"))
        .unwrap_or_else(|| "/admin/billing/invoices".into());
    leptos_axum::redirect(&back);
    Ok(())
}

/// `/admin/billing/subscriptions`: subscriptions with `status`, on `plan`, through
/// `provider`, whose account name contains `q`, page `page`.
#[server(prefix = "/_fn", endpoint = "admin_subscriptions")]
pub async fn admin_subscriptions(
    status: Option<String>,
    plan: Option<String>,
    provider: Option<String>,
    q: Option<String>,
    page: Option<u32>,
) -> Result<ListPage<SubscriptionRowView>, AppError> {
    let me = super::ctx::require_super_admin().await?;
    let t = super::ctx::tollgate()?;
    let filter = tollgate::service::admin::billing::SubscriptionFilter {
        status: keep(status),
        plan: keep(plan),
        provider: keep(provider),
        search: keep(q),
    };
    let page = page.unwrap_or(1).max(1);
    let (rows, total) =
        tollgate::service::admin::billing::subscriptions(&t, &me.actor(), &filter, Some(page))
            .await?;
    let plans = t
        .catalog
        .get()
        .map(|c| {
            c.plans
                .iter()
                .map(|p| (p.key.to_string(), p.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok(ListPage {
        rows: rows
            .into_iter()
            .map(|s| SubscriptionRowView {
                id: s.id,
                account_id: s.account_id,
                account_name: s.account_name,
                account_kind: s.account_kind,
                plan: s.plan_key,
                interval: s.interval,
                seats: s.seats,
                status: s.status,
                provider: s.provider,
                created_at: s.created_at,
            })
            .collect(),
        total,
        page,
        page_size: tollgate::service::admin::PAGE_SIZE,
        plans,
    })
}

/// Whether Checkout session `session_id` has become a subscription (the webhook
/// was processed), and then the plan it put the account on: the Checkout return page
/// asks until it has. Only the owner or an admin of the paying account learns it.
#[server(prefix = "/_fn", endpoint = "checkout_status")]
pub async fn checkout_status(session_id: String) -> Result<Option<String>, AppError> {
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    let db_err = tollgate::service::Error::from;
    let Some(account_id) =
        tollgate::service::stripe::checkout::completed_for(&t, session_id.trim()).await?
    else {
        return Ok(None);
    };
    let role = tollgate::db::accounts::role_of(&t.pool, account_id, me.user.id)
        .await
        .map_err(db_err)?;
    if !matches!(role.as_deref(), Some("owner" | "admin")) {
        return Err(AppError::NotFound("There is no such checkout.".into()));
    }
    let catalog = t.catalog.get()?;
    let live = tollgate::db::subscriptions::live_for_account(&t.pool, account_id)
        .await
        .map_err(db_err)?;
    Ok(live.map(|s| {
        let name = catalog
            .plan(&s.plan_key)
            .map_or_else(|| s.plan_key.clone(), |p| p.name.clone());
        format!("{name}, {}", s.status.replace('_', " "))
    }))
}

/// "Manage payment method": sends the account's owner to the Stripe Customer Portal.
/// A plain form posts here, so it works before hydration.
#[server(prefix = "/_fn", endpoint = "manage_payment_method")]
pub async fn manage_payment_method() -> Result<(), AppError> {
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    let url = tollgate::service::stripe::portal::start(&t, me.account_id, me.user.id).await?;
    leptos_axum::redirect(&url);
    Ok(())
}

/// Cancels the account's subscription at the end of its current period (the
/// owner, after the confirmation on `/billing/cancel`); it stays usable until then.
#[server(prefix = "/_fn", endpoint = "cancel_subscription")]
pub async fn cancel_subscription() -> Result<(), AppError> {
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    tollgate::service::provider::cancel(&t, me.account_id, &me.actor(), chrono::Utc::now()).await?;
    leptos_axum::redirect("/billing");
    Ok(())
}

/// Undoes a cancellation at the period end: the subscription renews as before.
#[server(prefix = "/_fn", endpoint = "reactivate_subscription")]
pub async fn reactivate_subscription() -> Result<(), AppError> {
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    tollgate::service::provider::reactivate(&t, me.account_id, &me.actor(), chrono::Utc::now())
        .await?;
    leptos_axum::redirect("/billing");
    Ok(())
}

/// Drops the plan change scheduled for the period end.
#[server(prefix = "/_fn", endpoint = "keep_current_plan")]
pub async fn keep_current_plan() -> Result<(), AppError> {
    let me = super::ctx::require_signed_in().await?;
    let t = super::ctx::tollgate()?;
    tollgate::service::provider::keep_plan(&t, me.account_id, &me.actor(), chrono::Utc::now())
        .await?;
    leptos_axum::redirect("/billing");
    Ok(())
}
