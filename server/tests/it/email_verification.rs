//! Issue 12: a self sign-up proves its e-mail address with a link, which logs it
//! in, before it may log in with its password or own API keys (or invite, tested
//! in the root suite); sign-up answers alike for new and taken addresses. Over
//! HTTP as a browser without JavaScript does it.

use crate::support::admin::{page_outcome, session_cookie};
use crate::support::{spawn_app, TestApp, PASSWORD};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use sqlx::PgPool;

/// A sign-up form posted without JavaScript: `(status, Location, body, whether a
/// session cookie was set)`, and the sign-up browser's cookie (`tollgate_signup=…`).
async fn sign_up(
    app: &TestApp,
    email: &str,
    password: &str,
    plan: Option<&str>,
) -> ((u16, String, String, bool), String) {
    let mut form = vec![("name", "Ada"), ("email", email), ("password", password)];
    if let Some(plan) = plan {
        form.extend([("plan", plan), ("interval", "month")]);
    }
    let res = app
        .http
        .post(app.url("/_fn/sign_up"))
        .header("accept", "text/html")
        .header("referer", app.url("/signup"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let session = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("tollgate_session="));
    let browser = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|h| h.starts_with("tollgate_signup="))
        .map(|h| h.split(';').next().unwrap().to_string())
        .expect("the sign-up browser's cookie, for a new and a taken address alike");
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        (status, location, res.text().await.unwrap(), session),
        browser,
    )
}

