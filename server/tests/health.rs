//! `/healthz`, `/readyz`, `/metrics`.

mod support;

use sqlx::PgPool;
use support::spawn_app;

#[sqlx::test(migrations = "../migrations")]
async fn health_readiness_and_metrics(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let c = app.customer(Some("pro")).await;
    assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().text().await.unwrap(), "ok");
    assert_eq!(app.http.get(app.url("/readyz")).send().await.unwrap().status(), 200);
    app.queries(&c.key, "m", 2).await;
    let res = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = res.text().await.unwrap();
    assert!(text.contains("tollgate_http_requests_total{method=\"POST\",route=\"/api/v1/events\",status=\"202\"}"), "{text}");
    assert!(text.contains("tollgate_events_accepted_total"), "{text}");
    assert!(text.contains("tollgate_http_request_duration_seconds_bucket"), "{text}");

    // Without a database the process is alive but not ready.
    pool.close().await;
    assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(app.http.get(app.url("/readyz")).send().await.unwrap().status(), 503);
}
