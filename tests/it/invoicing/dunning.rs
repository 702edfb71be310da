//! Manual invoices delivered and chased (issue 14), on a fixed clock: the issued
//! invoice is e-mailed once with a signed PDF link; reminders go 3 days before the
//! due date and 1 and 7 days after it; 14 days after it the subscription is past
//! due with 7 days of grace; paying restores it at once. Every step is audited.

use super::*;
use tollgate::service::invoices::dunning::{self, Report, Schedule};
use tollgate::service::invoices::link;

async fn mails(t: &Tollgate) -> Vec<(String, String, Value)> {
    sqlx::query_as("SELECT template, to_address, context FROM email_outbox ORDER BY created_at, id")
        .fetch_all(&t.pool)
        .await
        .unwrap()
}

async fn subscription(t: &Tollgate, account: Uuid) -> (String, Option<DateTime<Utc>>) {
    sqlx::query_as("SELECT status, grace_until FROM subscriptions WHERE account_id = $1")
        .bind(account)
        .fetch_one(&t.pool)
        .await
        .unwrap()
}

async fn actions(t: &Tollgate, account: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE account_id = $1 AND action IN
           ('invoice.mailed', 'invoice.reminder_sent', 'subscription.past_due', 'subscription.restored', 'invoice.paid')
         ORDER BY id",
    )
    .bind(account)
    .fetch_all(&t.pool)
    .await
    .unwrap()
}

fn report(issued: usize, reminders: usize, past_due: usize) -> Report {
    Report { issued, reminders, past_due }
}

#[sqlx::test]
async fn an_unpaid_invoice_is_mailed_reminded_then_past_due_and_paying_restores_the_plan(pool: PgPool) {
    let t = tollgate(pool).await;
    let (_, account) = customer(&t, false).await;
    subscribe(&t, account, "standard", at("2026-09-01T00:00:00Z")).await;
    let issued = september(&t).await.issued;
    let invoice = issued[0].id;
    let owner: String = sqlx::query_scalar("SELECT u.email FROM users u JOIN accounts a ON a.personal_user_id = u.id WHERE a.id = $1")
        .bind(account)
        .fetch_one(&t.pool)
        .await
        .unwrap();
    let s = Schedule::default();
    let run = |now: &'static str| {
        let (t, s) = (&t, &s);
        async move { dunning::run(t, s, at(now)).await.unwrap() }
    };

    // Issued on 2 October, 09:00, due in 14 days (16 October, 09:00).
    assert_eq!(run("2026-10-02T09:01:00Z").await, report(1, 0, 0));
    assert_eq!(run("2026-10-02T09:02:00Z").await, report(0, 0, 0), "mailed once");
    let sent = mails(&t).await;
    assert_eq!(sent.len(), 1);
    let (template, to, context) = &sent[0];
    assert_eq!((template.as_str(), to.as_str()), ("invoice_issued", owner.as_str()));
    assert_eq!(context["invoice"]["due_date"], "2026-10-16");
    let pdf = context["invoice"]["pdf_link"].as_str().unwrap();
    let token = pdf.split_once("?token=").map(|(path, token)| {
        assert!(path.ends_with(&format!("/invoices/{invoice}/pdf")), "{path}");
        token.to_owned()
    });
    let key = tollgate::service::embed::key(&t).await.unwrap().to_vec();
    assert!(link::verify(&key, invoice, &token.unwrap(), at("2026-10-20T00:00:00Z")), "the link opens the invoice");

    // Reminders: 3 days before, then 1 and 7 days after the due date, each once.
    assert_eq!(run("2026-10-13T08:59:00Z").await, report(0, 0, 0));
    assert_eq!(run("2026-10-13T09:00:00Z").await, report(0, 1, 0));
    assert_eq!(run("2026-10-15T09:00:00Z").await, report(0, 0, 0));
    assert_eq!(run("2026-10-17T09:30:00Z").await, report(0, 1, 0));
    assert_eq!(run("2026-10-23T09:30:00Z").await, report(0, 1, 0));
    assert_eq!(run("2026-10-29T09:30:00Z").await, report(0, 0, 0));
    let reminders: Vec<(String, Value)> = mails(&t).await.into_iter().filter(|m| m.0 == "invoice_reminder").map(|m| (m.1, m.2)).collect();
    let overdue: Vec<i64> = reminders.iter().map(|(_, c)| c["days_overdue"].as_i64().unwrap()).collect();
    assert_eq!(overdue, [0, 1, 7]);
    assert_eq!(reminders[2].1["past_due_on"], "2026-10-30");
    assert_eq!(subscription(&t, account).await, ("active".to_owned(), None));

    // 14 days after the due date: past due, with 7 days of grace.
    assert_eq!(run("2026-10-30T09:30:00Z").await, report(0, 0, 1));
    assert_eq!(run("2026-10-31T09:30:00Z").await, report(0, 0, 0), "once");
    assert_eq!(subscription(&t, account).await, ("past_due".to_owned(), Some(at("2026-11-06T09:30:00Z"))));
    let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM notifications WHERE account_id = $1 AND kind = 'payment_overdue'")
        .bind(account)
        .fetch_all(&t.pool)
        .await
        .unwrap();
    assert_eq!(kinds.len(), 1);
    assert!(mails(&t).await.iter().any(|(tpl, to, c)| tpl == "invoice_past_due" && *to == owner && c["grace_until"] == "2026-11-06"));

    // The bank transfer arrives: active again at once.
    invoices::set_status(&t, &Actor::Cli, invoice, tollgate::invoice::InvoiceStatus::Paid, at("2026-11-02T10:00:00Z"))
        .await
        .unwrap();
    assert_eq!(subscription(&t, account).await, ("active".to_owned(), None));
    // The payment is acknowledged, in the app and by e-mail.
    let received: Vec<String> = sqlx::query_scalar("SELECT body FROM notifications WHERE account_id = $1 AND kind = 'payment_received'")
        .bind(account)
        .fetch_all(&t.pool)
        .await
        .unwrap();
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(mails(&t).await.iter().any(|(tpl, to, _)| tpl == "payment_received" && *to == owner));
    assert_eq!(
        actions(&t, account).await,
        [
            "invoice.mailed",
            "invoice.reminder_sent",
            "invoice.reminder_sent",
            "invoice.reminder_sent",
            "subscription.past_due",
            "invoice.paid",
            "subscription.restored"
        ]
    );
    assert_eq!(run("2026-11-20T00:00:00Z").await, report(0, 0, 0), "a paid invoice is not chased");
}

