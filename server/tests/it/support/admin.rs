//! Logging in over HTTP and calling server functions, for the admin tests.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::Response;

use super::TestApp;

/// What a call came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx, or a redirect that carries no error.
    Allowed,
    /// Refused: sign in first (server functions) or a redirect to log-in (pages).
    SignIn,
    /// Refused: not allowed (403, or `Forbidden` from a server function).
    Forbidden,
    /// Anything else (status and body), which a matrix never expects.
    Other(u16),
}

/// The session cookie (`name=value`) a response sets, if any.
pub fn session_cookie(res: &Response) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|h| h.starts_with("tollgate_session="))
        .map(|h| h.split(';').next().unwrap_or_default().to_string())
}

/// Logs in through the form (as a browser without JavaScript) and returns the
/// session cookie.
pub async fn log_in(app: &TestApp, email: &str, password: &str) -> String {
    let res = app
        .http
        .post(app.url("/_fn/log_in"))
        .header("accept", "text/html")
        .header("referer", app.url("/login"))
        .form(&[
            ("email", email),
            ("password", password),
            ("next", "/dashboard"),
        ])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 302);
    session_cookie(&res).expect("a session cookie")
}

/// A new super admin, logged in: their session cookie.
pub async fn super_admin(app: &TestApp) -> String {
    use tollgate::identity::{Email, NewPassword, PersonName};
    let email = format!("root-{}@test.example", uuid::Uuid::now_v7().simple());
    tollgate::service::auth::sign_up(
        &app.tollgate.pool,
        &Email::parse(&email).unwrap(),
        &PersonName::parse("Root").unwrap(),
        &NewPassword::parse(super::PASSWORD).unwrap(),
        true,
        None,
    )
    .await
    .unwrap();
    log_in(app, &email, super::PASSWORD).await
}

/// POSTs a server function the way JavaScript does (form body, JSON answer).
pub async fn call(
    app: &TestApp,
    endpoint: &str,
    cookie: Option<&str>,
    args: &[(&str, String)],
) -> Response {
    let mut req = app
        .http
        .post(app.url(&format!("/_fn/{endpoint}")))
        .form(args);
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    req.send().await.expect("request")
}

/// Classifies a server function's answer.
pub async fn fn_outcome(res: Response) -> (Outcome, String) {
    let status = res.status().as_u16();
    let body = res.text().await.unwrap_or_default();
    let outcome = if (200..400).contains(&status) {
        Outcome::Allowed
    } else if body.contains("SignInRequired") {
        Outcome::SignIn
    } else if body.contains("\"Forbidden\"") {
        Outcome::Forbidden
    } else {
        Outcome::Other(status)
    };
    (outcome, body)
}

/// GETs a page as a browser does and classifies the answer.
pub async fn page_outcome(app: &TestApp, path: &str, cookie: Option<&str>) -> (Outcome, String) {
    let mut req = app.http.get(app.url(path)).header("accept", "text/html");
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = res.text().await.unwrap_or_default();
    let outcome = match status {
        200 => Outcome::Allowed,
        302 | 303 if location.starts_with("/login?next=") => Outcome::SignIn,
        403 => Outcome::Forbidden,
        other => Outcome::Other(other),
    };
    (outcome, body)
}
