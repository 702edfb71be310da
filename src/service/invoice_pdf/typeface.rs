//! The two faces invoices are set in, Liberation Sans Regular and Bold (SIL Open
//! Font License 1.1; `assets/fonts/`, licence beside them), built into the binary,
//! and what layout needs from them: the glyphs of a string, its width, line
//! breaking and truncation with an ellipsis.
//!
//! Widths come from the fonts' own advance widths (`hmtx`), and text is drawn with
//! exactly those advances, so a measured string is as wide on the page as layout
//! planned. There is no kerning: invoice text is short and mostly figures, which
//! are tabular in Liberation Sans anyway.

use std::sync::LazyLock;

use krilla::text::{Font, GlyphId, KrillaGlyph};
use skrifa::charmap::Charmap;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

use super::PdfError;

/// Liberation Sans Regular 2.1.5 (Debian `fonts-liberation2`).
static REGULAR_TTF: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/LiberationSans-Regular.ttf"
));
/// Liberation Sans Bold 2.1.5 (Debian `fonts-liberation2`).
static BOLD_TTF: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/LiberationSans-Bold.ttf"
));

/// The ellipsis that ends truncated text.
pub(super) const ELLIPSIS: &str = "…";

/// Which of the two faces a piece of text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Weight {
    /// Liberation Sans Regular.
    Regular,
    /// Liberation Sans Bold.
    Bold,
}

/// One face: the font krilla embeds (subset) in the PDF and skrifa's view of the
/// same bytes for measuring.
pub(super) struct Face {
    /// The font as krilla embeds it.
    pdf: Font,
    /// Character to glyph mapping (`cmap`).
    charmap: Charmap<'static>,
    /// Advance widths, in font units.
    metrics: GlyphMetrics<'static>,
    /// Font units per em (2048 for Liberation Sans).
    units_per_em: f32,
    /// Ascender above the baseline, in em (positive).
    ascent: f32,
    /// Descender below the baseline, in em (positive).
    descent: f32,
}

/// Both faces, parsed once per process.
pub(super) struct Faces {
    regular: Face,
    bold: Face,
}

static FACES: LazyLock<Result<Faces, &'static str>> = LazyLock::new(|| {
    Ok(Faces {
        regular: Face::new(REGULAR_TTF).ok_or("LiberationSans-Regular.ttf")?,
        bold: Face::new(BOLD_TTF).ok_or("LiberationSans-Bold.ttf")?,
    })
});

/// The built-in faces.
///
/// # Errors
/// [`PdfError::Font`] when a bundled font file cannot be read (a broken build).
pub(super) fn faces() -> Result<&'static Faces, PdfError> {
    FACES.as_ref().map_err(|name| PdfError::Font(name))
}

impl Faces {
    /// The face of `weight`.
    pub(super) fn face(&self, weight: Weight) -> &Face {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }
}

impl Face {
    /// Reads a TrueType font, or `None` when it is not one.
    fn new(ttf: &'static [u8]) -> Option<Face> {
        let font = FontRef::new(ttf).ok()?;
        let metrics = font.metrics(Size::unscaled(), LocationRef::default());
        Some(Face {
            pdf: Font::new(ttf.into(), 0)?,
            charmap: font.charmap(),
            metrics: font.glyph_metrics(Size::unscaled(), LocationRef::default()),
            units_per_em: f32::from(metrics.units_per_em),
            ascent: metrics.ascent / f32::from(metrics.units_per_em),
            descent: -metrics.descent / f32::from(metrics.units_per_em),
        })
    }

    /// The font krilla embeds.
    pub(super) fn pdf_font(&self) -> Font {
        self.pdf.clone()
    }

    /// Height above the baseline of the tallest glyphs, in points at `size`.
    pub(super) fn ascent(&self, size: f32) -> f32 {
        self.ascent * size
    }

    /// Depth below the baseline of the lowest glyphs, in points at `size`.
    pub(super) fn descent(&self, size: f32) -> f32 {
        self.descent * size
    }

    /// The glyph of `c`, or `None` when the font has none.
    fn glyph(&self, c: char) -> Option<skrifa::GlyphId> {
        self.charmap.map(c)
    }

