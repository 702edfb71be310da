//! The `/admin` charts, drawn on the server as SVG with `plotters` so they show
//! before hydration. Each comes with a one-sentence summary for its text
//! alternative; the page's monthly table holds every plotted value.
//!
//! Amounts reach the drawing as `f64` pixel coordinates only; every figure shown
//! as text comes from the report's exact, rounded `Decimal`s.

use crate::model::admin::Chart;
use plotters::prelude::*;
use rust_decimal::Decimal;
use crate::server::chart_draw::*;
use tollgate::analytics::report::{MonthRow, Report};

/// The three charts of the report: MRR over time, the movement waterfall, and
/// billed against collected.
pub fn all(r: &Report) -> Vec<Chart> {
    let symbol = r.currency.symbol();
    let money = |d: Decimal| crate::format::money(d, &r.currency);
    let (first, last) = (r.months.first(), r.months.last());
    let range = match (first, last) {
        (Some(a), Some(b)) => format!("{} to {}", a.label, b.label),
        _ => String::new(),
    };
    let mrr_summary = match (first, last) {
        (Some(a), Some(b)) => format!(
            "MRR from {} ({}, closing) to {} ({}, now).",
            a.label,
            money(a.closing_mrr),
            b.label,
            money(b.closing_mrr)
        ),
        _ => "No months to show.".into(),
    };
    let sum = |g: fn(&MonthRow) -> Decimal| r.months.iter().map(g).sum::<Decimal>();
    let gained = sum(|m| m.new_mrr + m.reactivation_mrr + m.expansion_mrr);
    let lost = sum(|m| m.contraction_mrr + m.churned_mrr);
    let billed = sum(|m| m.billed);
    let collected = sum(|m| m.collected);
    vec![
        Chart {
            id: "mrr".into(),
            title: format!("MRR by month, {range} ({})", r.currency),
            summary: mrr_summary,
            svg: draw(|root| mrr_line(root, r, &symbol)),
            legend: Vec::new(),
        },
        Chart {
            id: "movements".into(),
            title: format!("MRR movements, {range} ({})", r.currency),
            summary: format!(
                "Over these months MRR gained {} (new, reactivation, expansion) and lost {} (contraction, churn).",
                money(gained),
                money(lost)
            ),
            svg: draw(|root| waterfall(root, r, &symbol)),
            legend: legend(&[("New", EMERALD), ("Reactivation", VIOLET), ("Expansion", SKY), ("Contraction", AMBER), ("Churn", ROSE)]),
        },
        Chart {
            id: "cash".into(),
            title: format!("Billed and collected, {range} ({})", r.currency),
            summary: format!("Billed {} and collected {} over these months.", money(billed), money(collected)),
            svg: draw(|root| cash(root, r, &symbol)),
            legend: legend(&[("Billed", INDIGO), ("Collected", EMERALD)]),
        },
    ]
}

/// A legend from the colours the bars are drawn in: `(name, #rrggbb)`.
fn legend(parts: &[(&str, RGBColor)]) -> Vec<(String, String)> {
    parts
        .iter()
        .map(|(name, RGBColor(r, g, b))| (name.to_string(), format!("#{r:02x}{g:02x}{b:02x}")))
        .collect()
}

/// Month labels (`Jan 26`) by index, for the x axis.
fn labels(r: &Report) -> Vec<String> {
    r.months
        .iter()
        .map(|m| m.start.format("%b %y").to_string())
        .collect()
}

/// x from −0.5 to n − 0.5: each month sits at its index, with one label each.
fn x_range(r: &Report) -> std::ops::Range<f64> {
    -0.5..(r.months.len().max(1) as f64 - 0.5)
}

type Chart2d<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The plotting area with its axes: one labelled tick per month on x, amounts
/// with the currency symbol on y over `y`.
fn axes<'a, 'b>(
    root: &'a Area<'b>,
    r: &Report,
    y: std::ops::Range<f64>,
    symbol: &str,
) -> Result<Chart2d<'a, 'b>, Box<dyn std::error::Error>> {
    let names = labels(r);
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(72)
        .build_cartesian_2d(x_range(r), y)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(names.len().max(1))
        .x_label_formatter(&|x| month_label(&names, *x))
        .y_label_formatter(&|y| format!("{symbol}{y:.0}"))
        .light_line_style(RGBColor(241, 245, 249))
        .label_style(("sans-serif", 14).into_font().color(&SLATE))
        .draw()?;
    Ok(chart)
}

