//! The usage charts of one meter (dashboard, admin account page), drawn on the
//! server as SVG so they show before hydration: this period's usage to date by
//! day against the limit, and the last six periods. Each has a one-sentence
//! summary and a table of every plotted value.

use crate::format::{capitalize, date, quantity, unit};
use crate::model::{Chart, UsageChartsView};
use crate::server::chart_draw::{
    draw, f, top, Area, Drawn, AMBER, EMERALD, INDIGO, ROSE, SKY, SLATE, VIOLET,
};
use chrono::Duration;
use plotters::prelude::*;
use rust_decimal::Decimal;
use tollgate::catalog::Catalog;
use tollgate::service::usage_history::Timeline;

/// The charts and tables of `timeline`.
pub fn view(catalog: &Catalog, timeline: &Timeline) -> UsageChartsView {
    let m = &timeline.now;
    let units = |v: Decimal| format!("{} {}", quantity(v), unit(&m.unit, v));
    let limit = m.limit;
    let period_summary = match (timeline.days.last(), limit) {
        (Some((day, v)), Some(l)) => format!(
            "{} of {} used by {}; the period ends {}.",
            quantity(*v),
            units(l),
            day.format("%-d %b"),
            date(m.period.end - Duration::seconds(1))
        ),
        (Some((day, v)), None) => format!(
            "{} used by {}, with no limit on your plan; the period ends {}.",
            units(*v),
            day.format("%-d %b"),
            date(m.period.end - Duration::seconds(1))
        ),
        (None, _) => "Nothing used yet this period.".into(),
    };
    // Every day of the period has its place on the axis, the days to come empty.
    let last_day = (m.period.end - Duration::seconds(1)).date_naive();
    let day_labels: Vec<String> = m
        .period
        .start
        .date_naive()
        .iter_days()
        .take_while(|d| *d <= last_day)
        .map(|d| d.format("%-d %b").to_string())
        .collect();
    let period_labels: Vec<String> = timeline
        .periods
        .iter()
        .map(|(p, _)| p.start.format("%b %y").to_string())
        .collect();
    let (lo, hi) = (
        timeline.periods.iter().map(|p| p.1).min().unwrap_or_default(),
        timeline.periods.iter().map(|p| p.1).max().unwrap_or_default(),
    );
    let periods_summary = format!(
        "Over the last {} periods {} ranged from {} to {}; this period so far: {}.",
        timeline.periods.len(),
        m.name,
        units(lo),
        units(hi),
        units(m.usage)
    );
    let day_values: Vec<Decimal> = timeline.days.iter().map(|d| d.1).collect();
    let period_values: Vec<Decimal> = timeline.periods.iter().map(|p| p.1).collect();
    UsageChartsView {
        meter: m.meter.clone(),
        meters: catalog
            .meters
            .iter()
            .map(|x| (x.key.to_string(), x.name.clone()))
            .collect(),
        period: Chart {
            id: "usage-period".into(),
            title: format!(
                "{} this period by day, {} to {}",
                m.name,
                date(m.period.start),
                date(m.period.end - Duration::seconds(1))
            ),
            summary: period_summary,
            svg: draw(|root| bars(root, &day_labels, &day_values, limit)),
            legend: legend(limit),
        },
        periods: Chart {
            id: "usage-periods".into(),
            title: format!("{} in the last {} periods", m.name, timeline.periods.len()),
            summary: periods_summary,
            svg: draw(|root| bars(root, &period_labels, &period_values, limit)),
            legend: legend(limit),
        },
        day_rows: timeline
            .days
            .iter()
            .map(|(d, v)| (d.format("%-d %b %Y").to_string(), units(*v)))
            .collect(),
        period_rows: timeline
            .periods
            .iter()
            .map(|(p, v)| {
                (
                    format!("{} – {}", date(p.start), date(p.end - Duration::seconds(1))),
                    units(*v),
                )
            })
            .collect(),
        owed: None,
    }
}

fn legend(limit: Option<Decimal>) -> Vec<(String, String)> {
    let mut out = vec![("Usage".to_string(), "#4f46e5".to_string())];
    if limit.is_some() {
        out.push(("Limit".into(), "#e11d48".into()));
    }
    out
}

type Bars<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The plotting area of a bar chart over `labels`, from 0 to `y_max`: about a
/// dozen x labels at most (every k-th bar's), plain numbers on y.
fn mesh<'a, 'b>(root: &'a Area<'b>, labels: &[String], y_max: f64) -> Result<Bars<'a, 'b>, Box<dyn std::error::Error>> {
    let n = labels.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(72)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..y_max)?;
    let step = n.div_ceil(12).max(1);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() > 1e-6 || i < 0.0 || !(i as usize).is_multiple_of(step) {
                return String::new();
            }
            labels.get(i as usize).cloned().unwrap_or_default()
        })
        .y_label_formatter(&|y| {
            if *y >= 10_000.0 {
                format!("{:.0}k", y / 1000.0)
            } else {
                format!("{y:.0}")
            }
        })
        .light_line_style(RGBColor(241, 245, 249))
        .label_style(("sans-serif", 14).into_font().color(&SLATE))
        .draw()?;
    Ok(chart)
}

