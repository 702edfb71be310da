//! The domain crate's PostgreSQL tests, one binary (one link of the crate) with a
//! module per area; each `#[sqlx::test]` gets its own database.
#![cfg(feature = "ssr")]

mod admin;
mod database_tls;
mod invoicing;
mod organizations;
mod plan_changes;
mod schema;
mod services;
mod usage_history;
mod usage_partitions;
