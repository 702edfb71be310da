//! What the server-drawn charts share: the canvas, the palette and the y range.
//! Amounts reach a drawing as `f64` pixel coordinates only; every figure shown as
//! text comes from exact `Decimal`s.

use plotters::coord::Shift;
use plotters::prelude::*;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// Every chart's canvas, in pixels (scaled to the page's width).
pub(crate) const SIZE: (u32, u32) = (1000, 300);
pub(crate) const INDIGO: RGBColor = RGBColor(79, 70, 229);
pub(crate) const EMERALD: RGBColor = RGBColor(5, 150, 105);
pub(crate) const VIOLET: RGBColor = RGBColor(124, 58, 237);
pub(crate) const SKY: RGBColor = RGBColor(2, 132, 199);
pub(crate) const ROSE: RGBColor = RGBColor(225, 29, 72);
pub(crate) const AMBER: RGBColor = RGBColor(217, 119, 6);
pub(crate) const SLATE: RGBColor = RGBColor(100, 116, 139);

/// An amount as a coordinate (0 when it does not fit an `f64`).
pub(crate) fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub(crate) type Drawn = Result<(), Box<dyn std::error::Error>>;

/// Runs `paint` on a fresh SVG canvas; a drawing error leaves an empty chart (and
/// is logged) rather than failing the page.
pub(crate) fn draw(paint: impl FnOnce(&Area<'_>) -> Drawn) -> String {
    let mut svg = String::new();
    let result = {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| e.to_string())
            .and_then(|()| paint(&root).map_err(|e| e.to_string()))
            .and_then(|()| root.present().map_err(|e| e.to_string()))
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "a chart could not be drawn");
        return String::new();
    }
    svg
}

/// The top of a y axis over `values`: 15 % headroom, 1 when all are zero.
pub(crate) fn top(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.fold(0.0_f64, f64::max);
    if max <= 0.0 {
        1.0
    } else {
        max * 1.15
    }
}

