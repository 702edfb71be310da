//! Impersonation over HTTP: the session rotates on start and stop, the user's view
//! with the banner's data, changes audited with both ids, the 60-minute expiry,
//! log-out, and the admin losing their powers.

use crate::support;

use reqwest::header::LOCATION;
use serde_json::Value;
use sqlx::PgPool;
use support::admin::{call, fn_outcome, log_in, session_cookie, Outcome};
use support::{spawn_app, TestApp, PASSWORD};
use tollgate::identity::{Email, NewPassword, PersonName};
use tollgate::service::{auth, Actor};
use uuid::Uuid;

async fn admin(app: &TestApp) -> (Uuid, String) {
    let email = format!("admin-{}@test.example", Uuid::now_v7().simple());
    let u = auth::sign_up(
        &app.tollgate.pool,
        &Email::parse(&email).unwrap(),
        &PersonName::parse("Ada Admin").unwrap(),
        &NewPassword::parse(PASSWORD).unwrap(),
        true,
        Some(&Actor::Cli),
    )
    .await
    .unwrap();
    (u.user_id, email)
}

async fn viewer(app: &TestApp, cookie: &str) -> Value {
    let res = call(app, "viewer", Some(cookie), &[]).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn start(app: &TestApp, cookie: &str, user: Uuid) -> String {
    let res = call(
        app,
        "admin_impersonate",
        Some(cookie),
        &[
            ("id", user.to_string()),
            ("reason", "Support ticket 7".into()),
        ],
    )
    .await;
    let rotated = session_cookie(&res).expect("a new session id");
    assert_eq!(fn_outcome(res).await.0, Outcome::Allowed);
    rotated
}

async fn last_audit(app: &TestApp, action: &str) -> (Option<Uuid>, Option<Uuid>, Value) {
    sqlx::query_as("SELECT actor_user_id, impersonator_user_id, details FROM audit_log WHERE action = $1 ORDER BY id DESC LIMIT 1")
        .bind(action)
        .fetch_one(&app.tollgate.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn impersonating_shows_the_user_audits_both_and_stops(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (admin_id, admin_email) = admin(&app).await;
    let c = app.customer(Some("starter")).await;
    let first = log_in(&app, &admin_email, PASSWORD).await;
    let me = viewer(&app, &first).await;
    assert_eq!(
        (me["super_admin"].as_bool(), me["impersonator"].is_null()),
        (Some(true), true)
    );

    let imp = start(&app, &first, c.user_id).await;
    assert_ne!(imp, first);
    assert!(
        viewer(&app, &first).await.is_null(),
        "the pre-impersonation session id is dead"
    );
    let v = viewer(&app, &imp).await;
    assert_eq!(v["email"], c.email.as_str());
    assert_eq!(v["impersonator"], admin_email.as_str());
    assert_eq!(
        v["super_admin"], false,
        "no admin powers while impersonating"
    );
    let (actor, by, details) = last_audit(&app, "impersonation.started").await;
    assert_eq!(
        (actor, by, details["reason"].as_str()),
        (Some(c.user_id), Some(admin_id), Some("Support ticket 7"))
    );

    // No new credentials in the customer's name (issue 12)...
    let (outcome, body) = fn_outcome(
        call(
            &app,
            "api_key_create",
            Some(&imp),
            &[("name", "made by support".into())],
        )
        .await,
    )
    .await;
    assert!(
        outcome == Outcome::Other(422)
            && body.contains("While impersonating you cannot create API keys"),
        "{outcome:?} {body}"
    );
    // ...but a change made meanwhile is the user's, with the admin as impersonator.
    let spare = tollgate::service::keys::create_account_key(
        &app.tollgate.pool,
        c.account_id,
        "spare",
        &tollgate::service::Actor::Cli,
    )
    .await
    .unwrap();
    let (outcome, body) = fn_outcome(
        call(
            &app,
            "api_key_revoke",
            Some(&imp),
            &[("id", spare.key.id.to_string())],
        )
        .await,
    )
    .await;
    assert_eq!(outcome, Outcome::Allowed, "{body}");
    let (actor, by, _) = last_audit(&app, "api_key.revoked").await;
    assert_eq!((actor, by), (Some(c.user_id), Some(admin_id)));

    // Stop, as a browser without JavaScript: back to the admin, new id, the user's page.
    let res = app
        .http
        .post(app.url("/_fn/impersonation_stop"))
        .header("accept", "text/html")
        .header("cookie", &imp)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()[LOCATION],
        format!("/admin/users/{}", c.user_id).as_str()
    );
    let back = session_cookie(&res).expect("a new session id on stop");
    assert_ne!(back, imp);
    let v = viewer(&app, &back).await;
    assert_eq!(
        (v["email"].as_str(), v["super_admin"].as_bool()),
        (Some(admin_email.as_str()), Some(true))
    );
    assert!(v["impersonator"].is_null());
    let (actor, by, details) = last_audit(&app, "impersonation.stopped").await;
    assert_eq!(
        (actor, by, details["how"].as_str()),
        (Some(c.user_id), Some(admin_id), Some("stop"))
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_impersonation_ends_after_an_hour_on_the_next_request(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (admin_id, admin_email) = admin(&app).await;
    let c = app.customer(Some("starter")).await;
    let imp = start(&app, &log_in(&app, &admin_email, PASSWORD).await, c.user_id).await;
    let started = (chrono::Utc::now() - chrono::Duration::minutes(61)).to_rfc3339();
    let moved = sqlx::query("UPDATE sessions SET data = jsonb_set(data, '{impersonation,started_at}', to_jsonb($1::text)) WHERE user_id = $2 AND data ? 'impersonation'")
        .bind(&started)
        .bind(admin_id)
        .execute(&app.tollgate.pool)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(moved, 1);
    let res = call(&app, "viewer", Some(&imp), &[]).await;
    let rotated = session_cookie(&res).expect("the id rotates when it ends");
    let v: Value = res.json().await.unwrap();
    assert_eq!(
        (v["email"].as_str(), v["impersonator"].is_null()),
        (Some(admin_email.as_str()), true),
        "back to the admin"
    );
    let (actor, by, _) = last_audit(&app, "impersonation.expired").await;
    assert_eq!((actor, by), (Some(c.user_id), Some(admin_id)));
    assert_eq!(viewer(&app, &rotated).await["email"], admin_email.as_str());
}

#[sqlx::test(migrations = "../migrations")]
async fn log_out_or_losing_admin_powers_ends_it(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (admin_id, admin_email) = admin(&app).await;
    let c = app.customer(Some("starter")).await;

    let imp = start(&app, &log_in(&app, &admin_email, PASSWORD).await, c.user_id).await;
    assert_eq!(
        fn_outcome(call(&app, "log_out", Some(&imp), &[]).await)
            .await
            .0,
        Outcome::Allowed
    );
    assert!(
        viewer(&app, &imp).await.is_null(),
        "the whole session ended"
    );
    let (_, by, details) = last_audit(&app, "impersonation.stopped").await;
    assert_eq!(
        (by, details["how"].as_str()),
        (Some(admin_id), Some("log_out"))
    );

    // The admin is demoted meanwhile: the impersonation ends, and no powers remain.
    let imp = start(&app, &log_in(&app, &admin_email, PASSWORD).await, c.user_id).await;
    sqlx::query("UPDATE users SET is_super_admin = false WHERE id = $1")
        .bind(admin_id)
        .execute(&app.tollgate.pool)
        .await
        .unwrap();
    let v = viewer(&app, &imp).await;
    assert_eq!(
        (v["email"].as_str(), v["super_admin"].as_bool()),
        (Some(admin_email.as_str()), Some(false))
    );
    assert_eq!(
        last_audit(&app, "impersonation.ended").await.1,
        Some(admin_id)
    );

    // The impersonated user is disabled: the admin's session goes back to the admin.
    sqlx::query("UPDATE users SET is_super_admin = true WHERE id = $1")
        .bind(admin_id)
        .execute(&app.tollgate.pool)
        .await
        .unwrap();
    let other = app.customer(Some("starter")).await;
    let imp = start(
        &app,
        &log_in(&app, &admin_email, PASSWORD).await,
        other.user_id,
    )
    .await;
    tollgate::service::admin::users::disable(
        &app.tollgate.pool,
        &Actor::user(admin_id),
        other.user_id,
    )
    .await
    .unwrap();
    assert_eq!(viewer(&app, &imp).await["email"], admin_email.as_str());
}

/// The live meters work while impersonating: the stream belongs to the admin's
/// session but shows the user's account, and keeps updating (it used to end at
/// the first change because the session's user is the admin).
#[sqlx::test(migrations = "../migrations")]
async fn the_live_meters_move_while_impersonating(pool: PgPool) {
    use futures::StreamExt;
    use std::time::Duration;
    let app = spawn_app(pool).await;
    let (_, admin_email) = admin(&app).await;
    let user = app.customer(Some("starter")).await;
    let cookie = start(
        &app,
        &log_in(&app, &admin_email, PASSWORD).await,
        user.user_id,
    )
    .await;
    let res = app
        .http
        .get(app.url("/live/usage"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut stream = res.bytes_stream();
    let mut seen = String::new();
    let mut read_until = async |needle: &str| {
        tokio::time::timeout(Duration::from_secs(5), async {
            while !seen.contains(needle) && !seen.contains("event: end") {
                let chunk = stream.next().await.expect("the stream stays open").unwrap();
                seen.push_str(std::str::from_utf8(&chunk).unwrap());
            }
        })
        .await
        .expect("an update in time");
        seen.clone()
    };
    assert!(read_until("\"snapshot\"").await.contains("\"snapshot\""));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.queries(&user.key, "imp-live", 2).await.status(), 202);
    let after = read_until("\"usage\":\"2\"").await;
    assert!(
        after.contains("\"usage\":\"2\"") && !after.contains("event: end"),
        "{after}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_live_stream_opened_while_impersonating_ends_when_it_stops(pool: PgPool) {
    let app = spawn_app(pool).await;
    let (_, admin_email) = admin(&app).await;
    let c = app.customer(Some("starter")).await;
    let cookie = log_in(&app, &admin_email, PASSWORD).await;
    let imp = start(&app, &cookie, c.user_id).await;
    let res = app
        .http
        .get(app.url("/live/usage"))
        .header("cookie", &imp)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut events = support::sse::Events::new(res);
    assert_eq!(
        events.next_json().await["snapshot"]["plan"]["key"],
        "starter",
        "the customer's data"
    );

    let stopped = call(&app, "impersonation_stop", Some(&imp), &[]).await;
    assert!(
        stopped.status().is_redirection() || stopped.status() == 200,
        "{}",
        stopped.status()
    );
    // No usage changes: the stop itself ends the stream, at once.
    let (event, data) = events.next_frame(std::time::Duration::from_secs(3)).await;
    assert_eq!((event.as_str(), data.as_str()), ("end", "signed out"));
}