/// One bar per label, and the limit as a horizontal line across.
fn bars(root: &Area<'_>, labels: &[String], values: &[Decimal], limit: Option<Decimal>) -> Drawn {
    let n = labels.len().max(1);
    let mut chart = mesh(root, labels, top(values.iter().copied().chain(limit).map(f)))?;
    chart.draw_series(values.iter().enumerate().map(|(i, v)| {
        let x = i as f64;
        Rectangle::new([(x - 0.35, 0.0), (x + 0.35, f(*v))], INDIGO.filled())
    }))?;
    if let Some(l) = limit {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(-0.5, f(l)), (n as f64 - 0.5, f(l))],
            ROSE.stroke_width(2),
        )))?;
    }
    Ok(())
}

/// The palette of stacked series, in order; the summed rest is slate.
const STACK: [RGBColor; 6] = [INDIGO, EMERALD, AMBER, SKY, VIOLET, ROSE];
/// The most series a stacked chart draws before summing the rest.
const STACKED_SERIES: usize = 6;

/// `account_id`'s usage of `meter` (default: the catalog's first) by `granularity`
/// (`day`: the last 30 days, the default; `month`: the last 12), split `by`
/// member (`user`, the default; `names` maps user ids to names) or by a property
/// (`property:<name>`).
///
/// # Errors
/// A bad split or granularity (a form error naming it); no catalog; a database
/// error.
pub async fn breakdown(
    t: &tollgate::service::Tollgate,
    account_id: uuid::Uuid,
    meter: Option<&str>,
    by: Option<&str>,
    granularity: Option<&str>,
    names: &std::collections::HashMap<String, String>,
) -> Result<crate::model::UsageBreakdownView, crate::error::AppError> {
    use tollgate::history::{keep_largest, Kept, RawQuery};
    let catalog = t.catalog.get()?;
    let m = meter
        .and_then(|k| catalog.meter(k))
        .or_else(|| catalog.meters.first())
        .ok_or_else(|| crate::error::AppError::NotFound("this catalog has no meters".into()))?;
    let by = by.map(str::trim).filter(|b| !b.is_empty()).unwrap_or("user");
    let granularity = granularity
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .unwrap_or("day");
    let raw = RawQuery {
        granularity: Some(granularity),
        group_by: Some(by),
        ..Default::default()
    };
    let h = tollgate::service::usage_history::history(
        t,
        account_id,
        m.key.as_str(),
        &raw,
        chrono::Utc::now(),
    )
    .await?;
    let property = by.strip_prefix("property:");
    let label = |k: &Kept| match (k, property) {
        (Kept::Others(n), _) => format!("{n} others"),
        (Kept::Key(Some(v)), Some(_)) => v.clone(),
        (Kept::Key(None), Some(p)) => format!("No {p}"),
        (Kept::Key(Some(id)), None) => names
            .get(id)
            .cloned()
            .unwrap_or_else(|| "Former member".into()),
        (Kept::Key(None), None) => "No member named".into(),
    };
    let kept = keep_largest(&h, m.aggregation, STACKED_SERIES);
    let totals: Vec<Decimal> = kept
        .iter()
        .map(|(_, points)| points.iter().map(|p| p.value).sum())
        .collect();
    let whole: Decimal = totals.iter().sum();
    let units = |v: Decimal| format!("{} {}", quantity(v), unit(&m.unit, v));
    let share = |v: Decimal| {
        if whole.is_zero() {
            "—".to_string()
        } else {
            format!("{} %", (v * Decimal::ONE_HUNDRED / whole).round_dp(1).normalize())
        }
    };
    let rows: Vec<(String, String, String)> = kept
        .iter()
        .zip(&totals)
        .map(|((k, _), v)| (label(k), units(*v), share(*v)))
        .collect();
    let span = if granularity == "month" {
        format!("the last {} months", h.series.first().map_or(12, |s| s.points.len()))
    } else {
        format!("the last {} days", h.series.first().map_or(30, |s| s.points.len()))
    };
    let split_name = property.map_or("member".to_string(), str::to_string);
    let summary = if kept.is_empty() {
        format!("No {} over {span}.", m.name.to_lowercase())
    } else {
        format!(
            "{} over {span} by {split_name}: {}.",
            units(whole),
            rows.iter()
                .map(|(l, _, s)| format!("{l} {s}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let labels: Vec<String> = h
        .series
        .first()
        .map(|s| {
            s.points
                .iter()
                .map(|p| {
                    if granularity == "month" {
                        p.start.format("%b %y").to_string()
                    } else {
                        p.start.format("%-d %b").to_string()
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let colors: Vec<RGBColor> = kept
        .iter()
        .enumerate()
        .map(|(i, (k, _))| match k {
            Kept::Others(_) => SLATE,
            Kept::Key(_) => STACK[i % STACK.len()],
        })
        .collect();
    let stacks: Vec<Vec<Decimal>> = kept
        .iter()
        .map(|(_, points)| points.iter().map(|p| p.value).collect())
        .collect();
    let mut splits = vec![("user".to_string(), "Member".to_string())];
    splits.extend(
        m.group_by
            .iter()
            .map(|p| (format!("property:{p}"), capitalize(p))),
    );
    Ok(crate::model::UsageBreakdownView {
        meter: m.key.to_string(),
        meters: catalog
            .meters
            .iter()
            .map(|x| (x.key.to_string(), x.name.clone()))
            .collect(),
        by: by.to_string(),
        splits,
        granularity: granularity.to_string(),
        chart: Chart {
            id: "usage-breakdown".into(),
            title: format!("{} over {span}, by {split_name}", m.name),
            summary,
            svg: draw(|root| stacked(root, &labels, &stacks, &colors)),
            legend: rows
                .iter()
                .zip(&colors)
                .map(|((l, _, _), RGBColor(r, g, b))| (l.clone(), format!("#{r:02x}{g:02x}{b:02x}")))
                .collect(),
        },
        rows,
    })
}
/// Stacked bars: one bar per label, each series a band in its colour.
fn stacked(root: &Area<'_>, labels: &[String], stacks: &[Vec<Decimal>], colors: &[RGBColor]) -> Drawn {
    let n = labels.len().max(1);
    let heights: Vec<f64> = (0..n)
        .map(|i| stacks.iter().map(|s| s.get(i).copied().map_or(0.0, f)).sum())
        .collect();
    let mut chart = mesh(root, labels, top(heights.into_iter()))?;
    let mut bars = Vec::new();
    for i in 0..n {
        let x = i as f64;
        let mut base = 0.0;
        for (s, color) in stacks.iter().zip(colors) {
            let v = s.get(i).copied().map_or(0.0, f);
            if v > 0.0 {
                bars.push(Rectangle::new([(x - 0.35, base), (x + 0.35, base + v)], color.filled()));
                base += v;
            }
        }
    }
    chart.draw_series(bars)?;
    Ok(())
}

/// The cost view's page data: the chart of cost per meter and property values,
/// and the tables.
pub fn costs_view(
    month: &str,
    catalog: &Catalog,
    r: &tollgate::service::admin::costs::CostReport,
) -> crate::model::admin::CostsView {
    use crate::format::money;
    let currency = catalog.currency;
    let labels: Vec<String> = r
        .by_dimensions
        .iter()
        .take(12)
        .map(|d| format!("{}: {}", d.meter, d.label))
        .collect();
    let values: Vec<Decimal> = r.by_dimensions.iter().take(12).map(|d| d.cost).collect();
    let summary = match r.by_dimensions.first() {
        Some(top) => format!(
            "Usage cost {} in {month}; the costliest: {} {} ({}).",
            money(r.total_cost, &currency),
            top.meter,
            top.label,
            money(top.cost, &currency)
        ),
        None => format!("No usage with a cost in {month}."),
    };
    crate::model::admin::CostsView {
        month: month.to_string(),
        total_cost: money(r.total_cost, &currency),
        chart: Chart {
            id: "costs".into(),
            title: format!("Usage cost by meter and model, {month} ({})", currency.code()),
            summary,
            svg: draw(|root| bars(root, &labels, &values, None)),
            legend: Vec::new(),
        },
        by_dimensions: r
            .by_dimensions
            .iter()
            .map(|d| {
                (
                    d.meter.clone(),
                    d.label.clone(),
                    quantity(d.quantity),
                    money(d.cost, &currency),
                )
            })
            .collect(),
        by_client: r
            .by_client
            .iter()
            .map(|c| {
                let (margin, share) = match c.margin {
                    Some(m) if !c.revenue.is_zero() => (
                        money(m, &currency),
                        format!("{} %", (m * Decimal::ONE_HUNDRED / c.revenue).round_dp(1).normalize()),
                    ),
                    Some(m) => (money(m, &currency), "—".into()),
                    None => ("—".into(), "—".into()),
                };
                (
                    c.account_id,
                    c.name.clone(),
                    money(c.revenue, &currency),
                    money(c.cost, &currency),
                    margin,
                    share,
                )
            })
            .collect(),
    }
}
