//! Outgoing webhooks (issue 14): `/api/v1/webhook_endpoints`, deliveries signed
//! so that Standard Webhooks' own library verifies them, retries and disabling,
//! the SSRF guard, replay, and the events that changes cause.

use crate::support::webhooks::{deliver, settings, verify_with_standard_library, Receiver};
use crate::support::{self, answer, TestApp};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;
use tollgate::period::Interval;
use tollgate::service::{catalog, plans, Actor};
use uuid::Uuid;

/// A server whose webhooks may go to 127.0.0.1 (where the receivers listen).
async fn app(pool: PgPool) -> TestApp {
    catalog::load(&pool, "catalogs/emtchat.toml", support::EMTCHAT, &Actor::Cli)
        .await
        .expect("catalog loads");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let t = support::services(pool, &listener).await.with_webhooks(settings());
    support::serve(listener, t).await
}

async fn create(app: &TestApp, key: &str, body: Value) -> (u16, Value) {
    answer(app.post("/api/v1/webhook_endpoints", key, &body).await).await
}

async fn choose(app: &TestApp, account: Uuid, plan: &str) {
    plans::choose(&app.tollgate, account, plan, Interval::Month, plans::Chooser::Operator, &Actor::Cli, Utc::now())
        .await
        .expect("plan");
}

async fn send(app: &TestApp, method: reqwest::Method, path: &str, key: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = app.http.request(method, app.url(path)).bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    answer(req.send().await.expect("request")).await
}

