//! Usage history (issue 13): what a query over the daily rollup asks for, and how
//! its rows become series of points.
//!
//! Days are UTC calendar days; a month is a UTC calendar month. A range is
//! `[from, to)`: `from` inclusive, `to` exclusive, both days. Values are decimals
//! in the meter's unit: for count and sum meters the sum of the quantities in the
//! bucket, for max meters their peak, for last meters the level reported last,
//! carried into the buckets that report none (a level stays what it was).

use crate::catalog::{Aggregation, Meter};
use crate::period::{meter_period, Cycle, Period, Reset};
use chrono::{Datelike, Days, Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most day buckets one query may span (two years).
pub const MAX_DAYS: i64 = 731;
/// The most month buckets one query may span (ten years).
pub const MAX_MONTHS: u32 = 120;
/// The most series one answer holds; the largest are kept.
pub const MAX_SERIES: usize = 100;

/// How wide a point is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Day,
    Month,
}

impl Granularity {
    /// `day` or `month`.
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Month => "month",
        }
    }
}

/// What the series are split by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupBy {
    /// One series, key `None`.
    Nothing,
    /// One series per member (key: the user's uuid; `None`: events naming no member).
    User,
    /// One series per value of one of the meter's `group_by` properties (`None`:
    /// events without it).
    Property(String),
}

/// Why a history query was refused; `field` names the query parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub field: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, message: impl Into<String>) -> QueryError {
    QueryError {
        field,
        message: message.into(),
    }
}

/// A checked history query over one meter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    pub meter: String,
    pub aggregation: Aggregation,
    /// First day, inclusive (a month's first day for month granularity).
    pub from: NaiveDate,
    /// Day after the last, exclusive (a month's first day for month granularity).
    pub to: NaiveDate,
    pub granularity: Granularity,
    pub group_by: GroupBy,
}

/// The query's parameters as typed (strings from a URL or a form).
#[derive(Debug, Clone, Default)]
pub struct RawQuery<'a> {
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub granularity: Option<&'a str>,
    pub group_by: Option<&'a str>,
}

impl HistoryQuery {
    /// Parses a query for `meter` on `today` (UTC).
    ///
    /// - `granularity`: `day` (default) or `month`.
    /// - `from`, `to`: days `YYYY-MM-DD` (or RFC 3339 times, whose UTC day counts);
    ///   `to` is exclusive. Defaults: to the day after `today`, from 30 days
    ///   before `to` (day) or the month eleven months before this one (month). For
    ///   month granularity both move out to month starts.
    /// - `group_by`: absent, `user` or `property:<name>` where name is one of the
    ///   meter's `group_by` properties.
    ///
    /// # Errors
    /// A [`QueryError`] naming the bad parameter: a date that does not parse,
    /// `from` not before `to`, a range over [`MAX_DAYS`] days or [`MAX_MONTHS`]
    /// months, an unknown granularity, or a property the meter does not group by.
    pub fn parse(meter: &Meter, raw: &RawQuery<'_>, today: NaiveDate) -> Result<Self, QueryError> {
        let granularity = match raw.granularity.map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("day") => Granularity::Day,
            Some("month") => Granularity::Month,
            Some(other) => {
                return Err(refuse(
                    "granularity",
                    format!("`{other}` is not a granularity (day or month)"),
                ))
            }
        };
        let group_by = match raw.group_by.map(str::trim).filter(|s| !s.is_empty()) {
            None => GroupBy::Nothing,
            Some("user") => GroupBy::User,
            Some(s) => match s.strip_prefix("property:") {
                Some(name) if meter.group_by.iter().any(|g| g == name) => {
                    GroupBy::Property(name.to_string())
                }
                Some(name) if meter.group_by.is_empty() => {
                    return Err(refuse(
                        "group_by",
                        format!(
                            "meter `{}` is not broken down by any property, so not by `{name}`",
                            meter.key
                        ),
                    ))
                }
                Some(name) => {
                    return Err(refuse(
                        "group_by",
                        format!(
                            "meter `{}` is broken down by {}, not by `{name}`",
                            meter.key,
                            meter.group_by.join(", ")
                        ),
                    ))
                }
                None => {
                    return Err(refuse(
                        "group_by",
                        format!("`{s}` is not a grouping (user or property:<name>)"),
                    ))
                }
            },
        };
        let to = match raw.to {
            Some(s) => parse_day("to", s)?,
            None => today + Days::new(1),
        };
        let from = match raw.from {
            Some(s) => parse_day("from", s)?,
            None => match granularity {
                Granularity::Day => to - Days::new(30),
                Granularity::Month => month_floor(today) - Months::new(11),
            },
        };
        let (from, to) = match granularity {
            Granularity::Day => (from, to),
            Granularity::Month => (month_floor(from), month_ceil(to)),
        };
        if from >= to {
            return Err(refuse("from", "from must be before to"));
        }
        match granularity {
            Granularity::Day if (to - from).num_days() > MAX_DAYS => {
                return Err(refuse(
                    "from",
                    format!("at most {MAX_DAYS} days at day granularity; ask by month for more"),
                ))
            }
            Granularity::Month if buckets(granularity, from, to).len() > MAX_MONTHS as usize => {
                return Err(refuse("from", format!("at most {MAX_MONTHS} months")))
            }
            _ => {}
        }
        Ok(HistoryQuery {
            meter: meter.key.to_string(),
            aggregation: meter.aggregation,
            from,
            to,
            granularity,
            group_by,
        })
    }

    /// The buckets' first days, in order.
    pub fn buckets(&self) -> Vec<NaiveDate> {
        buckets(self.granularity, self.from, self.to)
    }
}

