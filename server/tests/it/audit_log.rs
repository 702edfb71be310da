//! The audit log records the client address of the request that made a change.

use crate::support;

use reqwest::header::COOKIE;
use sqlx::PgPool;
use support::{spawn_app, PASSWORD};

#[sqlx::test(migrations = "../migrations")]
async fn a_change_made_over_http_records_the_client_address(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let c = app.customer(None).await;
    let cookie = support::admin::log_in(&app, &c.email, PASSWORD).await;
    let res = app
        .http
        .post(app.url("/_fn/api_key_create"))
        .header(COOKIE, &cookie)
        .form(&[("name", "from the page")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT actor_kind, host(ip) FROM audit_log WHERE action = 'api_key.created' AND account_id = $1 ORDER BY occurred_at, id",
    )
    .bind(c.account_id)
    .fetch_all(&pool)
    .await
    .unwrap();
    // The test's own key came from a service call (no request, no address); the
    // page's key from 127.0.0.1.
    assert_eq!(
        rows,
        vec![
            ("cli".to_string(), None),
            ("user".to_string(), Some("127.0.0.1".to_string()))
        ]
    );
}
