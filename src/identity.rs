//! People and sign-in input, parsed at the edge: e-mail addresses, display names,
//! passwords and the `next` target of a log-in.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A normalised e-mail address (trimmed, lower-case). Unique per user,
/// case-insensitively (PRODUCT.md "Domain").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// A field that failed to parse, with a sentence for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

impl Email {
    /// Parses `local@domain.tld`: one `@`, no spaces, a dot in the domain, at most
    /// 254 characters.
    ///
    /// # Errors
    /// [`InputError`] with a human sentence.
    pub fn parse(s: &str) -> Result<Self, InputError> {
        let s = s.trim().to_lowercase();
        let bad = || InputError("Enter an e-mail address such as name@example.com.".into());
        if s.is_empty() {
            return Err(InputError("Enter your e-mail address.".into()));
        }
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(bad());
        }
        Ok(Email(s))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = InputError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Email::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

/// Characters no name may hold (issue 12, "invitation relay"): control characters
/// (a newline would move text into an e-mail's body or a log line) and the
/// bidirectional overrides and isolates that make a name read as something else
/// (Unicode TR 36, "Bidirectional Text Spoofing").
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// A name typed by a user for something (an organization, an API key): trimmed,
/// 1 to `max` characters, none of them [`is_hidden`].
///
/// # Errors
/// [`InputError`] saying which rule it broke; `what` names the thing ("the
/// organization").
pub fn parse_label(s: &str, max: usize, what: &str) -> Result<String, InputError> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > max {
        return Err(InputError(format!(
            "Give {what} a name of 1 to {max} characters."
        )));
    }
    if s.chars().any(is_hidden) {
        return Err(InputError("Use letters, digits, spaces and punctuation only (no line breaks or control characters).".into()));
    }
    Ok(s.to_string())
}

/// A person's display name: 1–100 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName(String);

impl PersonName {
    /// Parses a name.
    ///
    /// # Errors
    /// [`InputError`] when empty, longer than 100 characters or holding control
    /// characters.
    pub fn parse(s: &str) -> Result<Self, InputError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(InputError("Enter your name.".into()));
        }
        if s.chars().count() > 100 {
            return Err(InputError("Use at most 100 characters.".into()));
        }
        if s.chars().any(is_hidden) {
            return Err(InputError(
                "Use letters, spaces and punctuation only.".into(),
            ));
        }
        Ok(PersonName(s.to_string()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 10–128 characters, not only spaces. Length is what matters
/// (NIST SP 800-63B §5.1.1); no composition rules.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

/// Shortest password accepted at sign-up.
pub const MIN_PASSWORD_CHARS: usize = 10;

impl NewPassword {
    /// Parses a password chosen at sign-up.
    ///
    /// # Errors
    /// [`InputError`] when too short, too long or blank.
    pub fn parse(s: &str) -> Result<Self, InputError> {
        let n = s.chars().count();
        if s.trim().is_empty() {
            return Err(InputError("Choose a password.".into()));
        }
        if n < MIN_PASSWORD_CHARS {
            return Err(InputError(format!(
                "Use at least {MIN_PASSWORD_CHARS} characters."
            )));
        }
        if n > 128 {
            return Err(InputError("Use at most 128 characters.".into()));
        }
        Ok(NewPassword(s.to_string()))
    }

    /// The password, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// Where to go after signing in: a local path only (`/dashboard?x=1`), never another
/// site (`//evil.example`, `https://…`, `/\evil`), so `?next=` cannot be used for an
/// open redirect. Anything else falls back to `/dashboard`.
pub fn safe_next(next: Option<&str>) -> String {
    match next.map(str::trim) {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(|c| c.is_control() || c == '\\') =>
        {
            n.to_string()
        }
        _ => "/dashboard".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_refuse_line_breaks_controls_and_bidi_overrides() {
        assert_eq!(parse_label("  Acme Inc. ", 100, "it").unwrap(), "Acme Inc.");
        for bad in [
            "Acme\nBcc: victim@example.com",
            "Acme\r\nSubject: hi",
            "Ac\u{7}me",
            "Acme\u{202E}gpj.exe",
            "",
            "   ",
        ] {
            assert!(parse_label(bad, 100, "it").is_err(), "{bad:?}");
        }
        assert!(parse_label(&"x".repeat(101), 100, "it").is_err());
        assert!(PersonName::parse("Ada\u{2066}Admin").is_err());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ")
                .expect("test fixture")
                .as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@@example.com",
            "ada@example..com",
            "ada@.example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_and_passwords() {
        assert_eq!(
            PersonName::parse("  Ada Lovelace ")
                .expect("test fixture")
                .as_str(),
            "Ada Lovelace"
        );
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("          ").is_err());
        assert!(NewPassword::parse("correct horse battery").is_ok());
        assert_eq!(
            format!(
                "{:?}",
                NewPassword::parse("correct horse battery").expect("test fixture")
            ),
            "NewPassword(***)"
        );
    }

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/settings/api-keys")), "/settings/api-keys");
        for bad in [
            None,
            Some(""),
            Some("https://evil.example"),
            Some("//evil.example"),
            Some("/\\evil.example"),
            Some("dashboard"),
        ] {
            assert_eq!(safe_next(bad), "/dashboard", "{bad:?}");
        }
    }
}
