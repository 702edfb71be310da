//! Tollgate's server: the axum router (pages, `/api/v1`, live stream, health and
//! metrics), background tasks, and the operator CLI behind the `tollgate` binary.

pub mod api;
pub mod billing_files;
pub mod cli;
pub mod client_ip;
pub mod config;
pub mod csrf;
pub mod email_links;
pub mod embed;
pub mod fn_status;
pub mod guard;
pub mod headers;
pub mod health;
pub mod live;
pub mod serve;
pub mod telemetry;
pub mod usage_files;
pub mod usage_reports;
pub mod webhooks;
