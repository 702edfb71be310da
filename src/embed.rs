//! Embeddable widgets (issue 13, "Embeddable in the customer's product"; API.md
//! `POST /api/v1/embed_tokens`): the pricing table and an account's usage meter,
//! shown inside the customer's product in an iframe. The product's backend asks
//! for a short-lived token naming the account, the widgets and the one origin
//! that may frame them; the widget pages check it
//! ([`crate::service::embed`] signs and verifies).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How long a token lasts, in seconds (15 minutes): long enough for a page view,
/// short enough that a leaked one is soon useless. A live usage widget ends its
/// stream when its token expires.
pub const TTL_SECONDS: i64 = 900;

/// A widget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Widget {
    /// The catalog's public plans (`/embed/pricing`).
    Pricing,
    /// The account's meters this period, live (`/embed/usage`).
    Usage,
}

impl Widget {
    /// The name in requests and paths.
    pub fn as_str(self) -> &'static str {
        match self {
            Widget::Pricing => "pricing",
            Widget::Usage => "usage",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        [Widget::Pricing, Widget::Usage]
            .into_iter()
            .find(|w| w.as_str() == s)
    }
}

/// What a token grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The account shown.
    #[serde(rename = "a")]
    pub account_id: Uuid,
    /// The widgets it opens (distinct, sorted).
    #[serde(rename = "w")]
    pub widgets: Vec<Widget>,
    /// The one origin that may frame them (`https://app.example.com`).
    #[serde(rename = "o")]
    pub origin: String,
    /// Expiry, Unix seconds (UTC).
    #[serde(rename = "e")]
    pub expires_at: i64,
}

impl Claims {
    /// Whether the token opens `widget`.
    pub fn allows(&self, widget: Widget) -> bool {
        self.widgets.contains(&widget)
    }
}

/// An origin as browsers send it: `http` or `https`, a host, an optional port,
/// nothing else (no path, user, query or trailing slash), lowercased.
///
/// # Errors
/// A sentence saying what an origin looks like.
pub fn parse_origin(s: &str) -> Result<String, String> {
    let s = s.trim();
    let bad = || format!("an origin is scheme://host[:port], such as https://app.example.com, not `{s}`");
    let (scheme, rest) = s.split_once("://").ok_or_else(bad)?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(bad());
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.contains(']') || h.ends_with(']') => (h, Some(p)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok_and(|n| n > 0));
    if !host_ok || !port_ok {
        return Err(bad());
    }
    Ok(format!("{scheme}://{}", rest.to_ascii_lowercase()))
}

/// The widgets of a request: 1 or 2 known names, distinct, sorted.
///
/// # Errors
/// A sentence naming the unknown widget, or saying none was asked for.
pub fn parse_widgets(names: &[String]) -> Result<Vec<Widget>, String> {
    let mut out = Vec::new();
    for n in names {
        let w = Widget::parse(n.trim())
            .ok_or_else(|| format!("`{n}` is not a widget: pricing or usage"))?;
        out.push(w);
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err("name at least one widget: pricing or usage".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert_eq!(parse_origin("https://App.Example.com"), Ok("https://app.example.com".into()));
        assert_eq!(parse_origin("http://127.0.0.1:3199"), Ok("http://127.0.0.1:3199".into()));
        for bad in [
            "app.example.com",
            "ftp://x.y",
            "https://x.y/",
            "https://x.y/path",
            "https://user@x.y",
            "https://x.y:0",
            "https://x.y:99999",
            "https://",
            "javascript://x",
            "https://x y",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn widgets_are_known_distinct_and_at_least_one() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_widgets(&names(&["usage", "pricing", "usage"])), Ok(vec![Widget::Pricing, Widget::Usage]));
        assert!(parse_widgets(&names(&[])).is_err());
        assert!(parse_widgets(&names(&["chart"])).is_err());
    }
}
