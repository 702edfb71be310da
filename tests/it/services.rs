//! Services against a real PostgreSQL (a database per test).

use chrono::{Duration, Utc};
use sqlx::PgPool;
use tollgate::identity::{Email, NewPassword, PersonName};
use tollgate::period::Interval;
use tollgate::service::ingest::{self, Draft};
use tollgate::service::keys::Caller;
use tollgate::service::{auth, catalog, jobs, plans, Actor, Error, Settings, Tollgate};
use uuid::Uuid;

const EMTCHAT: &str = include_str!("../../catalogs/emtchat.toml");

async fn tollgate(pool: PgPool) -> Tollgate {
    catalog::load(&pool, "catalogs/emtchat.toml", EMTCHAT, &Actor::Cli)
        .await
        .unwrap();
    Tollgate::new(
        pool,
        Settings {
            public_url: "http://t".into(),
            sales_email: "s@t.example".into(),
            cookie_secure: false,
        },
    )
    .await
    .unwrap()
}

async fn account(t: &Tollgate) -> (Uuid, Uuid) {
    let email = format!("u-{}@test.example", Uuid::now_v7().simple());
    let u = auth::sign_up(
        &t.pool,
        &Email::parse(&email).unwrap(),
        &PersonName::parse("U").unwrap(),
        &NewPassword::parse("correct horse battery").unwrap(),
        false,
        None,
    )
    .await
    .unwrap();
    (u.user_id, u.account_id)
}

fn drafts(meter: &str, n: usize, prefix: &str, at: Option<chrono::DateTime<Utc>>) -> Vec<Draft> {
    (0..n)
        .map(|i| Draft {
            account: None,
            meter: meter.into(),
            quantity: serde_json::json!(1),
            timestamp: at,
            user: None,
            idempotency_key: format!("{prefix}-{i}"),
            properties: Default::default(),
        })
        .collect()
}

async fn usage(t: &Tollgate, account: Uuid, meter: &str) -> String {
    let s = tollgate::service::usage::snapshot(t, account, Utc::now())
        .await
        .unwrap();
    s.meters
        .iter()
        .find(|m| m.meter == meter)
        .unwrap()
        .usage
        .normalize()
        .to_string()
}

#[sqlx::test]
async fn a_bad_catalog_leaves_the_database_unchanged(pool: PgPool) {
    let t = tollgate(pool.clone()).await;
    let bad = EMTCHAT.replace(
        "[plans.pro.limits]\ndocuments",
        "[plans.pro.limits]\ndocumentz",
    );
    let err = catalog::load(&pool, "bad.toml", &bad, &Actor::Cli)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("bad.toml: plans.pro.limits.documentz: no meter \"documentz\""),
        "{err}"
    );
    t.catalog.refresh(&pool).await.unwrap();
    let c = t.catalog.get().unwrap();
    assert_eq!(c.plans.len(), 5);
    assert!(c.plan("pro").unwrap().limit("documents").included.is_some());
    let loads: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'catalog.loaded'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(loads, 1);

    // A catalog round-trips through the tables unchanged.
    let parsed = tollgate::catalog::file::parse("emtchat.toml", EMTCHAT).unwrap();
    assert_eq!(*c, parsed);
}

