//! `POST /api/v1/check`, `GET /api/v1/usage`, `GET /api/v1/entitlements` and the
//! OpenAPI document.

use crate::support;

use futures::future::join_all;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{answer, spawn_app};

#[sqlx::test(migrations = "../migrations")]
async fn twenty_parallel_consumes_for_the_last_unit_allow_exactly_one(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let c = app.customer(Some("free")).await;
    // Free: 50 included, hard, 10 % grace: blocks at 55. Use 54 first.
    assert_eq!(app.queries(&c.key, "pre", 54).await.status(), 202);
    let calls = (0..20).map(|i| {
        let app = &app;
        let key = c.key.clone();
        async move { answer(app.post("/api/v1/check", &key, &json!({"feature": "queries", "consume": true, "idempotency_key": format!("last-{i}")})).await).await }
    });
    let answers = join_all(calls).await;
    let allowed = answers.iter().filter(|(s, _)| *s == 200).count();
    let refused = answers
        .iter()
        .filter(|(s, b)| *s == 429 && b["error"]["code"] == "plan_limit_exceeded")
        .count();
    assert_eq!((allowed, refused), (1, 19), "{answers:?}");
    assert_eq!(app.usage_of(&c.key, "queries").await, "55");
    let (_, refusal) = answers.iter().find(|(s, _)| *s == 429).unwrap();
    assert_eq!(refusal["error"]["details"]["state"], "blocked");
    assert_eq!(refusal["error"]["details"]["blocks_at"], "55");
}

