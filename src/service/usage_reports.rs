//! Monthly usage reports (issue 13, "Take the data away"): once a month ends,
//! the hourly job stores each account's usage of that month, per meter, member
//! and property values, from the daily rollup; owners and admins download it
//! again later (`GET /usage/reports/{YYYY-MM}.csv`). A report is frozen: later
//! corrections and late events do not rewrite it (its `generated_at` says when
//! it was taken).

use super::{Error, Tollgate};
use crate::db;
use crate::db::usage_reports::{Line, Report};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use uuid::Uuid;

/// Reports an account's page lists (about three years).
pub const LISTED: i64 = 36;

/// The first day of the calendar month before the one holding `now` (UTC).
pub fn previous_month(now: DateTime<Utc>) -> NaiveDate {
    let this = now.date_naive().with_day(1).unwrap_or(now.date_naive());
    this.checked_sub_months(Months::new(1)).unwrap_or(this)
}

/// Parses `YYYY-MM` into the month's first day.
///
/// # Errors
/// [`Error::Invalid`] (`month`) for anything else.
pub fn parse_month(s: &str) -> Result<NaiveDate, Error> {
    NaiveDate::parse_from_str(&format!("{}-01", s.trim()), "%Y-%m-%d")
        .map_err(|_| Error::invalid("month", format!("a month is YYYY-MM, not `{s}`")))
}

/// Stores last month's reports unless they are stored already (the job, each
/// hour); returns how many were stored now.
///
/// # Errors
/// A database error (nothing stored: one statement).
pub async fn store_last_month(t: &Tollgate, now: DateTime<Utc>) -> Result<u64, Error> {
    let month = previous_month(now);
    if db::usage_reports::month_stored(&t.pool, month).await? {
        return Ok(0);
    }
    store(t, month, now).await
}

/// Stores the reports of `month` (a first day) for the accounts with usage in
/// it that have none yet (`tollgate usage store-reports`); returns how many.
///
/// # Errors
/// [`Error::Invalid`] (`month`) for a month not over at `now`; a database error.
pub async fn store(t: &Tollgate, month: NaiveDate, now: DateTime<Utc>) -> Result<u64, Error> {
    let next = month.checked_add_months(Months::new(1)).unwrap_or(month);
    if next > now.date_naive() {
        return Err(Error::invalid("month", "a month's report is stored once the month is over"));
    }
    Ok(db::usage_reports::store_month(&t.pool, month).await?)
}

/// The account's stored reports, newest first (at most [`LISTED`]).
///
/// # Errors
/// A database error.
pub async fn list(t: &Tollgate, account_id: Uuid) -> Result<Vec<Report>, Error> {
    Ok(db::usage_reports::list(&t.pool, account_id, LISTED).await?)
}

/// One stored report with its lines.
///
/// # Errors
/// [`Error::NotFound`] when the account has no report of `month`; a database
/// error.
pub async fn get(t: &Tollgate, account_id: Uuid, month: NaiveDate) -> Result<(Report, Vec<Line>), Error> {
    db::usage_reports::lines(&t.pool, account_id, month)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no usage report for {}", month.format("%Y-%m"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_previous_month_and_month_parsing() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().expect("test time");
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test day");
        assert_eq!(previous_month(at("2026-12-06T07:00:00Z")), day("2026-11-01"));
        assert_eq!(previous_month(at("2027-01-01T00:00:00Z")), day("2026-12-01"));
        assert_eq!(parse_month("2026-11").ok(), Some(day("2026-11-01")));
        assert!(parse_month("2026-13").is_err());
        assert!(parse_month("11/2026").is_err());
    }
}
