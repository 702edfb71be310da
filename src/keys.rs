//! Keys of catalog entries (meters, features, plans): the stable identifiers that
//! the API, the catalog file and the database share.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A catalog key: 1–64 characters, a lower-case ASCII letter first, then lower-case
/// letters, digits, `_` or `-` (`queries`, `team-small`, `sso_enabled`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Key(String);

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a valid key: use 1-64 lower-case letters, digits, `_` or `-`, starting with a letter")]
pub struct KeyError(pub String);

impl Key {
    /// Parses a key.
    ///
    /// # Errors
    /// [`KeyError`] for an empty, too long, upper-case or otherwise malformed key.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.as_bytes()[0].is_ascii_lowercase()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(Key(s.to_string()))
        } else {
            Err(KeyError(s.to_string()))
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Key {
    type Error = KeyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Key::parse(&value)
    }
}

impl From<Key> for String {
    fn from(value: Key) -> Self {
        value.0
    }
}

impl std::borrow::Borrow<str> for Key {
    fn borrow(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_catalog_style_keys() {
        for k in [
            "queries",
            "team-small",
            "sso_enabled",
            "a",
            "api_calls_per_minute",
            "standard-ai",
        ] {
            assert!(Key::parse(k).is_ok(), "{k}");
        }
    }

    #[test]
    fn refuses_malformed_keys() {
        for k in [
            "",
            "Queries",
            "1abc",
            "_x",
            "with space",
            "é",
            &"a".repeat(65),
        ] {
            assert!(Key::parse(k).is_err(), "{k}");
        }
    }
}