fn parse_day(field: &'static str, s: &str) -> Result<NaiveDate, QueryError> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.naive_utc().date())
        .map_err(|_| refuse(field, format!("`{s}` is not a day (YYYY-MM-DD) or an RFC 3339 time")))
}

/// The first day of `d`'s month.
pub fn month_floor(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// `d` if it starts a month, else the first day of the next month.
fn month_ceil(d: NaiveDate) -> NaiveDate {
    if d.day() == 1 {
        d
    } else {
        month_floor(d) + Months::new(1)
    }
}

fn buckets(granularity: Granularity, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut d = from;
    while d < to {
        out.push(d);
        d = match granularity {
            Granularity::Day => d + Days::new(1),
            Granularity::Month => d + Months::new(1),
        };
    }
    out
}

/// One bucket of one key, as the rollup gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketRow {
    /// The bucket's first day.
    pub start: NaiveDate,
    /// The series key (user uuid or property value); `None` for no value.
    pub key: Option<String>,
    /// Sum of quantities.
    pub quantity: Decimal,
    /// Peak quantity.
    pub max_quantity: Decimal,
    /// The latest quantity by event time.
    pub last_quantity: Decimal,
    /// Sum of the meter's cost property.
    pub cost: Decimal,
}

/// One point of a series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    pub start: NaiveDate,
    pub value: Decimal,
    pub cost: Decimal,
}

/// One series: a key and a point per bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    pub key: Option<String>,
    pub points: Vec<Point>,
}

/// The answer to a [`HistoryQuery`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub meter: String,
    pub granularity: Granularity,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub series: Vec<Series>,
    /// Series left out beyond [`MAX_SERIES`] (the smallest by total).
    pub series_omitted: usize,
}

