//! Invoice PDFs: every invoice, Tollgate's own and those mirrored from Stripe,
//! downloads as an A4 PDF drawn from an [`InvoiceDocument`].
//!
//! The document is a presentation model: every string is already formatted by
//! the caller (money with its currency, dates, status words), so this module only
//! places text; it makes no billing decisions. [`render`] lays the invoice out
//! ([`layout`]: header with title, number and status badge, issuer and bill-to
//! blocks, dates, the line table continued over as many pages as it needs,
//! right-aligned totals with the amount due in bold, notes at the foot, "Page i of
//! N" when there are several pages) and writes it with krilla ([`paint`]) in the
//! embedded Liberation Sans faces ([`typeface`]), so its text is real, searchable
//! text.

mod layout;
mod paint;
mod typeface;

#[cfg(test)]
mod tests;

/// One party on the invoice (issuer or customer): a name and address lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    /// Printed bold, e.g. "Zoë Ærøskøbing GmbH" (wrapped to at most two lines).
    pub name: String,
    /// Address lines, tax ID, e-mail …, one per line (each wrapped to at most two
    /// lines; at most nine lines are printed for the whole block).
    pub lines: Vec<String>,
}

/// One invoice line as printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentLine {
    /// What was sold, e.g. "Pro plan (monthly)"; wrapped to at most three lines.
    pub description: String,
    /// A smaller grey line under it, e.g. "1 May – 31 May 2026"; at most three lines.
    pub detail: Option<String>,
    /// Quantity as printed, e.g. "1" or "12,500".
    pub quantity: String,
    /// Unit price as printed, e.g. "$49.00".
    pub unit_price: String,
    /// Line amount as printed, e.g. "$49.00".
    pub amount: String,
}

/// An invoice ready to print.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceDocument {
    /// "Invoice" (or "Draft invoice").
    pub title: String,
    /// The invoice number, e.g. "TG-2026-000042".
    pub number: String,
    /// The status shown in the badge: "Open", "Paid", "Void", "Overdue" … (the
    /// badge is green for paid, red for overdue, grey for void or draft, blue
    /// otherwise).
    pub status: String,
    /// Issue date, preformatted, e.g. "3 June 2026".
    pub issued_on: String,
    /// Due date, preformatted; not printed when `None`.
    pub due_on: Option<String>,
    /// Billing period, preformatted, e.g. "1 May – 31 May 2026"; not printed when blank.
    pub period: String,
    /// Who issues the invoice.
    pub issuer: Party,
    /// Who is billed.
    pub bill_to: Party,
    /// The lines, in order.
    pub lines: Vec<DocumentLine>,
    /// Totals as (label, amount), e.g. ("Subtotal", "$63.19"), ("Discount",
    /// "−$5.00"), …; the last one (the amount due) is printed bold under a rule.
    pub totals: Vec<(String, String)>,
    /// Paragraphs at the foot: payment instructions, the hosted invoice link,
    /// "Thank you" (each wrapped to at most eight lines).
    pub notes: Vec<String>,
}

/// Why an invoice could not be rendered. None of these depends on the invoice's
/// content: each is a broken build or a bug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    /// A font built into the binary could not be read.
    #[error("the bundled font {0} could not be read")]
    Font(&'static str),
    /// Layout produced a shape with an invalid size.
    #[error("invoice layout failed: {0}")]
    Layout(String),
    /// krilla refused to write the document.
    #[error("could not write the invoice PDF: {0}")]
    Write(String),
}

/// Renders `doc` as a PDF (A4 portrait), paginating when lines overflow a page.
/// Long texts are wrapped (descriptions, details, notes, party lines) or cut with
/// "…" (single-line cells) to their space, never overlapping. The same document
/// always gives the same bytes.
///
/// # Errors
/// [`PdfError`] only for a broken build (an unreadable bundled font) or a layout
/// bug; any strings render.
pub fn render(doc: &InvoiceDocument) -> Result<Vec<u8>, PdfError> {
    let faces = typeface::faces()?;
    let pages = layout::lay_out(doc, faces);
    paint::paint(&pages, faces, &format!("{} {}", doc.title, doc.number))
}
