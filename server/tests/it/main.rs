//! The server's tests over HTTP, the CLI and PostgreSQL, one binary (one link of
//! the server) with a module per area; `support` spawns the app on a database per test.

mod admin_cli;
mod api_check;
mod api_corrections;
mod api_errors;
mod api_estimate;
mod api_events;
mod api_history;
mod audit_log;
mod authz_admin;
mod authz_orgs;
mod billing_http;
mod cli;
mod email_verification;
mod embed;
mod health;
mod impersonation;
mod live;
mod mail;
mod notification_prefs;
mod orgs_http;
mod pages;
mod password_reset;
mod sessions;
mod state_cache;
mod stripe_changes;
mod stripe_meters;
mod stripe_webhooks;
mod support;
mod usage_exports;
mod webhooks;
