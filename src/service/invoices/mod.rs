//! Tollgate's own invoices (the manual provider): the invoice run, the operator's
//! status changes, and reading invoices for pages, CSV and PDF.

pub mod document;
pub mod dunning;
pub mod link;
mod issue;
mod pricing;
pub mod preview;
pub mod run;
pub mod status;

pub(crate) use pricing::period_charges;
pub use run::{run, Report};
pub use status::set_status;
