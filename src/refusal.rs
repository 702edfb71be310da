//! Why a value typed into a form was refused: the field it belongs to and a
//! sentence for the person typing. The domain's parsers of form input
//! ([`crate::overrides::parse`], [`crate::terms::Terms::parse`],
//! `crate::catalog::edit::parse_limit`) all answer with it; the services turn it
//! into an invalid-field error.

/// A refused value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The form field (`included`, `external_id`, …).
    pub field: &'static str,
    /// What to fix, in a sentence.
    pub message: String,
}

/// A [`Refusal`] of `field`.
pub fn refuse(field: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        field,
        message: message.into(),
    }
}