/// A log-in form posted without JavaScript: `(status, body, session cookie)`.
async fn log_in(app: &TestApp, email: &str, password: &str) -> (u16, String, Option<String>) {
    let res = app
        .http
        .post(app.url("/_fn/log_in"))
        .header("accept", "text/html")
        .header("referer", app.url("/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    let cookie = session_cookie(&res);
    (res.status().as_u16(), res.text().await.unwrap(), cookie)
}

async fn mails(pool: &PgPool, email: &str, template: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT coalesce(context->>'link', '-') || ' ' || context::text FROM email_outbox WHERE to_address = $1 AND template = $2 ORDER BY created_at",
    )
    .bind(email)
    .bind(template)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The first `n` such mails, waiting up to 5 s: a sign-up is completed after
/// its answer.
async fn wait_mails(pool: &PgPool, email: &str, template: &str, n: usize) -> Vec<String> {
    for _ in 0..100 {
        let found = mails(pool, email, template).await;
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} {template} mails to {email}");
}

/// The link of a mail from [`mails`], as the mail has it.
fn link_of(mail: &str) -> String {
    mail.split_once(' ').unwrap().0.to_string()
}

async fn create_key(app: &TestApp, cookie: &str) -> (u16, String) {
    let res = app
        .http
        .post(app.url("/_fn/api_key_create"))
        .header(COOKIE, cookie)
        .form(&[("name", "backend")])
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Opens the link like a mail client in a browser holding `cookie` (the sign-up
/// browser's, or none): where it redirects, and the session it started.
async fn open(app: &TestApp, token: &str) -> (String, Option<String>) {
    open_path(app, &format!("/verify-email?token={token}"), None).await
}

async fn open_path(app: &TestApp, path: &str, cookie: Option<&str>) -> (String, Option<String>) {
    let mut req = app.http.get(app.url(path));
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 303);
    let session = session_cookie(&res);
    (
        res.headers()[LOCATION].to_str().unwrap().to_string(),
        session,
    )
}

/// Issue 12, account enumeration at sign-up: a taken address gets the same answer
/// as a new one (before, it answered "already exists" and a new one was signed in
/// at once); each address gets its own e-mail; the new user logs in by opening
/// the link, and their password alone does not let them in until then.
#[sqlx::test(migrations = "../migrations")]
async fn sign_up_answers_alike_for_new_and_taken_addresses_and_the_link_logs_in(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let existing = app.customer(None).await;
    let email = "ada@test.example";

    let (new, browser) = sign_up(&app, email, "a fresh password 1", None).await;
    let (taken, _) = sign_up(&app, &existing.email, "a fresh password 1", None).await;
    assert_eq!(new.0, 302, "{new:?}");
    assert_eq!(new.1, "/signup?sent=1");
    assert_eq!(new, taken, "one answer for both");
    assert!(!new.3, "nobody is signed in by the form");
    let links = wait_mails(&pool, email, "email_verification", 1).await;
    let notice = wait_mails(&pool, &existing.email, "sign_up_attempt", 1).await;
    assert!(notice[0].contains("/forgot-password"), "{}", notice[0]);
    assert!(mails(&pool, email, "sign_up_attempt").await.is_empty());
    assert!(mails(&pool, &existing.email, "email_verification")
        .await
        .is_empty());
    // The existing user's password and account are untouched.
    assert!(log_in(&app, &existing.email, PASSWORD).await.2.is_some());
    // A second attempt within the hour mails the owner nothing more.
    sign_up(&app, &existing.email, "a fresh password 2", None).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        mails(&pool, &existing.email, "sign_up_attempt").await.len(),
        1
    );

    // Until the link is opened the password answers like a wrong one, and
    // nothing is sent.
    let unconfirmed = log_in(&app, email, "a fresh password 1").await;
    let wrong = log_in(&app, email, "a wrong password 1").await;
    assert_eq!(unconfirmed.0, wrong.0);
    assert_eq!(unconfirmed.1, wrong.1);
    assert!(unconfirmed.2.is_none() && wrong.2.is_none());
    assert_eq!(mails(&pool, email, "email_verification").await.len(), 1);

    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM email_verifications LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 32, "only the SHA-256 is kept");
    assert_eq!(
        open(&app, "not-a-token").await,
        ("/login?verify=failed".into(), None)
    );
    let (to, cookie) = open_path(&app, &path_of(&link_of(&links[0])), Some(&browser)).await;
    assert_eq!(to, "/pricing?welcome=1", "a sign-up without a plan");
    let cookie = cookie.expect("the link logs the user in");
    let (status, body) = create_key(&app, &cookie).await;
    assert_eq!(status, 200, "a proved address may own keys: {body}");
    assert_eq!(
        open_path(&app, &path_of(&link_of(&links[0])), Some(&browser))
            .await
            .0,
        "/login?verify=failed",
        "a link works once"
    );
    assert!(log_in(&app, email, "a fresh password 1").await.2.is_some());
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'user.email_verified' AND details->>'by' = 'link'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    let (_, page) = page_outcome(&app, "/settings/api-keys?verified=1", Some(&cookie)).await;
    assert!(page.contains("Your e-mail address is confirmed."));
    assert!(!page.contains("Send the link again"));
}

/// Account pre-hijacking: someone signs up first with another person's address and
/// a password of their own. When the owner signs up, they get a fresh link that
/// carries the owner's password: opening it leaves the first password worthless,
/// and every older link stops working.
#[sqlx::test(migrations = "../migrations")]
async fn the_owners_link_sets_the_owners_password_over_an_earlier_sign_up(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let email = "victim@test.example";
    sign_up(&app, email, "attacker password 1", None).await;
    wait_mails(&pool, email, "email_verification", 1).await;
    let (second, owners_browser) = sign_up(&app, email, "owner password 1", None).await;
    assert_eq!(second.1, "/signup?sent=1");
    let links = wait_mails(&pool, email, "email_verification", 2).await;
    assert!(mails(&pool, email, "sign_up_attempt").await.is_empty());

    let (_, cookie) = open_path(&app, &path_of(&link_of(&links[1])), Some(&owners_browser)).await;
    assert!(cookie.is_some(), "the owner is logged in");
    assert!(log_in(&app, email, "owner password 1").await.2.is_some());
    assert!(
        log_in(&app, email, "attacker password 1").await.2.is_none(),
        "the first sign-up's password does not open the account"
    );
    assert_eq!(
        open_path(&app, &path_of(&link_of(&links[0])), None).await.0,
        "/login?verify=failed",
        "the first sign-up's link cannot set its password any more"
    );
    assert!(log_in(&app, email, "owner password 1").await.2.is_some());
}

/// The path and query of a link (the test server's address differs per test).
fn path_of(link: &str) -> String {
    let after_scheme = link.split_once("://").unwrap().1;
    format!("/{}", after_scheme.split_once('/').unwrap().1)
}

/// A plan chosen on the pricing page rides on the link: opening it lands, signed
/// in, on the pricing page with that plan marked. Nothing else in a link can redirect elsewhere.
#[sqlx::test(migrations = "../migrations")]
async fn the_link_of_a_sign_up_with_a_plan_continues_to_it(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let email = "bo@test.example";
    let ((status, to, _, _), browser) =
        sign_up(&app, email, "a fresh password 1", Some("starter")).await;
    assert_eq!((status, to.as_str()), (302, "/signup?sent=1"));
    let link = link_of(&wait_mails(&pool, email, "email_verification", 1).await[0]);
    assert!(link.ends_with("&plan=starter&interval=month"), "{link}");
    let (to, cookie) = open_path(&app, &path_of(&link), Some(&browser)).await;
    assert_eq!(to, "/pricing?welcome=1&interval=month&chosen=starter");
    let (_, page) = page_outcome(&app, &to, Some(&cookie.expect("signed in"))).await;
    assert!(page.contains("Your e-mail address is confirmed"), "{page}");
    assert!(
        page.contains(r#"data-chosen="true""#) && page.contains("Choose Starter"),
        "the plan chosen at sign-up is marked, one click from starting"
    );
}

/// Login CSRF: a link opened in a browser other than the one that signed up (say,
/// someone else's, sent the link by whoever signed up) verifies the address but
/// logs nobody in there; the owner then logs in with their password.
#[sqlx::test(migrations = "../migrations")]
async fn a_link_opened_in_another_browser_logs_nobody_in(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let email = "cy@test.example";
    let (_, browser) = sign_up(&app, email, "a fresh password 1", None).await;
    let link = link_of(&wait_mails(&pool, email, "email_verification", 1).await[0]);
    let other = "tollgate_signup=someone-elses-browser";
    assert_ne!(other, browser);
    let (to, session) = open_path(&app, &path_of(&link), Some(other)).await;
    assert_eq!((to.as_str(), session), ("/login?verified=1", None));
    let (to, session) = open_path(&app, &path_of(&link), None).await;
    assert_eq!(
        (to.as_str(), session),
        ("/login?verify=failed", None),
        "used"
    );
    assert!(
        log_in(&app, email, "a fresh password 1").await.2.is_some(),
        "the address is verified all the same"
    );
}
