//! Reading one invoice whole (row, lines, who it is for), for the pages, the CSV
//! export and the PDF.

use crate::db;
use crate::db::invoices::{InvoiceRow, LineRow};
use crate::service::{Error, Tollgate};
use uuid::Uuid;

/// An invoice with its lines and the account it bills.
#[derive(Debug, Clone)]
pub struct InvoiceDetail {
    /// The invoice.
    pub invoice: InvoiceRow,
    /// Its lines in order.
    pub lines: Vec<LineRow>,
    /// The account's display name.
    pub account_name: String,
}

/// Loads invoice `id`. Drafts are only for operators: `include_draft` says whether
/// the caller may see one.
///
/// # Errors
/// [`Error::NotFound`] for an unknown id (or a draft when not allowed).
pub async fn load(t: &Tollgate, id: Uuid, include_draft: bool) -> Result<InvoiceDetail, Error> {
    let invoice = db::invoices::by_id(&t.pool, id)
        .await?
        .filter(|i| include_draft || i.status != "draft")
        .ok_or_else(|| Error::NotFound("no such invoice".into()))?;
    let lines = db::invoices::lines(&t.pool, invoice.account_id, id).await?;
    let account_name = db::accounts::by_id(&t.pool, invoice.account_id)
        .await?
        .map(|a| a.name)
        .unwrap_or_default();
    Ok(InvoiceDetail {
        invoice,
        lines,
        account_name,
    })
}

/// The invoice as printed: amounts with their currency, dates in UTC, the status
/// word (`Overdue` for an open invoice past due at `now`). The issuer is the
/// catalog's product (its title) at the portal's public URL.
pub fn printable(
    d: &InvoiceDetail,
    issuer: &str,
    public_url: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::service::invoice_pdf::InvoiceDocument {
    use crate::invoice::InvoiceStatus;
    use crate::money::{Currency, Money};
    use crate::service::invoice_pdf::{DocumentLine, InvoiceDocument, Party};
    let i = &d.invoice;
    let currency = Currency::parse(&i.currency).unwrap_or(Currency::USD);
    let money = |a: rust_decimal::Decimal| Money::new(a, currency).display();
    let day = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d").to_string();
    let status = i.status();
    let status_word = if status.is_overdue(i.due_at, now) {
        "Overdue".to_string()
    } else {
        let s = status.as_str();
        format!("{}{}", s[..1].to_uppercase(), &s[1..])
    };
    let lines = d
        .lines
        .iter()
        .map(|l| DocumentLine {
            description: l.description.clone(),
            detail: matches!(l.kind.as_str(), "usage" | "proration" | "adjustment").then(|| l.kind.clone()),
            quantity: l.quantity.normalize().to_string(),
            unit_price: l.unit_amount.map_or_else(String::new, &money),
            amount: money(l.amount),
        })
        .collect();
    let mut totals = vec![("Subtotal".to_string(), money(i.subtotal))];
    if !i.discount.is_zero() {
        totals.push((
            format!(
                "Discount{}",
                i.coupon_code
                    .as_ref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default()
            ),
            money(-i.discount),
        ));
    }
    totals.push(("Tax".into(), money(i.tax)));
    totals.push(("Total".into(), money(i.total)));
    if !i.credit_applied.is_zero() {
        totals.push(("Paid from credit balance".into(), money(-i.credit_applied)));
    }
    if !i.amount_paid.is_zero() {
        totals.push(("Amount paid".into(), money(-i.amount_paid)));
    }
    let remaining = if status == InvoiceStatus::Paid || status == InvoiceStatus::Void {
        rust_decimal::Decimal::ZERO
    } else {
        i.amount_due - i.amount_paid
    };
    totals.push(("Amount due".into(), money(remaining)));
    let mut notes = Vec::new();
    match (&i.hosted_url, i.provider.as_str()) {
        (Some(url), _) => notes.push(format!("Pay or view online: {url}")),
        (None, "manual") if remaining > rust_decimal::Decimal::ZERO => {
            notes.push(format!(
                "Please pay by bank transfer by the due date, quoting {}.",
                i.number.as_deref().unwrap_or("the invoice number")
            ));
        }
        _ => {}
    }
    notes.push("Thank you for your business.".into());
    InvoiceDocument {
        title: if status == InvoiceStatus::Draft {
            "Draft invoice".into()
        } else {
            "Invoice".into()
        },
        number: i.number.clone().unwrap_or_else(|| "Draft".into()),
        status: status_word,
        issued_on: i.issued_at.map_or_else(|| "—".into(), day),
        due_on: i.due_at.map(day),
        period: format!(
            "{} – {}",
            day(i.period_start),
            day(i.period_end - chrono::Duration::seconds(1))
        ),
        issuer: Party {
            name: issuer.to_string(),
            lines: vec![public_url.to_string()],
        },
        bill_to: Party {
            name: d.account_name.clone(),
            lines: vec![format!("Account {}", i.account_id)],
        },
        lines,
        totals,
        notes,
    }
}
