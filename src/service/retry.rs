//! Retrying a transaction that PostgreSQL aborted to break a deadlock (SQLSTATE
//! 40P01) or a serialization conflict (40001): the work is whole-or-nothing, so
//! running it again is safe.

use super::Error;
use std::future::Future;

/// Attempts before giving up.
const ATTEMPTS: u32 = 3;

fn retryable(e: &Error) -> bool {
    matches!(e, Error::Db(sqlx::Error::Database(db)) if matches!(db.code().as_deref(), Some("40P01" | "40001")))
}

/// Runs `work` and runs it again (up to three times in all) when the database
/// aborted it to resolve a deadlock.
///
/// # Errors
/// Whatever `work` returns last.
pub(crate) async fn on_deadlock<T, F, Fut>(mut work: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let mut attempt = 1;
    loop {
        match work().await {
            Err(e) if attempt < ATTEMPTS && retryable(&e) => {
                tracing::warn!(attempt, error = %e, "transaction aborted by the database; retrying");
                attempt += 1;
            }
            other => return other,
        }
    }
}