#[sqlx::test]
async fn reloading_a_catalog_archives_what_it_dropped(pool: PgPool) {
    let t = tollgate(pool.clone()).await;
    let (_, a) = account(&t).await;
    plans::choose(
        &t,
        a,
        "pro",
        Interval::Month,
        plans::Chooser::Operator,
        &Actor::Cli,
        Utc::now(),
    )
    .await
    .unwrap();
    let start = EMTCHAT.find("[plans.pro]").unwrap();
    let end = EMTCHAT.find("[plans.team]").unwrap();
    let without_pro = format!("{}{}", &EMTCHAT[..start], &EMTCHAT[end..]);
    catalog::load(&pool, "smaller.toml", &without_pro, &Actor::Cli)
        .await
        .unwrap();
    t.catalog.refresh(&pool).await.unwrap();
    assert!(t.catalog.get().unwrap().plan("pro").is_none());
    let archived: bool =
        sqlx::query_scalar("SELECT archived_at IS NOT NULL FROM plans WHERE key = 'pro'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(archived, "kept for the subscription that refers to it");
}

#[sqlx::test]
async fn plan_changes_keep_history_and_audit(pool: PgPool) {
    let t = tollgate(pool.clone()).await;
    let (user, a) = account(&t).await;
    let me = Actor::user(user);
    let sub = plans::choose(
        &t,
        a,
        "starter",
        Interval::Month,
        plans::Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(sub.status, "trialing");
    let err = plans::choose(
        &t,
        a,
        "starter",
        Interval::Month,
        plans::Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)));
    let err = plans::choose(
        &t,
        a,
        "enterprise",
        Interval::Month,
        plans::Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::Invalid { ref field, .. } if field == "plan"),
        "{err:?}"
    );
    let (stranger, _) = account(&t).await;
    let err = plans::choose(
        &t,
        a,
        "pro",
        Interval::Month,
        plans::Chooser::Customer,
        &Actor::user(stranger),
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)));

    let pro = plans::choose(
        &t,
        a,
        "pro",
        Interval::Month,
        plans::Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(
        (pro.plan_key.as_str(), pro.status.as_str(), pro.trial_end),
        ("pro", "trialing", sub.trial_end)
    );
    let free = plans::choose(
        &t,
        a,
        "free",
        Interval::Month,
        plans::Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!((free.status.as_str(), free.trial_end), ("active", None));
    let back = plans::choose(
        &t,
        a,
        "starter",
        Interval::Month,
        plans::Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(back.status, "active", "one trial per account");

    let history = tollgate::db::subscriptions::history(&pool, a, 10)
        .await
        .unwrap();
    let path: Vec<(Option<&str>, &str)> = history
        .iter()
        .rev()
        .map(|h| (h.from_plan.as_deref(), h.to_plan.as_str()))
        .collect();
    assert_eq!(
        path,
        [
            (None, "starter"),
            (Some("starter"), "pro"),
            (Some("pro"), "free"),
            (Some("free"), "starter")
        ]
    );
    let actions = tollgate::db::audit::actions_for_target(&pool, &sub.id.to_string())
        .await
        .unwrap();
    assert_eq!(
        actions,
        [
            "subscription.created",
            "subscription.plan_changed",
            "subscription.plan_changed",
            "subscription.plan_changed"
        ]
    );
    let by_user: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE target_id = $1 AND actor_user_id = $2",
    )
    .bind(sub.id.to_string())
    .bind(user)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(by_user, 4);

    // The database refuses a second live subscription and any audit rewrite.
    let dup = sqlx::query("INSERT INTO subscriptions (id, account_id, plan_key, interval, status, provider, cycle_anchor) VALUES ($1, $2, 'pro', 'month', 'active', 'manual', now())")
        .bind(Uuid::now_v7())
        .bind(a)
        .execute(&pool)
        .await;
    assert!(dup.is_err());
    assert!(sqlx::query("UPDATE audit_log SET action = 'x'")
        .execute(&pool)
        .await
        .is_err());
    assert!(sqlx::query("DELETE FROM audit_log")
        .execute(&pool)
        .await
        .is_err());
}

#[sqlx::test]
async fn a_new_billing_cycle_recounts_the_period(pool: PgPool) {
    let t = tollgate(pool).await;
    let (_, a) = account(&t).await;
    let caller = Caller::Account {
        key_id: Uuid::nil(),
        account_id: a,
    };
    let now = Utc::now();
    // Before any plan, usage counts by calendar month.
    ingest::record(
        &t,
        &caller,
        drafts("queries", 3, "before", Some(now - Duration::minutes(10))),
        now,
    )
    .await
    .unwrap();
    assert_eq!(usage(&t, a, "queries").await, "3");
    // A subscription starting now starts a new period.
    plans::choose(
        &t,
        a,
        "starter",
        Interval::Month,
        plans::Chooser::Operator,
        &Actor::Cli,
        now,
    )
    .await
    .unwrap();
    assert_eq!(usage(&t, a, "queries").await, "0");
    let later = now + Duration::seconds(1);
    ingest::record(
        &t,
        &caller,
        drafts("queries", 2, "after", Some(later)),
        later,
    )
    .await
    .unwrap();
    // Same interval: the period and its usage carry over.
    plans::choose(
        &t,
        a,
        "pro",
        Interval::Month,
        plans::Chooser::Operator,
        &Actor::Cli,
        later,
    )
    .await
    .unwrap();
    assert_eq!(usage(&t, a, "queries").await, "2");
}

#[sqlx::test]
async fn each_threshold_notifies_once_per_period(pool: PgPool) {
    let t = tollgate(pool.clone()).await;
    let (_, a) = account(&t).await;
    plans::choose(
        &t,
        a,
        "free",
        Interval::Month,
        plans::Chooser::Operator,
        &Actor::Cli,
        Utc::now(),
    )
    .await
    .unwrap();
    let caller = Caller::Account {
        key_id: Uuid::nil(),
        account_id: a,
    };
    ingest::record(&t, &caller, drafts("queries", 30, "a", None), Utc::now())
        .await
        .unwrap(); // 60 %
    ingest::record(&t, &caller, drafts("queries", 2, "b", None), Utc::now())
        .await
        .unwrap(); // 64 %
    ingest::record(&t, &caller, drafts("queries", 24, "c", None), Utc::now())
        .await
        .unwrap(); // 112 %
    let titles: Vec<String> = sqlx::query_scalar(
        "SELECT title FROM notifications WHERE account_id = $1 ORDER BY created_at, title",
    )
    .bind(a)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        titles,
        [
            "Queries: 50 % used",
            "Queries: 100 % of your limit",
            "Queries: 110 % of your limit",
            "Queries: 75 % used",
            "Queries: 90 % used",
            "Queries: past your limit",
        ]
    );
}

