//! Shared components.

pub mod chart;
pub mod form;
pub mod gate;
pub mod invoices;
pub mod keys;
pub mod layout;
pub mod meter;
pub mod pager;
pub mod table;
pub mod usage_charts;