    /// The glyphs that print `c`: its own, else a plain stand-in (a hyphen for a
    /// minus sign, a space for a no-break space, three dots for an ellipsis, the
    /// ISO code for a currency sign such as ₹), else the font's "missing glyph"
    /// box (scripts the faces lack: CJK, Arabic, Thai, …). Control characters
    /// print as a space.
    fn glyphs_of(&self, c: char) -> Vec<skrifa::GlyphId> {
        let c = if c.is_control() { ' ' } else { c };
        if let Some(glyph) = self.glyph(c) {
            return vec![glyph];
        }
        let stand_in = match c {
            '\u{2212}' | '\u{2010}' | '\u{2011}' | '\u{2012}' => "-",
            '\u{2013}' | '\u{2014}' => "-",
            '\u{00a0}' | '\u{2007}' | '\u{2009}' | '\u{202f}' | '\u{200a}' => " ",
            '\u{2026}' => "...",
            '\u{2018}' | '\u{2019}' => "'",
            '\u{201c}' | '\u{201d}' => "\"",
            // Currency signs Liberation Sans 2.1 lacks: their ISO 4217 codes.
            '₹' => "INR ",
            '₽' => "RUB ",
            '₺' => "TRY ",
            '₸' => "KZT ",
            '₼' => "AZN ",
            '₾' => "GEL ",
            '฿' => "THB ",
            _ => "",
        };
        let glyphs: Option<Vec<_>> = stand_in.chars().map(|s| self.glyph(s)).collect();
        match glyphs {
            Some(glyphs) if !glyphs.is_empty() => glyphs,
            _ => vec![skrifa::GlyphId::NOTDEF],
        }
    }

    /// Advance width of `glyph`, in em.
    fn advance(&self, glyph: skrifa::GlyphId) -> f32 {
        self.metrics.advance_width(glyph).unwrap_or(0.0) / self.units_per_em
    }

    /// Width of `c` in em.
    fn char_width(&self, c: char) -> f32 {
        self.glyphs_of(c).into_iter().map(|g| self.advance(g)).sum()
    }

