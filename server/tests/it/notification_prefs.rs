//! Every promised notification, with preferences (issue 14): each user turns kinds
//! off in the app or by e-mail, except invoices and payment problems; trials
//! ending and usage past a limit are told once.

use crate::support;
use chrono::{Duration, Utc};
use sqlx::PgPool;
use tollgate::notification::{Channel, Kind, Preferences};
use tollgate::service::{notifications, Actor};

async fn kinds_seen(app: &support::TestApp, account: uuid::Uuid, user: uuid::Uuid) -> Vec<String> {
    tollgate::db::notifications::list(&app.tollgate.pool, account, user, 100, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.kind)
        .collect()
}

async fn mails_to(app: &support::TestApp, template: &str, to: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM email_outbox WHERE template = $1 AND to_address = $2")
        .bind(template)
        .bind(to)
        .fetch_one(&app.tollgate.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_user_turns_kinds_off_for_themself_but_not_invoices_or_payment_problems(pool: PgPool) {
    let app = support::spawn_app(pool).await;
    let c = app.customer(Some("starter")).await;
    // Off: every kind in the app and by e-mail, as an unticked form says.
    let none: [&str; 0] = [];
    let off = Preferences::from_enabled(&none, &none).unwrap();
    notifications::save_preferences(&app.tollgate.pool, &Actor::user(c.user_id), c.user_id, &off).await.unwrap();
    let stored = notifications::preferences(&app.tollgate.pool, c.user_id).await.unwrap();
    assert_eq!(stored, off);
    assert!(stored.allows(Kind::InvoiceIssued, Channel::Email) && stored.allows(Kind::PaymentFailed, Channel::InApp));

    // 380 of Starter's 500 queries: the 50 % and 75 % thresholds (75 % e-mails).
    assert_eq!(app.queries(&c.key, "q", 380).await.status(), 202);
    assert!(kinds_seen(&app, c.account_id, c.user_id).await.is_empty(), "thresholds are off in the app for this user");
    assert_eq!(mails_to(&app, "usage_threshold", &c.email).await, 0, "and by e-mail");
    let invoice = support::billing::open_invoice(&app, c.account_id).await;
    tollgate::service::invoices::set_status(&app.tollgate, &Actor::Cli, invoice, tollgate::invoice::InvoiceStatus::Paid, Utc::now())
        .await
        .unwrap();
    assert!(kinds_seen(&app, c.account_id, c.user_id).await.is_empty(), "a receipt may be turned off");
    assert_eq!(mails_to(&app, "payment_received", &c.email).await, 0);
    // Another user of the same account still sees what this one turned off.
    let stored: Vec<String> = sqlx::query_scalar("SELECT kind FROM notifications WHERE account_id = $1 ORDER BY kind")
        .bind(c.account_id)
        .fetch_all(&app.tollgate.pool)
        .await
        .unwrap();
    assert_eq!(stored, ["limit_warning", "limit_warning", "payment_received"]);
    assert_eq!(kinds_seen(&app, c.account_id, uuid::Uuid::now_v7()).await.len(), 3);

    // On again: the form with every box ticked.
    let all: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    notifications::save_preferences(&app.tollgate.pool, &Actor::user(c.user_id), c.user_id, &Preferences::from_enabled(&all, &all).unwrap())
        .await
        .unwrap();
    assert_eq!(kinds_seen(&app, c.account_id, c.user_id).await.len(), 3);
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'user.notification_preferences_changed' AND target_id = $1")
        .bind(c.user_id.to_string())
        .fetch_one(&app.tollgate.pool)
        .await
        .unwrap();
    assert_eq!(audited, 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_trial_ending_in_three_days_and_usage_past_the_limit_are_told_once(pool: PgPool) {
    let app = support::spawn_app(pool).await;
    // Starter: a 14-day trial, 500 queries included (soft).
    let c = app.customer(Some("starter")).await;
    let now = Utc::now();
    assert_eq!(notifications::scheduled(&app.tollgate, now + Duration::days(10)).await.unwrap(), 0, "4 days before: nothing");
    assert_eq!(notifications::scheduled(&app.tollgate, now + Duration::days(11) + Duration::hours(1)).await.unwrap(), 1);
    assert_eq!(notifications::scheduled(&app.tollgate, now + Duration::days(12)).await.unwrap(), 0, "once");
    assert_eq!(mails_to(&app, "trial_ending", &c.email).await, 1);

    assert_eq!(app.queries(&c.key, "a", 500).await.status(), 202);
    assert_eq!(app.queries(&c.key, "b", 3).await.status(), 202);
    assert_eq!(app.queries(&c.key, "c", 3).await.status(), 202);
    let exceeded: i64 = sqlx::query_scalar("SELECT count(*) FROM notifications WHERE account_id = $1 AND kind = 'limit_exceeded'")
        .bind(c.account_id)
        .fetch_one(&app.tollgate.pool)
        .await
        .unwrap();
    assert_eq!(exceeded, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_preferences_form_works_without_javascript_and_refuses_unknown_kinds(pool: PgPool) {
    let app = support::spawn_app(pool).await;
    let c = app.customer(Some("starter")).await;
    let cookie = support::admin::log_in(&app, &c.email, support::PASSWORD).await;
    let post = |body: &'static str| {
        app.http
            .post(app.url("/_fn/notification_preferences_save"))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "text/html")
            .header("referer", app.url("/notifications"))
            .body(body)
            .send()
    };
    let location = |res: &reqwest::Response| res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let res = post("in_app%5B%5D=limit_warning&email%5B%5D=limit_warning&in_app%5B%5D=trial_ending").await.unwrap();
    assert_eq!((res.status().as_u16(), location(&res).as_str()), (302, "/notifications?saved=1#preferences"));
    let p = notifications::preferences(&app.tollgate.pool, c.user_id).await.unwrap();
    assert!(p.allows(Kind::LimitWarning, Channel::Email) && p.allows(Kind::TrialEnding, Channel::InApp));
    assert!(!p.allows(Kind::TrialEnding, Channel::Email) && !p.allows(Kind::PaymentReceived, Channel::InApp));
    let refused = post("in_app%5B%5D=nope").await.unwrap();
    assert!(!location(&refused).contains("saved=1"), "refused: {} {}", refused.status(), location(&refused));
    assert_eq!(notifications::preferences(&app.tollgate.pool, c.user_id).await.unwrap(), p, "nothing changed");
    let page = app.http.get(app.url("/notifications")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Notification preferences") && page.contains("always on"), "the form is on the page: {}", &page[..page.len().min(3000)]);
}
