//! Server functions: thin over `tollgate::service`. Each one finds out who is
//! asking ([`ctx`]) and which account they may touch before doing anything.

pub mod admin;
pub mod auth;
pub mod billing;
pub mod dashboard;
pub mod keys;
pub mod notifications;
pub mod orgs;
pub mod password;
pub mod plans;
pub mod pricing;
pub mod webhooks;

#[cfg(feature = "ssr")]
pub mod chart_draw;
#[cfg(feature = "ssr")]
pub mod ctx;
#[cfg(feature = "ssr")]
pub mod org_ctx;
#[cfg(feature = "ssr")]
pub mod usage_charts;
