//! `POST /api/v1/estimate`: a plan's invoice for a given usage, and its refusals.

use crate::support;

use serde_json::{json, Value};
use sqlx::PgPool;
use support::{answer, spawn_app};

fn field(body: &Value) -> (&str, &str) {
    (
        body["error"]["code"].as_str().unwrap_or_default(),
        body["error"]["details"]["field"]
            .as_str()
            .unwrap_or_default(),
    )
}

#[sqlx::test(migrations = "../migrations")]
async fn a_plan_is_priced_for_a_period_and_bad_requests_name_their_field(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(Some("free")).await;

    let (status, body) = answer(
        app.post(
            "/api/v1/estimate",
            &c.key,
            &json!({"plan": "pro", "interval": "year", "usage": {"queries": "120"}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"currency": "USD", "lines": [{"description": "Pro, yearly", "amount": "490.00"}], "total": "490.00"})
    );
    let (status, body) = answer(
        app.post("/api/v1/estimate", &c.key, &json!({"plan": "starter"}))
            .await,
    )
    .await;
    assert_eq!(
        (status, body["total"].as_str()),
        (200, Some("19.00")),
        "monthly by default"
    );

    let res = app
        .http
        .post(app.url("/api/v1/estimate"))
        .json(&json!({"plan": "pro"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer(res).await.0, 401, "a key is required");

    for (request, want) in [
        (json!({"plan": "platinum"}), "plan"),
        (json!({"plan": "pro", "interval": "week"}), "interval"),
        (json!({"plan": "pro", "seats": 0}), "seats"),
        (json!({"plan": "pro", "seats": 100_001}), "seats"),
        (
            json!({"plan": "pro", "usage": {"queries": "-1"}}),
            "usage.queries",
        ),
        (
            json!({"plan": "pro", "usage": {"queries": "1e3"}}),
            "usage.queries",
        ),
        (
            json!({"plan": "pro", "usage": {"queries": "1000000000001"}}),
            "usage.queries",
        ),
        (
            json!({"plan": "pro", "usage": {"not_a_meter": "1"}}),
            "usage.not_a_meter",
        ),
        (
            json!({"plan": "pro", "usage": {"queries": 5}}),
            "usage.queries",
        ),
        (json!({"plan": "pro", "coupon": "half"}), "coupon"),
    ] {
        let (status, body) = answer(app.post("/api/v1/estimate", &c.key, &request).await).await;
        assert_eq!(
            (status, field(&body)),
            (400, ("invalid_request", want)),
            "{request} → {body}"
        );
    }
}
