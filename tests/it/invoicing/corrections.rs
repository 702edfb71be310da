//! Usage corrections (issue 13): voided events leave the totals, the rollup and
//! the thresholds; an invoice issued before the correction is not rewritten, the
//! difference is a line of the next invoice; an invoice issued after it bills
//! the corrected usage.

use super::*;
use tollgate::correction::{Reason, Selection};
use tollgate::service::usage_corrections;

fn keys(k: &[&str]) -> Selection {
    Selection::Keys(k.iter().map(|s| s.to_string()).collect())
}

fn reason() -> Reason {
    Reason::parse("a replayed job sent these twice").unwrap()
}

async fn api_calls_total(t: &Tollgate, account: Uuid, period_start: &str) -> Decimal {
    sqlx::query_scalar::<_, Decimal>(
        "SELECT value FROM usage_totals WHERE account_id = $1 AND meter = 'api_calls' AND period_start = $2",
    )
    .bind(account)
    .bind(at(period_start))
    .fetch_optional(&t.pool)
    .await
    .unwrap()
    .unwrap_or_default()
}

async fn rollup_sum(t: &Tollgate, account: Uuid, meter: &str) -> Decimal {
    sqlx::query_scalar::<_, Option<Decimal>>(
        "SELECT sum(quantity) FROM usage_daily_rollups WHERE account_id = $1 AND meter = $2",
    )
    .bind(account)
    .bind(meter)
    .fetch_one(&t.pool)
    .await
    .unwrap()
    .unwrap_or_default()
}

async fn crossings_above(t: &Tollgate, account: Uuid, percent: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM threshold_crossings WHERE account_id = $1 AND meter = 'api_calls' AND percent > $2",
    )
    .bind(account)
    .bind(Decimal::from(percent))
    .fetch_one(&t.pool)
    .await
    .unwrap()
}

async fn void(t: &Tollgate, account: Uuid, selection: &Selection, now: &str) -> Result<usage_corrections::Corrected, Error> {
    usage_corrections::void(t, &Actor::Cli, account, selection, &reason(), at(now)).await
}

#[sqlx::test]
async fn a_correction_credits_the_issued_invoice_on_the_next_one_and_the_next_bills_corrected_usage(
    pool: PgPool,
) {
    let t = tollgate(pool).await;
    let (_, account) = customer(&t, false).await;
    subscribe(&t, account, "standard", at("2026-09-01T00:00:00Z")).await;
    keyed_event(&t, account, "api_calls", "60000", "2026-09-10T00:00:00Z", json!({}), "a").await;
    keyed_event(&t, account, "api_calls", "41200", "2026-09-20T00:00:00Z", json!({}), "b").await;
    keyed_event(&t, account, "storage", "62", "2026-09-25T00:00:00Z", json!({}), "s").await;
    // The catalog notifies no threshold: record the ones 101 % reached.
    sqlx::query(
        "INSERT INTO threshold_crossings (account_id, meter, period_start, percent)
         VALUES ($1, 'api_calls', '2026-09-01T00:00:00Z', 50), ($1, 'api_calls', '2026-09-01T00:00:00Z', 80), ($1, 'api_calls', '2026-09-01T00:00:00Z', 100)",
    )
    .bind(account)
    .execute(&t.pool)
    .await
    .unwrap();
    assert_eq!(crossings_above(&t, account, 60).await, 2);

    // Invoice issued before the correction: 49.99 + 12.00 (1200 calls over) + 1.20.
    let first = september(&t).await.issued.remove(0);
    assert_eq!(first.amount_due.amount, d("63.19"));

    let done = void(&t, account, &keys(&["b", "never-sent"]), "2026-10-05T00:00:00Z")
        .await
        .unwrap();
    assert!(done.correction_id.is_some());
    assert_eq!(done.voided.len(), 1);
    assert_eq!(done.by_meter.get("api_calls"), Some(&d("41200")));
    assert_eq!(done.not_found, vec!["never-sent".to_string()]);
    let adjustments: Vec<(String, String, Decimal)> = done
        .adjustments
        .iter()
        .map(|a| (a.invoice_number.clone(), a.meter.clone(), a.amount))
        .collect();
    assert_eq!(
        adjustments,
        vec![(first.number.clone(), "api_calls".to_string(), d("-12.00"))],
        "60,000 calls are within the 100,000 included: the 12.00 of usage is credited"
    );
    // The issued invoice is untouched; totals, rollup and thresholds follow.
    assert_eq!(
        lines(&t, first.id).await,
        vec![("base".into(), d("49.99")), ("usage".into(), d("12.00")), ("usage".into(), d("1.20"))]
    );
    assert_eq!(api_calls_total(&t, account, "2026-09-01T00:00:00Z").await, d("60000"));
    assert_eq!(rollup_sum(&t, account, "api_calls").await, d("60000"));
    assert_eq!(crossings_above(&t, account, 60).await, 0, "thresholds above 60 % notify again");
    assert_eq!(crossings_above(&t, account, 0).await, 1, "50 % is still reached");
    let actions = db::audit::actions_for_target(&t.pool, &done.correction_id.unwrap().to_string())
        .await
        .unwrap();
    assert_eq!(actions, vec!["usage.voided".to_string()]);

    // A repeat voids nothing twice and records no correction; a replay of the
    // voided event is a duplicate, not new usage.
    let again = void(&t, account, &keys(&["b"]), "2026-10-05T00:00:00Z").await.unwrap();
    assert_eq!((again.correction_id, again.voided.len()), (None, 0));
    assert_eq!(again.already_voided, vec!["b".to_string()]);
    keyed_event(&t, account, "api_calls", "41200", "2026-09-20T00:00:00Z", json!({}), "b").await;
    assert_eq!(api_calls_total(&t, account, "2026-09-01T00:00:00Z").await, d("60000"));
    let corrections: i64 = sqlx::query_scalar("SELECT count(*) FROM usage_corrections")
        .fetch_one(&t.pool)
        .await
        .unwrap();
    assert_eq!(corrections, 1);

    // October: 100,500 calls kept, 2,000 voided by range before the run.
    keyed_event(&t, account, "api_calls", "100500", "2026-10-10T00:00:00Z", json!({}), "o1").await;
    keyed_event(&t, account, "api_calls", "2000", "2026-10-15T08:00:00Z", json!({}), "o2").await;
    let range = Selection::Range {
        meter: "api_calls".into(),
        from: at("2026-10-15T00:00:00Z"),
        to: at("2026-10-16T00:00:00Z"),
    };
    let october_fix = void(&t, account, &range, "2026-10-20T00:00:00Z").await.unwrap();
    assert_eq!((october_fix.voided.len(), october_fix.adjustments.len()), (1, 0), "October is not invoiced yet");

    let report = run_month(&t, "2026-10", "2026-11-02T09:00:00Z").await;
    let second = &report.issued[0];
    assert_eq!(
        lines(&t, second.id).await,
        vec![
            ("base".into(), d("49.99")),
            ("usage".into(), d("5.00")),
            ("adjustment".into(), d("-12.00")),
        ],
        "the corrected October usage (500 over) and September's credit"
    );
    assert_eq!(second.amount_due.amount, d("42.99"));
    let pending = db::invoice_adjustments::pending(&t.pool, &[account], false).await.unwrap();
    assert!(pending.is_empty(), "the adjustment is billed once");
    let applied: Option<Uuid> =
        sqlx::query_scalar("SELECT applied_invoice_id FROM invoice_adjustments WHERE account_id = $1")
            .bind(account)
            .fetch_one(&t.pool)
            .await
            .unwrap();
    assert_eq!(applied, Some(second.id));

    // Voiding the same September usage under another key changes nothing more:
    // adjustments compare with everything billed so far.
    let none = void(&t, account, &keys(&["a"]), "2026-11-03T00:00:00Z").await.unwrap();
    assert_eq!(none.voided.len(), 1);
    assert!(none.adjustments.is_empty(), "September's usage is within the allowance either way");
}

