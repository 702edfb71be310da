//! E-mail: the outbox worker against a real SMTP server (aiosmtpd, started by
//! scripts/test.sh or by the test), retries with back-off, claim safety between
//! workers, and usage warnings that go out once.

use crate::support;
use crate::support::mail as sink;

use serde_json::json;
use sink::{mail_sink, Mail};
use sqlx::PgPool;
use std::collections::HashSet;
use std::time::Duration;
use support::{answer, spawn_app};
use tollgate::db::outbox::OutboxRow;
use tollgate::service::mail::{self, worker, worker::Delivery, Mailer, WorkerSettings};
use uuid::Uuid;

fn address(tag: &str) -> String {
    format!("{tag}-{}@mail.test", Uuid::now_v7().simple())
}

fn fast() -> WorkerSettings {
    WorkerSettings {
        max_attempts: 3,
        backoff_base: Duration::from_secs(10),
        backoff_max: Duration::from_secs(15),
        lease: Duration::from_secs(60),
        poll: Duration::from_millis(50),
        batch: 10,
    }
}

async fn row(pool: &PgPool, to: &str) -> OutboxRow {
    let rows = tollgate::db::outbox::recent(pool, Some(to), 10)
        .await
        .expect("outbox");
    assert_eq!(rows.len(), 1, "one message to {to}");
    rows.into_iter().next().expect("row")
}

/// Seconds from the database's now to the row's next attempt.
async fn due_in(pool: &PgPool, id: Uuid) -> f64 {
    sqlx::query_scalar("SELECT extract(epoch FROM next_attempt_at - now())::float8 FROM email_outbox WHERE id = $1").bind(id).fetch_one(pool).await.expect("row")
}

fn password_reset(name: &str, to: &str) -> serde_json::Value {
    json!({"user": {"name": name, "email": to}, "link": format!("http://127.0.0.1:3000/reset-password?token={}", "t".repeat(90)), "expires_in_minutes": 60})
}

