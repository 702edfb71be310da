//! An account's payment terms and its id in the operator's own system, as an
//! operator sets them (issue 11 §5). Parsed at the edge: a [`Terms`] is valid.

/// Days a manual invoice is due after it is issued: 0 (due on receipt) to 120,
/// as the `accounts.net_terms_days` CHECK allows.
pub const MAX_NET_TERMS_DAYS: i32 = 120;
use crate::refusal::refuse;
pub use crate::refusal::Refusal;

/// The longest `external_id` (`accounts.external_id` CHECK).
pub const MAX_EXTERNAL_ID: usize = 255;

/// Valid terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    /// Net terms in days (0–120).
    pub net_terms_days: i32,
    /// The account's id in the operator's system (`/api/v1` accepts it wherever an
    /// account is named); `None` clears it.
    pub external_id: Option<String>,
}

impl Terms {
    /// Reads the form's values: whole days 0–120; an external id of 1–255
    /// printable characters without spaces at either end (empty clears it).
    ///
    /// # Errors
    /// A [`Refusal`] naming `net_terms_days` or `external_id`.
    pub fn parse(net_terms_days: &str, external_id: &str) -> Result<Terms, Refusal> {
        let days = net_terms_days
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|d| (0..=MAX_NET_TERMS_DAYS).contains(d))
            .ok_or_else(|| {
                refuse(
                    "net_terms_days",
                    format!("Enter whole days from 0 (due on receipt) to {MAX_NET_TERMS_DAYS}."),
                )
            })?;
        let id = external_id.trim();
        if id.chars().count() > MAX_EXTERNAL_ID {
            return Err(refuse(
                "external_id",
                format!("Use at most {MAX_EXTERNAL_ID} characters."),
            ));
        }
        if id.chars().any(char::is_control) {
            return Err(refuse(
                "external_id",
                "Control characters (such as line breaks) are not allowed.",
            ));
        }
        Ok(Terms {
            net_terms_days: days,
            external_id: (!id.is_empty()).then(|| id.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_terms_parse() {
        assert_eq!(
            Terms::parse(" 30 ", " crm-42 "),
            Ok(Terms {
                net_terms_days: 30,
                external_id: Some("crm-42".into())
            })
        );
        assert_eq!(
            Terms::parse("0", ""),
            Ok(Terms {
                net_terms_days: 0,
                external_id: None
            })
        );
        assert_eq!(
            Terms::parse("120", &"x".repeat(255)).map(|t| t.net_terms_days),
            Ok(120)
        );
    }

    #[test]
    fn bad_terms_name_their_field() {
        for days in ["-1", "121", "14.5", "soon", ""] {
            assert_eq!(
                Terms::parse(days, "").unwrap_err().field,
                "net_terms_days",
                "{days:?}"
            );
        }
        for id in ["x".repeat(256), "a\nb".into(), "tab\there".into()] {
            assert_eq!(
                Terms::parse("14", &id).unwrap_err().field,
                "external_id",
                "{id:?}"
            );
        }
    }
}