#[sqlx::test]
async fn trials_end_into_active_and_are_audited(pool: PgPool) {
    let t = tollgate(pool.clone()).await;
    let (_, a) = account(&t).await;
    let long_ago = Utc::now() - Duration::days(20);
    let sub = plans::choose(
        &t,
        a,
        "starter",
        Interval::Month,
        plans::Chooser::Operator,
        &Actor::Cli,
        long_ago,
    )
    .await
    .unwrap();
    assert_eq!(sub.status, "trialing");
    jobs::once(&t).await.unwrap();
    let status: String = sqlx::query_scalar("SELECT status FROM subscriptions WHERE id = $1")
        .bind(sub.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "active");
    let actions = tollgate::db::audit::actions_for_target(&pool, &sub.id.to_string())
        .await
        .unwrap();
    assert_eq!(
        actions.last().map(String::as_str),
        Some("subscription.trial_ended")
    );
}

#[sqlx::test]
async fn login_failures_are_limited_per_email(pool: PgPool) {
    let t = tollgate(pool).await;
    let email = format!("l-{}@test.example", Uuid::now_v7().simple());
    let user = auth::sign_up(
        &t.pool,
        &Email::parse(&email).unwrap(),
        &PersonName::parse("L").unwrap(),
        &NewPassword::parse("correct horse battery").unwrap(),
        false,
        None,
    )
    .await
    .unwrap();
    // Until the address is confirmed the right password answers as a wrong one
    // would (and counts as a failure).
    let unconfirmed = auth::log_in(&t.pool, &email, "correct horse battery").await;
    let Err(e @ auth::LoginError::Unconfirmed(_)) = unconfirmed else {
        panic!("{unconfirmed:?}");
    };
    assert_eq!(e.to_string(), auth::LoginError::BadCredentials.to_string());
    tollgate::db::users::set_verified(&t.pool, user.user_id)
        .await
        .unwrap();
    // That failure is forgotten here, so the count below starts from zero.
    sqlx::query("DELETE FROM login_failures")
        .execute(&t.pool)
        .await
        .unwrap();
    assert!(
        auth::log_in(&t.pool, &email.to_uppercase(), "correct horse battery")
            .await
            .is_ok(),
        "e-mail is case-insensitive"
    );
    for _ in 0..5 {
        assert!(matches!(
            auth::log_in(&t.pool, &email, "nope").await,
            Err(auth::LoginError::BadCredentials)
        ));
    }
    assert!(matches!(
        auth::log_in(&t.pool, &email, "correct horse battery").await,
        Err(auth::LoginError::TooManyAttempts)
    ));
    // A back-off, not a lock-out: two seconds after the fifth failure the owner is in.
    sqlx::query("UPDATE login_failures SET attempted_at = attempted_at - interval '3 seconds' WHERE email = $1").bind(&email).execute(&t.pool).await.unwrap();
    assert!(
        auth::log_in(&t.pool, &email, "correct horse battery")
            .await
            .is_ok(),
        "the owner is not locked out for a window"
    );
    assert!(matches!(
        auth::log_in(&t.pool, &email, "nope").await,
        Err(auth::LoginError::BadCredentials)
    ));
    assert!(
        matches!(
            auth::log_in(&t.pool, &email, "nope").await,
            Err(auth::LoginError::TooManyAttempts)
        ),
        "the next wait is longer (4 s)"
    );
    assert!(matches!(
        auth::log_in(&t.pool, "nobody@test.example", "x").await,
        Err(auth::LoginError::BadCredentials)
    ));
    let dup = auth::sign_up(
        &t.pool,
        &Email::parse(&email.to_uppercase()).unwrap(),
        &PersonName::parse("L").unwrap(),
        &NewPassword::parse("correct horse battery").unwrap(),
        false,
        None,
    )
    .await;
    assert!(matches!(dup, Err(Error::Invalid { ref field, .. }) if field == "email"));
}

