//! The password reset over HTTP, as a browser without JavaScript uses it.

use crate::support;

use reqwest::header::LOCATION;
use sqlx::PgPool;
use support::admin::{call, log_in};
use support::{spawn_app, TestApp, PASSWORD};

async fn post_form(
    app: &TestApp,
    endpoint: &str,
    referer: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let res = app
        .http
        .post(app.url(&format!("/_fn/{endpoint}")))
        .header("accept", "text/html")
        .header("referer", app.url(referer))
        .form(form)
        .send()
        .await
        .unwrap();
    (
        res.status().as_u16(),
        res.headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default(),
    )
}

#[sqlx::test(migrations = "../migrations")]
async fn forgot_and_reset_password_without_javascript(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(Some("starter")).await;
    let old_session = log_in(&app, &c.email, PASSWORD).await;

    // The same answer whether or not the e-mail has an account.
    let known = post_form(
        &app,
        "forgot_password",
        "/forgot-password",
        &[("email", &c.email)],
    )
    .await;
    let unknown = post_form(
        &app,
        "forgot_password",
        "/forgot-password",
        &[("email", "nobody@test.example")],
    )
    .await;
    assert_eq!(known, (302, "/forgot-password?sent=1".to_string()));
    assert_eq!(unknown, known);
    let page = app
        .http
        .get(app.url("/forgot-password?sent=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("If an account exists for that e-mail, we sent a link."));
    let login = app
        .http
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("href=\"/forgot-password\"") && login.contains("Forgot your password?"));

    let link: String = sqlx::query_scalar("SELECT context->>'link' FROM email_outbox WHERE template = 'password_reset' AND to_address = $1")
        .bind(&c.email)
        .fetch_one(&app.tollgate.pool)
        .await
        .unwrap();
    let token = link.rsplit("token=").next().unwrap().to_string();
    let referer = format!("/reset-password?token={token}");
    let page = app.http.get(app.url(&referer)).send().await.unwrap();
    assert_eq!(page.status(), 200);

    let (status, location) = post_form(
        &app,
        "reset_password",
        &referer,
        &[
            ("token", &token),
            ("password", "a new long secret"),
            ("confirm", "a different one"),
        ],
    )
    .await;
    assert_eq!(status, 302);
    assert!(
        location.contains("__err="),
        "the mismatch travels back: {location}"
    );
    let (status, location) = post_form(
        &app,
        "reset_password",
        &referer,
        &[
            ("token", &token),
            ("password", "short"),
            ("confirm", "short"),
        ],
    )
    .await;
    assert!(
        status == 302 && location.contains("__err="),
        "NewPassword's rules apply"
    );
    let ok = post_form(
        &app,
        "reset_password",
        &referer,
        &[
            ("token", &token),
            ("password", "a new long secret"),
            ("confirm", "a new long secret"),
        ],
    )
    .await;
    assert_eq!(ok, (302, "/login?reset=1".to_string()));
    let again = post_form(
        &app,
        "reset_password",
        &referer,
        &[
            ("token", &token),
            ("password", "another long secret"),
            ("confirm", "another long secret"),
        ],
    )
    .await;
    assert!(again.1.contains("__err="), "a link works once");

    let viewer: serde_json::Value = call(&app, "viewer", Some(&old_session), &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(viewer.is_null(), "sessions from before the reset ended");
    log_in(&app, &c.email, "a new long secret").await;
}
