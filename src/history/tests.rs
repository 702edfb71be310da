use super::*;
use crate::keys::Key;
use crate::period::Reset;

fn meter(aggregation: Aggregation, group_by: &[&str]) -> Meter {
    Meter {
        key: Key::parse("tokens").expect("test fixture"),
        name: "Tokens".into(),
        unit: "token".into(),
        aggregation,
        reset: Reset::BillingPeriod,
        description: String::new(),
        group_by: group_by.iter().map(|s| s.to_string()).collect(),
        cost_property: None,
    }
}

fn day(s: &str) -> NaiveDate {
    s.parse().expect("test day")
}

fn dec(s: &str) -> Decimal {
    s.parse().expect("test decimal")
}

fn parse(m: &Meter, raw: RawQuery<'_>) -> Result<HistoryQuery, QueryError> {
    HistoryQuery::parse(m, &raw, day("2026-12-06"))
}

#[test]
fn defaults_are_the_last_thirty_days_by_day_and_the_last_twelve_months_by_month() {
    let m = meter(Aggregation::Sum, &[]);
    let q = parse(&m, RawQuery::default()).unwrap();
    assert_eq!((q.from, q.to), (day("2026-11-07"), day("2026-12-07")));
    assert_eq!(q.buckets().len(), 30);
    assert_eq!(q.group_by, GroupBy::Nothing);
    let q = parse(&m, RawQuery { granularity: Some("month"), ..Default::default() }).unwrap();
    assert_eq!((q.from, q.to), (day("2026-01-01"), day("2027-01-01")));
    assert_eq!(q.buckets().len(), 12);
}

#[test]
fn month_ranges_widen_to_whole_months_and_times_count_by_their_utc_day() {
    let m = meter(Aggregation::Sum, &[]);
    let q = parse(
        &m,
        RawQuery {
            from: Some("2026-02-15"),
            to: Some("2026-04-02T23:30:00-02:00"),
            granularity: Some("month"),
            ..Default::default()
        },
    )
    .unwrap();
    // 23:30 at -02:00 is 01:30 UTC on April 3rd: April is in, so May 1st ends it.
    assert_eq!((q.from, q.to), (day("2026-02-01"), day("2026-05-01")));
    assert_eq!(
        q.buckets(),
        vec![day("2026-02-01"), day("2026-03-01"), day("2026-04-01")]
    );
}

#[test]
fn bad_parameters_are_refused_by_name() {
    let m = meter(Aggregation::Sum, &["model"]);
    let field = |raw| parse(&m, raw).unwrap_err().field;
    assert_eq!(field(RawQuery { from: Some("yesterday"), ..Default::default() }), "from");
    assert_eq!(field(RawQuery { to: Some("2026-13-01"), ..Default::default() }), "to");
    assert_eq!(
        field(RawQuery { from: Some("2026-12-01"), to: Some("2026-12-01"), ..Default::default() }),
        "from"
    );
    assert_eq!(
        field(RawQuery { from: Some("2024-01-01"), to: Some("2026-12-01"), ..Default::default() }),
        "from",
        "three years by day is too many points"
    );
    assert!(parse(
        &m,
        RawQuery { from: Some("2024-01-01"), to: Some("2026-12-01"), granularity: Some("month"), ..Default::default() }
    )
    .is_ok());
    assert_eq!(field(RawQuery { granularity: Some("week"), ..Default::default() }), "granularity");
    assert_eq!(field(RawQuery { group_by: Some("team"), ..Default::default() }), "group_by");
    let e = parse(&m, RawQuery { group_by: Some("property:provider"), ..Default::default() }).unwrap_err();
    assert_eq!(e.field, "group_by");
    assert!(e.message.contains("model"), "{}", e.message);
    assert_eq!(
        parse(&m, RawQuery { group_by: Some("property:model"), ..Default::default() })
            .unwrap()
            .group_by,
        GroupBy::Property("model".into())
    );
}

fn row(start: &str, key: Option<&str>, q: &str, max: &str, last: &str) -> BucketRow {
    BucketRow {
        start: day(start),
        key: key.map(Into::into),
        quantity: dec(q),
        max_quantity: dec(max),
        last_quantity: dec(last),
        cost: Decimal::ZERO,
    }
}

fn query(aggregation: Aggregation, group_by: GroupBy) -> HistoryQuery {
    HistoryQuery {
        meter: "tokens".into(),
        aggregation,
        from: day("2026-12-01"),
        to: day("2026-12-05"),
        granularity: Granularity::Day,
        group_by,
    }
}

fn values(s: &Series) -> Vec<String> {
    s.points.iter().map(|p| p.value.to_string()).collect()
}

#[test]
fn sums_fill_empty_days_with_zero_and_an_empty_meter_still_has_its_series() {
    let q = query(Aggregation::Sum, GroupBy::Nothing);
    let h = assemble(&q, &[row("2026-12-02", None, "7.5", "5", "2.5")], &[]);
    assert_eq!(h.series.len(), 1);
    assert_eq!(values(&h.series[0]), ["0", "7.5", "0", "0"]);
    let empty = assemble(&q, &[], &[]);
    assert_eq!(values(&empty.series[0]), ["0", "0", "0", "0"]);
    let by_user = assemble(&query(Aggregation::Sum, GroupBy::User), &[], &[]);
    assert!(by_user.series.is_empty(), "no members used it: no series");
}