#[sqlx::test]
async fn switching_between_monthly_and_annual_keeps_the_usage(pool: PgPool) {
    let t = tollgate(pool).await;
    let (user, a) = account(&t).await;
    let me = Actor::user(user);
    plans::choose(
        &t,
        a,
        "free",
        Interval::Month,
        plans::Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await
    .expect("free");
    let caller = Caller::Account {
        key_id: Uuid::nil(),
        account_id: a,
    };
    ingest::record(&t, &caller, drafts("queries", 55, "q", None), Utc::now())
        .await
        .expect("events");
    for interval in [Interval::Year, Interval::Month, Interval::Year] {
        plans::choose(
            &t,
            a,
            "free",
            interval,
            plans::Chooser::Customer,
            &me,
            Utc::now(),
        )
        .await
        .expect("switch");
        assert_eq!(
            usage(&t, a, "queries").await,
            "55",
            "after switching to {interval}"
        );
        let s = tollgate::service::usage::snapshot(&t, a, Utc::now())
            .await
            .expect("snapshot");
        let q = s
            .meters
            .iter()
            .find(|m| m.meter == "queries")
            .expect("queries");
        assert_eq!(q.state, tollgate::limits::LimitState::Blocked);
    }
}

#[sqlx::test]
async fn levels_carry_into_the_next_period(pool: PgPool) {
    let t = tollgate(pool).await;
    let (_, a) = account(&t).await;
    let now = Utc::now();
    // Subscribed 40 days ago: the current monthly period began about 10 days ago.
    plans::choose(
        &t,
        a,
        "free",
        Interval::Month,
        plans::Chooser::Operator,
        &Actor::Cli,
        now - Duration::days(40),
    )
    .await
    .expect("free");
    let caller = Caller::Account {
        key_id: Uuid::nil(),
        account_id: a,
    };
    let mut doc = drafts("documents", 1, "doc", Some(now - Duration::days(20)));
    doc[0].quantity = serde_json::json!(1);
    ingest::record(&t, &caller, doc, now)
        .await
        .expect("level in the previous period");
    assert_eq!(
        usage(&t, a, "documents").await,
        "1",
        "a level is not reset by a new period"
    );
    let check = tollgate::service::check::check(
        &t,
        &caller,
        tollgate::service::check::Request {
            account: None,
            feature: "documents".into(),
            quantity: tollgate::quantity::Quantity::parse("1").expect("one"),
            consume: false,
            idempotency_key: None,
        },
        now,
    )
    .await
    .expect("check");
    let tollgate::service::check::Outcome::Meter(m) = check else {
        panic!("a meter answer")
    };
    assert!(
        !m.evaluation.allowed,
        "the free plan's one document is in use"
    );
}

#[sqlx::test]
async fn parallel_wrong_passwords_cannot_exceed_the_limit(pool: PgPool) {
    let t = tollgate(pool.clone()).await;
    let email = format!("r-{}@test.example", Uuid::now_v7().simple());
    auth::sign_up(
        &t.pool,
        &Email::parse(&email).expect("email"),
        &PersonName::parse("R").expect("name"),
        &NewPassword::parse("correct horse battery").expect("password"),
        false,
        None,
    )
    .await
    .expect("sign up");
    let attempts = (0..20).map(|_| auth::log_in(&t.pool, &email, "wrong guess"));
    let results = futures::future::join_all(attempts).await;
    let guesses = results
        .iter()
        .filter(|r| matches!(r, Err(auth::LoginError::BadCredentials)))
        .count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(auth::LoginError::TooManyAttempts)))
        .count();
    assert_eq!((guesses, refused), (5, 15));
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM login_failures WHERE email = $1")
        .bind(&email)
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(recorded, 5);
}

