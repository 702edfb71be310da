//! Every error code of API.md, reached for real.

use crate::support;

use serde_json::{json, Value};
use sqlx::PgPool;
use support::{answer, spawn_app};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[sqlx::test(migrations = "../migrations")]
async fn every_error_code_is_reachable(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let c = app.customer(Some("free")).await;
    let other = app.customer(Some("free")).await;
    let event = json!({"events": [{"meter": "queries", "quantity": 1, "idempotency_key": "k"}]});

    // 401 unauthorized: missing, malformed, unknown, revoked.
    let res = app
        .http
        .post(app.url("/api/v1/events"))
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(answer(res).await.0, 401);
    for bad in [
        "tg_sk_nope",
        "Basic abc",
        "tg_pk_00000000000000000000000000000000",
    ] {
        let (s, b) = answer(app.post("/api/v1/events", bad, &event).await).await;
        assert_eq!((s, code(&b)), (401, "unauthorized"), "{bad}");
    }
    let doomed = app.customer(Some("free")).await;
    let key_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM api_keys WHERE account_id = $1")
        .bind(doomed.account_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    tollgate::service::keys::revoke(
        &pool,
        doomed.account_id,
        key_id,
        &tollgate::service::Actor::Cli,
    )
    .await
    .unwrap();
    assert_eq!(
        answer(app.post("/api/v1/events", &doomed.key, &event).await)
            .await
            .0,
        401
    );

    // 403 forbidden: an account key naming another account.
    let foreign = json!({"events": [{"meter": "queries", "quantity": 1, "idempotency_key": "k", "account": other.account_id.to_string()}]});
    let (s, b) = answer(app.post("/api/v1/events", &c.key, &foreign).await).await;
    assert_eq!((s, code(&b)), (403, "forbidden"));
    let (s, _) = answer(
        app.get(
            &format!("/api/v1/usage?account={}", other.account_id),
            &c.key,
        )
        .await,
    )
    .await;
    assert_eq!(s, 403);

    // 404 not_found: a platform key naming no account; an unknown path.
    let p = app.platform_key().await;
    let ghost = json!({"events": [{"meter": "queries", "quantity": 1, "idempotency_key": "k", "account": "ext:ghost"}]});
    let (s, b) = answer(app.post("/api/v1/events", &p, &ghost).await).await;
    assert_eq!((s, code(&b)), (404, "not_found"));
    let (s, b) = answer(app.get("/api/v1/nothing-here", &c.key).await).await;
    assert_eq!((s, code(&b)), (404, "not_found"));

    // 405 for a known path with another method, still in the envelope.
    let (s, b) = answer(app.get("/api/v1/events", &c.key).await).await;
    assert_eq!((s, code(&b)), (405, "method_not_allowed"));

    // 400 invalid_request, naming the field.
    let (s, b) = answer(app.get("/api/v1/usage?account=a&account=b", &p).await).await;
    assert_eq!(
        (s, code(&b), b["error"]["details"]["field"].as_str()),
        (400, "invalid_request", Some("query")),
        "{b}"
    );
    for (body, field) in [
        (json!({"events": []}), "events"),
        (
            json!({"events": (0..1001).map(|i| json!({"meter": "queries", "quantity": 1, "idempotency_key": format!("k{i}")})).collect::<Vec<_>>()}),
            "events",
        ),
        (json!({"event": []}), "event"),
        (
            json!({"events": [{"meter": "queries", "idempotency_key": "k"}]}),
            "quantity",
        ),
    ] {
        let (s, b) = answer(app.post("/api/v1/events", &c.key, &body).await).await;
        assert_eq!((s, code(&b)), (400, "invalid_request"), "{b}");
        assert!(
            b["error"]["details"]["field"]
                .as_str()
                .unwrap()
                .contains(field),
            "{field}: {b}"
        );
    }
    let (s, b) = answer(app.post("/api/v1/events", &p, &event).await).await;
    assert_eq!(
        (s, b["error"]["details"]["field"].clone()),
        (400, json!("account")),
        "platform keys must name the account"
    );
    let res = app
        .http
        .post(app.url("/api/v1/events"))
        .bearer_auth(&c.key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(answer(res).await.0, 400);
    for (body, field) in [
        (json!({"feature": "nope"}), "feature"),
        (json!({"feature": "queries", "quantity": -1}), "quantity"),
        (
            json!({"feature": "queries", "consume": true}),
            "idempotency_key",
        ),
        (
            json!({"feature": "documents", "consume": true, "idempotency_key": "d"}),
            "consume",
        ),
    ] {
        let (s, b) = answer(app.post("/api/v1/check", &c.key, &body).await).await;
        assert_eq!(
            (s, code(&b), b["error"]["details"]["field"].as_str()),
            (400, "invalid_request", Some(field)),
            "{b}"
        );
    }

    // 413 payload_too_large.
    let huge = json!({"events": [{"meter": "queries", "quantity": 1, "idempotency_key": "k", "properties": {"blob": "x".repeat(2 * 1024 * 1024)}}]});
    let (s, b) = answer(app.post("/api/v1/events", &c.key, &huge).await).await;
    assert_eq!((s, code(&b)), (413, "payload_too_large"));

    // 409 idempotency_conflict.
    app.post("/api/v1/events", &c.key, &event).await;
    let changed = json!({"events": [{"meter": "queries", "quantity": 2, "idempotency_key": "k"}]});
    let (s, b) = answer(app.post("/api/v1/events", &c.key, &changed).await).await;
    assert_eq!((s, code(&b)), (409, "idempotency_conflict"));
    let (s, b) = answer(
        app.post(
            "/api/v1/check",
            &c.key,
            &json!({"feature": "queries", "consume": true, "idempotency_key": "k", "quantity": 3}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, code(&b)),
        (409, "idempotency_conflict"),
        "consume shares the event key space"
    );

    // 429 plan_limit_exceeded.
    app.queries(&c.key, "fill", 54).await;
    let (s, b) = answer(
        app.post(
            "/api/v1/check",
            &c.key,
            &json!({"feature": "queries", "consume": true, "idempotency_key": "over"}),
        )
        .await,
    )
    .await;
    assert_eq!((s, code(&b)), (429, "plan_limit_exceeded"));

    // 429 rate_limited with Retry-After.
    let mut status = 0;
    let mut retry = None;
    for _ in 0..40 {
        let res = app
            .post(
                "/api/v1/check",
                &c.key,
                &json!({"feature": "api_calls_per_minute"}),
            )
            .await;
        retry = res.headers().get("retry-after").cloned();
        let (s, b) = answer(res).await;
        status = s;
        if s == 429 {
            assert_eq!(code(&b), "rate_limited");
            break;
        }
    }
    assert_eq!(status, 429);
    assert!(retry.is_some());
}

/// The limits the OpenAPI document states are the ones the server applies, for a
/// check that does not consume as well.
#[sqlx::test(migrations = "../migrations")]
async fn a_check_refuses_an_idempotency_key_outside_the_documented_length(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(Some("free")).await;
    for key in [String::new(), "k".repeat(256)] {
        let (s, b) = answer(
            app.post(
                "/api/v1/check",
                &c.key,
                &json!({"feature": "queries", "idempotency_key": key}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (s, code(&b), b["error"]["details"]["field"].as_str()),
            (400, "invalid_request", Some("idempotency_key")),
            "{} characters",
            key.len()
        );
    }
    let (s, _) = answer(
        app.post(
            "/api/v1/check",
            &c.key,
            &json!({"feature": "queries", "idempotency_key": "k".repeat(255)}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);

    let doc: Value = app
        .http
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["ErrorDetail"]["required"],
        json!(["code", "message"]),
        "details is optional"
    );
    assert_eq!(
        (
            schemas["EventsRequest"]["properties"]["events"]["minItems"].as_u64(),
            schemas["EventsRequest"]["properties"]["events"]["maxItems"].as_u64()
        ),
        (Some(1), Some(1000))
    );
    assert_eq!(
        schemas["EventIn"]["properties"]["idempotency_key"]["maxLength"],
        255
    );
    let quantity = &schemas["EventIn"]["properties"]["quantity"]["oneOf"];
    assert!(
        quantity[0]["pattern"].is_string(),
        "a decimal string: {quantity}"
    );
    assert_eq!(
        quantity[1]["exclusiveMinimum"], 0,
        "or a positive number: {quantity}"
    );
    let meters = schemas["EventIn"]["properties"]["meter"]["enum"]
        .as_array()
        .expect("the catalog's meters");
    assert!(
        meters.contains(&json!("queries")) && !meters.contains(&json!("basic_chat")),
        "{meters:?}"
    );
    let features = schemas["CheckRequest"]["properties"]["feature"]["enum"]
        .as_array()
        .expect("meters and features");
    assert!(
        features.contains(&json!("queries")) && features.contains(&json!("basic_chat")),
        "{features:?}"
    );
}

/// A NUL character anywhere in a body is refused before it reaches PostgreSQL
/// (which cannot store it and failed the request with a 500); found by Schemathesis.
#[sqlx::test(migrations = "../migrations")]
async fn a_nul_character_is_a_bad_request_not_a_server_error(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let c = app.customer(Some("free")).await;
    for event in [
        json!({"meter": "queries", "quantity": 1, "idempotency_key": "n1", "properties": {"model": "a\u{0}b"}}),
        json!({"meter": "queries", "quantity": 1, "idempotency_key": "n\u{0}2"}),
    ] {
        let (s, b) = answer(
            app.post("/api/v1/events", &c.key, &json!({"events": [event]}))
                .await,
        )
        .await;
        assert_eq!((s, code(&b)), (400, "invalid_request"), "{b}");
    }
    assert_eq!(app.usage_of(&c.key, "queries").await, "0", "nothing stored");
    let platform = app.platform_key().await;
    let (s, b) = answer(app.get("/api/v1/usage?account=ext:a%00b", &platform).await).await;
    assert_eq!((s, code(&b)), (400, "invalid_request"), "{b}");
}
