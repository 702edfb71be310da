//! Billing downloads outside the Leptos pages: an invoice's PDF, and the admin
//! panel's CSV exports of invoices, subscriptions and the analytics' monthly table. Each checks who is asking
//! from the session on every request.

use crate::serve::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tollgate::db::invoices::Filter;
use tollgate::export::text_cell;
use tollgate::service::admin::billing::{self, SubscriptionFilter};
use tollgate::service::invoices::document;
use tollgate::service::{invoice_pdf, Tollgate};
use tollgate_app::server::ctx::{signed_in_with, SignedIn};
use tower_sessions::Session;
use uuid::Uuid;

pub(crate) async fn who(t: &Tollgate, session: &Session) -> Result<SignedIn, StatusCode> {
    signed_in_with(t, session)
        .await
        .map_err(|_| StatusCode::FORBIDDEN)?
        .ok_or(StatusCode::UNAUTHORIZED)
}

/// `GET /invoices/{id}/pdf`: the invoice as a PDF, for a super admin (acting as
/// themself) or the owner or an admin of the billed account; `404` for anyone else
/// so invoice ids do not leak, `401` when signed out.
pub async fn invoice_pdf(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(link): Query<PdfLink>,
    session: Session,
) -> Result<Response, StatusCode> {
    let t = &state.tollgate;
    let id = Uuid::parse_str(&id).map_err(|_| StatusCode::NOT_FOUND)?;
    // An e-mailed link opens the PDF without signing in until it expires.
    if let Some(token) = link.token.as_deref() {
        let key = tollgate::service::embed::key(t).await.map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
        if !tollgate::service::invoices::link::verify(key, id, token, chrono::Utc::now()) {
            return Err(StatusCode::NOT_FOUND);
        }
        let detail = document::load(t, id, false).await.map_err(|_| StatusCode::NOT_FOUND)?;
        return pdf_response(t, id, detail);
    }
    let me = who(t, &session).await?;
    let operator = me.user.is_super_admin && me.impersonator.is_none();
    let detail = document::load(t, id, operator)
        .await
        .map_err(|_| StatusCode::NOT_FOUND)?;
    if !operator {
        let role = tollgate::db::accounts::role_of(&t.pool, detail.invoice.account_id, me.user.id)
            .await
            .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
        if !matches!(role.as_deref(), Some("owner" | "admin")) {
            return Err(StatusCode::NOT_FOUND);
        }
    }
    pdf_response(t, id, detail)
}

/// `?token=` of an e-mailed invoice link ([`tollgate::service::invoices::link`]).
#[derive(Debug, Deserialize)]
pub struct PdfLink {
    token: Option<String>,
}

fn pdf_response(t: &Tollgate, id: Uuid, detail: document::InvoiceDetail) -> Result<Response, StatusCode> {
    let issuer = t.product_name();
    let printable =
        document::printable(&detail, &issuer, &t.settings.public_url, chrono::Utc::now());
    let pdf = invoice_pdf::render(&printable).map_err(|e| {
        tracing::error!(error = %e, invoice = %id, "invoice PDF failed");
        StatusCode::INTERNAL_SERVER_ERROR
    })?;
    let name = detail.invoice.number.unwrap_or_else(|| "draft".into());
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"invoice-{name}.pdf\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        pdf,
    )
        .into_response())
}

/// Query of the invoice export: the same filters as `/admin/billing/invoices`.
#[derive(Debug, Deserialize)]
pub struct InvoiceQuery {
    status: Option<String>,
    overdue: Option<String>,
    q: Option<String>,
}

/// Query of the subscription export.
#[derive(Debug, Deserialize)]
pub struct SubscriptionQuery {
    status: Option<String>,
    plan: Option<String>,
    provider: Option<String>,
    q: Option<String>,
}

