//! `POST /api/v1/events` against a real PostgreSQL.

use crate::support;

use serde_json::json;
use sqlx::PgPool;
use support::{answer, spawn_app};

async fn stored_events(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM usage_events")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_same_key_twice_counts_once_and_a_changed_payload_is_a_conflict(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let c = app.customer(Some("starter")).await;
    let event = json!({"events": [{"meter": "queries", "quantity": "1", "idempotency_key": "msg-1", "properties": {"model": "claude", "cost_usd": "0.0031"}}]});
    assert_eq!(
        answer(app.post("/api/v1/events", &c.key, &event).await).await,
        (202, json!({"accepted": 1, "duplicates": 0}))
    );
    // Same payload, properties in another order, quantity as a number: a duplicate.
    let again = json!({"events": [{"meter": "queries", "quantity": 1, "idempotency_key": "msg-1", "properties": {"cost_usd": "0.0031", "model": "claude"}}]});
    assert_eq!(
        answer(app.post("/api/v1/events", &c.key, &again).await).await,
        (202, json!({"accepted": 0, "duplicates": 1}))
    );
    assert_eq!(app.usage_of(&c.key, "queries").await, "1");

    let changed = json!({"events": [
        {"meter": "queries", "quantity": 1, "idempotency_key": "msg-2"},
        {"meter": "queries", "quantity": 2, "idempotency_key": "msg-1"}
    ]});
    let (status, body) = answer(app.post("/api/v1/events", &c.key, &changed).await).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "idempotency_conflict");
    assert_eq!(body["error"]["details"]["index"], 1);
    assert_eq!(
        stored_events(&pool).await,
        1,
        "the conflicting batch stored nothing, not even msg-2"
    );
    assert_eq!(app.usage_of(&c.key, "queries").await, "1");

    // Repeats inside one batch.
    let inside = json!({"events": [
        {"meter": "queries", "quantity": 1, "idempotency_key": "b-1"},
        {"meter": "queries", "quantity": 1, "idempotency_key": "b-1"}
    ]});
    assert_eq!(
        answer(app.post("/api/v1/events", &c.key, &inside).await).await,
        (202, json!({"accepted": 1, "duplicates": 1}))
    );
    let clash = json!({"events": [
        {"meter": "queries", "quantity": 1, "idempotency_key": "b-2"},
        {"meter": "queries", "quantity": 3, "idempotency_key": "b-2"}
    ]});
    assert_eq!(
        answer(app.post("/api/v1/events", &c.key, &clash).await)
            .await
            .0,
        409
    );
    assert_eq!(app.usage_of(&c.key, "queries").await, "2");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_rejected_batch_stores_nothing(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let c = app.customer(Some("starter")).await;
    let cases = [
        (
            json!({"meter": "querys", "quantity": 1, "idempotency_key": "x"}),
            "meter",
        ),
        (
            json!({"meter": "queries", "quantity": 0, "idempotency_key": "x"}),
            "quantity",
        ),
        (
            json!({"meter": "queries", "quantity": "1.5", "idempotency_key": "x"}),
            "quantity",
        ),
        (
            json!({"meter": "queries", "quantity": 1, "idempotency_key": ""}),
            "idempotency_key",
        ),
        (
            json!({"meter": "queries", "quantity": 1, "idempotency_key": "x", "timestamp": "2020-01-01T00:00:00Z"}),
            "timestamp",
        ),
        (
            json!({"meter": "queries", "quantity": 1, "idempotency_key": "x", "timestamp": "2999-01-01T00:00:00Z"}),
            "timestamp",
        ),
        (
            json!({"meter": "queries", "quantity": 1, "idempotency_key": "x", "timestamp": "yesterday"}),
            "timestamp",
        ),
        (
            json!({"meter": "queries", "quantity": 1, "idempotency_key": "x", "user": "nobody@example.com"}),
            "user",
        ),
        (
            json!({"meter": "queries", "quantity": 1, "idempotency_key": "x", "colour": "red"}),
            "colour",
        ),
    ];
    for (bad, field) in cases {
        let batch = json!({"events": [
            {"meter": "queries", "quantity": 1, "idempotency_key": "ok-0"},
            {"meter": "tokens", "quantity": "12.5", "idempotency_key": "ok-1"},
            bad
        ]});
        let (status, body) = answer(app.post("/api/v1/events", &c.key, &batch).await).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], "invalid_request");
        assert_eq!(body["error"]["details"]["index"], 2, "{body}");
        assert!(
            body["error"]["details"]["field"]
                .as_str()
                .unwrap()
                .contains(field),
            "{field}: {body}"
        );
    }
    assert_eq!(stored_events(&pool).await, 0);
    let totals: i64 = sqlx::query_scalar("SELECT count(*) FROM usage_totals")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(totals, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn events_can_name_a_member_and_levels_keep_the_latest(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(Some("starter")).await;
    // Level events after the subscription's start (earlier ones belong to the
    // period before it), arriving out of order.
    let now = chrono::Utc::now();
    let batch = json!({"events": [
        {"meter": "queries", "quantity": 1, "idempotency_key": "u-1", "user": c.email.to_uppercase()},
        {"meter": "queries", "quantity": 1, "idempotency_key": "u-2", "user": c.user_id.to_string()},
        {"meter": "documents", "quantity": 7, "idempotency_key": "d-1", "timestamp": (now + chrono::Duration::minutes(2)).to_rfc3339()},
        {"meter": "documents", "quantity": 3, "idempotency_key": "d-2", "timestamp": (now + chrono::Duration::minutes(3)).to_rfc3339()},
        {"meter": "documents", "quantity": 9, "idempotency_key": "d-0", "timestamp": (now + chrono::Duration::minutes(1)).to_rfc3339()},
        {"meter": "tokens", "quantity": "0.25", "idempotency_key": "t-1"},
        {"meter": "tokens", "quantity": 1e3, "idempotency_key": "t-2"}
    ]});
    assert_eq!(
        answer(app.post("/api/v1/events", &c.key, &batch).await)
            .await
            .0,
        202
    );
    assert_eq!(app.usage_of(&c.key, "queries").await, "2");
    assert_eq!(
        app.usage_of(&c.key, "documents").await,
        "3",
        "last by event time, not arrival"
    );
    assert_eq!(app.usage_of(&c.key, "tokens").await, "1000.25");
}

#[sqlx::test(migrations = "../migrations")]
async fn platform_keys_name_accounts_by_id_or_external_id(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let c = app.customer(Some("starter")).await;
    sqlx::query("UPDATE accounts SET external_id = 'cust_42' WHERE id = $1")
        .bind(c.account_id)
        .execute(&pool)
        .await
        .unwrap();
    let p = app.platform_key().await;
    let batch = json!({"events": [
        {"meter": "queries", "quantity": 1, "idempotency_key": "p-1", "account": c.account_id.to_string()},
        {"meter": "queries", "quantity": 1, "idempotency_key": "p-2", "account": "ext:cust_42"}
    ]});
    assert_eq!(
        answer(app.post("/api/v1/events", &p, &batch).await).await,
        (202, json!({"accepted": 2, "duplicates": 0}))
    );
    assert_eq!(app.usage_of(&c.key, "queries").await, "2");
    let usage = app.get("/api/v1/usage?account=ext:cust_42", &p).await;
    assert_eq!(usage.status(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn parallel_batches_sharing_keys_in_opposite_orders_both_succeed(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let c = app.customer(Some("pro")).await;
    for round in 0..5 {
        let events: Vec<serde_json::Value> =
            (0..300).map(|i| json!({"meter": "queries", "quantity": 1, "idempotency_key": format!("r{round}-{i}")})).collect();
        let reversed: Vec<serde_json::Value> = events.iter().rev().cloned().collect();
        let (forward, backward) = (json!({ "events": events }), json!({ "events": reversed }));
        let (a, b) = tokio::join!(
            app.post("/api/v1/events", &c.key, &forward),
            app.post("/api/v1/events", &c.key, &backward)
        );
        let (a, b) = (answer(a).await, answer(b).await);
        assert_eq!((a.0, b.0), (202, 202), "round {round}: {a:?} {b:?}");
        let accepted =
            a.1["accepted"].as_i64().unwrap_or(0) + b.1["accepted"].as_i64().unwrap_or(0);
        assert_eq!(accepted, 300, "round {round}: each event stored once");
    }
    assert_eq!(app.usage_of(&c.key, "queries").await, "1500");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_first_bad_event_is_the_one_reported(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(Some("pro")).await;
    let batch = json!({"events": [
        {"meter": "nope", "quantity": 1, "idempotency_key": "a"},
        {"meter": "queries", "quantity": -1, "idempotency_key": "b"}
    ]});
    let (status, body) = answer(app.post("/api/v1/events", &c.key, &batch).await).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["details"],
        json!({"field": "meter", "index": 0})
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn concurrent_small_requests_share_transactions_and_keep_their_own_answers(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let (a, b) = (
        app.customer(Some("pro")).await,
        app.customer(Some("pro")).await,
    );
    // A key already stored with another payload: the request that repeats it must
    // get the conflict, with its index, and change nothing.
    let stored =
        json!({"events": [{"meter": "queries", "quantity": 1, "idempotency_key": "taken"}]});
    assert_eq!(
        app.post("/api/v1/events", &a.key, &stored).await.status(),
        202
    );
    let requests = (0..60).map(|i| {
        let app = &app;
        let key = if i % 2 == 0 { a.key.clone() } else { b.key.clone() };
        let body = if i == 30 {
            json!({"events": [
                {"meter": "queries", "quantity": 1, "idempotency_key": "fine-30"},
                {"meter": "queries", "quantity": 2, "idempotency_key": "taken"}
            ]})
        } else {
            json!({"events": [{"meter": "queries", "quantity": 1, "idempotency_key": format!("k-{i}")}]})
        };
        async move { (i, answer(app.post("/api/v1/events", &key, &body).await).await) }
    });
    // Hold both accounts' usage locks (what a plan change takes) until both
    // workers wait on them, and a little longer so that the other requests queue:
    // then the queue is taken in groups, however fast the machine.
    let mut holder = pool.acquire().await.unwrap();
    for id in [a.account_id, b.account_id] {
        sqlx::query("SELECT pg_advisory_lock(hashtextextended($1::text, 7))")
            .bind(id)
            .execute(&mut *holder)
            .await
            .unwrap();
    }
    let release = async {
        for _ in 0..500 {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            if waiting >= 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        sqlx::query("SELECT pg_advisory_unlock_all()")
            .execute(&mut *holder)
            .await
            .unwrap();
    };
    let (answers, ()) = tokio::join!(futures::future::join_all(requests), release);
    for (i, (status, body)) in &answers {
        if *i == 30 {
            assert_eq!(*status, 409, "{body}");
            assert_eq!(body["error"]["code"], "idempotency_conflict");
            assert_eq!(body["error"]["details"]["index"], 1, "{body}");
        } else {
            assert_eq!(
                (*status, &body["accepted"]),
                (202, &json!(1)),
                "request {i}: {body}"
            );
        }
    }
    // 30 requests each, one of a's refused whole: a 1 + 29, b 30.
    assert_eq!(app.usage_of(&a.key, "queries").await, "30");
    assert_eq!(app.usage_of(&b.key, "queries").await, "30");
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM usage_events WHERE idempotency_key = 'fine-30')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!exists, "the refused request stored nothing");

    // Sent again, every event is a duplicate, in any grouping.
    let again = (0..60).filter(|i| *i != 30).map(|i| {
        let app = &app;
        let key = if i % 2 == 0 { a.key.clone() } else { b.key.clone() };
        let body = json!({"events": [{"meter": "queries", "quantity": 1, "idempotency_key": format!("k-{i}")}]});
        async move { answer(app.post("/api/v1/events", &key, &body).await).await }
    });
    for (status, body) in futures::future::join_all(again).await {
        assert_eq!((status, &body["duplicates"]), (202, &json!(1)), "{body}");
    }
    assert_eq!(app.usage_of(&a.key, "queries").await, "30");

    // Rows stored by one transaction share its id (xmin).
    let transactions: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT xmin::text) FROM usage_events WHERE idempotency_key LIKE 'k-%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        transactions <= 20,
        "59 requests were stored in {transactions} transactions: grouped"
    );
}
