//! Billing over HTTP: who may download an invoice's PDF, the customer's billing
//! page, the admin CSV exports and marking an invoice paid from the admin list.

use crate::support;

use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION};
use sqlx::PgPool;
use support::admin::{call, fn_outcome, log_in, super_admin, Outcome};
use support::billing::open_invoice;
use support::{spawn_app, TestApp, PASSWORD};
use tollgate::service::{organizations, Actor};
use uuid::Uuid;

async fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut req = app.http.get(app.url(path)).header("accept", "text/html");
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    req.send().await.unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn an_invoice_pdf_is_for_its_account_and_the_super_admin_only(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.customer(Some("starter")).await;
    let stranger = app.customer(Some("starter")).await;
    let invoice = open_invoice(&app, owner.account_id).await;
    let path = format!("/invoices/{invoice}/pdf");

    let mine = log_in(&app, &owner.email, PASSWORD).await;
    let res = get(&app, &path, Some(&mine)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[CONTENT_TYPE], "application/pdf");
    let pdf = res.bytes().await.unwrap();
    assert!(
        pdf.starts_with(b"%PDF-") && pdf.len() > 1000,
        "a real PDF, {} bytes",
        pdf.len()
    );

    assert_eq!(get(&app, &path, None).await.status(), 401);
    let theirs = log_in(&app, &stranger.email, PASSWORD).await;
    assert_eq!(
        get(&app, &path, Some(&theirs)).await.status(),
        404,
        "another account's invoice does not exist for them"
    );
    assert_eq!(
        get(
            &app,
            &format!("/invoices/{}/pdf", Uuid::now_v7()),
            Some(&mine)
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        get(&app, "/invoices/not-an-id/pdf", Some(&mine))
            .await
            .status(),
        404
    );
    let root = super_admin(&app).await;
    assert_eq!(get(&app, &path, Some(&root)).await.status(), 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_e_mailed_invoice_link_opens_its_pdf_without_signing_in_until_it_expires(pool: PgPool) {
    use tollgate::service::invoices::link;
    let app = spawn_app(pool).await;
    let owner = app.customer(Some("starter")).await;
    let invoice = open_invoice(&app, owner.account_id).await;
    let other = open_invoice(&app, owner.account_id).await;
    let key = tollgate::service::embed::key(&app.tollgate).await.unwrap().to_vec();
    let now = chrono::Utc::now();
    let token = link::token(&key, invoice, now);

    let res = get(&app, &format!("/invoices/{invoice}/pdf?token={token}"), None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[CONTENT_TYPE], "application/pdf");
    assert!(res.bytes().await.unwrap().starts_with(b"%PDF-"));
    // Another invoice, an altered or an expired token: nothing.
    assert_eq!(get(&app, &format!("/invoices/{other}/pdf?token={token}"), None).await.status(), 404);
    let altered = format!("{}x", &token[..token.len() - 1]);
    assert_eq!(get(&app, &format!("/invoices/{invoice}/pdf?token={altered}"), None).await.status(), 404);
    let expired = link::token(&key, invoice, now - chrono::Duration::days(link::TTL_DAYS + 1));
    assert_eq!(get(&app, &format!("/invoices/{invoice}/pdf?token={expired}"), None).await.status(), 404);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_organization_s_invoices_are_for_its_owner_and_admins(pool: PgPool) {
    let app = spawn_app(pool).await;
    let owner = app.customer(None).await;
    let member = app.customer(None).await;
    let org = organizations::create(
        &app.tollgate.pool,
        "Billed Inc",
        "billed",
        "billing@billed.test",
        owner.user_id,
        &Actor::Cli,
    )
    .await
    .unwrap();
    tollgate::db::accounts::insert_membership(&app.tollgate.pool, org, member.user_id, "member")
        .await
        .unwrap();
    tollgate::service::plans::choose(
        &app.tollgate,
        org,
        "team",
        tollgate::period::Interval::Month,
        tollgate::service::plans::Chooser::Operator,
        &Actor::Cli,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let invoice = open_invoice(&app, org).await;
    let path = format!("/invoices/{invoice}/pdf");
    let owner_cookie = log_in(&app, &owner.email, PASSWORD).await;
    assert_eq!(get(&app, &path, Some(&owner_cookie)).await.status(), 200);
    let member_cookie = log_in(&app, &member.email, PASSWORD).await;
    assert_eq!(
        get(&app, &path, Some(&member_cookie)).await.status(),
        404,
        "a member does not see the bills"
    );
    // The member, acting for the organization, is refused its billing page data.
    let (outcome, _) = fn_outcome(
        call(
            &app,
            "switch_account",
            Some(&member_cookie),
            &[("account_id", org.to_string())],
        )
        .await,
    )
    .await;
    assert_eq!(outcome, Outcome::Allowed);
    let (outcome, body) = fn_outcome(call(&app, "billing", Some(&member_cookie), &[]).await).await;
    assert_eq!(outcome, Outcome::Forbidden, "{body}");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_billing_page_lists_the_invoices_with_their_pdf(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(Some("starter")).await;
    let cookie = log_in(&app, &c.email, PASSWORD).await;
    let empty = get(&app, "/billing", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(empty.contains("No invoices yet"), "empty state");
    let invoice = open_invoice(&app, c.account_id).await;
    let page = get(&app, "/billing", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("/invoices/{invoice}/pdf")) && page.contains("$19.00"),
        "{page}"
    );
    assert_eq!(
        get(&app, "/billing", None).await.status(),
        302,
        "signed out: to log-in"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn admins_export_csv_and_mark_an_invoice_paid_with_a_plain_form(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(Some("starter")).await;
    let invoice = open_invoice(&app, c.account_id).await;
    let root = super_admin(&app).await;

    let csv = get(&app, "/admin/billing/invoices.csv?status=open", Some(&root)).await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("number,account_id,account,status"));
    let row = lines.next().expect("one invoice");
    assert!(
        row.contains(&c.account_id.to_string()) && row.contains(",open,") && row.contains(",19,"),
        "{row}"
    );
    assert_eq!(lines.next(), None);
    let none = get(&app, "/admin/billing/invoices.csv?status=paid", Some(&root))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(none.lines().count(), 1, "only the header");
    let subs = get(
        &app,
        "/admin/billing/subscriptions.csv?plan=starter",
        Some(&root),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        subs.lines().count() >= 2 && subs.contains(&c.account_id.to_string()),
        "{subs}"
    );
    // A name typed as a formula is exported as text (issue 12, CSV injection).
    sqlx::query("UPDATE accounts SET name = '=HYPERLINK(\"https://evil.example\")' WHERE id = $1")
        .bind(c.account_id)
        .execute(&app.tollgate.pool)
        .await
        .unwrap();
    let subs = get(
        &app,
        "/admin/billing/subscriptions.csv?plan=starter",
        Some(&root),
    )
    .await
    .text()
    .await
    .unwrap();
    let invoices = get(&app, "/admin/billing/invoices.csv", Some(&root))
        .await
        .text()
        .await
        .unwrap();
    for csv in [&subs, &invoices] {
        let row = csv
            .lines()
            .find(|l| l.contains(&c.account_id.to_string()))
            .expect("the account's row");
        assert!(
            row.contains(",\"'=HYPERLINK(") && !row.contains(",\"=HYPERLINK("),
            "{row}"
        );
    }

    let customer_cookie = log_in(&app, &c.email, PASSWORD).await;
    assert_eq!(
        get(&app, "/admin/billing/invoices.csv", Some(&customer_cookie))
            .await
            .status(),
        403
    );
    assert_eq!(
        get(&app, "/admin/billing/subscriptions.csv", None)
            .await
            .status(),
        401
    );

    // The admin list's "Mark paid" is a plain form: it redirects back to the list.
    let res = app
        .http
        .post(app.url("/_fn/admin_invoice_status"))
        .header("accept", "text/html")
        .header(COOKIE, &root)
        .form(&[
            ("id", invoice.to_string()),
            ("status", "paid".into()),
            ("back", "/admin/billing/invoices?status=open".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()[LOCATION],
        "/admin/billing/invoices?status=open"
    );
    let row = tollgate::db::invoices::by_id(&app.tollgate.pool, invoice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "paid");
    // Paying twice is refused and changes nothing.
    let (outcome, body) = fn_outcome(
        call(
            &app,
            "admin_invoice_status",
            Some(&root),
            &[("id", invoice.to_string()), ("status", "paid".into())],
        )
        .await,
    )
    .await;
    assert!(
        matches!(outcome, Outcome::Other(_)) && body.contains("cannot become paid"),
        "{outcome:?} {body}"
    );
    let page = get(&app, "/admin/billing/invoices?status=paid", Some(&root))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("data-status=\"paid\""),
        "the list shows it paid"
    );
}

/// `/billing` shows this period's invoice so far and projected (the manual
/// provider), rendered with the page.
#[sqlx::test(migrations = "../migrations")]
async fn the_billing_page_shows_what_is_owed_this_period(pool: PgPool) {
    let app = spawn_app(pool).await;
    let c = app.customer(Some("pro")).await;
    let cookie = log_in(&app, &c.email, PASSWORD).await;
    let price = app
        .tollgate
        .catalog
        .get()
        .unwrap()
        .plan("pro")
        .unwrap()
        .price(tollgate::period::Interval::Month)
        .unwrap()
        .amount
        .display();
    let page = get(&app, "/billing", Some(&cookie))
        .await
        .text()
        .await
        .unwrap();
    let owed = &page[page.find(r#"data-testid="owed""#).expect("the section")..];
    assert!(owed.contains("What you owe this period"));
    for card in ["owed-accrued", "owed-projected"] {
        let at = owed.find(&format!(r#"data-testid="{card}""#)).expect(card);
        assert!(owed[at..].contains("Pro, monthly") && owed[at..].contains(&price), "{card}: {price}");
    }
}