#[test]
fn the_reader_decodes_what_mailers_encode() {
    let qp = Mail::parse("Subject: Hi\r\nTo: a@b.c\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nZo=C3=AB, a long =\r\nline=3D1\r\n");
    assert_eq!(
        (qp.subject(), qp.body.as_str()),
        ("Hi", "Zoë, a long line=1\n")
    );
    let b64 = Mail::parse("Subject: Hi\nContent-Transfer-Encoding: base64\n\nWm/DqywgaGk=\n");
    assert_eq!(b64.body, "Zoë, hi");
    let folded = Mail::parse("Subject: a\n  b\nTo: x@y.z\n\nplain\n");
    assert_eq!(
        (folded.subject(), folded.header("to"), folded.body.as_str()),
        ("a b", Some("x@y.z"), "plain\n")
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_message_is_rendered_and_delivered_through_smtp(pool: PgPool) {
    let sink = mail_sink();
    let to = address("reset");
    // A non-ASCII name and a long link make the mailer encode the body.
    assert!(mail::enqueue(
        &pool,
        &to.to_uppercase(),
        "password_reset",
        &password_reset("Zoë Ångström", &to),
        None,
        None
    )
    .await
    .expect("enqueue"));
    let done = worker::deliver_due(&pool, &sink.mailer(), &fast())
        .await
        .expect("deliver");
    assert_eq!(
        done.iter().map(|(_, d)| *d).collect::<Vec<_>>(),
        [Delivery::Sent]
    );

    let mails = sink.wait_for(&to, 1).await;
    assert_eq!(mails[0].subject(), "Reset your password");
    assert!(mails[0]
        .header("from")
        .is_some_and(|f| f.contains("no-reply@tollgate.localhost")));
    assert!(
        mails[0].body.starts_with("Hi Zoë Ångström,\n"),
        "{}",
        mails[0].body
    );
    assert!(
        mails[0]
            .body
            .contains(&format!("token={}\n", "t".repeat(90))),
        "{}",
        mails[0].body
    );

    let r = row(&pool, &to).await;
    assert_eq!(
        (r.status.as_str(), r.attempts, r.last_error.as_deref()),
        ("sent", 1, None)
    );
    assert!(r.sent_at.is_some());
    // The delivered link (a live credential) does not stay in the outbox.
    let kept: String = sqlx::query_scalar("SELECT context::text FROM email_outbox WHERE id = $1")
        .bind(r.id)
        .fetch_one(&pool)
        .await
        .expect("row");
    assert!(
        !kept.contains("token=") && kept.contains("(removed after sending)"),
        "{kept}"
    );
    assert!(
        worker::deliver_due(&pool, &sink.mailer(), &fast())
            .await
            .expect("deliver")
            .is_empty(),
        "sent messages are not sent again"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn without_smtp_messages_are_logged_marked_sent_and_listed(pool: PgPool) {
    let to = address("log");
    mail::enqueue(
        &pool,
        &to,
        "password_reset",
        &password_reset("Ada", &to),
        None,
        None,
    )
    .await
    .expect("enqueue");
    let done = worker::deliver_due(
        &pool,
        &Mailer::log("Tollgate <no-reply@tollgate.localhost>").expect("mailer"),
        &fast(),
    )
    .await
    .expect("deliver");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].1, Delivery::Sent);
    let listed = mail::recent(&pool, Some(&to), 20).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].row.status, "sent");
    let rendered = listed[0].rendered.as_ref().expect("renders");
    assert_eq!(rendered.subject, "Reset your password");
    assert!(rendered.body.starts_with("Hi Ada,"));
    assert!(mail::recent(&pool, Some("not an address"), 20)
        .await
        .is_err());
    assert!(
        mail::enqueue(&pool, &to, "no_such_template", &json!({}), None, None)
            .await
            .is_err(),
        "unknown templates are refused at enqueue"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unreachable_server_is_retried_with_growing_waits_then_given_up(pool: PgPool) {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut smtp = mail_sink().smtp_settings();
    smtp.port = Some(port);
    let mailer = Mailer::smtp("no-reply@tollgate.localhost", &smtp).expect("mailer");
    let settings = fast();
    let to = address("retry");
    mail::enqueue(
        &pool,
        &to,
        "password_reset",
        &password_reset("Ada", &to),
        None,
        None,
    )
    .await
    .expect("enqueue");

    let mut waits = Vec::new();
    for attempt in 1..=2 {
        let done = worker::deliver_due(&pool, &mailer, &settings)
            .await
            .expect("deliver");
        assert_eq!(
            done.iter().map(|(_, d)| *d).collect::<Vec<_>>(),
            [Delivery::Retry],
            "attempt {attempt}"
        );
        let r = row(&pool, &to).await;
        assert_eq!((r.status.as_str(), r.attempts), ("pending", attempt));
        assert!(
            r.last_error.as_deref().is_some_and(|e| e.contains("SMTP")),
            "{:?}",
            r.last_error
        );
        waits.push(due_in(&pool, r.id).await);
        assert!(
            worker::deliver_due(&pool, &mailer, &settings)
                .await
                .expect("deliver")
                .is_empty(),
            "not due before its wait"
        );
        // Let the wait pass.
        sqlx::query("UPDATE email_outbox SET next_attempt_at = now() WHERE id = $1")
            .bind(r.id)
            .execute(&pool)
            .await
            .expect("time passes");
    }
    assert!(
        (9.0..=10.5).contains(&waits[0]),
        "first wait ≈ 10 s: {waits:?}"
    );
    assert!(
        (14.0..=15.5).contains(&waits[1]),
        "second wait doubles, capped at 15 s: {waits:?}"
    );

    let done = worker::deliver_due(&pool, &mailer, &settings)
        .await
        .expect("deliver");
    assert_eq!(
        done.iter().map(|(_, d)| *d).collect::<Vec<_>>(),
        [Delivery::Failed]
    );
    let r = row(&pool, &to).await;
    assert_eq!(
        (r.status.as_str(), r.attempts, r.sent_at),
        ("failed", 3, None)
    );
    assert!(r.last_error.is_some());
    sqlx::query("UPDATE email_outbox SET next_attempt_at = now() - interval '1 hour'")
        .execute(&pool)
        .await
        .expect("time passes");
    assert!(
        worker::deliver_due(&pool, &mailer, &settings)
            .await
            .expect("deliver")
            .is_empty(),
        "failed messages stay failed"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_message_that_cannot_render_fails_at_once(pool: PgPool) {
    let to = address("broken");
    // The context lacks `link`: strict undefined refuses to render it.
    mail::enqueue(
        &pool,
        &to,
        "password_reset",
        &json!({"user": {"name": "Ada", "email": to}, "expires_in_minutes": 60}),
        None,
        None,
    )
    .await
    .expect("enqueue");
    let done = worker::deliver_due(
        &pool,
        &Mailer::log("no-reply@tollgate.localhost").expect("mailer"),
        &fast(),
    )
    .await
    .expect("deliver");
    assert_eq!(done[0].1, Delivery::Failed);
    let r = row(&pool, &to).await;
    assert_eq!((r.status.as_str(), r.attempts), ("failed", 1));
    assert!(
        r.last_error.as_deref().is_some_and(|e| e.contains("link")),
        "{:?}",
        r.last_error
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn concurrent_workers_never_send_the_same_message(pool: PgPool) {
    let sink = mail_sink();
    let tag = Uuid::now_v7().simple().to_string();
    let recipients: Vec<String> = (0..24)
        .map(|i| format!("claim-{tag}-{i}@mail.test"))
        .collect();
    for to in &recipients {
        mail::enqueue(
            &pool,
            to,
            "password_reset",
            &password_reset("Ada", to),
            None,
            None,
        )
        .await
        .expect("enqueue");
    }
    let settings = WorkerSettings { batch: 3, ..fast() };
    let workers = (0..4).map(|_| {
        let (pool, mailer, settings) = (pool.clone(), sink.mailer(), settings.clone());
        tokio::spawn(async move {
            let mut sent = Vec::new();
            loop {
                let done = worker::deliver_due(&pool, &mailer, &settings)
                    .await
                    .expect("deliver");
                if done.is_empty() {
                    return sent;
                }
                sent.extend(done.into_iter().map(|(r, d)| (r.id, d)));
            }
        })
    });
    let mut all = Vec::new();
    for w in futures::future::join_all(workers).await {
        all.extend(w.expect("worker"));
    }
    assert!(all.iter().all(|(_, d)| *d == Delivery::Sent));
    let ids: HashSet<Uuid> = all.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        (all.len(), ids.len()),
        (24, 24),
        "every message claimed by exactly one worker"
    );
    for to in &recipients {
        assert_eq!(
            sink.wait_for(to, 1).await.len(),
            1,
            "exactly one e-mail to {to}"
        );
    }
    let attempts: Vec<i32> = sqlx::query_scalar("SELECT attempts FROM email_outbox")
        .fetch_all(&pool)
        .await
        .expect("rows");
    assert!(attempts.iter().all(|a| *a == 1), "{attempts:?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn usage_warnings_marked_for_email_go_out_once_per_threshold(pool: PgPool) {
    let sink = mail_sink();
    let app = spawn_app(pool.clone()).await;
    let c = app.customer(Some("free")).await; // 50 queries: 75 % at 38, 90 % at 45
                                              // Two batches at once cross 50 % and 75 %.
    let (a, b) = tokio::join!(app.queries(&c.key, "a", 20), app.queries(&c.key, "b", 20));
    assert_eq!(a.status().as_u16(), 202);
    assert_eq!(b.status().as_u16(), 202);
    // Repeats and more usage in the same period: 90 %, then 100 % (no e-mail).
    assert_eq!(
        answer(app.queries(&c.key, "a", 20).await).await,
        (202, json!({"accepted": 0, "duplicates": 20}))
    );
    assert_eq!(answer(app.queries(&c.key, "c", 6).await).await.0, 202);
    let check = json!({"feature": "queries", "consume": true, "idempotency_key": "check-1"});
    assert_eq!(
        answer(app.post("/api/v1/check", &c.key, &check).await)
            .await
            .0,
        200
    );
    assert_eq!(answer(app.queries(&c.key, "d", 3).await).await.0, 202);

    let keys: Vec<String> = sqlx::query_scalar(
        "SELECT dedup_key FROM email_outbox WHERE template = 'usage_threshold' ORDER BY created_at",
    )
    .fetch_all(&pool)
    .await
    .expect("outbox");
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(
        keys[0].starts_with(&format!("threshold:{}:queries:", c.account_id))
            && keys[0].ends_with(":75"),
        "{keys:?}"
    );
    assert!(keys[1].ends_with(":90"), "{keys:?}");
    let in_app: i64 =
        sqlx::query_scalar("SELECT count(*) FROM notifications WHERE account_id = $1")
            .bind(c.account_id)
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(in_app, 4, "50, 75, 90 and 100 % notify in the app");

    let done = worker::deliver_due(&pool, &sink.mailer(), &fast())
        .await
        .expect("deliver");
    assert_eq!(done.len(), 2);
    let mails = sink.wait_for(&c.email, 2).await;
    let subjects: Vec<&str> = mails.iter().map(Mail::subject).collect();
    assert_eq!(
        subjects,
        [
            "Your EMTChat usage is at 75%",
            "Your EMTChat usage is at 90%"
        ]
    );
    assert!(
        mails[0].body.starts_with(
            "Hi Test Customer,\n\nYou've used 40 of your 50 queries this period on the Free plan"
        ),
        "{}",
        mails[0].body
    );
    assert!(
        mails[1].body.contains("You've used 46 of your 50 queries"),
        "{}",
        mails[1].body
    );
    assert!(
        mails[0].body.contains(&format!("{}/pricing", app.url(""))),
        "{}",
        mails[0].body
    );

    // More usage later in the period sends nothing new.
    assert_eq!(answer(app.queries(&c.key, "e", 2).await).await.0, 202);
    assert!(worker::deliver_due(&pool, &sink.mailer(), &fast())
        .await
        .expect("deliver")
        .is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn an_organization_is_warned_at_its_billing_address(pool: PgPool) {
    use tollgate::period::Interval;
    use tollgate::service::{keys, organizations, plans, Actor};
    let sink = mail_sink();
    let app = spawn_app(pool.clone()).await;
    let owner = app.customer(None).await;
    let billing = address("billing");
    let slug = format!("acme-{}", &Uuid::now_v7().simple().to_string()[20..]);
    let org = organizations::create(
        &pool,
        "Acme Inc",
        &slug,
        &billing,
        owner.user_id,
        &Actor::Cli,
    )
    .await
    .expect("organization");
    plans::choose(
        &app.tollgate,
        org,
        "starter",
        Interval::Month,
        plans::Chooser::Operator,
        &Actor::Cli,
        chrono::Utc::now(),
    )
    .await
    .expect("plan");
    let key = keys::create_account_key(&pool, org, "backend", &Actor::Cli)
        .await
        .expect("key")
        .secret;
    assert_eq!(answer(app.queries(&key, "o", 380).await).await.0, 202);

    assert_eq!(
        worker::deliver_due(&pool, &sink.mailer(), &fast())
            .await
            .expect("deliver")
            .len(),
        1
    );
    let mails = sink.wait_for(&billing, 1).await;
    assert_eq!(mails[0].subject(), "Your EMTChat usage is at 75%");
    assert!(
        mails[0].body.starts_with("Hi Test Customer,"),
        "the owner is greeted: {}",
        mails[0].body
    );
    assert!(
        mails[0].body.contains("(75% of your limit) for Acme Inc."),
        "{}",
        mails[0].body
    );
    assert!(
        sink.messages_to(&owner.email).is_empty(),
        "the billing address receives it, not the owner"
    );
}
