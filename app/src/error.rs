//! The one error type of every server function. It crosses the wire as JSON, also
//! without JavaScript: a plain form post that fails is redirected back with the
//! error in the URL (`__err`), and the page shows field errors and what was typed
//! (never passwords) from it.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Errors of a form: one for the whole form and one per field, with the values to
/// put back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormError {
    /// A sentence for the whole form.
    pub message: Option<String>,
    /// Field name → sentence.
    pub fields: BTreeMap<String, String>,
    /// Field name → value typed (never a password).
    pub values: BTreeMap<String, String>,
}

impl FormError {
    /// An error about one field.
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        let mut e = FormError::default();
        e.fields.insert(name.into(), message.into());
        e
    }

    /// An error about the whole form.
    pub fn message(message: impl Into<String>) -> Self {
        FormError {
            message: Some(message.into()),
            ..FormError::default()
        }
    }

    /// Adds another field's error.
    pub fn and_field(mut self, name: &str, message: impl Into<String>) -> Self {
        self.fields.insert(name.into(), message.into());
        self
    }

    /// Keeps what was typed, to refill the form.
    pub fn with_values(mut self, values: &[(&str, &str)]) -> Self {
        for (k, v) in values {
            self.values.insert((*k).into(), (*v).into());
        }
        self
    }

    /// True when nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.message.is_none() && self.fields.is_empty()
    }
}

/// Why a server function failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Not signed in (pages redirect to `/login?next=…`).
    #[error("Sign in to continue.")]
    SignInRequired,
    /// Signed in without a plan (pages redirect to `/pricing`).
    #[error("Choose a plan to continue.")]
    PlanRequired,
    /// Not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// Nothing there.
    #[error("{0}")]
    NotFound(String),
    /// Bad form input.
    #[error("{}", .0.message.clone().unwrap_or_else(|| "Check the highlighted fields.".into()))]
    Form(FormError),
    /// Something failed on the server; details are in the server's log.
    #[error("{0}")]
    Server(String),
}

impl AppError {
    /// The error in sentences, for a page with no field to put a field's error
    /// under: a form error's field messages when it has no message of its own.
    pub fn explained(&self) -> String {
        match self.form() {
            Some(f) if f.message.is_none() && !f.fields.is_empty() => {
                f.fields.values().cloned().collect::<Vec<_>>().join(" ")
            }
            _ => self.to_string(),
        }
    }

    /// The form error inside, if any.
    pub fn form(&self) -> Option<&FormError> {
        match self {
            AppError::Form(f) => Some(f),
            _ => None,
        }
    }

    /// Adds typed values to a form error (other errors pass through).
    pub fn with_values(self, values: &[(&str, &str)]) -> Self {
        match self {
            AppError::Form(f) => AppError::Form(f.with_values(values)),
            other => AppError::Form(FormError::message(other.to_string()).with_values(values)),
        }
    }
}

impl From<FormError> for AppError {
    fn from(f: FormError) -> Self {
        AppError::Form(f)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => AppError::Server(
                "Could not reach the server. Check your connection and try again.".into(),
            ),
            // The request's arguments could not be read (a field missing or not of
            // its type): bad input, answered 422 like any form error, not 500.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => AppError::Form(
                FormError::message("The form could not be read. Reload the page and try again."),
            ),
            other => AppError::Server(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<tollgate::service::Error> for AppError {
    fn from(e: tollgate::service::Error) -> Self {
        use tollgate::service::Error as E;
        match e {
            E::Invalid { field, message, .. } => AppError::Form(FormError::field(&field, message)),
            E::Conflict(m) => AppError::Form(FormError::message(m)),
            E::NotFound(m) => AppError::NotFound(m),
            E::Forbidden(m) => AppError::Forbidden(m),
            E::Unauthorized => AppError::SignInRequired,
            E::RateLimited { message, .. } => AppError::Form(FormError::message(message)),
            E::NoCatalog => AppError::Server(
                "No plans are set up yet. The operator must load a catalog.".into(),
            ),
            other => {
                tracing::error!(error = %other, "server function failed");
                AppError::Server("Something went wrong on our side. Try again in a moment.".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_url_encoding() {
        let e =
            AppError::Form(FormError::field("email", "taken").with_values(&[("email", "a@b.co")]));
        let back = AppError::de(e.ser());
        assert_eq!(back, e);
        assert_eq!(
            back.form()
                .and_then(|f| f.values.get("email"))
                .map(String::as_str),
            Some("a@b.co")
        );
    }
}
