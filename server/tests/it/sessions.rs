//! Log-in through the server functions: cookies, rotation, the failure limit, and
//! the paywall's redirects.

use crate::support;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use sqlx::PgPool;
use support::{spawn_app, TestApp, PASSWORD};

/// Posts the log-in form like a browser without JavaScript; returns the status,
/// Location and the session cookie set (name=value).
async fn log_in(
    app: &TestApp,
    email: &str,
    password: &str,
    cookie: Option<&str>,
) -> (u16, String, Option<String>, Vec<String>) {
    let mut req = app
        .http
        .post(app.url("/_fn/log_in"))
        .header("accept", "text/html")
        .header("referer", app.url("/login"))
        .form(&[
            ("email", email),
            ("password", password),
            ("next", "/settings/api-keys"),
        ]);
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    let res = req.send().await.unwrap();
    let headers: Vec<String> = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let session = headers
        .iter()
        .find(|h| h.starts_with("tollgate_session="))
        .map(|h| h.split(';').next().unwrap().to_string());
    let location = res
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (res.status().as_u16(), location, session, headers)
}

async fn dashboard_status(app: &TestApp, cookie: &str) -> (u16, String) {
    let res = app
        .http
        .get(app.url("/dashboard"))
        .header(COOKIE, cookie)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let location = res
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (res.status().as_u16(), location)
}