fn keep(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn csv_response(name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

fn refused(e: tollgate::service::Error) -> StatusCode {
    match e {
        tollgate::service::Error::Forbidden(_) | tollgate::service::Error::Unauthorized => {
            StatusCode::FORBIDDEN
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `GET /admin/billing/invoices.csv`: every matching invoice (super admins only).
pub async fn invoices_csv(
    State(state): State<AppState>,
    Query(q): Query<InvoiceQuery>,
    session: Session,
) -> Result<Response, StatusCode> {
    let t = &state.tollgate;
    let me = who(t, &session).await?;
    let now = chrono::Utc::now();
    let filter = Filter {
        status: keep(q.status),
        overdue_at: keep(q.overdue).map(|_| now),
        search: keep(q.q),
    };
    let (rows, _) = billing::invoices(t, &me.actor(), &filter, None)
        .await
        .map_err(refused)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "number",
        "account_id",
        "account",
        "status",
        "overdue",
        "currency",
        "period_start",
        "period_end",
        "subtotal",
        "discount",
        "tax",
        "total",
        "credit_applied",
        "amount_due",
        "amount_paid",
        "issued_at",
        "due_at",
        "paid_at",
        "provider",
    ];
    w.write_record(header)
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    for r in rows {
        let i = &r.invoice;
        let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map(|t| t.to_rfc3339()).unwrap_or_default()
        };
        w.write_record([
            i.number.clone().unwrap_or_default(),
            i.account_id.to_string(),
            text_cell(&r.account_name).into_owned(),
            i.status.clone(),
            i.status().is_overdue(i.due_at, now).to_string(),
            i.currency.clone(),
            i.period_start.to_rfc3339(),
            i.period_end.to_rfc3339(),
            i.subtotal.normalize().to_string(),
            i.discount.normalize().to_string(),
            i.tax.normalize().to_string(),
            i.total.normalize().to_string(),
            i.credit_applied.normalize().to_string(),
            i.amount_due.normalize().to_string(),
            i.amount_paid.normalize().to_string(),
            time(i.issued_at),
            time(i.due_at),
            time(i.paid_at),
            i.provider.clone(),
        ])
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    }
    let body = w
        .into_inner()
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(csv_response("invoices.csv", body))
}

/// `GET /admin/billing/subscriptions.csv`: every matching subscription (super
/// admins only).
pub async fn subscriptions_csv(
    State(state): State<AppState>,
    Query(q): Query<SubscriptionQuery>,
    session: Session,
) -> Result<Response, StatusCode> {
    let t = &state.tollgate;
    let me = who(t, &session).await?;
    let filter = SubscriptionFilter {
        status: keep(q.status),
        plan: keep(q.plan),
        provider: keep(q.provider),
        search: keep(q.q),
    };
    let (rows, _) = billing::subscriptions(t, &me.actor(), &filter, None)
        .await
        .map_err(refused)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "id",
        "account_id",
        "account",
        "account_kind",
        "plan",
        "interval",
        "seats",
        "status",
        "provider",
        "trial_end",
        "cancel_at_period_end",
        "created_at",
    ])
    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    for s in rows {
        w.write_record([
            s.id.to_string(),
            s.account_id.to_string(),
            text_cell(&s.account_name).into_owned(),
            s.account_kind,
            s.plan_key,
            s.interval,
            s.seats.to_string(),
            s.status,
            s.provider,
            s.trial_end.map(|t| t.to_rfc3339()).unwrap_or_default(),
            s.cancel_at_period_end.to_string(),
            s.created_at.to_rfc3339(),
        ])
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    }
    let body = w
        .into_inner()
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(csv_response("subscriptions.csv", body))
}

/// `GET /admin/analytics.csv`: the `/admin` monthly table (super admins only), a
/// row per calendar month (UTC), oldest first; amounts in the `currency` column's
/// currency, major units, rounded to its minor unit; rates in percent, empty when
/// the month opened with no MRR.
pub async fn analytics_csv(
    State(state): State<AppState>,
    session: Session,
) -> Result<Response, StatusCode> {
    let t = &state.tollgate;
    let me = who(t, &session).await?;
    let r = tollgate::service::admin::analytics::report(t, &me.actor(), chrono::Utc::now())
        .await
        .map_err(refused)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "month",
        "month_start",
        "month_end",
        "partial",
        "currency",
        "opening_mrr",
        "new_mrr",
        "reactivation_mrr",
        "expansion_mrr",
        "contraction_mrr",
        "churned_mrr",
        "net_new_mrr",
        "closing_mrr",
        "customers_opening",
        "customers_closing",
        "new_customers",
        "reactivated_customers",
        "churned_customers",
        "logo_churn_rate",
        "revenue_churn_rate",
        "net_revenue_retention",
        "billed",
        "collected",
        "outstanding",
        "overdue",
        "usage_revenue",
        "failed_payments",
    ];
    w.write_record(header)
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    // The report's amounts are rounded to the minor unit already.
    let amount = |d: rust_decimal::Decimal| d.to_string();
    let rate = |d: Option<rust_decimal::Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
    for m in &r.months {
        w.write_record([
            m.label.clone(),
            m.start.to_rfc3339(),
            m.end.to_rfc3339(),
            m.partial.to_string(),
            r.currency.code().to_string(),
            amount(m.opening_mrr),
            amount(m.new_mrr),
            amount(m.reactivation_mrr),
            amount(m.expansion_mrr),
            amount(m.contraction_mrr),
            amount(m.churned_mrr),
            amount(m.net_new_mrr),
            amount(m.closing_mrr),
            m.customers_opening.to_string(),
            m.customers_closing.to_string(),
            m.new_customers.to_string(),
            m.reactivated_customers.to_string(),
            m.churned_customers.to_string(),
            rate(m.logo_churn_rate),
            rate(m.revenue_churn_rate),
            rate(m.net_revenue_retention),
            amount(m.billed),
            amount(m.collected),
            amount(m.outstanding),
            amount(m.overdue),
            amount(m.usage_revenue),
            m.failed_payments.to_string(),
        ])
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    }
    let body = w
        .into_inner()
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(csv_response("analytics.csv", body))
}