#[test]
fn peaks_and_levels_read_their_own_columns_and_levels_carry_on() {
    let rows = [row("2026-12-02", None, "9", "6", "3")];
    let max = assemble(&query(Aggregation::Max, GroupBy::Nothing), &rows, &[]);
    assert_eq!(values(&max.series[0]), ["0", "6", "0", "0"]);
    let last = assemble(
        &query(Aggregation::Last, GroupBy::Nothing),
        &rows,
        &[(None, dec("40"))],
    );
    assert_eq!(values(&last.series[0]), ["40", "3", "3", "3"]);
}

#[test]
fn the_no_value_series_comes_first_then_the_largest() {
    let q = query(Aggregation::Count, GroupBy::Property("model".into()));
    let rows = [
        row("2026-12-01", Some("small"), "1", "1", "1"),
        row("2026-12-01", Some("big"), "10", "1", "1"),
        row("2026-12-03", None, "2", "1", "1"),
    ];
    let h = assemble(&q, &rows, &[]);
    let keys: Vec<Option<&str>> = h.series.iter().map(|s| s.key.as_deref()).collect();
    assert_eq!(keys, [None, Some("big"), Some("small")]);
    assert_eq!(h.series_omitted, 0);
}

#[test]
fn past_the_series_cap_the_smallest_are_counted_not_kept() {
    let q = query(Aggregation::Count, GroupBy::User);
    let rows: Vec<BucketRow> = (0..(MAX_SERIES + 3))
        .map(|i| row("2026-12-01", Some(&format!("u{i:03}")), &(i + 1).to_string(), "1", "1"))
        .collect();
    let h = assemble(&q, &rows, &[]);
    assert_eq!(h.series.len(), MAX_SERIES);
    assert_eq!(h.series_omitted, 3);
    assert!(h.series.iter().all(|s| s.key.as_deref() > Some("u002")));
}

#[test]
fn usage_to_date_ends_on_the_period_total() {
    let d = |xs: &[&str]| xs.iter().map(|x| dec(x)).collect::<Vec<_>>();
    // The first day held 4 before the period began: the period counts 1 of it.
    assert_eq!(
        to_date(Aggregation::Count, &d(&["5", "0", "3", "2"]), dec("6")),
        d(&["1", "1", "4", "6"])
    );
    assert_eq!(
        to_date(Aggregation::Max, &d(&["2", "7", "3"]), dec("7")),
        d(&["2", "7", "7"])
    );
    assert_eq!(
        to_date(Aggregation::Last, &d(&["2", "7", "3"]), dec("3")),
        d(&["2", "7", "3"])
    );
}

#[test]
fn recent_periods_step_back_through_the_cycle() {
    let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let cycle = Cycle {
        anchor: at("2026-01-31T12:00:00Z"),
        interval: crate::period::Interval::Month,
    };
    let current = meter_period(Reset::BillingPeriod, Some(cycle), at("2026-12-06T00:00:00Z"));
    let periods = recent_periods(Reset::BillingPeriod, Some(cycle), current, 5);
    assert_eq!(periods.len(), 6);
    assert_eq!(periods.last(), Some(&current));
    for pair in periods.windows(2) {
        assert_eq!(pair[0].end, pair[1].start, "adjacent, no gap");
    }
    let months = recent_periods(Reset::CalendarMonth, None, Period::calendar_month(at("2026-03-15T00:00:00Z")), 2);
    assert_eq!(months[0].start, at("2026-01-01T00:00:00Z"));
    assert_eq!(months[2].end, at("2026-04-01T00:00:00Z"));
}

#[test]
fn keeping_the_largest_sums_the_rest_for_counts_only() {
    let q = query(Aggregation::Count, GroupBy::User);
    let rows = [
        row("2026-12-01", Some("a"), "10", "1", "1"),
        row("2026-12-01", Some("b"), "5", "1", "1"),
        row("2026-12-02", Some("c"), "2", "1", "1"),
        row("2026-12-01", Some("d"), "1", "1", "1"),
    ];
    let h = assemble(&q, &rows, &[]);
    let kept = keep_largest(&h, Aggregation::Count, 2);
    assert_eq!(kept.len(), 3);
    assert_eq!(kept[0].0, Kept::Key(Some("a".into())));
    assert_eq!(kept[2].0, Kept::Others(2));
    let others: Vec<String> = kept[2].1.iter().map(|p| p.value.to_string()).collect();
    assert_eq!(others, ["1", "2", "0", "0"]);
    assert_eq!(keep_largest(&h, Aggregation::Max, 2).len(), 2);
    assert_eq!(keep_largest(&h, Aggregation::Count, 9).len(), 4);
}
