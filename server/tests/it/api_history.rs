//! `GET /api/v1/usage/history`: the daily rollup read back by day and month, by
//! member and by property, with the API's error shapes.

use crate::support;

use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{answer, spawn_app};

fn total(series: &Value) -> Decimal {
    series["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_str().unwrap().parse::<Decimal>().unwrap())
        .sum()
}

/// Each series' key and total, in the answer's order.
fn totals_by_key(history: &Value) -> Vec<(Value, Decimal)> {
    history["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["key"].clone(), total(s)))
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn history_splits_by_day_member_and_model_and_counts_consumed_checks(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(Some("starter")).await;
    let today = Utc::now();
    let three_days_ago = today - Duration::days(3);
    let events = json!({"events": [
        {"meter": "queries", "quantity": 2, "idempotency_key": "a", "properties": {"model": "claude"}},
        {"meter": "queries", "quantity": 3, "idempotency_key": "b", "properties": {"model": "claude"}, "user": c.email},
        {"meter": "queries", "quantity": 5, "idempotency_key": "c", "properties": {"model": "gpt"}, "timestamp": three_days_ago},
        {"meter": "queries", "quantity": 7, "idempotency_key": "d"},
    ]});
    assert_eq!(app.post("/api/v1/events", &c.key, &events).await.status(), 202);
    // A repeat counts once; a consuming check is usage too.
    assert_eq!(app.post("/api/v1/events", &c.key, &events).await.status(), 202);
    let (s, _) = answer(
        app.post(
            "/api/v1/check",
            &c.key,
            &json!({"feature": "queries", "consume": true, "quantity": 1, "idempotency_key": "k1"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);

    let (s, h) = answer(app.get("/api/v1/usage/history?meter=queries", &c.key).await).await;
    assert_eq!(s, 200, "{h}");
    assert_eq!(h["account"], c.account_id.to_string());
    assert_eq!(h["granularity"], "day");
    let series = h["series"].as_array().unwrap();
    assert_eq!(series.len(), 1);
    assert_eq!(series[0]["key"], Value::Null);
    let points = series[0]["points"].as_array().unwrap();
    assert_eq!(points.len(), 30, "the last 30 days, today included");
    assert_eq!(
        points.last().unwrap()["start"],
        today.date_naive().to_string()
    );
    assert_eq!(points.last().unwrap()["value"], "13");
    assert_eq!(points[points.len() - 4]["value"], "5");
    assert_eq!(total(&series[0]), Decimal::from(18));

    let (_, by_model) = answer(
        app.get("/api/v1/usage/history?meter=queries&group_by=property:model", &c.key)
            .await,
    )
    .await;
    let totals = totals_by_key(&by_model);
    assert_eq!(
        totals,
        vec![
            (Value::Null, Decimal::from(8)),
            (json!("claude"), Decimal::from(5)),
            (json!("gpt"), Decimal::from(5)),
        ]
    );

    let (_, by_user) = answer(
        app.get("/api/v1/usage/history?meter=queries&group_by=user&granularity=month", &c.key)
            .await,
    )
    .await;
    let users = totals_by_key(&by_user);
    assert_eq!(
        users,
        vec![
            (Value::Null, Decimal::from(15)),
            (json!(c.user_id.to_string()), Decimal::from(3)),
        ]
    );
    assert_eq!(by_user["series"][0]["points"].as_array().unwrap().len(), 12);
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_history_queries_are_refused_by_field_and_accounts_stay_apart(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(Some("free")).await;
    let other = app.customer(Some("free")).await;
    for (query, field) in [
        ("meter=nope", "meter"),
        ("meter=queries&granularity=week", "granularity"),
        ("meter=queries&from=2026-02-30", "from"),
        ("meter=queries&from=2026-03-02&to=2026-03-01", "from"),
        ("meter=queries&from=2020-01-01&to=2026-01-01", "from"),
        ("meter=queries&group_by=property:provider", "group_by"),
        ("meter=queries&group_by=everything", "group_by"),
        ("", "query"),
    ] {
        let (s, b) = answer(app.get(&format!("/api/v1/usage/history?{query}"), &c.key).await).await;
        assert_eq!(s, 400, "{query}: {b}");
        assert_eq!(b["error"]["code"], "invalid_request", "{query}");
        assert_eq!(b["error"]["details"]["field"], field, "{query}: {b}");
    }
    let (s, b) = answer(
        app.get(
            &format!("/api/v1/usage/history?meter=queries&account={}", other.account_id),
            &c.key,
        )
        .await,
    )
    .await;
    assert_eq!((s, b["error"]["code"].as_str()), (403, Some("forbidden")));

    let platform = app.platform_key().await;
    let (s, _) = answer(app.get("/api/v1/usage/history?meter=queries", &platform).await).await;
    assert_eq!(s, 400, "a platform key names the account");
    let (s, b) = answer(
        app.get(
            &format!("/api/v1/usage/history?meter=queries&account={}", other.account_id),
            &platform,
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["account"], other.account_id.to_string());
}
