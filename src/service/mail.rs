//! E-mail: services enqueue messages in the transaction of the change that causes
//! them (transactional outbox); a worker renders and sends them.

use super::Error;
use crate::db;
use crate::identity::Email;
use sqlx::PgExecutor;
use uuid::Uuid;

/// Enqueues `template` for `to` with `context` (the template's variables, such as
/// `{"user": {"name": "Ada"}, "link": "…"}`). With a `dedup_key`, the message is
/// enqueued at most once ever; returns whether it was enqueued.
///
/// # Errors
/// [`Error::Invalid`] (field `email`) for a malformed address; database errors.
pub async fn enqueue(
    db: impl PgExecutor<'_>,
    to: &str,
    template: &str,
    context: &serde_json::Value,
    dedup_key: Option<&str>,
    account_id: Option<Uuid>,
) -> Result<bool, Error> {
    let to = Email::parse(to).map_err(|e| Error::invalid("email", e.0))?;
    let mail = db::outbox::NewMail { to: to.as_str(), template, context, dedup_key, account_id };
    Ok(db::outbox::insert(db, &mail).await?)
}