#[sqlx::test(migrations = "../migrations")]
async fn free_plan_scenario_from_catalogs_md(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(Some("free")).await;
    app.queries(&c.key, "q", 40).await;
    let (status, body) = answer(
        app.post("/api/v1/check", &c.key, &json!({"feature": "queries"}))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["state"], "warning");
    assert_eq!(body["usage"], "40");
    assert_eq!(body["limit"], "50");
    assert_eq!(body["remaining"], "10");
    assert_eq!(body["percent"], 80.0);
    assert_eq!(body["unlimited"], false);
    assert_eq!(body["enforcement"], "hard");
    assert_eq!(body["blocks_at"], "55");
    assert!(body["upgrade_url"].as_str().unwrap().ends_with("/pricing"));
    assert!(body["period_start"].as_str().is_some() && body["period_end"].as_str().is_some());

    app.queries(&c.key, "r", 10).await; // 50
    let (_, body) = answer(
        app.post("/api/v1/check", &c.key, &json!({"feature": "queries"}))
            .await,
    )
    .await;
    assert_eq!(
        (body["state"].clone(), body["allowed"].clone()),
        (json!("limit_reached"), json!(true))
    );
    // consuming the 51st…55th is allowed, the 56th is not
    for i in 51..=55 {
        let (s, b) = answer(
            app.post(
                "/api/v1/check",
                &c.key,
                &json!({"feature": "queries", "consume": true, "idempotency_key": format!("n{i}")}),
            )
            .await,
        )
        .await;
        assert_eq!(
            (s, b["allowed"].clone()),
            (200, json!(true)),
            "query {i}: {b}"
        );
    }
    let (s, b) = answer(
        app.post(
            "/api/v1/check",
            &c.key,
            &json!({"feature": "queries", "consume": true, "idempotency_key": "n56"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 429, "{b}");
    // Repeating an accepted consume is a duplicate, not a second unit.
    let (s, b) = answer(
        app.post(
            "/api/v1/check",
            &c.key,
            &json!({"feature": "queries", "consume": true, "idempotency_key": "n55"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, b["allowed"].clone(), b["duplicate"].clone()),
        (200, json!(true), json!(true)),
        "{b}"
    );
    assert_eq!(app.usage_of(&c.key, "queries").await, "55");
}

#[sqlx::test(migrations = "../migrations")]
async fn starter_is_soft_and_pro_is_unlimited(pool: PgPool) {
    let app = spawn_app(pool).await;
    let starter = app.customer(Some("starter")).await;
    app.queries(&starter.key, "s", 501).await;
    let (_, b) = answer(
        app.post(
            "/api/v1/check",
            &starter.key,
            &json!({"feature": "queries"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (
            b["state"].clone(),
            b["allowed"].clone(),
            b["blocks_at"].clone()
        ),
        (json!("limit_reached"), json!(true), Value::Null)
    );
    let (s, _) = answer(
        app.post(
            "/api/v1/check",
            &starter.key,
            &json!({"feature": "queries", "consume": true, "idempotency_key": "soft"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "a soft limit never blocks");

    let pro = app.customer(Some("pro")).await;
    app.queries(&pro.key, "p", 900).await;
    let (_, b) = answer(
        app.post(
            "/api/v1/check",
            &pro.key,
            &json!({"feature": "queries", "quantity": 5}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (
            b["state"].clone(),
            b["unlimited"].clone(),
            b["limit"].clone(),
            b["percent"].clone()
        ),
        (json!("ok"), json!(true), Value::Null, Value::Null)
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn features_rates_and_accounts_without_a_plan(pool: PgPool) {
    let app = spawn_app(pool).await;
    let free = app.customer(Some("free")).await;
    let (_, b) = answer(
        app.post(
            "/api/v1/check",
            &free.key,
            &json!({"feature": "basic_chat"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        b,
        json!({"feature": "basic_chat", "allowed": true, "value": true})
    );
    let (_, b) = answer(
        app.post(
            "/api/v1/check",
            &free.key,
            &json!({"feature": "sso_enabled"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        b,
        json!({"feature": "sso_enabled", "allowed": false, "value": null})
    );
    let (_, b) = answer(
        app.post(
            "/api/v1/check",
            &free.key,
            &json!({"feature": "support_level"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        b,
        json!({"feature": "support_level", "allowed": true, "value": "community"})
    );

    // Free allows 30 API calls a minute: the 31st is refused with Retry-After.
    let mut last = None;
    for _ in 0..31 {
        last = Some(
            app.post(
                "/api/v1/check",
                &free.key,
                &json!({"feature": "api_calls_per_minute"}),
            )
            .await,
        );
    }
    let last = last.unwrap();
    let retry_after: u64 = last.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    let (s, b) = answer(last).await;
    assert_eq!(
        (s, b["error"]["code"].clone()),
        (429, json!("rate_limited"))
    );

    // More calls than a window holds can never pass: a bad request, not a wait.
    let (s, b) = answer(
        app.post(
            "/api/v1/check",
            &free.key,
            &json!({"feature": "api_calls_per_minute", "quantity": 31}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, b["error"]["details"]["field"].clone()),
        (400, json!("quantity"))
    );

    // Without a plan nothing is granted.
    let none = app.customer(None).await;
    let (s, b) = answer(
        app.post("/api/v1/check", &none.key, &json!({"feature": "queries"}))
            .await,
    )
    .await;
    assert_eq!(
        (
            s,
            b["allowed"].clone(),
            b["state"].clone(),
            b["limit"].clone()
        ),
        (200, json!(false), json!("blocked"), json!("0"))
    );
    let (s, b) = answer(
        app.post(
            "/api/v1/check",
            &none.key,
            &json!({"feature": "api_calls_per_minute"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, b),
        (
            200,
            json!({"feature": "api_calls_per_minute", "allowed": false, "value": null})
        )
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn usage_and_entitlements_report_the_plan(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(Some("starter")).await;
    app.queries(&c.key, "q", 420).await;
    let (s, u) = answer(app.get("/api/v1/usage", &c.key).await).await;
    assert_eq!(s, 200);
    assert_eq!(u["account"], c.account_id.to_string());
    assert_eq!(u["plan"], "starter");
    assert_eq!(u["status"], "trialing");
    let q = u["meters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["meter"] == "queries")
        .unwrap();
    assert_eq!(
        (
            q["usage"].clone(),
            q["limit"].clone(),
            q["percent"].clone(),
            q["state"].clone()
        ),
        (json!("420"), json!("500"), json!(84.0), json!("warning"))
    );
    assert!(q["projected"].as_str().unwrap().parse::<f64>().unwrap() >= 420.0);
    assert!(u["days_remaining"].as_i64().unwrap() >= 28);

    let (s, e) = answer(app.get("/api/v1/entitlements", &c.key).await).await;
    assert_eq!(s, 200);
    assert_eq!(e["plan"], "starter");
    assert_eq!(e["features"]["support_level"], "email");
    assert_eq!(e["features"]["sso_enabled"], false);
    assert_eq!(e["features"]["api_calls_per_minute"], 60);
    assert_eq!(
        e["meters"]["queries"],
        json!({"limit": "500", "enforcement": "soft", "blocks_at": null})
    );
    assert_eq!(e["meters"]["tokens"]["limit"], Value::Null);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_openapi_document_describes_every_route(pool: PgPool) {
    let app = spawn_app(pool).await;
    let doc: Value = app
        .http
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/events",
        "/api/v1/check",
        "/api/v1/usage",
        "/api/v1/entitlements",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["components"]["schemas"]["EventIn"]["properties"]["idempotency_key"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

/// An enterprise limit raise (seed 002) applies to check, usage, entitlements and
/// thresholds until it expires; then the plan's limit is back.
#[sqlx::test(migrations = "../migrations")]
async fn an_override_raises_a_limit_everywhere_until_it_expires(pool: PgPool) {
    use tollgate::overrides::Input;
    use tollgate::service::admin::overrides;
    use tollgate::service::Actor;
    let app = spawn_app(pool.clone()).await;
    let c = app.customer(Some("free")).await; // queries: 50 included, hard, 10 % grace
    let raise = Input {
        kind: "limit",
        key: "queries",
        included: "1000",
        ..Input::default()
    };
    overrides::set(
        &app.tollgate,
        &Actor::Cli,
        c.account_id,
        &raise,
        "Enterprise deal #42",
        None,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(app.queries(&c.key, "q", 60).await.status(), 202);

    let (status, body) = answer(
        app.post("/api/v1/check", &c.key, &json!({"feature": "queries"}))
            .await,
    )
    .await;
    assert_eq!(
        (
            status,
            body["limit"].clone(),
            body["blocks_at"].clone(),
            body["state"].clone()
        ),
        (200, json!("1000"), json!("1100"), json!("ok")),
        "{body}"
    );
    let (status, body) = answer(
        app.post(
            "/api/v1/check",
            &c.key,
            &json!({"feature": "queries", "consume": true, "idempotency_key": "over-plan"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["allowed"].clone()),
        (200, json!(true)),
        "the plan would refuse the 61st: {body}"
    );
    let usage: Value = app.get("/api/v1/usage", &c.key).await.json().await.unwrap();
    let queries = usage["meters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["meter"] == "queries")
        .unwrap()
        .clone();
    assert_eq!(queries["limit"], "1000", "{queries}");
    let (_, ent) = answer(app.get("/api/v1/entitlements", &c.key).await).await;
    assert_eq!(
        (
            ent["meters"]["queries"]["limit"].clone(),
            ent["meters"]["queries"]["blocks_at"].clone()
        ),
        (json!("1000"), json!("1100")),
        "{ent}"
    );
    // 61 of 1000 is 6 %: no threshold of the plan's 50 was crossed.
    let crossings: i64 =
        sqlx::query_scalar("SELECT count(*) FROM threshold_crossings WHERE account_id = $1")
            .bind(c.account_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(crossings, 0);

    // The deal expires: the plan's limit applies again (61 is past its 55).
    sqlx::query("UPDATE entitlement_overrides SET expires_at = now() - interval '1 second' WHERE account_id = $1").bind(c.account_id).execute(&pool).await.unwrap();
    let (_, body) = answer(
        app.post("/api/v1/check", &c.key, &json!({"feature": "queries"}))
            .await,
    )
    .await;
    assert_eq!(
        (
            body["limit"].clone(),
            body["state"].clone(),
            body["allowed"].clone()
        ),
        (json!("50"), json!("blocked"), json!(false)),
        "{body}"
    );
    let (_, ent) = answer(app.get("/api/v1/entitlements", &c.key).await).await;
    assert_eq!(ent["meters"]["queries"]["limit"], "50");
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'entitlement_override.set' AND account_id = $1")
        .bind(c.account_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(audited, 1);
}

/// Seed 001: the LLM provider per client. The chatbot platform's starter plan says
/// `claude`; this client's override says `openai`, until it is removed.
#[sqlx::test(migrations = "../migrations")]
async fn an_llm_provider_override_is_what_check_and_entitlements_answer(pool: PgPool) {
    use tollgate::overrides::Input;
    use tollgate::service::admin::overrides;
    use tollgate::service::{catalog, Actor, Error};
    let text = include_str!("../../../catalogs/chatbot-platform.toml");
    catalog::load(&pool, "catalogs/chatbot-platform.toml", text, &Actor::Cli)
        .await
        .unwrap();
    let app = support::spawn_on(pool.clone()).await;
    let c = app.customer(Some("starter")).await;
    let provider = |body: &Value| body["value"].clone();
    let (_, body) = answer(
        app.post("/api/v1/check", &c.key, &json!({"feature": "llm_provider"}))
            .await,
    )
    .await;
    assert_eq!(provider(&body), json!("claude"), "{body}");

    let openai = Input {
        kind: "feature",
        key: "llm_provider",
        value: "openai",
        ..Input::default()
    };
    overrides::set(
        &app.tollgate,
        &Actor::Cli,
        c.account_id,
        &openai,
        "Client contract asks for OpenAI",
        None,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let (_, body) = answer(
        app.post("/api/v1/check", &c.key, &json!({"feature": "llm_provider"}))
            .await,
    )
    .await;
    assert_eq!(
        (provider(&body), body["allowed"].clone()),
        (json!("openai"), json!(true)),
        "{body}"
    );
    let (_, ent) = answer(app.get("/api/v1/entitlements", &c.key).await).await;
    assert_eq!(ent["features"]["llm_provider"], "openai");

    // Bad input changes nothing.
    let bad = Input {
        kind: "feature",
        key: "llm_provider",
        value: "skynet",
        ..Input::default()
    };
    let refused = overrides::set(
        &app.tollgate,
        &Actor::Cli,
        c.account_id,
        &bad,
        "typo",
        None,
        chrono::Utc::now(),
    )
    .await;
    assert!(
        matches!(refused, Err(Error::Invalid { ref field, .. }) if field == "value"),
        "{refused:?}"
    );
    let blank = overrides::set(
        &app.tollgate,
        &Actor::Cli,
        c.account_id,
        &openai,
        "  ",
        None,
        chrono::Utc::now(),
    )
    .await;
    assert!(
        matches!(blank, Err(Error::Invalid { ref field, .. }) if field == "reason"),
        "{blank:?}"
    );
    let customer = Actor::User {
        id: c.user_id,
        impersonator: None,
    };
    assert!(matches!(
        overrides::set(
            &app.tollgate,
            &customer,
            c.account_id,
            &openai,
            "mine",
            None,
            chrono::Utc::now()
        )
        .await,
        Err(Error::Forbidden(_))
    ));

    overrides::remove(
        &app.tollgate,
        &Actor::Cli,
        c.account_id,
        "feature",
        "llm_provider",
    )
    .await
    .unwrap();
    let (_, ent) = answer(app.get("/api/v1/entitlements", &c.key).await).await;
    assert_eq!(
        ent["features"]["llm_provider"], "claude",
        "the plan's value is back"
    );
}
