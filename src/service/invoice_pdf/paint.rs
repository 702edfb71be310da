//! Draws laid-out pages ([`Page`]) into a PDF with krilla: text as real text in
//! the embedded (subset) Liberation Sans faces, so it can be selected, searched
//! and read by screen readers and `pdftotext`; boxes and rules as vector paths.

use krilla::color::rgb;
use krilla::geom::{Path, PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::Document;

use super::layout::{Item, Page, Rgb, Text, PAGE_HEIGHT, PAGE_WIDTH};
use super::typeface::Faces;
use super::PdfError;

/// The PDF of `pages`, with `title` as the document's title.
///
/// # Errors
/// [`PdfError::Layout`] for a shape with a non-finite or negative size (a layout
/// bug); [`PdfError::Write`] when krilla cannot write the document.
pub(super) fn paint(pages: &[Page], faces: &Faces, title: &str) -> Result<Vec<u8>, PdfError> {
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(title.to_string())
            .creator("Tollgate".to_string()),
    );
    let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
        .ok_or_else(|| PdfError::Layout("invalid page size".into()))?;
    for page in pages {
        let mut pdf_page = document.start_page_with(settings.clone());
        let mut surface = pdf_page.surface();
        for item in &page.items {
            draw(&mut surface, faces, item)?;
        }
        surface.finish();
        pdf_page.finish();
    }
    document
        .finish()
        .map_err(|e| PdfError::Write(e.to_string()))
}

/// Draws one item.
fn draw(surface: &mut Surface<'_>, faces: &Faces, item: &Item) -> Result<(), PdfError> {
    match item {
        Item::Text(text) => draw_text(surface, faces, text),
        Item::Box {
            x,
            y,
            width,
            height,
            radius,
            color,
        } => {
            let path = rounded_rect(*x, *y, *width, *height, *radius)?;
            surface.set_stroke(None);
            surface.set_fill(Some(fill(*color)));
            surface.draw_path(&path);
        }
        Item::Rule {
            x1,
            x2,
            y,
            thickness,
            color,
        } => {
            let mut builder = PathBuilder::new();
            builder.move_to(*x1, *y);
            builder.line_to(*x2, *y);
            let path = builder
                .finish()
                .ok_or_else(|| PdfError::Layout(format!("invalid rule at y = {y}")))?;
            surface.set_fill(None);
            surface.set_stroke(Some(Stroke {
                paint: color_of(*color).into(),
                width: *thickness,
                ..Stroke::default()
            }));
            surface.draw_path(&path);
        }
    }
    Ok(())
}

/// Draws one line of text with the advances layout measured.
fn draw_text(surface: &mut Surface<'_>, faces: &Faces, text: &Text) {
    let face = faces.face(text.style.weight);
    surface.set_stroke(None);
    surface.set_fill(Some(fill(text.style.color)));
    let glyphs = face.shape(&text.text);
    surface.draw_glyphs(
        Point::from_xy(text.x, text.baseline),
        &glyphs,
        face.pdf_font(),
        &text.text,
        text.style.size,
        false,
    );
}

fn color_of((r, g, b): Rgb) -> rgb::Color {
    rgb::Color::new(r, g, b)
}

fn fill(color: Rgb) -> Fill {
    Fill {
        paint: color_of(color).into(),
        ..Fill::default()
    }
}

/// A rectangle whose corners are quarter circles of `radius` (square when 0),
/// drawn with the usual cubic Bézier approximation of a circle.
fn rounded_rect(x: f32, y: f32, width: f32, height: f32, radius: f32) -> Result<Path, PdfError> {
    let invalid = || PdfError::Layout(format!("invalid box {width}×{height} at ({x}, {y})"));
    let mut builder = PathBuilder::new();
    let r = radius.min(width / 2.0).min(height / 2.0).max(0.0);
    if r == 0.0 {
        builder.push_rect(Rect::from_xywh(x, y, width, height).ok_or_else(invalid)?);
    } else {
        // Distance of the control points from a corner's ends: 4/3·(√2 − 1)·r.
        let k = 0.552_284_8 * r;
        let (right, bottom) = (x + width, y + height);
        builder.move_to(x + r, y);
        builder.line_to(right - r, y);
        builder.cubic_to(right - r + k, y, right, y + r - k, right, y + r);
        builder.line_to(right, bottom - r);
        builder.cubic_to(
            right,
            bottom - r + k,
            right - r + k,
            bottom,
            right - r,
            bottom,
        );
        builder.line_to(x + r, bottom);
        builder.cubic_to(x + r - k, bottom, x, bottom - r + k, x, bottom - r);
        builder.line_to(x, y + r);
        builder.cubic_to(x, y + r - k, x + r - k, y, x + r, y);
        builder.close();
    }
    builder.finish().ok_or_else(invalid)
}
