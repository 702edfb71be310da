//! Where rendered messages go: an SMTP server (lettre over tokio, rustls for TLS),
//! or, when no SMTP server is configured (development, the demo), the log.

use super::templates::Rendered;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain text (a local relay or a test server). Default port 25.
    None,
    /// Plain connection upgraded with STARTTLS, which is required. Default port 587.
    #[default]
    Starttls,
    /// TLS from the first byte ("SMTPS"). Default port 465.
    Tls,
}

impl TlsMode {
    /// The usual port of this mode.
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::None => 25,
            TlsMode::Starttls => 587,
            TlsMode::Tls => 465,
        }
    }
}

/// An SMTP server to send through.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// Host name (also checked against the TLS certificate).
    pub host: String,
    /// Port; `None` uses [`TlsMode::default_port`].
    pub port: Option<u16>,
    /// User name for `AUTH`, if the server wants one.
    pub username: Option<String>,
    /// Password for `AUTH`.
    pub password: Option<String>,
    /// Connection protection.
    pub tls: TlsMode,
    /// Gives up on a connection or command after this long.
    pub timeout: Duration,
}

/// Why a mailer could not be built or a message not be sent.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The `from` address or a recipient is not a valid mailbox.
    #[error("invalid address `{address}`: {message}")]
    Address { address: String, message: String },
    /// The SMTP settings are unusable (a bad host for TLS, …).
    #[error("SMTP settings: {0}")]
    Settings(String),
    /// The message could not be built.
    #[error("message: {0}")]
    Message(String),
    /// The server could not be reached or refused the message; `permanent` for a
    /// 5xx answer (such as an unknown mailbox), which retrying would not change.
    #[error("SMTP: {message}")]
    Smtp { message: String, permanent: bool },
}

impl TransportError {
    /// Whether sending the same message again cannot succeed.
    pub fn is_permanent(&self) -> bool {
        match self {
            TransportError::Smtp { permanent, .. } => *permanent,
            TransportError::Address { .. }
            | TransportError::Settings(_)
            | TransportError::Message(_) => true,
        }
    }
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Log,
}

/// Sends rendered messages from one sender address. Cheap to share (`Arc` it).
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

fn mailbox(address: &str) -> Result<Mailbox, TransportError> {
    address
        .parse()
        .map_err(|e: lettre::address::AddressError| TransportError::Address {
            address: address.to_string(),
            message: e.to_string(),
        })
}

impl Mailer {
    /// A mailer that writes each message to the log at INFO (to, subject, body)
    /// instead of sending it.
    ///
    /// # Errors
    /// [`TransportError::Address`] for a malformed `from` (`Name <a@b.c>` or `a@b.c`).
    pub fn log(from: &str) -> Result<Mailer, TransportError> {
        Ok(Mailer {
            from: mailbox(from)?,
            transport: Transport::Log,
        })
    }

    /// A mailer that sends through `smtp`, one connection per message (opened at
    /// send time, so an unreachable server shows up as failed sends).
    ///
    /// # Errors
    /// [`TransportError::Address`] for a malformed `from`;
    /// [`TransportError::Settings`] when the host cannot be used for TLS.
    pub fn smtp(from: &str, smtp: &SmtpSettings) -> Result<Mailer, TransportError> {
        let from = mailbox(from)?;
        let settings = |e: lettre::transport::smtp::Error| TransportError::Settings(e.to_string());
        let builder = match smtp.tls {
            TlsMode::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
            TlsMode::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                .map_err(settings)?,
            TlsMode::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(settings)?
            }
        };
        let mut builder = builder
            .port(smtp.port.unwrap_or(smtp.tls.default_port()))
            .timeout(Some(smtp.timeout));
        if let Some(username) = &smtp.username {
            builder = builder.credentials(Credentials::new(
                username.clone(),
                smtp.password.clone().unwrap_or_default(),
            ));
        }
        Ok(Mailer {
            from,
            transport: Transport::Smtp(builder.build()),
        })
    }

    /// Whether messages go to the log rather than to an SMTP server.
    pub fn is_log(&self) -> bool {
        matches!(self.transport, Transport::Log)
    }

    /// Sends `message` to `to` (or logs it).
    ///
    /// # Errors
    /// [`TransportError::Address`] for a malformed recipient (permanent);
    /// [`TransportError::Smtp`] when the server is unreachable or refuses.
    pub async fn send(&self, to: &str, message: &Rendered) -> Result<(), TransportError> {
        let recipient = mailbox(to)?;
        match &self.transport {
            Transport::Log => {
                tracing::info!("{}", log_line(to, message));
                // The body may hold a password-reset or invitation link: a secret
                // that does not belong in an INFO log (issue 12); it is in the outbox.
                tracing::debug!(to, "e-mail body:\n{}", message.body);
                Ok(())
            }
            Transport::Smtp(smtp) => {
                let email = Message::builder()
                    .from(self.from.clone())
                    .to(recipient)
                    .subject(message.subject.as_str())
                    .header(ContentType::TEXT_PLAIN)
                    .body(message.body.clone())
                    .map_err(|e| TransportError::Message(e.to_string()))?;
                smtp.send(email)
                    .await
                    .map(|_| ())
                    .map_err(|e| TransportError::Smtp {
                        message: smtp_error(&e),
                        permanent: e.is_permanent(),
                    })
            }
        }
    }
}

/// The error with its causes ("Connection error: Connection refused (os error 111)").
fn smtp_error(e: &lettre::transport::smtp::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    message
}

/// What the log transport writes at INFO for a message: who and what, without the
/// body (links in it are secrets); `tollgate mail list` shows the whole message.
pub fn log_line(to: &str, message: &Rendered) -> String {
    format!("e-mail to {to}: \"{}\" (SMTP is not configured, so it is kept, not sent: `tollgate mail list` shows it)", message.subject)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_line_names_the_message_but_keeps_its_links_out() {
        let m = Rendered {
            subject: "Reset your password".into(),
            body: "Open http://portal.test/reset-password?token=s3cr3t within an hour.\n".into(),
        };
        let line = log_line("ada@example.com", &m);
        assert!(
            line.contains("ada@example.com")
                && line.contains("Reset your password")
                && line.contains("tollgate mail list"),
            "{line}"
        );
        assert!(
            !line.contains("s3cr3t") && !line.contains("http://"),
            "{line}"
        );
    }
}
