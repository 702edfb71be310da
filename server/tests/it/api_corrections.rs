//! `POST /api/v1/events/void`: platform keys void recorded usage with a reason;
//! the usage read back follows, a repeat voids nothing twice, and every bad
//! request is refused with the API's error shape and changes nothing.

use crate::support;

use serde_json::{json, Value};
use sqlx::PgPool;
use support::{answer, spawn_app};

/// This period's `queries` usage as `GET /api/v1/usage` answers it.
async fn queries_used(app: &support::TestApp, key: &str) -> Value {
    let (_, u) = answer(app.get("/api/v1/usage", key).await).await;
    u["meters"].as_array().unwrap().iter().find(|m| m["meter"] == "queries").unwrap()["usage"].clone()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_platform_key_voids_events_by_key_and_by_range(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(Some("starter")).await;
    let events = json!({"events": [
        {"meter": "queries", "quantity": 2, "idempotency_key": "keep"},
        {"meter": "queries", "quantity": 3, "idempotency_key": "dup-1"},
        {"meter": "queries", "quantity": 4, "idempotency_key": "dup-2"},
    ]});
    assert_eq!(app.post("/api/v1/events", &c.key, &events).await.status(), 202);
    let platform = app.platform_key().await;
    assert_eq!(queries_used(&app, &c.key).await, "9");

    let body = json!({"account": c.account_id, "idempotency_keys": ["dup-1", "missing"], "reason": "sent twice by a retry"});
    let (s, v) = answer(app.post("/api/v1/events/void", &platform, &body).await).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["voided"], 1);
    assert_eq!(v["meters"], json!([{"meter": "queries", "quantity": "3"}]));
    assert_eq!(v["not_found"], json!(["missing"]));
    assert_eq!(v["adjustments"], json!([]));
    assert!(v["correction"].is_string());
    assert_eq!(queries_used(&app, &c.key).await, "6");

    let (s, again) = answer(app.post("/api/v1/events/void", &platform, &body).await).await;
    assert_eq!((s, again["voided"].clone(), again["correction"].clone()), (200, json!(0), json!(null)));
    assert_eq!(again["already_voided"], json!(["dup-1"]));

    let range = json!({"account": c.account_id, "meter": "queries", "from": "2020-01-01T00:00:00Z",
                       "to": "2100-01-01T00:00:00Z", "reason": "test account"});
    let (s, v) = answer(app.post("/api/v1/events/void", &platform, &range).await).await;
    assert_eq!((s, v["voided"].clone()), (200, json!(2)), "{v}");
    assert_eq!(queries_used(&app, &c.key).await, "0");
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_void_requests_are_refused_and_change_nothing(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(Some("starter")).await;
    let events = json!({"events": [{"meter": "queries", "quantity": 2, "idempotency_key": "k"}]});
    assert_eq!(app.post("/api/v1/events", &c.key, &events).await.status(), 202);
    let platform = app.platform_key().await;
    let ok = json!({"account": c.account_id, "idempotency_keys": ["k"], "reason": "why"});

    let (s, e) = answer(app.post("/api/v1/events/void", &c.key, &ok).await).await;
    assert_eq!((s, e["error"]["code"].clone()), (403, json!("forbidden")), "account keys cannot void");

    let cases = [
        (json!({"account": c.account_id, "idempotency_keys": ["k"], "reason": ""}), "reason"),
        (json!({"account": c.account_id, "idempotency_keys": ["k"], "reason": "two\nlines"}), "reason"),
        (json!({"account": c.account_id, "idempotency_keys": [], "reason": "why"}), "idempotency_keys"),
        (json!({"account": c.account_id, "reason": "why"}), "idempotency_keys"),
        (json!({"account": c.account_id, "idempotency_keys": ["k"], "meter": "queries", "reason": "why"}), "idempotency_keys"),
        (json!({"account": c.account_id, "meter": "queries", "from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z", "reason": "why"}), "to"),
        (json!({"account": c.account_id, "meter": "nope", "from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "reason": "why"}), "meter"),
    ];
    for (body, field) in cases {
        let (s, e) = answer(app.post("/api/v1/events/void", &platform, &body).await).await;
        assert_eq!(s, 400, "{body} → {e}");
        assert_eq!(e["error"]["code"], "invalid_request");
        assert_eq!(e["error"]["details"]["field"], field, "{body} → {e}");
    }
    let (s, e) = answer(
        app.post("/api/v1/events/void", &platform, &json!({"account": "ext:nobody", "idempotency_keys": ["k"], "reason": "why"}))
            .await,
    )
    .await;
    assert_eq!((s, e["error"]["code"].clone()), (404, json!("not_found")));

    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM usage_events")
        .fetch_one(&app.tollgate.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1, "nothing was voided");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_super_admin_voids_from_the_account_page_without_javascript(pool: PgPool) {
    use reqwest::header::COOKIE;
    let app = spawn_app(pool).await;
    let c = app.customer(Some("starter")).await;
    let events = json!({"events": [
        {"meter": "queries", "quantity": 5, "idempotency_key": "ok"},
        {"meter": "queries", "quantity": 7, "idempotency_key": "bad-1"},
    ]});
    assert_eq!(app.post("/api/v1/events", &c.key, &events).await.status(), 202);
    let cookie = support::admin::super_admin(&app).await;
    let page = format!("/admin/users/{}", c.user_id);
    let void = |confirm: bool| {
        let mut form = vec![
            ("account_id", c.account_id.to_string()),
            ("keys", "bad-1\nnever".to_string()),
            ("reason", "sent by a test".to_string()),
        ];
        if confirm {
            form.push(("confirm", "yes".to_string()));
        }
        app.http
            .post(app.url("/_fn/admin_void_usage"))
            .header(COOKIE, &cookie)
            .header("accept", "text/html")
            .header("referer", app.url(&page))
            .form(&form)
            .send()
    };
    // Without the confirmation nothing is voided.
    let res = void(false).await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(queries_used(&app, &c.key).await, "12");

    let res = void(true).await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(queries_used(&app, &c.key).await, "5");
    let html = app
        .http
        .get(app.url(&page))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Usage corrections"), "the section is on the page");
    assert!(html.contains("queries 7") && html.contains("sent by a test"), "the correction is listed");
}
