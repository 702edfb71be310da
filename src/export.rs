//! Text that leaves Tollgate in files people open in spreadsheets (CSV exports).

use std::borrow::Cow;

/// A text cell made safe for spreadsheets (OWASP "CSV Injection"): text a user
/// typed (an account's name) that starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return would be run as a formula when the file is opened, so it is
/// prefixed with `'`, which spreadsheets show as text. Only for text columns:
/// numbers (a negative amount) are written as they are.
pub fn text_cell(s: &str) -> Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_names_stay() {
        assert_eq!(
            text_cell("=HYPERLINK(\"https://evil.example\")"),
            "'=HYPERLINK(\"https://evil.example\")"
        );
        for s in ["+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert!(text_cell(s).starts_with('\''), "{s:?}");
        }
        assert_eq!(text_cell("Acme Inc."), "Acme Inc.");
        assert_eq!(text_cell(""), "");
    }
}
