//! Calendar months (UTC) the analytics report on.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// One calendar month in UTC, `[start, end)`. The current month ends at the
/// report's instant instead (`partial`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Month {
    /// First instant of the month, 00:00 UTC on the 1st.
    pub start: DateTime<Utc>,
    /// End, exclusive: the next month's first instant, or for the current month
    /// one microsecond after the report's instant (so that instant is included).
    pub end: DateTime<Utc>,
    /// Whether the month is still going on.
    pub partial: bool,
}

impl Month {
    /// `YYYY-MM`, e.g. `2026-11`.
    pub fn label(&self) -> String {
        format!("{:04}-{:02}", self.start.year(), self.start.month())
    }

    /// Whether `t` falls in the month.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

/// The first instant (UTC) of the month holding `t`.
pub fn month_start(t: DateTime<Utc>) -> DateTime<Utc> {
    let first = NaiveDate::from_ymd_opt(t.year(), t.month(), 1).unwrap_or(NaiveDate::MIN);
    Utc.from_utc_datetime(&first.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// The `n` calendar months up to and including the one holding `now`, oldest
/// first; the last is partial and ends just after `now`. `n = 0` gives none.
pub fn last_months(now: DateTime<Utc>, n: u32) -> Vec<Month> {
    let current = month_start(now);
    (0..n)
        .rev()
        .filter_map(|back| {
            let start = current.checked_sub_months(Months::new(back))?;
            let (end, partial) = if back == 0 {
                (now + Duration::microseconds(1), true)
            } else {
                (start.checked_add_months(Months::new(1))?, false)
            };
            Some(Month {
                start,
                end,
                partial,
            })
        })
        .collect()
}
