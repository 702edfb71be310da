//! PostgreSQL repositories: every SQL statement of Tollgate lives in this module
//! tree, one file per table family. Functions take an executor (`&PgPool` or a
//! transaction) so that services compose them inside one transaction.

pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod catalog;
pub mod coupons;
pub mod credits;
pub mod email_verifications;
pub mod embed_keys;
pub mod invitations;
pub mod invoice_adjustments;
pub mod invoice_mailings;
pub mod invoices;
pub mod login_failures;
pub mod memberships;
pub mod notification_preferences;
pub mod notifications;
pub mod outbox;
pub mod overrides;
pub mod password_resets;
pub mod rate_windows;
pub mod sessions;
pub mod stripe;
pub mod stripe_meters;
pub mod subscriptions;
pub mod usage;
pub mod usage_corrections;
pub mod usage_partitions;
pub mod usage_reports;
pub mod usage_rollups;
pub mod users;
pub mod webhook_attempts;
pub mod webhook_deliveries;
pub mod webhook_endpoints;
pub mod webhook_events;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// A transaction on the pool.
pub type Tx<'a> = Transaction<'a, Postgres>;

/// The embedded migrations (`migrations/`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Opens a pool of at most `max_connections` to `url`, failing after 5 s when the
/// server does not answer. The URL's `sslmode` is honored (TLS through rustls):
/// `require` encrypts, `verify-ca` / `verify-full` also check the server against
/// `sslrootcert` (or the webpki roots when none is named).
///
/// # Errors
/// A bad URL or an unreachable server.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?.application_name("tollgate");
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
}

/// Applies pending migrations.
///
/// # Errors
/// A migration that fails or was changed after being applied.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// Whether an error is a unique-constraint violation on `constraint`.
pub fn is_unique_violation(err: &sqlx::Error, constraint: &str) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation() && db.constraint() == Some(constraint))
}
