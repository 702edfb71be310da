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
    let invoice = db::invoices::by_id(&t.pool, id).await?.filter(|i| include_draft || i.status != "draft").ok_or_else(|| Error::NotFound("no such invoice".into()))?;
    let lines = db::invoices::lines(&t.pool, id).await?;
    let account_name = db::accounts::by_id(&t.pool, invoice.account_id).await?.map(|a| a.name).unwrap_or_default();
    Ok(InvoiceDetail { invoice, lines, account_name })
}
