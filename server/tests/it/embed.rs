//! Embeddable widgets: `POST /api/v1/embed_tokens` for platform keys and allowed
//! origins only; the widget pages framed by the token's origin alone, refused
//! (and not framable) with a bad, altered, expired or other widget's token; the
//! usage widget's stream moving with the account's usage.

use crate::support;

use serde_json::{json, Value};
use sqlx::PgPool;
use std::time::Duration;
use support::sse::Events;
use support::{answer, TestApp};

const ORIGIN: &str = "http://app.test:8080";

async fn app_allowing(pool: PgPool) -> TestApp {
    tollgate::service::catalog::load(&pool, "catalogs/emtchat.toml", support::EMTCHAT, &tollgate::service::Actor::Cli)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tollgate = support::services(pool, &listener).await;
    let cfg = tollgate_server::config::Config {
        embed_origins: Some(format!("https://other.test, {ORIGIN}")),
        ..Default::default()
    };
    support::serve_with_config(listener, tollgate, cfg).await
}

async fn token(app: &TestApp, key: &str, account: &str, widgets: Value) -> (u16, Value) {
    answer(
        app.post("/api/v1/embed_tokens", key, &json!({"account": account, "widgets": widgets, "origin": ORIGIN}))
            .await,
    )
    .await
}

async fn page(app: &TestApp, path: &str) -> reqwest::Response {
    app.http.get(app.url(path)).send().await.unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn tokens_are_for_platform_keys_and_allowed_origins(pool: PgPool) {
    let app = app_allowing(pool).await;
    let c = app.customer(Some("starter")).await;
    let platform = app.platform_key().await;
    let account = c.account_id.to_string();

    let (s, t) = token(&app, &platform, &account, json!(["usage", "pricing"])).await;
    assert_eq!(s, 200, "{t}");
    assert!(t["token"].as_str().unwrap().starts_with("tg_et_"));
    let expires: chrono::DateTime<chrono::Utc> = t["expires_at"].as_str().unwrap().parse().unwrap();
    let left = expires - chrono::Utc::now();
    assert!(left > chrono::Duration::minutes(14) && left <= chrono::Duration::minutes(15), "{left}");

    let (s, e) = token(&app, &c.key, &account, json!(["usage"])).await;
    assert_eq!((s, e["error"]["code"].clone()), (403, json!("forbidden")));
    for (body, field) in [
        (json!({"account": account, "widgets": ["usage"], "origin": "https://evil.test"}), "origin"),
        (json!({"account": account, "widgets": ["usage"], "origin": "not an origin"}), "origin"),
        (json!({"account": account, "widgets": ["chart"], "origin": ORIGIN}), "widgets"),
        (json!({"account": account, "widgets": [], "origin": ORIGIN}), "widgets"),
    ] {
        let (s, e) = answer(app.post("/api/v1/embed_tokens", &platform, &body).await).await;
        assert_eq!(s, 400, "{body} → {e}");
        assert_eq!(e["error"]["details"]["field"], field, "{body} → {e}");
    }
    let (s, _) = answer(
        app.post("/api/v1/embed_tokens", &platform, &json!({"account": "ext:nobody", "widgets": ["usage"], "origin": ORIGIN}))
            .await,
    )
    .await;
    assert_eq!(s, 404);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_widget_is_framed_by_its_origin_only_and_refused_without_a_good_token(pool: PgPool) {
    let app = app_allowing(pool).await;
    let c = app.customer(Some("starter")).await;
    assert_eq!(app.queries(&c.key, "w", 3).await.status(), 202);
    let platform = app.platform_key().await;
    let (_, t) = token(&app, &platform, &c.account_id.to_string(), json!(["usage"])).await;
    let usage_token = t["token"].as_str().unwrap().to_string();

    let res = page(&app, &format!("/embed/usage?token={usage_token}")).await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.ends_with(&format!("frame-ancestors {ORIGIN}")), "{csp}");
    assert!(!res.headers().contains_key("x-frame-options"), "X-Frame-Options would forbid the origin");
    let html = res.text().await.unwrap();
    assert!(html.contains("data-meter=\"queries\""), "{html}");
    assert!(html.contains("3 of "), "the usage so far: {html}");
    assert!(!html.contains("<script>"), "no inline script");

    // The usage token does not open the pricing table; an altered one nothing.
    let other = page(&app, &format!("/embed/pricing?token={usage_token}")).await;
    assert_eq!(other.status(), 401);
    assert_eq!(other.headers()["x-frame-options"], "DENY");
    let altered = format!("{}x", usage_token);
    assert_eq!(page(&app, &format!("/embed/usage?token={altered}")).await.status(), 401);
    assert_eq!(page(&app, "/embed/usage").await.status(), 401);
    assert_eq!(page(&app, "/embed/usage/live?token=tg_et_x.y").await.status(), 401);

    let (_, p) = token(&app, &platform, &c.account_id.to_string(), json!(["pricing"])).await;
    let pricing = page(&app, &format!("/embed/pricing?token={}", p["token"].as_str().unwrap())).await;
    assert_eq!(pricing.status(), 200);
    let html = pricing.text().await.unwrap();
    assert!(html.contains("data-plan=\"starter\" data-current=\"true\""), "the account's plan is marked: {html}");
    assert!(html.contains("data-plan=\"pro\""), "{html}");

    let script = page(&app, "/embed.js").await;
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_usage_widget_s_stream_moves_with_the_account_s_usage(pool: PgPool) {
    let app = app_allowing(pool).await;
    let c = app.customer(Some("starter")).await;
    let other = app.customer(Some("starter")).await;
    let platform = app.platform_key().await;
    let (_, t) = token(&app, &platform, &c.account_id.to_string(), json!(["usage"])).await;
    let res = page(&app, &format!("/embed/usage/live?token={}", t["token"].as_str().unwrap())).await;
    assert_eq!(res.status(), 200);
    let mut events = Events::new(res);
    let queries = |v: &Value| {
        v["meters"].as_array().unwrap().iter().find(|m| m["meter"] == "queries").unwrap()["used"].clone()
    };
    let (_, first) = events.next_frame(Duration::from_secs(5)).await;
    let first: Value = serde_json::from_str(&first).unwrap();
    assert!(queries(&first).as_str().unwrap().starts_with("0 of "), "{first}");
    // Another account's usage sends nothing; this account's moves the meter.
    assert_eq!(app.queries(&other.key, "o", 5).await.status(), 202);
    assert_eq!(app.queries(&c.key, "mine", 2).await.status(), 202);
    let (_, next) = events.next_frame(Duration::from_secs(5)).await;
    let next: Value = serde_json::from_str(&next).unwrap();
    assert!(queries(&next).as_str().unwrap().starts_with("2 of "), "{next}");
}