#[sqlx::test]
async fn a_job_that_was_down_sends_only_the_latest_reminder_and_to_the_billing_address(pool: PgPool) {
    let t = tollgate(pool).await;
    let (_, account) = customer(&t, false).await;
    sqlx::query("UPDATE accounts SET billing_email = 'ap@example.com' WHERE id = $1")
        .bind(account)
        .execute(&t.pool)
        .await
        .unwrap();
    subscribe(&t, account, "standard", at("2026-09-01T00:00:00Z")).await;
    september(&t).await;
    let s = Schedule::default();
    // The job was down until 9 days after the due date: one reminder (7 days), not three.
    assert_eq!(dunning::run(&t, &s, at("2026-10-04T00:00:00Z")).await.unwrap(), report(1, 0, 0));
    assert_eq!(dunning::run(&t, &s, at("2026-10-25T09:30:00Z")).await.unwrap(), report(0, 1, 0));
    let sent = mails(&t).await;
    assert!(sent.iter().all(|(_, to, _)| to == "ap@example.com"), "the billing address gets them: {sent:?}");
    assert_eq!(sent.iter().filter(|m| m.0 == "invoice_reminder").count(), 1);
}

#[sqlx::test]
async fn voiding_the_invoice_that_made_the_subscription_past_due_restores_it(pool: PgPool) {
    let t = tollgate(pool).await;
    let (_, account) = customer(&t, false).await;
    subscribe(&t, account, "standard", at("2026-09-01T00:00:00Z")).await;
    let invoice = september(&t).await.issued[0].id;
    let s = Schedule::default();
    dunning::run(&t, &s, at("2026-10-02T09:01:00Z")).await.unwrap();
    assert_eq!(dunning::run(&t, &s, at("2026-10-30T09:30:00Z")).await.unwrap(), report(0, 1, 1), "the latest reminder, and past due");
    assert_eq!(subscription(&t, account).await.0, "past_due");
    invoices::set_status(&t, &Actor::Cli, invoice, tollgate::invoice::InvoiceStatus::Void, at("2026-11-02T10:00:00Z"))
        .await
        .unwrap();
    assert_eq!(subscription(&t, account).await, ("active".to_owned(), None));
    assert_eq!(dunning::run(&t, &s, at("2026-11-20T00:00:00Z")).await.unwrap(), report(0, 0, 0), "a void invoice is not chased");
    let received: i64 = sqlx::query_scalar("SELECT count(*) FROM notifications WHERE account_id = $1 AND kind = 'payment_received'")
        .bind(account)
        .fetch_one(&t.pool)
        .await
        .unwrap();
    assert_eq!(received, 0, "voiding is no payment");
}

#[sqlx::test]
async fn an_invoice_tollgate_never_mailed_is_not_chased(pool: PgPool) {
    let t = tollgate(pool).await;
    let (_, account) = customer(&t, false).await;
    subscribe(&t, account, "standard", at("2026-09-01T00:00:00Z")).await;
    september(&t).await;
    let s = Schedule::default();
    // The first pass runs long after the invoice was issued (as after an upgrade):
    // too late to e-mail it as issued, so it is not chased either.
    assert_eq!(dunning::run(&t, &s, at("2026-12-01T00:00:00Z")).await.unwrap(), report(0, 0, 0));
    assert_eq!(subscription(&t, account).await, ("active".to_owned(), None));
    assert!(mails(&t).await.is_empty());
}
