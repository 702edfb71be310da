//! The look of the embeddable widgets (issue 13, "Embeddable in the customer's
//! product"): `[catalog.theme]` in a catalog file, so that the pricing table and
//! the usage meter match the product that frames them. Every value reaches a
//! stylesheet, so each is parsed strictly: colors are `#rgb` or `#rrggbb`, the
//! font family a list of names and quotes without any character CSS could end a
//! declaration with.

use serde::{Deserialize, Serialize};

/// Colors and font of the widgets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Theme {
    /// Buttons, bars and links (`#4f46e5`).
    pub accent_color: String,
    /// The widget's background.
    pub background_color: String,
    /// Text.
    pub text_color: String,
    /// A CSS font-family list (`Inter, system-ui, sans-serif`).
    pub font_family: String,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            accent_color: "#4f46e5".into(),
            background_color: "#ffffff".into(),
            text_color: "#0f172a".into(),
            font_family: "system-ui, sans-serif".into(),
        }
    }
}

/// A color as the theme takes it: `#rgb` or `#rrggbb`, lowercased.
///
/// # Errors
/// A sentence saying what a color looks like.
pub fn parse_color(s: &str) -> Result<String, String> {
    let s = s.trim();
    let hex = s.strip_prefix('#').unwrap_or("");
    if matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(format!("a color is #rgb or #rrggbb, not `{s}`"))
    }
}

/// A font-family list: 1 to 200 characters of letters, digits, spaces, commas,
/// hyphens and quotes.
///
/// # Errors
/// A sentence saying what is allowed.
pub fn parse_font_family(s: &str) -> Result<String, String> {
    let s = s.trim();
    let ok = (1..=200).contains(&s.chars().count())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | ',' | '-' | '\'' | '"'));
    if ok {
        Ok(s.to_string())
    } else {
        Err("a font family is 1 to 200 letters, digits, spaces, commas, hyphens and quotes".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_catalog_file_sets_the_theme_and_bad_values_are_issues() {
        let file = |theme: &str| {
            format!(
                "[catalog]\nname = \"t\"\ntitle = \"T\"\ncurrency = \"USD\"\n{theme}\n[plans.free]\nname = \"Free\"\naudience = \"individual\"\nself_serve = false\n"
            )
        };
        let c = crate::catalog::file::parse("t.toml", &file("[catalog.theme]\naccent_color = \"#ABC\"")).unwrap();
        assert_eq!(c.theme.accent_color, "#abc");
        assert_eq!(c.theme.font_family, Theme::default().font_family);
        let e = crate::catalog::file::parse("t.toml", &file("[catalog.theme]\ntext_color = \"red\"\nfont_family = \"x;y\"")).unwrap_err();
        let entries: Vec<&str> = e.issues.iter().map(|i| i.entry.as_str()).collect();
        assert_eq!(entries, vec!["catalog.theme.text_color", "catalog.theme.font_family"]);
        assert!(crate::catalog::file::parse("t.toml", &file("")).is_ok(), "no theme: the default");
    }

    #[test]
    fn colors_and_fonts_cannot_break_out_of_a_stylesheet() {
        assert_eq!(parse_color(" #4F46E5 "), Ok("#4f46e5".into()));
        assert_eq!(parse_color("#fff"), Ok("#fff".into()));
        for bad in ["red", "#ffff", "#12345g", "#fff;}body{x:y", ""] {
            assert!(parse_color(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_font_family("\"Inter\", sans-serif"), Ok("\"Inter\", sans-serif".into()));
        for bad in ["a;b", "x}", "url(x)", "a<b", "", &"a".repeat(201)] {
            assert!(parse_font_family(bad).is_err(), "{bad}");
        }
    }
}
