//! An operator's moves on an invoice: mark paid (a bank transfer arrived), void,
//! mark uncollectible. Each is checked against the lifecycle
//! ([`InvoiceStatus::transition`]) and audited.

use crate::db;
use crate::invoice::InvoiceStatus;
use crate::service::admin::require_super_admin;
use crate::service::{Actor, Error, Tollgate};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Moves a manual invoice to `to` (`paid`, `void` or `uncollectible`) as a super
/// admin (or the CLI). Voiding gives back the credit the invoice had taken from the
/// balance. Audited as `invoice.paid`, `invoice.voided` or
/// `invoice.marked_uncollectible`.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but a super admin or the CLI; [`Error::NotFound`];
/// [`Error::Conflict`] for a move the lifecycle refuses or a Stripe invoice (Stripe
/// owns its status; it changes through webhooks).
pub async fn set_status(
    t: &Tollgate,
    actor: &Actor,
    invoice_id: Uuid,
    to: InvoiceStatus,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if !matches!(actor, Actor::Cli) {
        require_super_admin(&t.pool, actor).await?;
    }
    let mut tx = t.pool.begin().await?;
    let invoice = db::invoices::lock(&mut tx, invoice_id)
        .await?
        .ok_or_else(|| Error::NotFound("no such invoice".into()))?;
    if invoice.provider != "manual" {
        return Err(Error::Conflict(
            "Stripe keeps this invoice's status; change it in Stripe.".into(),
        ));
    }
    let from = invoice.status();
    if !matches!(
        to,
        InvoiceStatus::Paid | InvoiceStatus::Void | InvoiceStatus::Uncollectible
    ) {
        return Err(Error::invalid(
            "status",
            "An invoice can be marked paid, void or uncollectible.",
        ));
    }
    from.transition(to).map_err(|e| {
        Error::Conflict(format!(
            "Invoice {}: {e}.",
            invoice.number.as_deref().unwrap_or("draft")
        ))
    })?;
    db::invoices::set_status(&mut *tx, invoice_id, to, now).await?;
    if to == InvoiceStatus::Void {
        let applied = db::credits::applied_to_invoice(&mut *tx, invoice_id).await?;
        if !applied.is_zero() {
            let number = invoice.number.as_deref().unwrap_or("draft");
            db::credits::insert_for_invoice(
                &mut *tx,
                invoice.account_id,
                applied,
                &invoice.currency,
                &format!("Returned from voided invoice {number}"),
                invoice_id,
            )
            .await?;
        }
    }
    let action = match to {
        InvoiceStatus::Paid => "invoice.paid",
        InvoiceStatus::Void => "invoice.voided",
        _ => "invoice.marked_uncollectible",
    };
    db::audit::record(
        &mut *tx,
        &db::audit::Entry {
            actor,
            action,
            target_kind: "invoice",
            target_id: invoice_id.to_string(),
            account_id: Some(invoice.account_id),
            ip: None,
            details: serde_json::json!({ "number": invoice.number, "from": from.as_str(), "to": to.as_str(), "amount_due": invoice.amount_due, "currency": invoice.currency }),
        },
    )
    .await?;
    // Paid or voided, nothing is owed on it: a subscription it made past due is
    // restored (written off as uncollectible, it stays past due).
    if matches!(to, InvoiceStatus::Paid | InvoiceStatus::Void) {
        super::dunning::restore_if_settled(&mut tx, &invoice, actor, now).await?;
    }
    if to == InvoiceStatus::Paid {
        crate::service::notifications::payment_received(&mut tx, t, &invoice).await?;
    }
    tx.commit().await?;
    Ok(())
}
