//! Organizations over HTTP: removal ends access at once (server functions and the
//! live stream of a tab already open), and the invitation link works for a new user
//! who signs up from it.

use crate::support;

use futures::StreamExt;
use reqwest::header::COOKIE;
use sqlx::PgPool;
use std::time::Duration;
use support::admin::session_cookie;
use support::{spawn_app, TestApp, PASSWORD};
use tollgate::period::Interval;
use tollgate::service::accounts::Role;
use tollgate::service::organizations::{self as orgs, invitations};
use tollgate::service::{plans, Actor};

/// Logs in through the form; the session cookie.
async fn log_in(app: &TestApp, email: &str) -> String {
    support::admin::log_in(app, email, PASSWORD).await
}

async fn post(app: &TestApp, cookie: &str, endpoint: &str, form: &[(&str, &str)]) -> (u16, String) {
    let res = app
        .http
        .post(app.url(&format!("/_fn/{endpoint}")))
        .header(COOKIE, cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[sqlx::test(migrations = "../migrations")]
async fn a_removed_member_loses_access_at_once_even_in_an_open_tab(
    _pool_options: sqlx::postgres::PgPoolOptions,
    db: sqlx::postgres::PgConnectOptions,
) {
    // The server's default pool size (20), as in authz_admin. (An organization page
    // here answered 503 after 30 s now and then: another test was building its
    // router meanwhile, see `pages`.)
    let pool = support::pool_of_20(db).await;
    let app = spawn_app(pool).await;
    let t = app.tollgate.clone();
    let owner = app.customer(None).await;
    let me = Actor::user(owner.user_id);
    let org = orgs::create(
        &t.pool,
        "Gone Inc",
        "gone",
        "b@gone.example",
        owner.user_id,
        &me,
    )
    .await
    .unwrap();
    plans::choose(
        &t,
        org,
        "team",
        Interval::Month,
        plans::Chooser::Customer,
        &me,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    tollgate::service::organizations::seats::set_seats(
        &t,
        org,
        owner.user_id,
        5,
        &me,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let member = app.customer(None).await;
    let owner_row = tollgate::db::users::by_id(&t.pool, owner.user_id)
        .await
        .unwrap()
        .unwrap();
    let member_row = tollgate::db::users::by_id(&t.pool, member.user_id)
        .await
        .unwrap()
        .unwrap();
    let sent = invitations::invite(
        &t,
        org,
        &owner_row,
        &member.email,
        Role::Member,
        &me,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    invitations::accept(
        &t,
        &sent.token,
        &member_row,
        &Actor::user(member.user_id),
        chrono::Utc::now(),
    )
    .await
    .unwrap();

    let member_cookie = log_in(&app, &member.email).await;
    let owner_cookie = log_in(&app, &owner.email).await;
    // The member's tab: the organization's live usage and its pages.
    assert!(
        post(
            &app,
            &member_cookie,
            "switch_account",
            &[("account_id", &org.to_string())]
        )
        .await
        .0 < 400
    );
    let res = app
        .http
        .get(app.url("/live/usage?org=gone"))
        .header(COOKIE, &member_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut stream = res.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(std::str::from_utf8(&first)
        .unwrap()
        .contains("\"snapshot\""));
    assert_eq!(
        post(&app, &member_cookie, "org_usage", &[("slug", "gone")])
            .await
            .0,
        200
    );

    // The owner removes the member.
    let (status, body) = post(
        &app,
        &owner_cookie,
        "org_member_remove",
        &[("slug", "gone"), ("user_id", &member.user_id.to_string())],
    )
    .await;
    assert!(status < 400, "{status} {body}");

    // The open stream ends without sending the organization's data again.
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        let mut seen = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            seen.push_str(std::str::from_utf8(&chunk).unwrap());
            if seen.contains("event: end") {
                return seen;
            }
        }
        seen
    })
    .await
    .expect("the stream ends in time");
    assert!(
        ended.contains("event: end") && !ended.contains("\"snapshot\""),
        "{ended}"
    );
    // The navigation (asked at the same time as the page) never goes blank: it answers
    // for the personal account and leaves the refusal to the page's own request.
    let (status, accounts) = post(&app, &member_cookie, "accounts", &[]).await;
    assert!(
        status == 200 && accounts.contains("(personal)") && !accounts.contains("Gone Inc"),
        "{status} {accounts}"
    );
    let (status, viewer) = post(&app, &member_cookie, "viewer", &[]).await;
    assert!(
        status == 200 && viewer.contains(&member.email),
        "{status} {viewer}"
    );
    // The tab that acted for the organization (say /settings/api-keys) is refused on
    // its next action, which is not redone for the personal account either.
    let (status, body) = post(
        &app,
        &member_cookie,
        "api_key_create",
        &[("name", "after removal")],
    )
    .await;
    assert!(
        status == 403 && body.contains("no longer a member"),
        "{status} {body}"
    );
    let keys: i64 =
        sqlx::query_scalar("SELECT count(*) FROM api_keys WHERE name = 'after removal'")
            .fetch_one(&t.pool)
            .await
            .unwrap();
    assert_eq!(keys, 0);
    // Every next request to the organization is refused with "not found".
    for endpoint in ["org", "org_usage", "org_members", "org_leave"] {
        let (status, body) = post(&app, &member_cookie, endpoint, &[("slug", "gone")]).await;
        assert!(
            status >= 400 && body.contains("NotFound"),
            "{endpoint}: {status} {body}"
        );
    }
    let page = app
        .http
        .get(app.url("/orgs/gone/usage"))
        .header(COOKIE, &member_cookie)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    assert_eq!(
        app.http
            .get(app.url("/live/usage?org=gone"))
            .header(COOKIE, &member_cookie)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // The session falls back to the personal account: the switcher no longer lists the organization.
    let (_, accounts) = post(&app, &member_cookie, "accounts", &[]).await;
    assert!(!accounts.contains("Gone Inc"), "{accounts}");
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE account_id = $1 ORDER BY id")
            .bind(org)
            .fetch_all(&t.pool)
            .await
            .unwrap();
    assert!(
        actions.contains(&"membership.removed".to_string()),
        "{actions:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_new_user_signs_up_from_the_link_and_joins(pool: PgPool) {
    let app = spawn_app(pool).await;
    let t = app.tollgate.clone();
    let owner = app.customer(None).await;
    let me = Actor::user(owner.user_id);
    orgs::create(
        &t.pool,
        "Join Inc",
        "join",
        "b@join.example",
        owner.user_id,
        &me,
    )
    .await
    .unwrap();
    let owner_cookie = log_in(&app, &owner.email).await;
    let (status, body) = post(
        &app,
        &owner_cookie,
        "org_invite",
        &[
            ("slug", "join"),
            ("email", "Newbie@Test.example"),
            ("role", "viewer"),
        ],
    )
    .await;
    assert!(status < 400, "{status} {body}");
    let ctx: serde_json::Value =
        sqlx::query_scalar("SELECT context FROM email_outbox WHERE template = 'invitation'")
            .fetch_one(&t.pool)
            .await
            .unwrap();
    let link = ctx["link"].as_str().unwrap().to_string();
    let token = link.rsplit('/').next().unwrap().to_string();
    assert!(
        link.starts_with(&format!("http://{}/invite/", app.addr)),
        "{link}"
    );
    assert_eq!(ctx["organization"]["name"], "Join Inc");

    // Signed out, the link shows the invitation with the sign-up form for the address.
    let page = app
        .http
        .get(app.url(&format!("/invite/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("newbie@test.example") && html.contains("Create account and join"),
        "{html}"
    );
    // Someone signed in with another address is told so, and cannot accept.
    let other = app.customer(None).await;
    let other_cookie = log_in(&app, &other.email).await;
    let (status, body) = post(
        &app,
        &other_cookie,
        "invitation_accept",
        &[("token", &token)],
    )
    .await;
    assert!(
        status >= 400 && body.contains("another e-mail address"),
        "{status} {body}"
    );

    let res = app
        .http
        .post(app.url("/_fn/invitation_sign_up"))
        .header("accept", "text/html")
        .form(&[
            ("token", token.as_str()),
            ("name", "New Bie"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/orgs/join/usage");
    let cookie = session_cookie(&res).expect("signed in");
    let (status, body) = post(&app, &cookie, "org_members", &[("slug", "join")]).await;
    assert!(
        status == 200 && body.contains("newbie@test.example") && body.contains("\"viewer\""),
        "{status} {body}"
    );
    // The link is used up.
    let again = app
        .http
        .get(app.url(&format!("/invite/{token}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(again.contains("already been used"), "{again}");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_existing_user_logs_in_from_the_link_then_accepts(pool: PgPool) {
    let app = spawn_app(pool).await;
    let t = app.tollgate.clone();
    let owner = app.customer(None).await;
    let me = Actor::user(owner.user_id);
    let org = orgs::create(
        &t.pool,
        "Back Inc",
        "back",
        "b@back.example",
        owner.user_id,
        &me,
    )
    .await
    .unwrap();
    let guest = app.customer(None).await;
    let owner_row = tollgate::db::users::by_id(&t.pool, owner.user_id)
        .await
        .unwrap()
        .unwrap();
    let sent = invitations::invite(
        &t,
        org,
        &owner_row,
        &guest.email,
        Role::Member,
        &me,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let path = format!("/invite/{}", sent.token);

    let html = app
        .http
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let login = tollgate::access::login_url(&path);
    assert!(
        html.contains("Log in to accept") && html.contains(&login.replace('&', "&amp;")),
        "{html}"
    );
    let res = app
        .http
        .post(app.url("/_fn/log_in"))
        .header("accept", "text/html")
        .form(&[
            ("email", guest.email.as_str()),
            ("password", PASSWORD),
            ("next", path.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"].to_str().unwrap(), path);
    let cookie = session_cookie(&res).unwrap();
    let html = app
        .http
        .get(app.url(&path))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Accept invitation"), "{html}");
    let res = app
        .http
        .post(app.url("/_fn/invitation_accept"))
        .header(COOKIE, &cookie)
        .header("accept", "text/html")
        .form(&[("token", sent.token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/orgs/back/usage");
    assert_eq!(
        tollgate::db::accounts::role_of(&t.pool, org, guest.user_id)
            .await
            .unwrap()
            .as_deref(),
        Some("member")
    );
    // A revoked or used link says so on the page.
    let again = app
        .http
        .post(app.url("/_fn/invitation_accept"))
        .header(COOKIE, &cookie)
        .form(&[("token", sent.token.as_str())])
        .send()
        .await
        .unwrap();
    let body = again.text().await.unwrap();
    assert!(body.contains("already been used"), "{body}");
}
