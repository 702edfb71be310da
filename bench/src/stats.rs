//! Pure helpers: durations on the command line, latency histograms and their
//! percentiles, and the median/min/max spread of repeated runs.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Longest latency a histogram records, in microseconds (60 s); longer values are
/// clamped to it.
const MAX_RECORDED_MICROS: u64 = 60_000_000;

/// A latency histogram in microseconds, 3 significant digits (0.1 % error).
pub fn new_histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, MAX_RECORDED_MICROS, 3)?)
}

/// Records `d` (rounded to whole microseconds, at least 1 µs) in `h`.
pub fn record(h: &mut Histogram<u64>, d: Duration) {
    let micros = u64::try_from(d.as_micros())
        .unwrap_or(u64::MAX)
        .clamp(1, MAX_RECORDED_MICROS);
    h.saturating_record(micros);
}

/// Latency percentiles of one run, all in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Number of recorded samples.
    pub count: u64,
    /// Mean, ms.
    pub mean: f64,
    /// Median, ms.
    pub p50: f64,
    /// 90th percentile, ms.
    pub p90: f64,
    /// 99th percentile, ms.
    pub p99: f64,
    /// 99.9th percentile, ms.
    pub p99_9: f64,
    /// Largest sample, ms.
    pub max: f64,
}

impl Percentiles {
    /// Reads the percentiles of a microsecond histogram, converted to milliseconds.
    /// An empty histogram gives all zeros with `count` 0.
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        let ms = |micros: u64| micros as f64 / 1000.0;
        if h.is_empty() {
            return Percentiles {
                count: 0,
                mean: 0.0,
                p50: 0.0,
                p90: 0.0,
                p99: 0.0,
                p99_9: 0.0,
                max: 0.0,
            };
        }
        Percentiles {
            count: h.len(),
            mean: h.mean() / 1000.0,
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p99_9: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

/// The median and range of one figure over repeated runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// Median (the mean of the two middle values for an even count).
    pub median: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Number of values.
    pub n: usize,
}

impl Spread {
    /// The spread of `values`, ignoring NaNs; `None` when nothing is left.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Spread {
            median,
            min: v[0],
            max: v[n - 1],
            n,
        })
    }

    /// `(max − min) / median` in percent: how noisy the runs were (0 for one run).
    pub fn range_pct(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            (self.max - self.min) / self.median * 100.0
        }
    }
}

/// Parses a duration such as `15s`, `500ms`, `2m`, `1.5s` or `15` (seconds).
///
/// # Errors
/// An empty, negative or non-numeric value, or an unknown unit.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 15s, 500ms or 2m"))?;
    let seconds = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}` (use ms, s or m)"
            ))
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("`{text}`: {e}"))
}

/// Formats a figure for a table: no decimals from 1000 up, one from 100, else up
/// to three significant decimals.
pub fn fmt_figure(x: f64) -> String {
    let a = x.abs();
    if a >= 1000.0 {
        format!("{x:.0}")
    } else if a >= 100.0 {
        format!("{x:.1}")
    } else if a >= 10.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("15s").unwrap(), Duration::from_secs(15));
        assert_eq!(parse_duration("15").unwrap(), Duration::from_secs(15));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("5h").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn percentiles_are_in_milliseconds() {
        let mut h = new_histogram().unwrap();
        for ms in 1..=1000u64 {
            record(&mut h, Duration::from_millis(ms));
        }
        let p = Percentiles::of(&h);
        assert_eq!(p.count, 1000);
        // 3 significant digits: within 0.1 % of the exact value.
        assert!((p.p50 - 500.0).abs() <= 0.5, "{p:?}");
        assert!((p.p90 - 900.0).abs() <= 0.9, "{p:?}");
        assert!((p.p99 - 990.0).abs() <= 1.0, "{p:?}");
        assert!((p.p99_9 - 999.0).abs() <= 1.0, "{p:?}");
        assert!((p.max - 1000.0).abs() <= 1.0, "{p:?}");
        assert!((p.mean - 500.5).abs() <= 0.6, "{p:?}");
    }

    #[test]
    fn empty_and_out_of_range_samples() {
        let mut h = new_histogram().unwrap();
        assert_eq!(Percentiles::of(&h).count, 0);
        record(&mut h, Duration::ZERO);
        record(&mut h, Duration::from_secs(3600));
        let p = Percentiles::of(&h);
        assert_eq!(p.count, 2);
        assert!(p.max >= 59_000.0 && p.max <= 60_100.0, "{p:?}");
    }

    #[test]
    fn spread_takes_median_and_range() {
        let s = Spread::of(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (2.0, 1.0, 3.0, 3));
        assert!((s.range_pct() - 100.0).abs() < 1e-9);
        let s = Spread::of(&[4.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!(s.median, 2.5);
        let s = Spread::of(&[f64::NAN, 7.0]).unwrap();
        assert_eq!((s.median, s.n), (7.0, 1));
        assert_eq!(s.range_pct(), 0.0);
        assert!(Spread::of(&[]).is_none());
    }

    #[test]
    fn figures_are_rounded_for_reading() {
        assert_eq!(fmt_figure(12345.678), "12346");
        assert_eq!(fmt_figure(123.456), "123.5");
        assert_eq!(fmt_figure(12.3456), "12.35");
        assert_eq!(fmt_figure(1.23456), "1.235");
    }
}