    /// Width of `text` set at `size`, in points.
    pub(super) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.char_width(c)).sum::<f32>() * size
    }

    /// The glyphs that draw `text` on one line, each tied to the characters it
    /// prints so that the PDF's text can be copied and searched.
    pub(super) fn shape(&self, text: &str) -> Vec<KrillaGlyph> {
        let mut glyphs = Vec::with_capacity(text.len());
        for (start, c) in text.char_indices() {
            let range = start..start + c.len_utf8();
            for glyph in self.glyphs_of(c) {
                let id = GlyphId::new(glyph.to_u32());
                glyphs.push(KrillaGlyph::new(
                    id,
                    self.advance(glyph),
                    0.0,
                    0.0,
                    0.0,
                    range.clone(),
                    None,
                ));
            }
        }
        glyphs
    }

    /// `text` on one line at `size`, cut to at most `max_width` points: whole when
    /// it fits, else as many leading characters as fit followed by "…" (only "…",
    /// or nothing, when the space is tinier than that).
    pub(super) fn fit(&self, text: &str, size: f32, max_width: f32) -> String {
        let text = text.trim();
        if self.width(text, size) <= max_width {
            return text.to_string();
        }
        let budget = max_width - self.width(ELLIPSIS, size);
        if budget < 0.0 {
            return String::new();
        }
        let mut used = 0.0;
        let mut end = 0;
        for (i, c) in text.char_indices() {
            used += self.char_width(c) * size;
            if used > budget {
                break;
            }
            end = i + c.len_utf8();
        }
        format!("{}{ELLIPSIS}", text[..end].trim_end())
    }

    /// `text` broken into lines of at most `max_width` points at `size`: at spaces,
    /// and inside a word only when the word alone is wider than a line (long links,
    /// identifiers). At most `max_lines` lines; when the text needs more, the last
    /// one kept ends with "…". Empty or blank text gives no lines.
    pub(super) fn wrap(
        &self,
        text: &str,
        size: f32,
        max_width: f32,
        max_lines: usize,
    ) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        let mut current = String::new();
        for word in text.split_whitespace() {
            let candidate = if current.is_empty() {
                word.to_string()
            } else {
                format!("{current} {word}")
            };
            if self.width(&candidate, size) <= max_width {
                current = candidate;
                continue;
            }
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            if self.width(word, size) <= max_width {
                current = word.to_string();
            } else {
                let mut pieces = self.break_word(word, size, max_width);
                current = pieces.pop().unwrap_or_default();
                lines.extend(pieces);
            }
        }
        if !current.is_empty() {
            lines.push(current);
        }
        if lines.len() > max_lines {
            lines.truncate(max_lines);
            if let Some(last) = lines.last_mut() {
                *last = self.fit(&format!("{last}{ELLIPSIS}"), size, max_width);
                if !last.ends_with(ELLIPSIS) {
                    last.push_str(ELLIPSIS);
                }
            }
        }
        lines
    }

    /// `word` cut into pieces of at most `max_width` points (at least one character
    /// each, so a line narrower than one character still makes progress).
    fn break_word(&self, word: &str, size: f32, max_width: f32) -> Vec<String> {
        let mut pieces = Vec::new();
        let mut piece = String::new();
        let mut used = 0.0;
        for c in word.chars() {
            let w = self.char_width(c) * size;
            if !piece.is_empty() && used + w > max_width {
                pieces.push(std::mem::take(&mut piece));
                used = 0.0;
            }
            piece.push(c);
            used += w;
        }
        if !piece.is_empty() {
            pieces.push(piece);
        }
        pieces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regular() -> &'static Face {
        faces().expect("bundled fonts").face(Weight::Regular)
    }

    #[test]
    fn both_faces_print_currency_signs_typographic_marks_and_accented_letters() {
        let faces = faces().expect("bundled fonts");
        for weight in [Weight::Regular, Weight::Bold] {
            for c in "€$£¥₩₪₫₱₦₴¢−–—…·×ÆØÅæøåÉéèêëàâäçñöüßŁłŚśŽžİıČčŐőȘșΑαΩωЖжЯя".chars()
            {
                assert!(
                    faces.face(weight).glyph(c).is_some(),
                    "{weight:?} has no glyph for {c:?}"
                );
            }
        }
    }

    #[test]
    fn a_missing_character_prints_a_stand_in_not_nothing() {
        let face = regular();
        // U+2060 WORD JOINER has no glyph in Liberation Sans: it prints the missing-glyph box.
        assert!(face.glyph('\u{2060}').is_none());
        assert_eq!(face.glyphs_of('\u{2060}'), vec![skrifa::GlyphId::NOTDEF]);
        assert_eq!(face.glyphs_of('\n'), face.glyphs_of(' '));
        assert!(face.glyph('₹').is_none());
        let inr: Vec<_> = "INR ".chars().filter_map(|c| face.glyph(c)).collect();
        assert_eq!(face.glyphs_of('₹'), inr);
    }

    #[test]
    fn width_grows_with_text_and_size() {
        let face = regular();
        let short = face.width("€ 1,234.56", 10.0);
        assert!(short > 30.0 && short < 80.0, "{short}");
        assert!((face.width("€ 1,234.56", 20.0) - 2.0 * short).abs() < 0.01);
        assert!(face.width("Invoice TG-2026-000001", 10.0) > short);
        assert_eq!(face.width("", 10.0), 0.0);
    }

    #[test]
    fn shaped_glyphs_advance_exactly_the_measured_width() {
        let face = regular();
        let text = "Zoë Ærøskøbing — € 1,234.56";
        let advance: f32 = face.shape(text).iter().map(|g| g.x_advance * 12.0).sum();
        assert!((advance - face.width(text, 12.0)).abs() < 0.001);
    }

    #[test]
    fn fit_keeps_text_that_fits_and_ellipsizes_text_that_does_not() {
        let face = regular();
        assert_eq!(face.fit("  Paid  ", 10.0, 100.0), "Paid");
        let cut = face.fit("Enterprise plan with priority support", 10.0, 60.0);
        assert!(cut.ends_with(ELLIPSIS), "{cut}");
        assert!(cut.len() > ELLIPSIS.len(), "{cut}");
        assert!(face.width(&cut, 10.0) <= 60.0);
        assert_eq!(face.fit("Enterprise", 10.0, 1.0), "");
    }

    #[test]
    fn wrap_breaks_at_spaces_and_inside_overlong_words() {
        let face = regular();
        let lines = face.wrap(
            "Pay by bank transfer to IBAN DE89 3704 0044 0532 0130 00",
            9.0,
            120.0,
            10,
        );
        assert!(lines.len() >= 2, "{lines:?}");
        assert_eq!(
            lines.join(" "),
            "Pay by bank transfer to IBAN DE89 3704 0044 0532 0130 00"
        );
        let url = "https://billing.example.com/invoices/3f1c0a2e-8d7b-4c59-9e1f-0b6a2d4c8e71/pay";
        let pieces = face.wrap(url, 9.0, 100.0, 10);
        assert!(pieces.len() >= 3, "{pieces:?}");
        assert_eq!(pieces.concat(), url);
        for line in lines.iter().chain(&pieces) {
            assert!(face.width(line, 9.0) <= 120.0, "{line}");
        }
        assert!(face.wrap("   ", 9.0, 100.0, 3).is_empty());
    }

    #[test]
    fn wrap_ends_the_last_kept_line_with_an_ellipsis() {
        let face = regular();
        let text = "word ".repeat(200);
        let lines = face.wrap(&text, 9.0, 150.0, 3);
        assert_eq!(lines.len(), 3);
        assert!(lines[2].ends_with(ELLIPSIS), "{lines:?}");
        assert!(!lines[1].ends_with(ELLIPSIS), "{lines:?}");
        assert!(
            lines.iter().all(|l| face.width(l, 9.0) <= 150.0),
            "{lines:?}"
        );
    }
}