/// Assembles series from the rollup's rows: every bucket present (zero where
/// nothing was used; for last meters the level carried on, starting from
/// `levels_before`, each key's level before `from`), the key `None` first and
/// the others by total, largest first, at most [`MAX_SERIES`].
pub fn assemble(q: &HistoryQuery, rows: &[BucketRow], levels_before: &[(Option<String>, Decimal)]) -> History {
    let buckets = q.buckets();
    let index: BTreeMap<NaiveDate, usize> =
        buckets.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    let mut by_key: BTreeMap<Option<String>, Vec<Option<(Decimal, Decimal)>>> = BTreeMap::new();
    for r in rows {
        let Some(&i) = index.get(&r.start) else {
            continue;
        };
        let value = match q.aggregation {
            Aggregation::Count | Aggregation::Sum => r.quantity,
            Aggregation::Max => r.max_quantity,
            Aggregation::Last => r.last_quantity,
        };
        by_key.entry(r.key.clone()).or_insert_with(|| vec![None; buckets.len()])[i] =
            Some((value, r.cost));
    }
    if q.aggregation == Aggregation::Last {
        for (key, _) in levels_before {
            by_key
                .entry(key.clone())
                .or_insert_with(|| vec![None; buckets.len()]);
        }
    }
    if by_key.is_empty() && q.group_by == GroupBy::Nothing {
        by_key.insert(None, vec![None; buckets.len()]);
    }
    let mut series: Vec<(Decimal, Series)> = by_key
        .into_iter()
        .map(|(key, slots)| {
            let mut level = levels_before
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(Decimal::ZERO, |(_, v)| *v);
            let points: Vec<Point> = buckets
                .iter()
                .zip(slots)
                .map(|(start, slot)| {
                    let (value, cost) = match (slot, q.aggregation) {
                        (Some((v, c)), Aggregation::Last) => {
                            level = v;
                            (v, c)
                        }
                        (None, Aggregation::Last) => (level, Decimal::ZERO),
                        (Some(vc), _) => vc,
                        (None, _) => (Decimal::ZERO, Decimal::ZERO),
                    };
                    Point {
                        start: *start,
                        value,
                        cost,
                    }
                })
                .collect();
            let total = match q.aggregation {
                Aggregation::Count | Aggregation::Sum => points.iter().map(|p| p.value).sum(),
                Aggregation::Max | Aggregation::Last => {
                    points.iter().map(|p| p.value).max().unwrap_or_default()
                }
            };
            (total, Series { key, points })
        })
        .collect();
    series.sort_by(|(ta, a), (tb, b)| {
        b.key
            .is_none()
            .cmp(&a.key.is_none())
            .then(tb.cmp(ta))
            .then(a.key.cmp(&b.key))
    });
    let omitted = series.len().saturating_sub(MAX_SERIES);
    series.truncate(MAX_SERIES);
    History {
        meter: q.meter.clone(),
        granularity: q.granularity,
        from: q.from,
        to: q.to,
        series: series.into_iter().map(|(_, s)| s).collect(),
        series_omitted: omitted,
    }
}

/// The rollup's key for an event's properties: the values of `meter`'s
/// `group_by` properties, as `{"model": "claude"}`. The same rule as the SQL
/// function `usage_dimensions` (migration 0023, used by the rebuild): strings as
/// they are, numbers as PostgreSQL writes them (`1e3` is `1000`), booleans as
/// `true`/`false`, at most 200 characters; null, objects, arrays and absent
/// properties leave the key out.
pub fn dimensions(
    meter: &Meter,
    properties: &serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    for name in &meter.group_by {
        let Some(text) = properties.get(name).and_then(scalar_text) else {
            continue;
        };
        out.insert(
            name.clone(),
            serde_json::Value::String(text.chars().take(200).collect()),
        );
    }
    out
}

