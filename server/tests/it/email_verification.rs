//! Issue 12: a self sign-up proves its e-mail address with a link before it may
//! own API keys (or invite, tested in the root suite), over HTTP as a browser
//! without JavaScript does it.

use crate::support::{spawn_app, TestApp, PASSWORD};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use sqlx::PgPool;

async fn sign_up(app: &TestApp, email: &str) -> String {
    let res = app
        .http
        .post(app.url("/_fn/sign_up"))
        .header("accept", "text/html")
        .header("referer", app.url("/signup"))
        .form(&[("name", "Ada"), ("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(res.status().as_u16() < 400, "{}", res.status());
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|h| h.starts_with("tollgate_session="))
        .map(|h| h.split(';').next().unwrap().to_string())
        .expect("a session")
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

/// Opens the link like a mail client: no cookie. Returns where it redirects.
async fn open(app: &TestApp, token: &str) -> String {
    let res = app
        .http
        .get(app.url(&format!("/verify-email?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    res.headers()[LOCATION].to_str().unwrap().to_string()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_signed_up_user_confirms_the_address_before_making_keys(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let email = "ada@test.example";
    let cookie = sign_up(&app, email).await;

    let (status, body) = create_key(&app, &cookie).await;
    assert_eq!(status, 422, "a refused form: {body}");
    assert!(body.contains("Confirm your e-mail address first"), "{body}");
    let page = app
        .http
        .get(app.url("/settings/api-keys"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Confirm your e-mail address"),
        "the page says why"
    );
    assert!(page.contains("Send the link again"));

    let link: String = sqlx::query_scalar(
        "SELECT context->>'link' FROM email_outbox WHERE to_address = $1 AND template = 'email_verification'",
    )
    .bind(email)
    .fetch_one(&pool)
    .await
    .expect("one verification mail was queued at sign-up");
    let token = link.rsplit_once("token=").expect("a token").1.to_string();
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM email_verifications")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 32, "only the SHA-256 is kept");

    assert_eq!(
        open(&app, "not-a-token").await,
        "/settings/api-keys?verified=0"
    );
    assert_eq!(
        create_key(&app, &cookie).await.0,
        422,
        "a bad link proves nothing"
    );
    assert_eq!(open(&app, &token).await, "/settings/api-keys?verified=1");
    let (status, body) = create_key(&app, &cookie).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        open(&app, &token).await,
        "/settings/api-keys?verified=0",
        "a link works once"
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'user.email_verified' AND details->>'by' = 'link'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    let page = app
        .http
        .get(app.url("/settings/api-keys?verified=1"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Your e-mail address is confirmed."));
    assert!(!page.contains("Send the link again"));
}
