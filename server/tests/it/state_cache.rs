//! The in-process state cache behind `POST /api/v1/check` and key authentication
//! (src/service/state_cache.rs): it answers from memory, and every change the
//! database announces reaches it, whoever wrote it.

use crate::support::{answer, spawn_app, TestApp};
use serde_json::{json, Value};
use sqlx::PgPool;

async fn settle(app: &TestApp) {
    app.settle().await;
}

async fn check(app: &TestApp, key: &str) -> (u16, Value) {
    answer(
        app.post("/api/v1/check", key, &json!({"feature": "queries"}))
            .await,
    )
    .await
}

/// Sets the stored total behind a check with plain SQL and no notification, as
/// only a bypass of the services could: what the check answers afterwards tells
/// whether it read memory or the database.
async fn set_total_silently(pool: &PgPool, account: uuid::Uuid, value: i32) {
    let done = sqlx::query(
        "UPDATE usage_totals SET value = $2 WHERE account_id = $1 AND meter = 'queries'",
    )
    .bind(account)
    .bind(value)
    .execute(pool)
    .await
    .unwrap();
    assert_eq!(done.rows_affected(), 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_read_check_is_answered_from_memory_until_the_account_changes(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    settle(&app).await;
    let c = app.customer(Some("free")).await;
    assert_eq!(app.queries(&c.key, "a", 10).await.status(), 202);
    // The writes above announce themselves too (the plan, the key, the events); a
    // late announcement would rightly drop what the next check caches.
    settle(&app).await;
    assert_eq!(check(&app, &c.key).await.1["usage"], "10");

    set_total_silently(&pool, c.account_id, 30).await;
    assert_eq!(
        check(&app, &c.key).await.1["usage"],
        "10",
        "answered from memory: the silent write is not seen"
    );

    // The process's own writes are seen at once, without waiting for anything.
    assert_eq!(app.queries(&c.key, "b", 2).await.status(), 202);
    assert_eq!(check(&app, &c.key).await.1["usage"], "32");

    // Another writer's announced change: an override raising the limit, and a
    // plan change, each with plain SQL (the triggers announce them).
    sqlx::query("INSERT INTO entitlement_overrides (account_id, kind, key, value, reason, author) VALUES ($1, 'limit', 'queries', '{\"included\": \"500\"}', 'deal', 'sql')")
        .bind(c.account_id)
        .execute(&pool)
        .await
        .expect("override with the stored shape");
    settle(&app).await;
    assert_eq!(check(&app, &c.key).await.1["limit"], "500");

    sqlx::query("DELETE FROM entitlement_overrides WHERE account_id = $1")
        .bind(c.account_id)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE subscriptions SET plan_key = 'pro' WHERE account_id = $1")
        .bind(c.account_id)
        .execute(&pool)
        .await
        .unwrap();
    settle(&app).await;
    let (_, body) = check(&app, &c.key).await;
    assert_eq!(body["unlimited"], true, "{body}");

    // An announced usage change from elsewhere (another server process).
    set_total_silently(&pool, c.account_id, 40).await;
    tollgate::db::usage::notify_changed(&pool, &[c.account_id])
        .await
        .unwrap();
    settle(&app).await;
    assert_eq!(check(&app, &c.key).await.1["usage"], "40");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_revoked_key_is_refused_once_the_revocation_is_announced(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    settle(&app).await;
    let c = app.customer(Some("free")).await;
    let platform = app.platform_key().await;
    assert_eq!(check(&app, &c.key).await.0, 200);
    let usage = app.get("/api/v1/usage?account=ext:nobody", &platform).await;
    assert_eq!(usage.status(), 404, "the platform key works (cached now)");

    sqlx::query("UPDATE api_keys SET revoked_at = now()")
        .execute(&pool)
        .await
        .unwrap();
    settle(&app).await;
    assert_eq!(check(&app, &c.key).await.0, 401);
    let usage = app.get("/api/v1/usage?account=ext:nobody", &platform).await;
    assert_eq!(usage.status(), 401);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_lost_listener_connection_empties_the_cache(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    settle(&app).await;
    let c = app.customer(Some("free")).await;
    assert_eq!(app.queries(&c.key, "a", 10).await.status(), 202);
    assert_eq!(check(&app, &c.key).await.1["usage"], "10");

    // Cut the listener's connection and announce a change at once: its
    // notification may be lost while the listener reconnects. Listening again,
    // the cache starts from empty, so the change is seen either way.
    let cut = sqlx::query_scalar::<_, bool>(
        "SELECT bool_or(pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(cut, "the listener's connection was found");
    set_total_silently(&pool, c.account_id, 20).await;
    tollgate::db::usage::notify_changed(&pool, &[c.account_id])
        .await
        .unwrap();
    settle(&app).await;
    assert!(app.tollgate.cache.enabled(), "listening again");
    assert_eq!(check(&app, &c.key).await.1["usage"], "20");
    set_total_silently(&pool, c.account_id, 25).await;
    assert_eq!(
        check(&app, &c.key).await.1["usage"],
        "20",
        "and answers from memory again"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn consuming_checks_never_read_the_cache(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    settle(&app).await;
    let c = app.customer(Some("free")).await;
    assert_eq!(app.queries(&c.key, "a", 10).await.status(), 202);
    assert_eq!(check(&app, &c.key).await.1["usage"], "10");
    // Free blocks at 55: with 54 stored silently, one more fits and a second not.
    set_total_silently(&pool, c.account_id, 54).await;
    let consume =
        |k: &'static str| json!({"feature": "queries", "consume": true, "idempotency_key": k});
    let (status, body) = answer(app.post("/api/v1/check", &c.key, &consume("x")).await).await;
    assert_eq!((status, &body["usage"]), (200, &json!("54")), "{body}");
    let (status, _) = answer(app.post("/api/v1/check", &c.key, &consume("y")).await).await;
    assert_eq!(status, 429);
}