/// The cost an event carries under `meter`'s `cost_property`: its value when it
/// reads as a plain decimal (1 to 15 digits, an optional fraction of 1 to 12),
/// else 0. The same rule as the SQL function `usage_cost` and the invoice's
/// cost-plus sum.
pub fn cost(meter: &Meter, properties: &serde_json::Map<String, serde_json::Value>) -> Decimal {
    let Some(text) = meter
        .cost_property
        .as_ref()
        .and_then(|p| properties.get(p))
        .and_then(scalar_text)
    else {
        return Decimal::ZERO;
    };
    let plain = {
        let (int, frac) = text.split_once('.').map_or((text.as_str(), None), |(i, f)| (i, Some(f)));
        let digits = |s: &str, most: usize| {
            (1..=most).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        digits(int, 15) && frac.is_none_or(|f| digits(f, 12))
    };
    if !plain {
        return Decimal::ZERO;
    }
    text.parse().unwrap_or(Decimal::ZERO)
}

/// A JSON scalar as PostgreSQL's `->>` writes it; `None` for null, objects and
/// arrays.
fn scalar_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => {
            let raw = n.to_string();
            // PostgreSQL keeps a number as `numeric`: exponents written out, the
            // digits after the point kept.
            Some(
                raw.parse::<Decimal>()
                    .or_else(|_| Decimal::from_scientific(&raw))
                    .map_or(raw, |d| d.to_string()),
            )
        }
        _ => None,
    }
}

/// A series of a chart that keeps only the largest: its own key, or the sum of
/// the `n` series left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    Key(Option<String>),
    Others(usize),
}

/// The `n` largest series of `h` by total (as [`assemble`] orders them), and the
/// rest summed point by point into one [`Kept::Others`] series (absent when
/// nothing is left out), for a stacked chart that stays legible. For max and last
/// meters a sum of peaks or levels means little, so their rest is left out
/// rather than summed.
pub fn keep_largest(h: &History, aggregation: Aggregation, n: usize) -> Vec<(Kept, Vec<Point>)> {
    let mut out: Vec<(Kept, Vec<Point>)> = h
        .series
        .iter()
        .take(n)
        .map(|s| (Kept::Key(s.key.clone()), s.points.clone()))
        .collect();
    let rest = &h.series[n.min(h.series.len())..];
    if !rest.is_empty() && aggregation.accumulates() {
        let mut points = rest[0].points.clone();
        for s in &rest[1..] {
            for (p, q) in points.iter_mut().zip(&s.points) {
                p.value += q.value;
                p.cost += q.cost;
            }
        }
        out.push((Kept::Others(rest.len()), points));
    }
    out
}

/// The `back` meter periods before `current`, oldest first, then `current`
/// itself: each one the period of the instant just before the next one's start,
/// under today's reset and cycle (a period before a plan change is shown as the
/// current cycle would cut it).
pub fn recent_periods(reset: Reset, cycle: Option<Cycle>, current: Period, back: usize) -> Vec<Period> {
    let mut out = vec![current];
    for _ in 0..back {
        let Some(first) = out.last().copied() else {
            break;
        };
        let p = meter_period(reset, cycle, first.start - chrono::Duration::seconds(1));
        if p.end > first.start || p.start >= first.start {
            break; // a cycle that cannot step back (never expected)
        }
        out.push(p);
    }
    out.reverse();
    out
}

/// Usage to date at the end of each day of the current period, from each day's
/// value (as [`assemble`] gives them, first day first) and the period's exact
/// total. Count and sum: the total less the days after (so the first day counts
/// only its part inside the period, and the last day ends on the total, never
/// below zero); max: the running peak; last: the level each day.
pub fn to_date(aggregation: Aggregation, daily: &[Decimal], period_total: Decimal) -> Vec<Decimal> {
    match aggregation {
        Aggregation::Count | Aggregation::Sum => {
            let mut after = Decimal::ZERO;
            let mut out: Vec<Decimal> = daily
                .iter()
                .rev()
                .map(|d| {
                    let v = (period_total - after).max(Decimal::ZERO);
                    after += *d;
                    v
                })
                .collect();
            out.reverse();
            out
        }
        Aggregation::Max => {
            let mut peak = Decimal::ZERO;
            daily
                .iter()
                .map(|d| {
                    peak = peak.max(*d);
                    peak
                })
                .collect()
        }
        Aggregation::Last => daily.to_vec(),
    }
}

#[cfg(test)]
mod tests;
