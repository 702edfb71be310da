//! Live fan-out through PostgreSQL: a change accepted by one server process
//! reaches the live streams of another, a customer's and an admin's.

use crate::support;

use serde_json::Value;
use sqlx::PgPool;
use std::time::{Duration, Instant};
use support::admin::{log_in, super_admin};
use support::sse::Events;
use support::{spawn_app, spawn_on, PASSWORD};
use tollgate::identity::{Email, NewPassword, PersonName};
use tollgate::service::auth;
use uuid::Uuid;

fn meter<'a>(meters: &'a Value, key: &str) -> &'a Value {
    meters
        .as_array()
        .expect("meters")
        .iter()
        .find(|m| m["meter"] == key)
        .expect("the meter")
}

#[sqlx::test(migrations = "../migrations")]
async fn an_event_on_one_process_moves_the_stream_of_another_within_a_second(pool: PgPool) {
    let first = spawn_app(pool.clone()).await;
    let second = spawn_on(pool).await;
    let c = first.customer(Some("starter")).await;
    let cookie = log_in(&first, &c.email, PASSWORD).await;

    let res = first
        .http
        .get(first.url("/live/usage"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut events = Events::new(res);
    let initial = events.next_json().await;
    assert_eq!(initial["snapshot"]["plan"]["key"], "starter");

    // Wait for the second process's listener to be up before sending.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = Instant::now();
    assert_eq!(second.queries(&c.key, "live", 3).await.status(), 202);
    let update = events.next_json().await;
    let elapsed = sent.elapsed();
    assert_eq!(
        meter(&update["snapshot"]["meters"], "queries")["usage"],
        "3"
    );
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");

    // Logging out (from any tab) ends the stream at its next update.
    let out = first
        .http
        .post(first.url("/_fn/log_out"))
        .header("cookie", &cookie)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 302);
    assert_eq!(
        second.queries(&c.key, "after-logout", 1).await.status(),
        202
    );
    let (event, data) = events.next_frame(Duration::from_secs(5)).await;
    assert_eq!(
        (event.as_str(), data.as_str()),
        ("end", "signed out"),
        "no data after log-out"
    );

    // Signed out: no stream.
    let anonymous = first
        .http
        .get(first.url("/live/usage"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

/// `/admin/live/usage`: the board's first message holds the watched account as it
/// is; an event sent to another process moves it within a second, with the new
/// totals; an account not watched is not sent.
#[sqlx::test(migrations = "../migrations")]
async fn an_event_on_one_process_moves_the_admin_board_of_another_within_a_second(pool: PgPool) {
    let first = spawn_app(pool.clone()).await;
    let second = spawn_on(pool).await;
    let watched = first.customer(Some("starter")).await;
    let other = first.customer(Some("pro")).await;
    let cookie = super_admin(&first).await;

    let res = first
        .http
        .get(first.url(&format!(
            "/admin/live/usage?accounts={}",
            watched.account_id
        )))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut events = Events::new(res);
    let initial = events.next_json().await;
    assert_eq!(initial["accounts"].as_array().unwrap().len(), 1);
    assert_eq!(initial["accounts"][0]["plan_key"], "starter");
    assert_eq!(
        meter(&initial["accounts"][0]["meters"], "queries")["usage"],
        "0"
    );
    assert_eq!(initial["summary"]["accounts"], 2);

    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = Instant::now();
    assert_eq!(
        second.queries(&watched.key, "board", 450).await.status(),
        202
    );
    // Updates of the resync at the listener's start may come first.
    let update = loop {
        let u = events.next_json().await;
        if u["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| meter(&a["meters"], "queries")["usage"] != "0")
        {
            break u;
        }
    };
    let elapsed = sent.elapsed();
    let queries = meter(&update["accounts"][0]["meters"], "queries");
    assert_eq!(
        (queries["usage"].as_str(), queries["state"].as_str()),
        (Some("450"), Some("warning"))
    );
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    assert_eq!(
        meter(&update["summary"]["meters"], "queries")["usage"],
        "450"
    );
    assert_eq!(
        update["summary"]["near_limit"][0]["account_id"],
        watched.account_id.to_string()
    );

    // Another account's change brings the new totals but not its meters.
    assert_eq!(
        second.queries(&other.key, "board-other", 7).await.status(),
        202
    );
    let update = events.next_json().await;
    assert_eq!(update["accounts"].as_array().unwrap().len(), 0, "{update}");
    assert_eq!(
        meter(&update["summary"]["meters"], "queries")["usage"],
        "457"
    );
}

/// Who may open the admin stream, and its bounds: 401 signed out, 403 for a
/// customer, 400 for a malformed or too long account list, 429 past the streams
/// one user may hold.
#[sqlx::test(migrations = "../migrations")]
async fn the_admin_stream_is_a_super_admins_and_bounded(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(Some("starter")).await;
    let customer = log_in(&app, &c.email, PASSWORD).await;
    let admin = super_admin(&app).await;
    let get = |path: &str, cookie: Option<&str>| {
        let mut req = app.http.get(app.url(path));
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie.to_string());
        }
        req.send()
    };
    assert_eq!(get("/admin/live/usage", None).await.unwrap().status(), 401);
    assert_eq!(
        get("/admin/live/usage", Some(&customer))
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        get("/admin/live/usage?accounts=nope", Some(&admin))
            .await
            .unwrap()
            .status(),
        400
    );
    let many: Vec<String> = (0..101).map(|_| Uuid::now_v7().to_string()).collect();
    assert_eq!(
        get(
            &format!("/admin/live/usage?accounts={}", many.join(",")),
            Some(&admin)
        )
        .await
        .unwrap()
        .status(),
        400
    );

    let mut open = Vec::new();
    for _ in 0..tollgate::service::live::STREAMS_PER_USER {
        let res = get("/admin/live/usage", Some(&admin)).await.unwrap();
        assert_eq!(res.status(), 200);
        open.push(res);
    }
    assert_eq!(
        get("/admin/live/usage", Some(&admin))
            .await
            .unwrap()
            .status(),
        429,
        "one stream too many"
    );
    drop(open);
    // The server notices closed streams when it next writes to them; a fresh one
    // is accepted again once it has.
    let mut reopened = 0;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if get("/admin/live/usage", Some(&admin))
            .await
            .unwrap()
            .status()
            == 200
        {
            reopened += 1;
            break;
        }
    }
    assert_eq!(reopened, 1, "closed streams free their slots");
}

/// Seed 001 §1: an admin raises Starter's monthly limit to 1000 on one server
/// process; `/api/v1/check` on another answers with it within a second, for a
/// customer already on Starter.
#[sqlx::test(migrations = "../migrations")]
async fn a_limit_published_on_one_process_applies_on_another_within_a_second(pool: PgPool) {
    use tollgate::catalog::edit::EditInput;
    use tollgate::service::admin::plan_edits::{preview, publish};
    let first = spawn_app(pool.clone()).await;
    let second = spawn_on(pool).await;
    let c = first.customer(Some("starter")).await;
    let limit_on_second = async || -> Value {
        let (status, body) = support::answer(
            second
                .post(
                    "/api/v1/check",
                    &c.key,
                    &serde_json::json!({ "feature": "queries" }),
                )
                .await,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body["limit"].clone()
    };
    assert_eq!(limit_on_second().await, "500");

    let email = format!("ops-{}@test.example", Uuid::now_v7().simple());
    let admin = auth::sign_up(
        &first.tollgate.pool,
        &Email::parse(&email).unwrap(),
        &PersonName::parse("Ops").unwrap(),
        &NewPassword::parse(PASSWORD).unwrap(),
        true,
        None,
    )
    .await
    .unwrap();
    let actor = tollgate::service::Actor::User {
        id: admin.user_id,
        impersonator: None,
    };
    let input = EditInput {
        kind: "limit",
        plan: "starter",
        target: "queries",
        value: "1000",
        enforcement: "soft",
        grace_percent: "",
    };
    let preview = preview(&first.tollgate, &actor, &input).await.unwrap();
    assert_eq!(
        preview.changes,
        vec!["Starter · Queries: 500 soft → 1000 soft".to_string()]
    );
    assert_eq!(
        preview.reach,
        "Applies at once to the plan's 1 current subscriber, on every server."
    );
    tokio::time::sleep(Duration::from_millis(300)).await; // the second process's listener is up
    let sent = Instant::now();
    publish(&first.tollgate, &actor, &input, preview.base_version)
        .await
        .unwrap();
    loop {
        if limit_on_second().await == "1000" {
            break;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(1),
            "the second process still answers the old limit after {:?}",
            sent.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
