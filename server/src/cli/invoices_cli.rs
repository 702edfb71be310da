//! `tollgate invoices …`: the manual provider's invoice run and an operator's
//! status changes, as text.

use anyhow::bail;
use tollgate::invoice::{schedule, InvoiceStatus};
use tollgate::service::{invoices, Actor, Tollgate};

/// Runs the invoice run for `period` (`YYYY-MM`; default: last month) and prints
/// what it issued.
///
/// # Errors
/// A bad period, or what the run met.
pub async fn run(t: &Tollgate, period: Option<&str>) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    let month = match period {
        Some(p) => schedule::billing_month(p).map_err(|e| anyhow::anyhow!("--period: {e}"))?,
        None => schedule::previous_month(now),
    };
    if month.start > now {
        bail!(
            "--period: {} has not started yet",
            schedule::month_label(month)
        );
    }
    let report = invoices::run(t, month, &Actor::Cli, now).await?;
    for i in &report.issued {
        println!(
            "issued {} to account {}: {} due",
            i.number,
            i.account_id,
            i.amount_due.display()
        );
    }
    println!(
        "invoice run {}: {} issued, {} already invoiced, {} with nothing to bill",
        schedule::month_label(month),
        report.issued.len(),
        report.already_invoiced,
        report.nothing_to_bill
    );
    if report.deferred > 0 {
        println!(
            "{} deferred: their usage was corrected while the run priced them; run again to bill them",
            report.deferred
        );
    }
    Ok(())
}

/// Marks the invoice `number` paid, void or uncollectible.
///
/// # Errors
/// An unknown number, or a move the invoice's status does not allow.
pub async fn set_status(t: &Tollgate, number: &str, to: InvoiceStatus) -> anyhow::Result<()> {
    let Some(invoice) = tollgate::db::invoices::by_number(&t.pool, number.trim()).await? else {
        bail!("no invoice numbered `{number}`");
    };
    invoices::set_status(t, &Actor::Cli, invoice.id, to, chrono::Utc::now()).await?;
    println!("invoice {number} is now {}", to.as_str());
    Ok(())
}