/// An ingestion given up while it waits for its account's usage lock (a request
/// timeout, a client gone) rolls back: its connection goes back to the pool with
/// no transaction open and no lock held.
#[sqlx::test]
async fn an_ingestion_given_up_while_waiting_for_the_lock_leaves_no_transaction(pool: PgPool) {
    let t = tollgate(pool.clone()).await;
    let (_, account) = account(&t).await;
    plans::choose(
        &t,
        account,
        "pro",
        Interval::Month,
        plans::Chooser::Operator,
        &Actor::Cli,
        Utc::now(),
    )
    .await
    .unwrap();
    let caller = Caller::Account {
        key_id: Uuid::now_v7(),
        account_id: account,
    };
    // What a plan change holds: the account's usage lock, exclusively.
    let mut holder = pool.acquire().await.unwrap();
    sqlx::query("SELECT pg_advisory_lock(hashtextextended($1::text, 7))")
        .bind(account)
        .execute(&mut *holder)
        .await
        .unwrap();
    // A full-size batch is stored by the request itself (not the group workers),
    // so giving up drops the transaction mid-wait.
    let batch = drafts("queries", ingest::MAX_BATCH, "given-up", None);
    let given_up = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        ingest::record(&t, &caller, batch, Utc::now()),
    )
    .await;
    assert!(given_up.is_err(), "it was waiting for the lock");
    sqlx::query("SELECT pg_advisory_unlock_all()")
        .execute(&mut *holder)
        .await
        .unwrap();
    drop(holder);
    // The pool's connections settle: none stays in a transaction.
    let mut stuck: i64 = -1;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // A transaction left open still holds the account's shared usage lock
        // (visible from any connection, the stuck one included).
        stuck = sqlx::query_scalar(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND a.datname = current_database()",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if stuck == 0 {
            break;
        }
    }
    assert_eq!(
        stuck, 0,
        "a connection was left inside the transaction, holding the lock"
    );
    // And the account takes events again, none of the given-up batch stored.
    let out = ingest::record(&t, &caller, drafts("queries", 2, "after", None), Utc::now())
        .await
        .unwrap();
    assert_eq!(out.accepted, 2);
    assert_eq!(usage(&t, account, "queries").await, "2");
}
