//! Tollgate's billing domain.
//!
//! The modules at the top of this crate are pure: they hold the rules of billing
//! (catalog, money, billing periods, limits and thresholds, usage projection, the
//! paywall, rating, proration, coupons and invoices) and build for both the server
//! and `wasm32-unknown-unknown`, so the pages and the server apply the same rules.
//!
//! Behind the `ssr` feature, [`db`] holds the PostgreSQL repositories (one module
//! per table family, the only place SQL lives) and [`service`] the use cases that
//! the server functions and the `/api/v1` handlers call. Nothing in the pure
//! modules depends on them.

pub mod access;
pub mod analytics;
pub mod board;
pub mod catalog;
pub mod correction;
pub mod embed;
pub mod coupon;
pub mod export;
pub mod history;
pub mod identity;
pub mod invoice;
pub mod keys;
pub mod limits;
pub mod money;
pub mod notification;
pub mod overrides;
pub mod period;
pub mod proration;
pub mod quantity;
pub mod rating;
pub mod refusal;
pub mod stripe_catalog;
pub mod subscription;
pub mod terms;
pub mod throttle;
pub mod usage;
pub mod webhook;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod service;
