//! A request to void recorded usage (issue 13, "Corrections"; API.md
//! `POST /api/v1/events/void`), parsed at the edge: which events, and why.

use crate::refusal::{refuse, Refusal};
use chrono::{DateTime, Utc};

/// Most idempotency keys in one request.
pub const MAX_KEYS: usize = 1000;
/// Most events one range may void (a larger range is refused: narrow it).
pub const MAX_EVENTS: i64 = 100_000;
/// Longest reason, in characters.
pub const MAX_REASON: usize = 500;

/// Which stored events of one account to void.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// The events stored under these idempotency keys (distinct, sorted).
    Keys(Vec<String>),
    /// The events of `meter` with `from <= occurred_at < to` (UTC).
    Range {
        meter: String,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
}

/// The reason of a correction: 1 to [`MAX_REASON`] characters on one line,
/// trimmed (it is shown in the audit log and the admin pages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason(String);

impl Reason {
    /// Parses a typed reason.
    ///
    /// # Errors
    /// A [`Refusal`] of `reason` when empty, too long or holding a control
    /// character (a line break).
    pub fn parse(s: &str) -> Result<Self, Refusal> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > MAX_REASON || s.chars().any(char::is_control) {
            return Err(refuse(
                "reason",
                format!("say why, in 1 to {MAX_REASON} characters on one line"),
            ));
        }
        Ok(Reason(s.to_string()))
    }

    /// The reason's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The selection of a request: either `keys`, or `meter` with `from` and `to`.
///
/// # Errors
/// A [`Refusal`] naming the field: both forms or neither, an empty or too long
/// key list, a key of more than 255 characters, a range missing a part or
/// ending before it starts.
pub fn selection(
    keys: Option<Vec<String>>,
    meter: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Selection, Refusal> {
    let range_named = meter.is_some() || from.is_some() || to.is_some();
    match (keys, range_named) {
        (Some(_), true) => Err(refuse(
            "idempotency_keys",
            "name events by idempotency_keys or by meter, from and to, not both",
        )),
        (None, false) => Err(refuse(
            "idempotency_keys",
            "name the events: idempotency_keys, or meter with from and to",
        )),
        (Some(mut keys), false) => {
            if keys.is_empty() || keys.len() > MAX_KEYS {
                return Err(refuse(
                    "idempotency_keys",
                    format!("send 1 to {MAX_KEYS} keys"),
                ));
            }
            if keys.iter().any(|k| !(1..=255).contains(&k.chars().count())) {
                return Err(refuse(
                    "idempotency_keys",
                    "each key has 1 to 255 characters",
                ));
            }
            keys.sort();
            keys.dedup();
            Ok(Selection::Keys(keys))
        }
        (None, true) => {
            let meter = meter
                .filter(|m| !m.trim().is_empty())
                .ok_or_else(|| refuse("meter", "name the meter of the range"))?;
            let from = from.ok_or_else(|| refuse("from", "give the range's start (RFC 3339)"))?;
            let to = to.ok_or_else(|| refuse("to", "give the range's end (RFC 3339)"))?;
            if to <= from {
                return Err(refuse("to", "the range must end after it starts"));
            }
            Ok(Selection::Range { meter, from, to })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Option<DateTime<Utc>> {
        Some(s.parse().expect("test time"))
    }

    #[test]
    fn keys_are_deduplicated_and_bounded() {
        let s = selection(Some(vec!["b".into(), "a".into(), "b".into()]), None, None, None);
        assert_eq!(s, Ok(Selection::Keys(vec!["a".into(), "b".into()])));
        assert_eq!(selection(Some(vec![]), None, None, None).map_err(|r| r.field), Err("idempotency_keys"));
        let many = (0..=MAX_KEYS).map(|i| i.to_string()).collect();
        assert!(selection(Some(many), None, None, None).is_err());
        assert!(selection(Some(vec!["k".repeat(256)]), None, None, None).is_err());
    }

    #[test]
    fn a_range_needs_all_its_parts_in_order_and_not_keys_too() {
        let ok = selection(None, Some("queries".into()), at("2026-11-01T00:00:00Z"), at("2026-11-02T00:00:00Z"));
        assert!(matches!(ok, Ok(Selection::Range { .. })));
        let field = |r: Result<Selection, Refusal>| r.map_err(|e| e.field);
        assert_eq!(field(selection(None, Some("queries".into()), None, at("2026-11-02T00:00:00Z"))), Err("from"));
        assert_eq!(field(selection(None, None, at("2026-11-01T00:00:00Z"), at("2026-11-02T00:00:00Z"))), Err("meter"));
        assert_eq!(field(selection(None, Some("queries".into()), at("2026-11-02T00:00:00Z"), at("2026-11-02T00:00:00Z"))), Err("to"));
        assert_eq!(field(selection(Some(vec!["a".into()]), Some("queries".into()), None, None)), Err("idempotency_keys"));
        assert_eq!(field(selection(None, None, None, None)), Err("idempotency_keys"));
    }

    #[test]
    fn a_reason_is_one_trimmed_line() {
        assert_eq!(Reason::parse("  replayed job  ").map(|r| r.as_str().to_string()), Ok("replayed job".into()));
        assert!(Reason::parse("").is_err());
        assert!(Reason::parse("a\nb").is_err());
        assert!(Reason::parse(&"x".repeat(MAX_REASON + 1)).is_err());
    }
}