#[sqlx::test(migrations = "../migrations")]
async fn deliveries_verify_with_the_standard_webhooks_library_also_while_a_rotated_secret_overlaps(pool: PgPool) {
    let app = app(pool).await;
    let receiver = Receiver::start().await;
    let c = app.customer(Some("starter")).await;
    let (status, created) = create(&app, &c.key, json!({ "url": receiver.url(), "event_types": ["subscription.updated"], "description": "CRM sync" })).await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(created["event_types"], json!(["subscription.updated"]));
    assert_eq!(created["account"], json!(c.account_id));
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, listed) = answer(app.get("/api/v1/webhook_endpoints", &c.key).await).await;
    assert_eq!(listed["data"][0]["id"], json!(id));
    assert!(listed["data"][0].get("secret").is_none(), "the secret is shown once: {listed}");

    // Another account's change does not reach this endpoint.
    let other = app.customer(Some("starter")).await;
    choose(&app, other.account_id, "pro").await;
    choose(&app, c.account_id, "pro").await;
    let report = deliver(&app.tollgate, Utc::now()).await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    let got = receiver.all();
    assert_eq!(got.len(), 1);
    let body = got[0].json();
    assert_eq!(body["type"], "subscription.updated");
    assert_eq!(body["id"].as_str(), got[0].header("webhook-id"));
    assert_eq!(body["data"]["object"]["plan"], "pro");
    assert_eq!(body["data"]["object"]["account"], json!(c.account_id));
    assert_eq!(body["data"]["change"]["action"], "subscription.plan_changed");
    assert!(body["sequence"].as_i64().is_some_and(|s| s > 0), "{body}");
    assert_eq!(got[0].header("content-type"), Some("application/json"));
    let out = verify_with_standard_library(&[&secret], &got);
    assert!(out.contains("subscription.updated verified"), "{out}");

    // A rotation: for a day, each delivery is signed by both secrets.
    let (status, rotated) = send(&app, reqwest::Method::POST, &format!("/api/v1/webhook_endpoints/{id}/rotate_secret"), &c.key, None).await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert!(rotated["previous_secret_expires_at"].is_string());
    choose(&app, c.account_id, "starter").await;
    assert_eq!(deliver(&app.tollgate, Utc::now()).await.succeeded, 1);
    let second = receiver.all()[1].clone();
    assert_eq!(second.header("webhook-signature").unwrap().split(' ').count(), 2);
    verify_with_standard_library(&[&secret, &new_secret], &[second]);

    // The audit log has the endpoint's life, by the key.
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log WHERE target_kind = 'webhook_endpoint' ORDER BY id")
        .fetch_all(&app.tollgate.pool)
        .await
        .unwrap();
    assert_eq!(actions, ["webhook_endpoint.created", "webhook_endpoint.secret_rotated"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn failures_back_off_for_three_days_then_the_endpoint_is_disabled_its_owner_told_and_a_replay_delivers(pool: PgPool) {
    let app = app(pool).await;
    let receiver = Receiver::start().await;
    receiver.answer(503);
    let c = app.customer(Some("starter")).await;
    let (_, created) = create(&app, &c.key, json!({ "url": receiver.url(), "event_types": ["subscription.updated"] })).await;
    let id = created["id"].as_str().unwrap().to_owned();
    choose(&app, c.account_id, "pro").await;

    let t0 = Utc::now();
    let r = deliver(&app.tollgate, t0).await;
    assert_eq!((r.succeeded, r.retried, r.failed), (0, 1, 0));
    let (_, log) = answer(app.get(&format!("/api/v1/webhook_endpoints/{id}/deliveries"), &c.key).await).await;
    assert_eq!(log["total"], 1);
    let first = &log["data"][0];
    assert_eq!((first["status"].as_str(), first["attempts"].as_i64(), first["response_status"].as_i64()), (Some("pending"), Some(1), Some(503)));
    assert_eq!(first["error"], "HTTP 503");
    let delivery = first["id"].as_str().unwrap().to_owned();

    // Back-off: 30 s after the first failure, then 60 s.
    assert_eq!(deliver(&app.tollgate, t0 + Duration::seconds(29)).await.attempted(), 0);
    assert_eq!(deliver(&app.tollgate, t0 + Duration::seconds(31)).await.retried, 1);
    assert_eq!(deliver(&app.tollgate, t0 + Duration::seconds(31 + 59)).await.attempted(), 0);
    assert_eq!(deliver(&app.tollgate, t0 + Duration::seconds(31 + 61)).await.retried, 1);
    assert_eq!(receiver.all().len(), 3);
    let (_, endpoint) = answer(app.get(&format!("/api/v1/webhook_endpoints/{id}"), &c.key).await).await;
    assert!(endpoint["failing_since"].is_string() && endpoint["enabled"] == true, "{endpoint}");
    // The log has the request as sent and each attempt's answer.
    let (status, detail) = answer(app.get(&format!("/api/v1/webhook_endpoints/{id}/deliveries/{delivery}"), &c.key).await).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["request_body"].as_str(), Some(receiver.all()[0].body.as_str()));
    let attempts = detail["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    assert!(attempts.iter().all(|a| a["response_status"] == 503 && a["response_body"] == "receiver says hello"), "{detail}");
    let other = app.customer(Some("starter")).await;
    assert_eq!(answer(app.get(&format!("/api/v1/webhook_endpoints/{id}/deliveries/{delivery}"), &other.key).await).await.0, 404);

    // Three days of failures: disabled, its deliveries failed, the owner told.
    let later = t0 + Duration::days(3) + Duration::minutes(1);
    let r = deliver(&app.tollgate, later).await;
    assert_eq!((r.disabled, r.failed), (1, 1), "{r:?}");
    let (_, endpoint) = answer(app.get(&format!("/api/v1/webhook_endpoints/{id}"), &c.key).await).await;
    assert_eq!((endpoint["enabled"].as_bool(), endpoint["disabled_reason"].as_str()), (Some(false), Some("failing")));
    let (_, log) = answer(app.get(&format!("/api/v1/webhook_endpoints/{id}/deliveries"), &c.key).await).await;
    assert_eq!(log["data"][0]["status"], "failed");
    let notified: i64 = sqlx::query_scalar("SELECT count(*) FROM notifications WHERE account_id = $1 AND kind = 'webhook_disabled'")
        .bind(c.account_id)
        .fetch_one(&app.tollgate.pool)
        .await
        .unwrap();
    assert_eq!(notified, 1);
    let mailed: Vec<String> = sqlx::query_scalar("SELECT to_address FROM email_outbox WHERE template = 'webhook_endpoint_disabled'")
        .fetch_all(&app.tollgate.pool)
        .await
        .unwrap();
    assert_eq!(mailed, std::slice::from_ref(&c.email));
    // Nothing more is attempted while it is disabled.
    choose(&app, c.account_id, "starter").await;
    assert_eq!(deliver(&app.tollgate, later + Duration::hours(1)).await.attempted(), 0);

    // A replay waits for the endpoint to be enabled; then it goes, with the same id.
    let replay_path = format!("/api/v1/webhook_endpoints/{id}/deliveries/{delivery}/replay");
    let (status, refused) = send(&app, reqwest::Method::POST, &replay_path, &c.key, None).await;
    assert_eq!(status, 409, "{refused}");
    let (status, enabled) = send(&app, reqwest::Method::PATCH, &format!("/api/v1/webhook_endpoints/{id}"), &c.key, Some(json!({ "enabled": true }))).await;
    assert_eq!((status, enabled["enabled"].as_bool(), enabled["failing_since"].is_null()), (200, Some(true), true), "{enabled}");
    receiver.answer(204);
    let (status, replayed) = send(&app, reqwest::Method::POST, &replay_path, &c.key, None).await;
    assert_eq!(status, 202, "{replayed}");
    let r = deliver(&app.tollgate, Utc::now()).await;
    assert_eq!(r.succeeded, 1, "{r:?}");
    let all = receiver.all();
    assert_eq!(all.last().unwrap().header("webhook-id"), all[0].header("webhook-id"), "a replay keeps the event's id");
    let (_, log) = answer(app.get(&format!("/api/v1/webhook_endpoints/{id}/deliveries"), &c.key).await).await;
    assert_eq!(log["data"][0]["replay_of"], json!(delivery));
    assert_eq!(log["data"][0]["status"], "succeeded");
}

#[sqlx::test(migrations = "../migrations")]
async fn private_and_loopback_targets_are_refused_unless_the_operator_allows_them(pool: PgPool) {
    // The default settings: public targets only.
    let app = support::spawn_app(pool).await;
    let c = app.customer(Some("starter")).await;
    for url in ["http://127.0.0.1:9/x", "http://localhost:8080/", "http://[::1]/", "http://169.254.169.254/latest", "http://10.0.0.7/"] {
        let (status, body) = create(&app, &c.key, json!({ "url": url })).await;
        assert_eq!(status, 400, "{url}: {body}");
        assert_eq!(body["error"]["details"]["field"], "url", "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("private"), "{body}");
    }
    let (status, body) = create(&app, &c.key, json!({ "url": "https://user:pw@hooks.example.com/" })).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(create(&app, &c.key, json!({ "url": "ftp://hooks.example.com/" })).await.0, 400);
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_endpoints").fetch_one(&app.tollgate.pool).await.unwrap();
    assert_eq!(none, 0, "nothing stored on a refusal");

    // A name that resolves to loopback (`vm` in /etc/hosts), or a literal saved
    // while private targets were allowed: refused at delivery, nothing sent.
    let receiver = Receiver::start().await;
    let port = receiver.addr.port();
    for url in [format!("http://vm:{port}/hooks"), format!("http://127.0.0.1:{port}/hooks")] {
        tollgate::db::webhook_endpoints::insert(
            &app.tollgate.pool,
            &tollgate::db::webhook_endpoints::NewEndpoint {
                id: Uuid::now_v7(),
                account_id: Some(c.account_id),
                url: &url,
                description: "",
                event_types: &[],
                secret: &[7u8; 24],
            },
        )
        .await
        .unwrap();
    }
    tollgate::db::webhook_events::emit(&app.tollgate.pool, Some(c.account_id), "subscription.updated", &json!({ "object": {} }), None)
        .await
        .unwrap();
    let r = deliver(&app.tollgate, Utc::now()).await;
    assert_eq!((r.succeeded, r.retried), (0, 2), "{r:?}");
    assert!(receiver.all().is_empty(), "nothing reached the loopback receiver");
    let errors: Vec<String> = sqlx::query_scalar("SELECT error FROM webhook_attempts ORDER BY error").fetch_all(&app.tollgate.pool).await.unwrap();
    assert!(errors.iter().any(|e| e.contains("no public address")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("must not point to a private")), "{errors:?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn endpoints_belong_to_their_account_and_the_platforms_receive_every_accounts_events(pool: PgPool) {
    let app = app(pool).await;
    let (mine, platform_receiver) = (Receiver::start().await, Receiver::start().await);
    let a = app.customer(Some("starter")).await;
    let b = app.customer(Some("starter")).await;
    let platform = app.platform_key().await;
    let (_, created) = create(&app, &a.key, json!({ "url": mine.url() })).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["event_types"], json!([]), "omitted: every type");

    // Another account's key sees nothing of it.
    let path = format!("/api/v1/webhook_endpoints/{id}");
    assert_eq!(answer(app.get(&path, &b.key).await).await.0, 404);
    assert_eq!(send(&app, reqwest::Method::PATCH, &path, &b.key, Some(json!({ "enabled": false }))).await.0, 404);
    assert_eq!(send(&app, reqwest::Method::DELETE, &path, &b.key, None).await.0, 404);
    assert_eq!(answer(app.get("/api/v1/webhook_endpoints", &b.key).await).await.1["data"], json!([]));
    let (status, _) = answer(app.get(&format!("/api/v1/webhook_endpoints?account={}", a.account_id), &b.key).await).await;
    assert_eq!(status, 403);
    // The platform key reaches it by naming the account.
    let (_, of_a) = answer(app.get(&format!("/api/v1/webhook_endpoints?account={}", a.account_id), &platform).await).await;
    assert_eq!(of_a["data"][0]["id"], json!(id));
    assert_eq!(answer(app.get("/api/v1/webhook_endpoints", &platform).await).await.1["data"], json!([]));

    // Bad input changes nothing.
    for (body, field) in [
        (json!({ "url": mine.url(), "event_types": ["invoice.nope"] }), "event_types"),
        (json!({ "url": mine.url(), "description": "two\nlines" }), "description"),
        (json!({ "url": "not a url" }), "url"),
    ] {
        let (status, err) = create(&app, &a.key, body).await;
        assert_eq!((status, err["error"]["details"]["field"].as_str()), (400, Some(field)), "{err}");
    }
    let (status, err) = send(&app, reqwest::Method::PATCH, &path, &a.key, Some(json!({ "url": "ftp://x/" }))).await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(answer(app.get(&path, &a.key).await).await.1["url"], json!(mine.url()));

    // The platform's endpoint gets both accounts' events; A's only A's.
    let (status, _) = create(&app, &platform, json!({ "url": platform_receiver.url(), "event_types": ["subscription.updated"] })).await;
    assert_eq!(status, 201);
    choose(&app, a.account_id, "pro").await;
    choose(&app, b.account_id, "pro").await;
    deliver(&app.tollgate, Utc::now()).await;
    assert_eq!(platform_receiver.types(), ["subscription.updated", "subscription.updated"]);
    assert_eq!(mine.types(), ["subscription.updated"]);

    // Deleting removes it and its log.
    assert_eq!(send(&app, reqwest::Method::DELETE, &path, &a.key, None).await.0, 204);
    assert_eq!(answer(app.get(&path, &a.key).await).await.0, 404);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE e.account_id = $1")
        .bind(a.account_id)
        .fetch_one(&app.tollgate.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn usage_limits_trials_ending_and_invoices_overdue_and_paid_become_events_once(pool: PgPool) {
    let app = app(pool).await;
    let receiver = Receiver::start().await;
    let platform = app.platform_key().await;
    create(&app, &platform, json!({ "url": receiver.url() })).await;
    // Starter: 500 queries included (soft), a 14-day trial.
    let c = app.customer(Some("starter")).await;
    assert_eq!(app.queries(&c.key, "a", 300).await.status(), 202);
    assert_eq!(app.queries(&c.key, "b", 201).await.status(), 202);
    assert_eq!(app.queries(&c.key, "c", 10).await.status(), 202);
    let invoice = support::billing::open_invoice(&app, c.account_id).await;
    // Time passes: 12 days (the trial ends in 2), then 15 (the invoice is due after 14).
    let now = Utc::now();
    tollgate::service::jobs::webhook_upkeep(&app.tollgate, now + Duration::days(12)).await.unwrap();
    tollgate::service::jobs::webhook_upkeep(&app.tollgate, now + Duration::days(15)).await.unwrap();
    tollgate::service::jobs::webhook_upkeep(&app.tollgate, now + Duration::days(15)).await.unwrap();
    tollgate::service::invoices::set_status(&app.tollgate, &Actor::Cli, invoice, tollgate::invoice::InvoiceStatus::Paid, Utc::now())
        .await
        .unwrap();
    deliver(&app.tollgate, Utc::now()).await;

    let types = receiver.types();
    let count = |t: &str| types.iter().filter(|x| *x == t).count();
    assert_eq!(count("subscription.created"), 1, "{types:?}");
    assert!(count("usage.threshold_reached") >= 2, "{types:?}");
    assert_eq!(count("usage.limit_reached"), 1, "{types:?}");
    assert_eq!(count("usage.limit_exceeded"), 1, "{types:?}");
    assert_eq!(count("subscription.trial_will_end"), 1, "{types:?}");
    assert_eq!(count("invoice.overdue"), 1, "{types:?}");
    assert_eq!(count("invoice.paid"), 1, "{types:?}");
    let bodies: Vec<Value> = receiver.all().iter().map(|r| r.json()).collect();
    let exceeded = bodies.iter().find(|b| b["type"] == "usage.limit_exceeded").unwrap();
    assert_eq!((exceeded["data"]["object"]["meter"].as_str(), exceeded["data"]["object"]["limit"].as_str()), (Some("queries"), Some("500")));
    let paid = bodies.iter().find(|b| b["type"] == "invoice.paid").unwrap();
    assert_eq!((paid["data"]["object"]["status"].as_str(), paid["data"]["object"]["total"].as_str()), (Some("paid"), Some("19.0000")));
    // Sequences grow in the order the events happened.
    let seqs: Vec<i64> = bodies.iter().map(|b| b["sequence"].as_i64().unwrap()).collect();
    let mut sorted = seqs.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), seqs.len(), "one sequence per event: {seqs:?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_impersonating_admin_cannot_add_an_endpoint_or_see_a_secret(pool: PgPool) {
    use tollgate::service::webhooks::{self, EndpointInput, Scope};
    let app = app(pool).await;
    let c = app.customer(Some("starter")).await;
    let receiver = Receiver::start().await;
    let impersonated = Actor::User { id: c.user_id, impersonator: Some(Uuid::now_v7()) };
    let scope = Scope::Account(c.account_id);
    let input = EndpointInput { url: Some(receiver.url()), ..Default::default() };
    let refused = webhooks::create(&app.tollgate, &impersonated, scope, &input).await;
    assert!(matches!(refused, Err(tollgate::service::Error::Forbidden(_))), "{refused:?}");
    let created = webhooks::create(&app.tollgate, &Actor::user(c.user_id), scope, &input).await.unwrap();
    let id = created.endpoint.id;
    assert!(matches!(webhooks::rotate_secret(&app.tollgate, &impersonated, scope, id, Utc::now()).await, Err(tollgate::service::Error::Forbidden(_))));
    let elsewhere = EndpointInput { url: Some("https://elsewhere.example.com/".into()), ..Default::default() };
    assert!(matches!(webhooks::update(&app.tollgate, &impersonated, scope, id, &elsewhere).await, Err(tollgate::service::Error::Forbidden(_))));
    // Disabling is no credential: allowed, and audited with both ids.
    let off = EndpointInput { enabled: Some(false), ..Default::default() };
    assert!(!webhooks::update(&app.tollgate, &impersonated, scope, id, &off).await.unwrap().enabled);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_hostile_answer_is_recorded_and_an_attempt_of_a_deleted_endpoint_is_dropped(pool: PgPool) {
    let app = app(pool).await;
    let odd = Receiver::start().await;
    odd.answer(200);
    odd.answer_with("nul \0 byte");
    let c = app.customer(Some("starter")).await;
    let (_, a) = create(&app, &c.key, json!({ "url": odd.url(), "event_types": ["subscription.updated"] })).await;
    choose(&app, c.account_id, "pro").await;
    let r = deliver(&app.tollgate, Utc::now()).await;
    assert_eq!(r.succeeded, 1, "{r:?}");
    let kept: String = sqlx::query_scalar("SELECT response_body FROM webhook_attempts").fetch_one(&app.tollgate.pool).await.unwrap();
    assert_eq!(kept, "nul  byte", "PostgreSQL cannot store the NUL: it is dropped, the rest kept");
    let (_, log) = answer(app.get(&format!("/api/v1/webhook_endpoints/{}/deliveries", a["id"].as_str().unwrap()), &c.key).await).await;
    assert_eq!(log["data"][0]["status"], "succeeded");
    // The attempt of a delivery whose endpoint was deleted while it was in flight.
    let orphan = tollgate::db::webhook_attempts::AttemptRow {
        delivery_id: Uuid::now_v7(),
        attempted_at: Utc::now(),
        response_status: Some(204),
        response_body: String::new(),
        latency_ms: 3,
        error: None,
    };
    assert!(!tollgate::db::webhook_attempts::insert(&app.tollgate.pool, &orphan).await.unwrap(), "dropped, not an error");
}