#[sqlx::test(migrations = "../migrations")]
async fn log_in_sets_a_strict_cookie_rotates_the_id_and_goes_to_next(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(Some("starter")).await;
    let (status, location, first, headers) = log_in(&app, &c.email, PASSWORD, None).await;
    assert_eq!((status, location.as_str()), (302, "/settings/api-keys"));
    let first = first.expect("session cookie");
    let set = headers
        .iter()
        .find(|h| h.starts_with("tollgate_session="))
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert_eq!(dashboard_status(&app, &first).await.0, 200);

    // Logging in again from the same browser gets a new id; the old one is dead.
    let (_, _, second, _) = log_in(&app, &c.email, PASSWORD, Some(&first)).await;
    let second = second.expect("rotated cookie");
    assert_ne!(first, second);
    assert_eq!(dashboard_status(&app, &second).await.0, 200);
    let (status, location) = dashboard_status(&app, &first).await;
    assert_eq!(
        (status, location.as_str()),
        (302, "/login?next=%2Fdashboard")
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn five_failures_a_minute_answer_too_many_attempts(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(Some("starter")).await;
    for _ in 0..5 {
        let (status, location, session, _) = log_in(&app, &c.email, "wrong password", None).await;
        assert_eq!(status, 302);
        assert!(
            location.contains("__err="),
            "the error travels back in the URL: {location}"
        );
        assert!(session.is_none());
    }
    let (_, location, session, _) = log_in(&app, &c.email, PASSWORD, None).await;
    assert!(
        session.is_none(),
        "even the right password is refused for a minute"
    );
    let err = location.split("__err=").nth(1).unwrap();
    let decoded = String::from_utf8(base64_url_decode(err)).unwrap();
    assert!(decoded.contains("Too many attempts"), "{decoded}");
    // Another e-mail is not affected.
    let d = app.customer(Some("starter")).await;
    assert!(log_in(&app, &d.email, PASSWORD, None).await.2.is_some());
}

#[sqlx::test(migrations = "../migrations")]
async fn the_paywall_redirects(pool: PgPool) {
    let app = spawn_app(pool).await;
    let res = app
        .http
        .get(app.url("/dashboard"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()[LOCATION], "/login?next=%2Fdashboard");
    let public = app.http.get(app.url("/pricing")).send().await.unwrap();
    assert_eq!(public.status(), 200);
    let html = public.text().await.unwrap();
    assert!(
        html.contains("data-plan=\"starter\"") && html.contains("Can I change plans anytime?"),
        "pricing renders on the server"
    );

    let c = app.customer(None).await;
    let (_, _, cookie, _) = log_in(&app, &c.email, PASSWORD, None).await;
    let (status, location) = dashboard_status(&app, &cookie.unwrap()).await;
    assert_eq!((status, location.as_str()), (302, "/pricing"));
    let missing = app.http.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

fn base64_url_decode(s: &str) -> Vec<u8> {
    let s = s.split('&').next().unwrap().replace("%3D", "=");
    let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = table.iter().position(|t| *t == c).expect("base64url") as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

/// Issue 12, "anonymous outage": a flood of bad log-ins from one address is turned
/// away at the door (429 with `Retry-After`, before any hash or database work), one
/// e-mail is limited on its own, and `/api/v1/check` keeps answering customers.
#[sqlx::test(migrations = "../migrations")]
async fn a_flood_of_bad_log_ins_is_refused_and_check_keeps_answering(pool: PgPool) {
    use std::time::{Duration, Instant};
    use tollgate::service::{catalog, Actor};
    catalog::load(
        &pool,
        "catalogs/emtchat.toml",
        support::EMTCHAT,
        &Actor::Cli,
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tollgate = support::services(pool, &listener).await;
    // The production defaults: 10 posts a minute per address, 5 per address and e-mail.
    let app = support::serve_with_limits(listener, tollgate, 10).await;
    let customer = app.customer(Some("starter")).await;

    // One e-mail: the sixth try within the minute is refused, though the address
    // has tries left.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            log_in(&app, "owner@flood.example", "wrong password", None)
                .await
                .0,
        );
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        1,
        "{statuses:?}"
    );
    assert_ne!(statuses[0], 429);

    let flood: Vec<_> = (0..300)
        .map(|i| {
            let (http, url) = (app.http.clone(), app.url("/_fn/log_in"));
            tokio::spawn(async move {
                let res = http
                    .post(url)
                    .form(&[
                        ("email", format!("guess-{i}@flood.example")),
                        ("password", "wrong".into()),
                    ])
                    .send()
                    .await
                    .unwrap();
                (
                    res.status().as_u16(),
                    res.headers().get("retry-after").is_some(),
                )
            })
        })
        .collect();
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        let res = app
            .post(
                "/api/v1/check",
                &customer.key,
                &serde_json::json!({ "feature": "queries" }),
            )
            .await;
        assert_eq!(res.status().as_u16(), 200);
        slowest = slowest.max(started.elapsed());
    }
    let answered = futures::future::join_all(flood)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect::<Vec<_>>();
    let refused = answered
        .iter()
        .filter(|(s, retry)| *s == 429 && *retry)
        .count();
    assert!(
        refused >= 290,
        "the address had at most 4 tries left: {refused} of 300 refused"
    );
    assert!(
        slowest < Duration::from_secs(1),
        "check answered within a second during the flood (slowest {slowest:?})"
    );
}

/// Issue 12, CSRF: a log-in form posted from another site is refused (login CSRF),
/// the same form from Tollgate's own page still works without JavaScript.
#[sqlx::test(migrations = "../migrations")]
async fn server_functions_refuse_posts_from_other_sites(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(None).await;
    let post = |origin: String, fetch_site: &'static str| {
        app.http
            .post(app.url("/_fn/log_in"))
            .header("accept", "text/html")
            .header("origin", origin)
            .header("sec-fetch-site", fetch_site)
            .form(&[
                ("email", c.email.as_str()),
                ("password", PASSWORD),
                ("next", "/dashboard"),
            ])
            .send()
    };
    let evil = post("https://evil.example".into(), "cross-site")
        .await
        .unwrap();
    assert_eq!(evil.status().as_u16(), 403);
    assert!(
        evil.headers().get(reqwest::header::SET_COOKIE).is_none(),
        "no session for a forged log-in"
    );
    let res = post(format!("http://{}", app.addr), "same-origin")
        .await
        .unwrap();
    assert!(
        res.status().is_redirection(),
        "the plain form from the login page signs in: {}",
        res.status()
    );
    assert!(res.headers().get(reqwest::header::SET_COOKIE).is_some());
}

/// Issue 12: a session ended while another request of it was under way (log-out
/// everywhere after a password reset) is not written back when that request saves.
#[sqlx::test(migrations = "../migrations")]
async fn an_ended_session_is_not_written_back_by_a_late_save(pool: PgPool) {
    use tower_sessions::session::{Id, Record};
    use tower_sessions::session_store::SessionStore;
    let store = tollgate::db::sessions::PgSessionStore::new(pool.clone());
    let mut record = Record {
        id: Id::default(),
        data: Default::default(),
        expiry_date: tower_sessions::cookie::time::OffsetDateTime::now_utc()
            + tower_sessions::cookie::time::Duration::days(1),
    };
    store.create(&mut record).await.unwrap();
    assert!(store.load(&record.id).await.unwrap().is_some());
    // A request has loaded it; meanwhile every session of the user is ended.
    sqlx::query("DELETE FROM sessions")
        .execute(&pool)
        .await
        .unwrap();
    record.data.insert("late".into(), serde_json::json!(true));
    store.save(&record).await.unwrap();
    assert!(
        store.load(&record.id).await.unwrap().is_none(),
        "the stolen session stays ended"
    );
}

/// Issue 12: security headers on every answer, and signed-in pages kept out of
/// browser caches.
#[sqlx::test(migrations = "../migrations")]
async fn answers_carry_security_headers_and_signed_in_pages_are_not_cached(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(Some("starter")).await;
    let page = app.http.get(app.url("/login")).send().await.unwrap();
    let h = page.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    // Scripts: only this origin's, and the page's inline scripts by their nonce.
    assert_eq!(
        h.get_all("content-security-policy").iter().count(),
        1,
        "one policy"
    );
    let policy = h["content-security-policy"].to_str().unwrap().to_string();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("a nonce")
        .to_string();
    let html = app.http.get(app.url("/login")).send().await.unwrap();
    let other = html.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(!other.contains(&nonce), "a new nonce per page");
    let html = html.text().await.unwrap();
    let other_nonce = other
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .unwrap();
    assert!(
        html.contains(&format!("nonce=\"{other_nonce}\"")),
        "the page's scripts carry it"
    );
    assert_eq!(
        html.matches("<script").count(),
        html.matches(&format!("<script nonce=\"{other_nonce}\""))
            .count()
            + html.matches("<script type=\"module\" nonce=").count(),
        "{html}"
    );
    let api = app.http.get(app.url("/healthz")).send().await.unwrap();
    let api_policy = api.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        api_policy.contains("script-src 'self' 'wasm-unsafe-eval';")
            && !api_policy.contains("nonce"),
        "{api_policy}"
    );
    assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
    assert!(
        h.get("strict-transport-security").is_none(),
        "plain http here: no HSTS"
    );
    assert_ne!(
        h.get("cache-control").map(|v| v.to_str().unwrap()),
        Some("no-store"),
        "a public page may be cached"
    );
    let api = app.get("/api/v1/usage", &c.key).await;
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");

    let (_, _, session, _) = log_in(&app, &c.email, PASSWORD, None).await;
    let cookie = session.expect("signed in");
    let dashboard = app
        .http
        .get(app.url("/dashboard"))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(dashboard.status(), 200);
    assert_eq!(dashboard.headers()["cache-control"], "no-store");
}

/// Issue 12: a server function's refusal answers 4xx (bad input 422, not signed in
/// 401), keeping the error body; only failures of the server answer 500.
#[sqlx::test(migrations = "../migrations")]
async fn server_function_refusals_answer_4xx_with_the_error(pool: PgPool) {
    let app = spawn_app(pool).await;
    let bad = app
        .http
        .post(app.url("/_fn/sign_up"))
        .form(&[
            ("name", "Ada"),
            ("email", "not-an-address"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let body = bad.text().await.unwrap();
    let e: tollgate_app::error::AppError =
        serde_json::from_str(&body).expect("the error body is unchanged");
    assert!(
        e.form().is_some_and(|f| f.fields.contains_key("email")),
        "{body}"
    );
    let anonymous = app
        .http
        .post(app.url("/_fn/admin_users"))
        .form(&[("q", ""), ("page", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
