//! `/healthz`, `/readyz`, `/metrics`.

use crate::support;

use sqlx::PgPool;
use support::spawn_app;

#[sqlx::test(migrations = "../migrations")]
async fn health_readiness_and_metrics(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let c = app.customer(Some("pro")).await;
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    assert_eq!(
        app.http
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.queries(&c.key, "m", 2).await;
    let res = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = res.text().await.unwrap();
    assert!(
        text.contains(
            "tollgate_http_requests_total{method=\"POST\",route=\"/api/v1/events\",status=\"202\"}"
        ),
        "{text}"
    );
    assert!(text.contains("tollgate_events_accepted_total"), "{text}");
    assert!(
        text.contains("tollgate_http_request_duration_seconds_bucket"),
        "{text}"
    );

    // A client inventing methods makes no new series.
    let brew = reqwest::Method::from_bytes(b"BREW").unwrap();
    app.http
        .request(brew, app.url("/api/v1/usage"))
        .send()
        .await
        .unwrap();
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !text.contains("BREW") && text.contains("method=\"other\""),
        "{text}"
    );

    // Without a database the process is alive but not ready.
    pool.close().await;
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.http
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
}

/// Issue 12: with a token configured, `/metrics` needs it.
#[sqlx::test(migrations = "../migrations")]
async fn metrics_need_the_configured_token(pool: PgPool) {
    tollgate::service::catalog::load(
        &pool,
        "catalogs/emtchat.toml",
        support::EMTCHAT,
        &tollgate::service::Actor::Cli,
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tollgate = support::services(pool, &listener).await;
    let cfg = tollgate_server::config::Config {
        metrics_token: Some("scrape-me".into()),
        ..Default::default()
    };
    let app = support::serve_with_config(listener, tollgate, cfg).await;
    assert_eq!(
        app.http
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        app.http
            .get(app.url("/metrics"))
            .bearer_auth("scrape-you")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let res = app
        .http
        .get(app.url("/metrics"))
        .bearer_auth("scrape-me")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
