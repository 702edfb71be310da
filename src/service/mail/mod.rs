//! E-mail: services enqueue messages in the transaction of the change that causes
//! them (transactional outbox); a worker ([`worker`]) renders them
//! ([`templates`]) and sends them ([`transport`]: SMTP, or the log when no SMTP
//! server is configured).

pub mod templates;
pub mod transport;
pub mod usage_threshold;
pub mod worker;

use super::Error;
use crate::db::{self, outbox::OutboxRow};
use crate::identity::Email;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

pub use templates::{render, RenderError, Rendered};
pub use transport::{Mailer, SmtpSettings, TlsMode, TransportError};
pub use worker::WorkerSettings;

/// Enqueues `template` for `to` with `context` (the template's variables, such as
/// `{"user": {"name": "Ada"}, "link": "…"}`). With a `dedup_key`, the message is
/// enqueued at most once ever; returns whether it was enqueued.
///
/// # Errors
/// [`Error::Invalid`] (field `email`) for a malformed address, (field `template`)
/// for a template that does not exist; database errors.
pub async fn enqueue(
    db: impl PgExecutor<'_>,
    to: &str,
    template: &str,
    context: &serde_json::Value,
    dedup_key: Option<&str>,
    account_id: Option<Uuid>,
) -> Result<bool, Error> {
    let to = Email::parse(to).map_err(|e| Error::invalid("email", e.0))?;
    if !templates::exists(template) {
        return Err(Error::invalid(
            "template",
            format!("no e-mail template `{template}`"),
        ));
    }
    let mail = db::outbox::NewMail {
        to: to.as_str(),
        template,
        context,
        dedup_key,
        account_id,
    };
    Ok(db::outbox::insert(db, &mail).await?)
}

/// A stored message with its text as rendered now (or why it cannot be rendered).
#[derive(Debug, Clone)]
pub struct Listed {
    /// The outbox row (status, attempts, last error, …).
    pub row: OutboxRow,
    /// Subject and body.
    pub rendered: Result<Rendered, RenderError>,
}

/// The newest `limit` (1–500) messages, to `to` only when given, newest first,
/// rendered: what `tollgate mail list` prints for developers.
///
/// # Errors
/// [`Error::Invalid`] (field `email`) for a malformed `to`; database errors.
pub async fn recent(pool: &PgPool, to: Option<&str>, limit: u32) -> Result<Vec<Listed>, Error> {
    let to = to
        .map(Email::parse)
        .transpose()
        .map_err(|e| Error::invalid("email", e.0))?;
    let rows = db::outbox::recent(
        pool,
        to.as_ref().map(Email::as_str),
        i64::from(limit.clamp(1, 500)),
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let rendered = render(&row.template, &row.context);
            Listed { row, rendered }
        })
        .collect())
}
