//! Usage exports: 100k events stream out whole and once, the daily rollup for one
//! account or every account, and who may download what.

use crate::support;

use reqwest::header::COOKIE;
use rust_decimal::Decimal;
use sqlx::PgPool;
use std::collections::HashSet;
use support::admin::log_in;
use support::{spawn_app, TestApp, PASSWORD};

async fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut req = app.http.get(app.url(path));
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    req.send().await.unwrap()
}

fn records(text: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap())
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_100k_event_export_streams_every_event_once(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let c = app.customer(Some("pro")).await;
    sqlx::query(
        "INSERT INTO usage_events (id, account_id, meter, quantity, occurred_at, idempotency_key, properties)
         SELECT gen_random_uuid(), $1, CASE WHEN g % 3 = 0 THEN 'tokens' ELSE 'queries' END, (g % 7) + 1,
                now() - make_interval(secs => g), 'k' || g, '{\"model\": \"claude\"}'
         FROM generate_series(1, 100000) AS g",
    )
    .bind(c.account_id)
    .execute(&pool)
    .await
    .unwrap();
    // A key a spreadsheet would run as a formula.
    let formula = serde_json::json!({"events": [{"meter": "queries", "quantity": 1, "idempotency_key": "=HYPERLINK(\"x\")"}]});
    assert_eq!(app.post("/api/v1/events", &c.key, &formula).await.status(), 202);
    let sent: Decimal = sqlx::query_scalar("SELECT sum(quantity) FROM usage_events WHERE account_id = $1")
        .bind(c.account_id)
        .fetch_one(&pool)
        .await
        .unwrap();

    let cookie = log_in(&app, &c.email, PASSWORD).await;
    let res = get(&app, "/usage/export.csv?kind=events", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("usage-events-"));
    let text = res.text().await.unwrap();
    let rows = records(&text);
    assert_eq!(rows.len(), 100_001);
    let ids: HashSet<&str> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(ids.len(), 100_001, "every event once");
    let total: Decimal = rows.iter().map(|r| r[4].parse::<Decimal>().unwrap()).sum();
    assert_eq!(total, sent);
    assert!(rows.iter().any(|r| &r[6] == "'=HYPERLINK(\"x\")"), "the formula is made text");

    // The daily rollup holds what ingestion wrote (the one API event).
    let daily = get(&app, "/usage/export.csv?kind=daily", Some(&cookie)).await.text().await.unwrap();
    let days = records(&daily);
    assert_eq!(days.len(), 1, "{daily}");
    assert_eq!((&days[0][1], &days[0][6]), ("queries", "1"));

    for (query, status) in [
        ("kind=weird", 400),
        ("from=2026-02-30", 400),
        ("from=2020-01-01&to=2026-01-01", 400),
        ("from=2026-03-02&to=2026-03-01", 400),
    ] {
        assert_eq!(get(&app, &format!("/usage/export.csv?{query}"), Some(&cookie)).await.status(), status, "{query}");
    }
    assert_eq!(get(&app, "/usage/export.csv", None).await.status(), 401);
    assert_eq!(
        get(&app, "/admin/usage/export.csv?kind=daily", Some(&cookie)).await.status(),
        403,
        "a customer is no super admin"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_super_admin_exports_every_account_s_daily_rollup(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let a = app.customer(Some("pro")).await;
    let b = app.customer(Some("pro")).await;
    assert_eq!(app.queries(&a.key, "a", 3).await.status(), 202);
    assert_eq!(app.queries(&b.key, "b", 4).await.status(), 202);
    let cookie = support::admin::super_admin(&app).await;
    let all = get(&app, "/admin/usage/export.csv?kind=daily", Some(&cookie)).await.text().await.unwrap();
    let mut got: Vec<(String, String)> = records(&all).iter().map(|r| (r[0].to_string(), r[6].to_string())).collect();
    got.sort();
    let mut want = vec![(a.account_id.to_string(), "3".to_string()), (b.account_id.to_string(), "4".to_string())];
    want.sort();
    assert_eq!(got, want);
    let one = get(&app, &format!("/admin/usage/export.csv?kind=events&account={}", b.account_id), Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(records(&one).len(), 4);
    assert_eq!(
        get(&app, "/admin/usage/export.csv?kind=events", Some(&cookie)).await.status(),
        400,
        "raw events one account at a time"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stored_monthly_report_downloads_for_the_owner_only(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let c = app.customer(Some("pro")).await;
    let other = app.customer(Some("pro")).await;
    // Last month's usage, as the rollup holds it.
    sqlx::query(
        "INSERT INTO usage_daily_rollups (account_id, meter, day, user_id, dimensions, events, quantity, max_quantity, last_quantity, last_occurred_at, cost)
         VALUES ($1, 'queries', date_trunc('month', now() - interval '1 month')::date + 3, NULL, '{\"model\": \"=cmd\"}', 2, 5, 3, 2, now() - interval '1 month', 0.25)",
    )
    .bind(c.account_id)
    .execute(&pool)
    .await
    .unwrap();
    let now = chrono::Utc::now();
    let month = tollgate::service::usage_reports::previous_month(now);
    assert_eq!(tollgate::service::usage_reports::store_last_month(&app.tollgate, now).await.unwrap(), 1);
    let file = format!("/usage/reports/{}.csv", month.format("%Y-%m"));

    let cookie = log_in(&app, &c.email, PASSWORD).await;
    let billing = get(&app, "/billing", Some(&cookie)).await.text().await.unwrap();
    assert!(billing.contains(&file), "/billing links the report");
    let res = get(&app, &file, Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    let rows = records(&res.text().await.unwrap());
    assert_eq!(rows.len(), 1);
    assert_eq!((&rows[0][2], &rows[0][5], &rows[0][6], &rows[0][9]), ("queries", "2", "5", "0.25"));
    assert_eq!(&rows[0][4], r#"{"model":"=cmd"}"#, "inside a JSON object, never a formula");

    assert_eq!(get(&app, "/usage/reports/2026-13.csv", Some(&cookie)).await.status(), 404);
    assert_eq!(get(&app, &file, None).await.status(), 401);
    let theirs = log_in(&app, &other.email, PASSWORD).await;
    assert_eq!(get(&app, &file, Some(&theirs)).await.status(), 404, "another account has no such report");
}