#[sqlx::test]
async fn bad_corrections_change_nothing(pool: PgPool) {
    let t = tollgate(pool).await;
    let (_, account) = customer(&t, false).await;
    subscribe(&t, account, "standard", at("2026-09-01T00:00:00Z")).await;
    keyed_event(&t, account, "api_calls", "5", "2026-09-10T00:00:00Z", json!({}), "r").await;

    let unknown = Selection::Range {
        meter: "nope".into(),
        from: at("2026-09-01T00:00:00Z"),
        to: at("2026-10-01T00:00:00Z"),
    };
    assert!(matches!(
        void(&t, account, &unknown, "2026-09-11T00:00:00Z").await,
        Err(Error::Invalid { ref field, .. }) if field == "meter"
    ));
    assert!(matches!(
        void(&t, Uuid::now_v7(), &keys(&["r"]), "2026-09-11T00:00:00Z").await,
        Err(Error::NotFound(_))
    ));

    // An event Stripe's meters were sent is Stripe's to correct.
    let (event_id, sub_id): (Uuid, Uuid) = sqlx::query_as(
        "SELECT e.id, s.id FROM usage_events e JOIN subscriptions s ON s.account_id = e.account_id WHERE e.account_id = $1",
    )
    .bind(account)
    .fetch_one(&t.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO stripe_meter_reports (account_id, event_id, subscription_id, stripe_customer, event_name, value, occurred_at, status, sent_at)
         VALUES ($3, $1, $2, 'cus_1', 'api_calls', 5, '2026-09-10T00:00:00Z', 'sent', now())",
    )
    .bind(event_id)
    .bind(sub_id)
    .bind(account)
    .execute(&t.pool)
    .await
    .unwrap();
    assert!(matches!(
        void(&t, account, &keys(&["r"]), "2026-09-11T00:00:00Z").await,
        Err(Error::Invalid { .. })
    ));
    assert_eq!(api_calls_total(&t, account, "2026-09-01T00:00:00Z").await, d("5"));
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM usage_events WHERE account_id = $1")
        .bind(account)
        .fetch_one(&t.pool)
        .await
        .unwrap();
    let corrections: i64 = sqlx::query_scalar("SELECT count(*) FROM usage_corrections")
        .fetch_one(&t.pool)
        .await
        .unwrap();
    assert_eq!((stored, corrections), (1, 0));
}

#[sqlx::test]
async fn the_run_defers_an_account_corrected_after_its_pricing_snapshot(pool: PgPool) {
    let t = tollgate(pool).await;
    let (_, account) = customer(&t, false).await;
    let before = db::usage_corrections::snapshot(&t.pool).await.unwrap();
    db::usage_corrections::insert(&t.pool, account, Uuid::now_v7(), "test").await.unwrap();
    let after = db::usage_corrections::snapshot(&t.pool).await.unwrap();
    let seen = |s: String| {
        let t = &t;
        async move { db::usage_corrections::corrected_since(&t.pool, &[account], &s).await.unwrap() }
    };
    assert!(seen(before).await.contains(&account), "a pricing before the correction did not see it");
    assert!(seen(after).await.is_empty(), "a pricing after it did");
}