fn mrr_line(root: &Area<'_>, r: &Report, symbol: &str) -> Drawn {
    let y_max = top(r.months.iter().map(|m| f(m.closing_mrr)));
    let mut chart = axes(root, r, 0.0..y_max, symbol)?;
    let points: Vec<(f64, f64)> = r
        .months
        .iter()
        .enumerate()
        .map(|(i, m)| (i as f64, f(m.closing_mrr)))
        .collect();
    chart.draw_series(AreaSeries::new(points.clone(), 0.0, INDIGO.mix(0.12)))?;
    chart.draw_series(LineSeries::new(points.clone(), INDIGO.stroke_width(3)))?;
    chart.draw_series(
        points
            .into_iter()
            .map(|p| Circle::new(p, 4, INDIGO.filled())),
    )?;
    Ok(())
}

fn month_label(names: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    names.get(i as usize).cloned().unwrap_or_default()
}

fn waterfall(root: &Area<'_>, r: &Report, symbol: &str) -> Drawn {
    let up = |m: &MonthRow| {
        [
            (f(m.new_mrr), EMERALD),
            (f(m.reactivation_mrr), VIOLET),
            (f(m.expansion_mrr), SKY),
        ]
    };
    let down = |m: &MonthRow| [(f(m.contraction_mrr), AMBER), (f(m.churned_mrr), ROSE)];
    let y_max = top(r
        .months
        .iter()
        .map(|m| up(m).iter().map(|v| v.0).sum::<f64>()));
    let y_min = -top(r
        .months
        .iter()
        .map(|m| down(m).iter().map(|v| v.0).sum::<f64>()));
    let mut chart = axes(root, r, y_min..y_max, symbol)?;
    let mut bars = Vec::new();
    for (i, m) in r.months.iter().enumerate() {
        let x = i as f64;
        let mut base = 0.0;
        for (v, color) in up(m) {
            bars.push(Rectangle::new(
                [(x - 0.3, base), (x + 0.3, base + v)],
                color.filled(),
            ));
            base += v;
        }
        let mut base = 0.0;
        for (v, color) in down(m) {
            bars.push(Rectangle::new(
                [(x - 0.3, base), (x + 0.3, base - v)],
                color.filled(),
            ));
            base -= v;
        }
    }
    chart.draw_series(bars)?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(x_range(r).start, 0.0), (x_range(r).end, 0.0)],
        SLATE.stroke_width(1),
    )))?;
    Ok(())
}

fn cash(root: &Area<'_>, r: &Report, symbol: &str) -> Drawn {
    let y_max = top(r.months.iter().flat_map(|m| [f(m.billed), f(m.collected)]));
    let mut chart = axes(root, r, 0.0..y_max, symbol)?;
    let bars = r.months.iter().enumerate().flat_map(|(i, m)| {
        let x = i as f64;
        [
            Rectangle::new([(x - 0.34, 0.0), (x - 0.02, f(m.billed))], INDIGO.filled()),
            Rectangle::new(
                [(x + 0.02, 0.0), (x + 0.34, f(m.collected))],
                EMERALD.filled(),
            ),
        ]
    });
    chart.draw_series(bars)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use tollgate::analytics::report::{self, Input};

    #[test]
    fn charts_are_svg_with_a_label_per_month() {
        let catalog = tollgate::catalog::file::parse(
            "emtchat.toml",
            include_str!("../../../../catalogs/emtchat.toml"),
        )
        .expect("catalog");
        let now = chrono::Utc
            .with_ymd_and_hms(2026, 12, 5, 12, 0, 0)
            .single()
            .expect("time");
        let r = report::build(&catalog, &Input::default(), now, 12);
        let charts = all(&r);
        assert_eq!(charts.len(), 3);
        for c in &charts {
            assert!(
                c.svg.starts_with("<svg"),
                "{}: {}",
                c.id,
                &c.svg[..c.svg.len().min(80)]
            );
            assert!(
                c.svg.contains("Jan 26") && c.svg.contains("Dec 26"),
                "{}: every month is labelled",
                c.id
            );
            assert!(
                c.title.contains("2026-01 to 2026-12") && c.title.contains("USD"),
                "{}",
                c.title
            );
        }
        assert_eq!(
            charts[2].summary,
            "Billed $0.00 and collected $0.00 over these months."
        );
    }
}
