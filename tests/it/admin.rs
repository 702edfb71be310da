//! The super admin services and the password reset against a real PostgreSQL
//! (a database per test).

use chrono::{Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use std::str::FromStr;
use tollgate::db;
use tollgate::identity::{Email, NewPassword, PersonName};
use tollgate::period::Interval;
use tollgate::service::admin::{self, impersonation, look_up, support, users};
use tollgate::service::auth::{self, LoginError};
use tollgate::service::{catalog, password_reset, plans, Actor, Error, Settings, Tollgate};
use uuid::Uuid;

const EMTCHAT: &str = include_str!("../../catalogs/emtchat.toml");
const PASSWORD: &str = "correct horse battery";

async fn tollgate(pool: PgPool) -> Tollgate {
    catalog::load(&pool, "catalogs/emtchat.toml", EMTCHAT, &Actor::Cli)
        .await
        .unwrap();
    Tollgate::new(
        pool,
        Settings {
            public_url: "http://portal.test".into(),
            sales_email: "s@t.example".into(),
            cookie_secure: false,
        },
    )
    .await
    .unwrap()
}

struct U {
    id: Uuid,
    account: Uuid,
    email: String,
}

async fn user(t: &Tollgate, tag: &str, super_admin: bool) -> U {
    let email = format!(
        "{}-{}@test.example",
        tag.to_lowercase(),
        Uuid::now_v7().simple()
    );
    let u = auth::sign_up(
        &t.pool,
        &Email::parse(&email).unwrap(),
        &PersonName::parse(tag).unwrap(),
        &NewPassword::parse(PASSWORD).unwrap(),
        super_admin,
        None,
    )
    .await
    .unwrap();
    // Confirmed, as a customer who creates keys has to be.
    tollgate::db::users::set_verified(&t.pool, u.user_id)
        .await
        .unwrap();
    U {
        id: u.user_id,
        account: u.account_id,
        email,
    }
}

async fn add_session(pool: &PgPool, user: Uuid) {
    sqlx::query("INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, '{}', now() + interval '1 day')")
        .bind(Uuid::now_v7().to_string())
        .bind(user)
        .execute(pool)
        .await
        .unwrap();
}

async fn sessions(pool: &PgPool, user: Uuid) -> i64 {
    db::sessions::count_for_user(pool, user).await.unwrap()
}

fn forbidden<T: std::fmt::Debug>(r: Result<T, Error>) {
    assert!(
        matches!(r, Err(Error::Forbidden(_))),
        "expected Forbidden, got {r:?}"
    );
}

fn invalid<T: std::fmt::Debug>(r: Result<T, Error>, field: &str) {
    match r {
        Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected invalid {field}, got {other:?}"),
    }
}

#[sqlx::test]
async fn only_a_super_admin_acting_as_themself_has_admin_powers(pool: PgPool) {
    let t = tollgate(pool).await;
    let admin = user(&t, "Admin", true).await;
    let plain = user(&t, "Plain", false).await;
    assert!(admin::require_super_admin(&t.pool, &Actor::user(admin.id))
        .await
        .is_ok());
    forbidden(admin::require_super_admin(&t.pool, &Actor::user(plain.id)).await);
    // Impersonating: the actor is the user, with the admin as impersonator.
    forbidden(
        admin::require_super_admin(
            &t.pool,
            &Actor::User {
                id: plain.id,
                impersonator: Some(admin.id),
            },
        )
        .await,
    );
    forbidden(
        admin::require_super_admin(
            &t.pool,
            &Actor::User {
                id: admin.id,
                impersonator: Some(admin.id),
            },
        )
        .await,
    );
    forbidden(admin::require_super_admin(&t.pool, &Actor::Cli).await);
    forbidden(look_up::users(&t, &Actor::user(plain.id), &Default::default(), 1).await);
    // A disabled super admin has none, and the keys they made end (issue 12).
    let other = user(&t, "Other", true).await;
    let platform =
        tollgate::service::keys::create_platform_key(&t.pool, "theirs", &Actor::user(other.id))
            .await
            .unwrap();
    let own = tollgate::service::keys::create_account_key(
        &t.pool,
        other.account,
        "own",
        &Actor::user(other.id),
    )
    .await
    .unwrap();
    users::disable(&t.pool, &Actor::user(admin.id), other.id)
        .await
        .unwrap();
    forbidden(admin::require_super_admin(&t.pool, &Actor::user(other.id)).await);
    for k in [&platform, &own] {
        assert!(
            matches!(
                tollgate::service::keys::authenticate(&t.pool, &k.secret).await,
                Err(Error::Unauthorized)
            ),
            "{}",
            k.key.prefix
        );
    }
}

#[sqlx::test]
async fn disabling_ends_sessions_at_once_and_log_in_refuses(pool: PgPool) {
    let t = tollgate(pool).await;
    let admin = user(&t, "Admin", true).await;
    let u = user(&t, "Victim", false).await;
    add_session(&t.pool, u.id).await;
    add_session(&t.pool, u.id).await;
    add_session(&t.pool, admin.id).await;
    forbidden(users::disable(&t.pool, &Actor::user(u.id), admin.id).await);
    forbidden(users::disable(&t.pool, &Actor::user(admin.id), admin.id).await);

    assert_eq!(
        users::disable(&t.pool, &Actor::user(admin.id), u.id)
            .await
            .unwrap(),
        2
    );
    assert_eq!(sessions(&t.pool, u.id).await, 0);
    assert_eq!(
        sessions(&t.pool, admin.id).await,
        1,
        "other users keep their sessions"
    );
    assert!(matches!(
        auth::log_in(&t.pool, &u.email, PASSWORD).await,
        Err(LoginError::Disabled)
    ));
    assert!(auth::session_user(&t.pool, u.id).await.unwrap().is_none());
    assert!(matches!(
        users::disable(&t.pool, &Actor::user(admin.id), u.id).await,
        Err(Error::Conflict(_))
    ));

    users::enable(&t.pool, &Actor::user(admin.id), u.id)
        .await
        .unwrap();
    assert!(auth::log_in(&t.pool, &u.email, PASSWORD).await.is_ok());
    assert!(matches!(
        users::enable(&t.pool, &Actor::user(admin.id), u.id).await,
        Err(Error::Conflict(_))
    ));
    let actions = db::audit::actions_for_target(&t.pool, &u.id.to_string())
        .await
        .unwrap();
    assert!(
        actions.ends_with(&["user.disabled".to_string(), "user.enabled".to_string()]),
        "{actions:?}"
    );
}

#[sqlx::test]
async fn impersonation_rules_and_audit(pool: PgPool) {
    let t = tollgate(pool).await;
    let admin = user(&t, "Admin", true).await;
    let other_admin = user(&t, "Other", true).await;
    let u = user(&t, "Customer", false).await;
    let off = user(&t, "Off", false).await;
    users::disable(&t.pool, &Actor::user(admin.id), off.id)
        .await
        .unwrap();
    let now = Utc::now();
    let me = Actor::user(admin.id);
    let start = |target: Uuid, reason: &'static str, actor: Actor| {
        let t = t.clone();
        let account = admin.account;
        async move { impersonation::start(&t.pool, &actor, target, reason, account, now).await }
    };

    forbidden(start(other_admin.id, "help", me.clone()).await);
    forbidden(start(admin.id, "help", me.clone()).await);
    assert!(matches!(
        start(off.id, "help", me.clone()).await,
        Err(Error::Conflict(_))
    ));
    invalid(start(u.id, "   ", me.clone()).await, "reason");
    let long: &'static str = Box::leak("x".repeat(501).into_boxed_str());
    invalid(start(u.id, long, me.clone()).await, "reason");
    assert!(
        start(
            u.id,
            Box::leak("x".repeat(500).into_boxed_str()),
            me.clone()
        )
        .await
        .is_ok(),
        "500 characters are fine"
    );
    forbidden(start(u.id, "help", Actor::user(u.id)).await);
    forbidden(
        start(
            off.id,
            "help",
            Actor::User {
                id: u.id,
                impersonator: Some(admin.id),
            },
        )
        .await,
    );

    let started = start(u.id, "Ticket #42: cannot see usage", me.clone())
        .await
        .unwrap();
    let imp = started.impersonation.clone();
    assert_eq!(
        (imp.admin_id, imp.user_id, started.account_id),
        (admin.id, u.id, u.account)
    );
    let row: (Option<Uuid>, Option<Uuid>, serde_json::Value) = sqlx::query_as(
        "SELECT actor_user_id, impersonator_user_id, details FROM audit_log WHERE action = 'impersonation.started' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&t.pool)
    .await
    .unwrap();
    assert_eq!((row.0, row.1), (Some(u.id), Some(admin.id)));
    assert_eq!(row.2["reason"], "Ticket #42: cannot see usage");

    // It runs for 60 minutes.
    assert!(!imp.expired(now + Duration::minutes(59)));
    assert!(imp.expired(now + Duration::minutes(60)));
    assert!(impersonation::still_valid(&t.pool, &imp)
        .await
        .unwrap()
        .is_some());
    impersonation::end(
        &t.pool,
        &imp,
        impersonation::Ending::Expired,
        now + Duration::minutes(61),
    )
    .await
    .unwrap();
    impersonation::end(&t.pool, &imp, impersonation::Ending::Stopped, now)
        .await
        .unwrap();
    let rows: Vec<(String, Option<Uuid>, Option<Uuid>)> = sqlx::query_as(
        "SELECT action, actor_user_id, impersonator_user_id FROM audit_log WHERE action IN ('impersonation.expired', 'impersonation.stopped') ORDER BY id",
    )
    .fetch_all(&t.pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            ("impersonation.expired".into(), Some(u.id), Some(admin.id)),
            ("impersonation.stopped".into(), Some(u.id), Some(admin.id))
        ]
    );

    // It stops being valid when the admin loses their powers or the user is disabled.
    sqlx::query("UPDATE users SET is_super_admin = false WHERE id = $1")
        .bind(admin.id)
        .execute(&t.pool)
        .await
        .unwrap();
    assert!(impersonation::still_valid(&t.pool, &imp)
        .await
        .unwrap()
        .is_none());
    sqlx::query("UPDATE users SET is_super_admin = true WHERE id = $1")
        .bind(admin.id)
        .execute(&t.pool)
        .await
        .unwrap();
    users::disable(&t.pool, &me, u.id).await.unwrap();
    assert!(impersonation::still_valid(&t.pool, &imp)
        .await
        .unwrap()
        .is_none());
}

/// The reset token from the latest `password_reset` mail to `email`.
async fn mailed_token(pool: &PgPool, email: &str) -> Option<String> {
    let ctx: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT context FROM email_outbox WHERE to_address = $1 AND template = 'password_reset' ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(email)
    .fetch_optional(pool)
    .await
    .unwrap();
    let ctx = ctx?;
    assert_eq!(ctx["user"]["email"], email);
    assert_eq!(ctx["expires_in_minutes"], 60);
    let link = ctx["link"].as_str().unwrap();
    assert!(
        link.starts_with("http://portal.test/reset-password?token="),
        "{link}"
    );
    Some(link.rsplit('=').next().unwrap().to_string())
}

async fn mails(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM email_outbox")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn password_reset_is_single_use_ends_sessions_and_closes_other_links(pool: PgPool) {
    let t = tollgate(pool).await;
    let u = user(&t, "Forgetful", false).await;
    let now = Utc::now();
    password_reset::request(&t, &u.email.to_uppercase(), now)
        .await
        .unwrap();
    let first = mailed_token(&t.pool, &u.email).await.expect("a mail");
    password_reset::request(&t, &u.email, now).await.unwrap();
    let second = mailed_token(&t.pool, &u.email).await.expect("a mail");
    assert_ne!(first, second);
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM password_resets LIMIT 1")
        .fetch_one(&t.pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 32, "only the SHA-256 is stored");
    add_session(&t.pool, u.id).await;
    let key = tollgate::service::keys::create_account_key(
        &t.pool,
        u.account,
        "made with the old password",
        &Actor::user(u.id),
    )
    .await
    .unwrap();

    let new_password = NewPassword::parse("a brand new secret").unwrap();
    invalid(
        password_reset::reset(&t, "not-a-token", &new_password, now).await,
        "token",
    );
    assert_eq!(
        password_reset::reset(&t, &second, &new_password, now)
            .await
            .unwrap(),
        u.id
    );
    assert_eq!(sessions(&t.pool, u.id).await, 0, "every session ended");
    assert!(
        matches!(
            tollgate::service::keys::authenticate(&t.pool, &key.secret).await,
            Err(Error::Unauthorized)
        ),
        "keys made with the old password end"
    );
    assert!(auth::log_in(&t.pool, &u.email, "a brand new secret")
        .await
        .is_ok());
    assert!(matches!(
        auth::log_in(&t.pool, &u.email, PASSWORD).await,
        Err(LoginError::BadCredentials)
    ));
    invalid(
        password_reset::reset(&t, &second, &new_password, now).await,
        "token",
    );
    invalid(
        password_reset::reset(&t, &first, &new_password, now).await,
        "token",
    );
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(u.id)
        .fetch_one(&t.pool)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$"));
    assert!(db::audit::actions_for_target(&t.pool, &u.id.to_string())
        .await
        .unwrap()
        .contains(&"user.password_reset".to_string()));
}

#[sqlx::test]
async fn reset_links_expire_after_an_hour(pool: PgPool) {
    let t = tollgate(pool).await;
    let u = user(&t, "Late", false).await;
    let now = Utc::now();
    password_reset::request(&t, &u.email, now).await.unwrap();
    let token = mailed_token(&t.pool, &u.email).await.unwrap();
    let p = NewPassword::parse("another new secret").unwrap();
    invalid(
        password_reset::reset(&t, &token, &p, now + Duration::minutes(61)).await,
        "token",
    );
    assert!(
        password_reset::reset(&t, &token, &p, now + Duration::minutes(59))
            .await
            .is_ok()
    );
}

#[sqlx::test]
async fn asking_never_tells_whether_an_account_exists_and_is_rate_limited(pool: PgPool) {
    let t = tollgate(pool).await;
    let admin = user(&t, "Admin", true).await;
    let u = user(&t, "Known", false).await;
    let off = user(&t, "Off", false).await;
    users::disable(&t.pool, &Actor::user(admin.id), off.id)
        .await
        .unwrap();
    let now = Utc::now();
    let before = mails(&t.pool).await;
    password_reset::request(&t, "nobody@test.example", now)
        .await
        .unwrap();
    password_reset::request(&t, &off.email, now).await.unwrap();
    assert_eq!(
        mails(&t.pool).await,
        before,
        "no mail for unknown or disabled users, and the same answer"
    );
    for _ in 0..password_reset::MAX_REQUESTS - 1 {
        password_reset::request(&t, "nobody@test.example", now)
            .await
            .unwrap();
    }
    for _ in 0..password_reset::MAX_REQUESTS {
        password_reset::request(&t, &u.email, now).await.unwrap();
    }
    assert!(matches!(
        password_reset::request(&t, "nobody@test.example", now).await,
        Err(Error::RateLimited { .. })
    ));
    assert!(
        matches!(
            password_reset::request(&t, &u.email, now).await,
            Err(Error::RateLimited { .. })
        ),
        "known and unknown e-mails are limited alike"
    );

    // An admin sends a link too (not rate-limited, audited with the admin).
    support::send_password_reset(&t, &Actor::user(admin.id), u.id, now)
        .await
        .unwrap();
    forbidden(support::send_password_reset(&t, &Actor::user(u.id), u.id, now).await);
    assert!(matches!(
        support::send_password_reset(&t, &Actor::user(admin.id), off.id, now).await,
        Err(Error::Conflict(_))
    ));
    let by: Option<Uuid> = sqlx::query_scalar("SELECT actor_user_id FROM audit_log WHERE action = 'user.password_reset_sent' ORDER BY id DESC LIMIT 1")
        .fetch_one(&t.pool)
        .await
        .unwrap();
    assert_eq!(by, Some(admin.id));
}

#[sqlx::test]
async fn credits_are_validated_added_to_the_ledger_and_audited(pool: PgPool) {
    let t = tollgate(pool).await;
    let admin = user(&t, "Admin", true).await;
    let u = user(&t, "Customer", false).await;
    let me = Actor::user(admin.id);
    invalid(support::parse_credit("0", "USD", "x"), "amount");
    invalid(support::parse_credit("10.005", "USD", "x"), "amount");
    invalid(support::parse_credit("10", "ZZZ", "x"), "currency");
    invalid(support::parse_credit("10", "USD", ""), "reason");
    let c = support::parse_credit("10.50", "USD", "Outage on 3 Nov").unwrap();
    assert_eq!(
        support::apply_credit(&t, &me, u.account, &c).await.unwrap(),
        Decimal::from_str("10.5").unwrap()
    );
    let c2 = support::parse_credit("4.5", "USD", "Goodwill").unwrap();
    assert_eq!(
        support::apply_credit(&t, &me, u.account, &c2)
            .await
            .unwrap(),
        Decimal::from(15)
    );
    support::apply_credit(
        &t,
        &me,
        u.account,
        &support::parse_credit("7", "EUR", "EU customer").unwrap(),
    )
    .await
    .unwrap();
    let balances = db::credits::balances(&t.pool, u.account).await.unwrap();
    assert_eq!(
        balances
            .iter()
            .map(|b| (b.currency.as_str(), b.balance.normalize().to_string()))
            .collect::<Vec<_>>(),
        vec![("EUR", "7".to_string()), ("USD", "15".to_string())]
    );
    forbidden(support::apply_credit(&t, &Actor::user(u.id), u.account, &c).await);
    forbidden(
        support::apply_credit(
            &t,
            &Actor::User {
                id: u.id,
                impersonator: Some(admin.id),
            },
            u.account,
            &c,
        )
        .await,
    );
    assert!(matches!(
        support::apply_credit(&t, &me, Uuid::now_v7(), &c).await,
        Err(Error::NotFound(_))
    ));
    let actions = db::audit::actions_for_target(&t.pool, &u.account.to_string())
        .await
        .unwrap();
    assert_eq!(actions.iter().filter(|a| *a == "credit.applied").count(), 3);
}

#[sqlx::test]
async fn trials_extend_only_while_trialing(pool: PgPool) {
    let t = tollgate(pool).await;
    let admin = user(&t, "Admin", true).await;
    let me = Actor::user(admin.id);
    let now = Utc::now();
    let trialing = user(&t, "Trial", false).await;
    let sub = plans::choose(
        &t,
        trialing.account,
        "starter",
        Interval::Month,
        plans::Chooser::Operator,
        &Actor::Cli,
        now,
    )
    .await
    .unwrap();
    let end = sub.trial_end.expect("starter starts with a trial");
    invalid(
        support::extend_trial(&t, &me, trialing.account, 0, now).await,
        "days",
    );
    invalid(
        support::extend_trial(&t, &me, trialing.account, 91, now).await,
        "days",
    );
    forbidden(support::extend_trial(&t, &Actor::user(trialing.id), trialing.account, 7, now).await);
    let new_end = support::extend_trial(&t, &me, trialing.account, 7, now)
        .await
        .unwrap();
    assert_eq!(new_end, end + Duration::days(7));
    let after = db::subscriptions::live_for_account(&t.pool, trialing.account)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (after.status.as_str(), after.trial_end),
        ("trialing", Some(end + Duration::days(7)))
    );
    assert_eq!(
        after.cycle_anchor, sub.cycle_anchor,
        "usage periods are not reset"
    );

    let active = user(&t, "Free", false).await;
    plans::choose(
        &t,
        active.account,
        "free",
        Interval::Month,
        plans::Chooser::Operator,
        &Actor::Cli,
        now,
    )
    .await
    .unwrap();
    assert!(matches!(
        support::extend_trial(&t, &me, active.account, 7, now).await,
        Err(Error::Conflict(_))
    ));
    let none = user(&t, "None", false).await;
    assert!(matches!(
        support::extend_trial(&t, &me, none.account, 7, now).await,
        Err(Error::Conflict(_))
    ));
    let actions = db::audit::actions_for_target(&t.pool, &sub.id.to_string())
        .await
        .unwrap();
    assert!(actions.contains(&"subscription.trial_extended".to_string()));
}

#[sqlx::test]
async fn the_audit_log_refuses_updates_and_deletes(pool: PgPool) {
    let t = tollgate(pool).await;
    user(&t, "Someone", false).await;
    let update = sqlx::query("UPDATE audit_log SET action = 'forged'")
        .execute(&t.pool)
        .await;
    let delete = sqlx::query("DELETE FROM audit_log").execute(&t.pool).await;
    for r in [update, delete] {
        let err = r.expect_err("the database refuses");
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    let forged: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'forged'")
        .fetch_one(&t.pool)
        .await
        .unwrap();
    assert_eq!(forged, 0);
}

#[sqlx::test]
async fn lists_filter_and_paginate(pool: PgPool) {
    let t = tollgate(pool).await;
    let admin = user(&t, "Admin", true).await;
    let me = Actor::user(admin.id);
    let now = Utc::now();
    for i in 0..27 {
        user(&t, &format!("Bulk{i}"), false).await;
    }
    let starter = user(&t, "Starter", false).await;
    plans::choose(
        &t,
        starter.account,
        "starter",
        Interval::Month,
        plans::Chooser::Operator,
        &Actor::Cli,
        now,
    )
    .await
    .unwrap();
    let all = look_up::users(&t, &me, &Default::default(), 1)
        .await
        .unwrap();
    assert_eq!((all.rows.len(), all.total), (25, 29));
    assert_eq!(
        look_up::users(&t, &me, &Default::default(), 2)
            .await
            .unwrap()
            .rows
            .len(),
        4
    );
    let f = |q: &str, plan: &str, status: &str| db::admin::Filter {
        query: Some(q.to_string()).filter(|s| !s.is_empty()),
        plan: Some(plan.to_string()).filter(|s| !s.is_empty()),
        status: Some(status.to_string()).filter(|s| !s.is_empty()),
    };
    let by_mail = look_up::users(&t, &me, &f(&starter.email.to_uppercase(), "", ""), 1)
        .await
        .unwrap();
    assert_eq!(
        by_mail.rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![starter.id]
    );
    assert_eq!(
        look_up::users(&t, &me, &f("bulk1", "", ""), 1)
            .await
            .unwrap()
            .total,
        11,
        "Bulk1, Bulk10–19"
    );
    assert_eq!(
        look_up::users(&t, &me, &f("%", "", ""), 1)
            .await
            .unwrap()
            .total,
        0,
        "LIKE wildcards are literal"
    );
    assert_eq!(
        look_up::users(&t, &me, &f("", "starter", "trialing"), 1)
            .await
            .unwrap()
            .rows[0]
            .id,
        starter.id
    );
    assert_eq!(
        look_up::users(&t, &me, &f("", "starter", "active"), 1)
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        look_up::users(&t, &me, &f("", "", "none"), 1)
            .await
            .unwrap()
            .total,
        28
    );

    // Organizations.
    let org = tollgate::service::organizations::create(
        &t.pool,
        "Acme Rockets",
        "acme-rockets",
        "b@acme.test",
        starter.id,
        &Actor::Cli,
    )
    .await
    .unwrap();
    let orgs = look_up::organizations(&t, &me, &f("ROCKET", "", ""), 1)
        .await
        .unwrap();
    assert_eq!(
        (orgs.total, orgs.rows[0].id, orgs.rows[0].members),
        (1, org, 1)
    );
    let detail = look_up::org_detail(&t, &me, org, now).await.unwrap();
    assert_eq!(detail.members[0].role, "owner");
    assert!(
        matches!(
            look_up::org_detail(&t, &me, starter.account, now).await,
            Err(Error::NotFound(_))
        ),
        "a personal account is not an organization"
    );
    let u = look_up::user_detail(&t, &me, starter.id, now)
        .await
        .unwrap();
    assert_eq!(u.memberships.len(), 2);
    assert_eq!(u.billing.unwrap().subscription.unwrap().plan_key, "starter");
    assert!(u.activity.iter().any(|a| a.action == "user.signed_up"));

    // Audit log: actor, action prefix, target, dates.
    users::disable(&t.pool, &me, starter.id).await.unwrap();
    let a = |actor: &str,
             action: &str,
             target: &str,
             from: Option<NaiveDate>,
             to: Option<NaiveDate>| db::audit::Filter {
        actor: Some(actor.into()),
        action: Some(action.into()),
        target: Some(target.into()),
        from,
        to,
    };
    let today = now.date_naive();
    let hits = look_up::audit(
        &t,
        &me,
        &a(
            &admin.email,
            "user.",
            &starter.id.to_string(),
            Some(today),
            Some(today),
        ),
        1,
    )
    .await
    .unwrap();
    assert_eq!(
        hits.rows
            .iter()
            .map(|r| r.action.as_str())
            .collect::<Vec<_>>(),
        vec!["user.disabled"]
    );
    assert_eq!(
        hits.rows[0].actor_email.as_deref(),
        Some(admin.email.as_str())
    );
    let tomorrow = today.succ_opt().unwrap();
    assert_eq!(
        look_up::audit(
            &t,
            &me,
            &a("", "user.disabled", "", Some(tomorrow), None),
            1
        )
        .await
        .unwrap()
        .total,
        0
    );
    assert_eq!(
        look_up::audit(
            &t,
            &me,
            &a(
                "",
                "user.disabled",
                "",
                None,
                Some(today.pred_opt().unwrap())
            ),
            1
        )
        .await
        .unwrap()
        .total,
        0
    );
    invalid(
        look_up::audit(&t, &me, &a("", "", "", Some(tomorrow), Some(today)), 1).await,
        "to",
    );
    let newest_first = look_up::audit(&t, &me, &Default::default(), 1)
        .await
        .unwrap();
    assert!(newest_first.rows.windows(2).all(|w| w[0].id > w[1].id));
    assert_eq!(newest_first.rows.len(), 25);
}

// ---------------------------------------------------------------------------
// Revenue analytics over a history made through the services
// ---------------------------------------------------------------------------

mod analytics {
    use super::*;
    use chrono::DateTime;
    use tollgate::invoice::InvoiceStatus;
    use tollgate::period::Period;
    use tollgate::service::admin::analytics;
    use tollgate::service::invoices;
    use tollgate::service::provider;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    /// The moments the jobs would have run at: trials end, period-end work applies.
    async fn advance(t: &Tollgate, now: &str) {
        db::subscriptions::end_trials(&t.pool, at(now))
            .await
            .unwrap();
        provider::manual::apply_due(t, at(now)).await.unwrap();
    }

    async fn choose(t: &Tollgate, account: Uuid, plan: &str, interval: Interval, now: &str) {
        plans::choose(
            t,
            account,
            plan,
            interval,
            plans::Chooser::Operator,
            &Actor::Cli,
            at(now),
        )
        .await
        .unwrap();
    }

    /// Four customers on the manual provider, each starting with Starter's or Pro's
    /// 14-day trial: a3 on Pro yearly with the 50 % non-profit coupon from Mar 1;
    /// a4 on Starter from Apr 1, canceled Oct 3 (ends with its period, Nov 1); a2 on Pro from May 1,
    /// down to Starter Sep 10; a1 on Starter from Jun 10. Invoices are issued by the
    /// real invoice run each month, and one is paid.
    #[sqlx::test(migrations = "./migrations")]
    async fn figures_of_a_history_made_through_the_services(pool: PgPool) {
        let catalog = format!("{EMTCHAT}\n[coupons.nonprofit]\nname = \"Non-profit discount\"\npercent_off = 50\nduration = \"forever\"\n");
        catalog::load(&pool, "catalogs/emtchat.toml", &catalog, &Actor::Cli)
            .await
            .unwrap();
        let t = Tollgate::new(
            pool.clone(),
            Settings {
                public_url: "http://portal.test".into(),
                sales_email: "s@t.example".into(),
                cookie_secure: false,
            },
        )
        .await
        .unwrap();
        let admin = user(&t, "Admin", true).await;
        let (a1, a2, a3, a4) = (
            user(&t, "A1", false).await,
            user(&t, "A2", false).await,
            user(&t, "A3", false).await,
            user(&t, "A4", false).await,
        );
        let me = Actor::User {
            id: admin.id,
            impersonator: None,
        };

        choose(
            &t,
            a3.account,
            "pro",
            Interval::Year,
            "2026-03-01T00:00:00Z",
        )
        .await;
        tollgate::service::coupons::apply(
            &t,
            &me,
            a3.account,
            "nonprofit",
            Some("charity registry checked"),
            at("2026-03-01T00:00:00Z"),
        )
        .await
        .unwrap();
        choose(
            &t,
            a4.account,
            "starter",
            Interval::Month,
            "2026-04-01T00:00:00Z",
        )
        .await;
        choose(
            &t,
            a2.account,
            "pro",
            Interval::Month,
            "2026-05-01T10:00:00Z",
        )
        .await;
        choose(
            &t,
            a1.account,
            "starter",
            Interval::Month,
            "2026-06-10T09:00:00Z",
        )
        .await;
        advance(&t, "2026-09-10T09:00:00Z").await;
        choose(
            &t,
            a2.account,
            "starter",
            Interval::Month,
            "2026-09-10T09:00:00Z",
        )
        .await;
        provider::cancel(&t, a4.account, &Actor::Cli, at("2026-10-03T00:00:00Z"))
            .await
            .unwrap();
        let mut issued = Vec::new();
        let mut first_issue = None;
        for month in [
            "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11",
        ] {
            let start = at(&format!("{month}-01T00:00:00Z"));
            let end = start.checked_add_months(chrono::Months::new(1)).unwrap();
            advance(&t, &end.to_rfc3339()).await;
            let run = invoices::run::run(
                &t,
                Period { start, end },
                &Actor::Cli,
                end + Duration::hours(1),
            )
            .await
            .unwrap();
            if first_issue.is_none() && !run.issued.is_empty() {
                first_issue = Some(end + Duration::hours(1));
            }
            issued.extend(run.issued);
        }
        assert!(
            issued.len() >= 10,
            "the run billed the paid periods: {issued:?}"
        );
        // The first invoice is paid five days after it was issued.
        let paid_at = first_issue.unwrap() + Duration::days(5);
        invoices::status::set_status(&t, &me, issued[0].id, InvoiceStatus::Paid, paid_at)
            .await
            .unwrap();

        let now = at("2026-12-05T12:00:00Z");
        let r = analytics::report(&t, &me, now).await.unwrap();
        // a3: 490 × 50 % ÷ 12; a1 and a2: 19 each (a4 churned).
        assert_eq!(r.now.mrr, d("58.42"));
        assert_eq!(r.now.arr, d("701.00"));
        assert_eq!(r.now.arpa, Some(d("19.47")));
        assert_eq!(
            (
                r.now.paying_accounts,
                r.now.active,
                r.now.trialing,
                r.now.past_due,
                r.now.canceled
            ),
            (3, 3, 0, 0, 1)
        );
        let plans: Vec<_> = r
            .now
            .by_plan
            .iter()
            .map(|s| (s.key.as_str(), s.mrr, s.paying))
            .collect();
        assert_eq!(
            plans,
            vec![("starter", d("38.00"), 2), ("pro", d("20.42"), 1)]
        );
        let mrr: Vec<_> = r
            .months
            .iter()
            .map(|m| (m.label.as_str(), m.closing_mrr))
            .collect();
        let want = [
            ("2026-01", "0"),
            ("2026-02", "0"),
            ("2026-03", "20.42"),
            ("2026-04", "39.42"),
            ("2026-05", "88.42"),
            ("2026-06", "107.42"),
            ("2026-07", "107.42"),
            ("2026-08", "107.42"),
            ("2026-09", "77.42"),
            ("2026-10", "77.42"),
            ("2026-11", "58.42"),
            ("2026-12", "58.42"),
        ];
        assert_eq!(
            mrr,
            want.iter().map(|(l, v)| (*l, d(v))).collect::<Vec<_>>()
        );
        // Trials end into new MRR; a downgrade contracts; a cancellation churns at its period end.
        let moves = |label: &str| r.months.iter().find(|m| m.label == label).unwrap().clone();
        assert_eq!(
            (moves("2026-03").new_mrr, moves("2026-03").new_customers),
            (d("20.42"), 1)
        );
        assert_eq!(moves("2026-05").new_mrr, d("49.00"));
        let sep = moves("2026-09");
        assert_eq!(
            (
                sep.contraction_mrr,
                sep.churned_mrr,
                sep.revenue_churn_rate,
                sep.net_revenue_retention
            ),
            (d("30.00"), d("0"), Some(d("27.93")), Some(d("72.07")))
        );
        // a4's period runs from the 1st (a trial does not move the anchor): it ends Nov 1.
        let nov = moves("2026-11");
        assert_eq!(
            (nov.churned_mrr, nov.churned_customers, nov.logo_churn_rate),
            (d("19.00"), 1, Some(d("25.00")))
        );
        assert_eq!(
            (nov.revenue_churn_rate, nov.net_revenue_retention),
            (Some(d("24.54")), Some(d("75.46")))
        );

        // Billed per month is what the invoice run issued, to the cent.
        let billed: Vec<(String, Decimal)> = sqlx::query_as(
            "SELECT to_char(issued_at AT TIME ZONE 'UTC', 'YYYY-MM'), sum(total) FROM invoices WHERE status <> 'void' GROUP BY 1 ORDER BY 1",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert!(!billed.is_empty());
        for (month, total) in &billed {
            assert_eq!(moves(month).billed, *total, "billed in {month}");
        }
        let paid_month = paid_at.format("%Y-%m").to_string();
        assert_eq!(
            moves(&paid_month).collected,
            issued[0].amount_due.amount,
            "the first invoice was paid in {paid_month}"
        );
        let collected: Decimal = r.months.iter().map(|m| m.collected).sum();
        assert_eq!(
            collected, issued[0].amount_due.amount,
            "nothing else was paid"
        );
        // Everything else is unpaid: outstanding now, and overdue once past its due date.
        let unpaid: Decimal = issued[1..].iter().map(|i| i.amount_due.amount).sum();
        let overdue: Decimal = sqlx::query_scalar("SELECT coalesce(sum(amount_due), 0) FROM invoices WHERE status = 'open' AND due_at < $1")
            .bind(now)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(
            overdue > Decimal::ZERO && overdue < unpaid,
            "some are overdue, December's are not yet"
        );
        assert_eq!(
            (moves("2026-12").outstanding, moves("2026-12").overdue),
            (unpaid, overdue)
        );

        // Only a super admin acting as themself sees it.
        forbidden(
            analytics::report(
                &t,
                &Actor::User {
                    id: a1.id,
                    impersonator: None,
                },
                now,
            )
            .await,
        );
        forbidden(
            analytics::report(
                &t,
                &Actor::User {
                    id: admin.id,
                    impersonator: Some(admin.id),
                },
                now,
            )
            .await,
        );
    }
}

/// The usage board (`/admin/usage`): every subscribed account's meters with
/// effective limits, filtered and paged from memory, updated per changed account.
mod usage_board {
    use super::*;
    use tollgate::board::{Filter, Sort};
    use tollgate::limits::LimitState;
    use tollgate::service::ingest::{self, Draft};
    use tollgate::service::keys::Caller;

    async fn send(t: &Tollgate, account: Uuid, n: usize, prefix: &str) {
        let drafts = (0..n)
            .map(|i| Draft {
                account: None,
                meter: "queries".into(),
                quantity: serde_json::json!(1),
                timestamp: None,
                user: None,
                idempotency_key: format!("{prefix}-{i}"),
                properties: Default::default(),
            })
            .collect();
        ingest::record(
            t,
            &Caller::Account {
                key_id: Uuid::nil(),
                account_id: account,
            },
            drafts,
            Utc::now(),
        )
        .await
        .unwrap();
    }

    async fn subscribe(t: &Tollgate, account: Uuid, plan: &str) {
        plans::choose(
            t,
            account,
            plan,
            Interval::Month,
            plans::Chooser::Operator,
            &Actor::Cli,
            Utc::now(),
        )
        .await
        .unwrap();
    }

    #[sqlx::test(migrations = "./migrations")]
    async fn lines_totals_filters_and_updates(pool: PgPool) {
        let t = tollgate(pool).await;
        let admin = user(&t, "Admin", true).await;
        let me = Actor::User {
            id: admin.id,
            impersonator: None,
        };
        let (ada, bob, cy, nobody) = (
            user(&t, "Ada", false).await,
            user(&t, "Bob", false).await,
            user(&t, "Cy", false).await,
            user(&t, "Nobody", false).await,
        );
        subscribe(&t, ada.account, "starter").await;
        subscribe(&t, bob.account, "starter").await;
        subscribe(&t, cy.account, "pro").await;
        send(&t, ada.account, 450, "a").await; // 90 % of 500: warning
        send(&t, bob.account, 10, "b").await;
        // Cy's deal: 20 included queries, hard: at 100 % it is reached.
        let deal = tollgate::overrides::Input {
            kind: "limit",
            key: "queries",
            included: "20",
            enforcement: "hard",
            ..Default::default()
        };
        admin::overrides::set(
            &t,
            &Actor::Cli,
            cy.account,
            &deal,
            "pilot",
            None,
            Utc::now(),
        )
        .await
        .unwrap();
        send(&t, cy.account, 20, "c").await;

        forbidden(
            t.board
                .page(
                    &t,
                    &Actor::User {
                        id: ada.id,
                        impersonator: None,
                    },
                    &Filter::default(),
                    Sort::default(),
                    0,
                )
                .await,
        );
        let all = t
            .board
            .page(
                &t,
                &me,
                &Filter {
                    meter: Some("queries".into()),
                    ..Filter::default()
                },
                Sort::PercentDesc,
                0,
            )
            .await
            .unwrap();
        let seen: Vec<(Uuid, String, LimitState)> = all
            .lines
            .iter()
            .map(|l| {
                (
                    l.account_id,
                    l.meter.usage.normalize().to_string(),
                    l.meter.state,
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (cy.account, "20".to_string(), LimitState::Blocked),
                (ada.account, "450".to_string(), LimitState::Warning),
                (bob.account, "10".to_string(), LimitState::Ok),
            ],
            "highest percent first; the override's limit applies; no line for an account without a subscription"
        );
        assert!(all.lines.iter().all(|l| l.account_id != nobody.account));
        assert_eq!(all.summary.accounts, 3);
        let queries = all
            .summary
            .meters
            .iter()
            .find(|m| m.meter == "queries")
            .unwrap();
        assert_eq!(queries.usage, Decimal::from(480));
        assert_eq!(
            (
                queries.states.ok,
                queries.states.warning,
                queries.states.blocked
            ),
            (1, 1, 1)
        );
        let starter = all
            .summary
            .plans
            .iter()
            .find(|p| p.plan_key == "starter")
            .unwrap();
        assert_eq!((starter.accounts, starter.at_limit), (2, 0));
        assert_eq!(
            all.summary
                .near_limit
                .iter()
                .map(|l| l.account_id)
                .collect::<Vec<_>>(),
            vec![cy.account, ada.account]
        );
        assert_eq!(all.lines[0].admin_path, format!("/admin/users/{}", cy.id));

        let starters = t
            .board
            .page(
                &t,
                &me,
                &Filter {
                    plan: Some("starter".into()),
                    state: Some(LimitState::Warning),
                    ..Filter::default()
                },
                Sort::Name,
                0,
            )
            .await
            .unwrap();
        assert_eq!(
            starters
                .lines
                .iter()
                .map(|l| l.account_id)
                .collect::<Vec<_>>(),
            vec![ada.account]
        );
        assert_eq!(starters.total, 1);
        assert!(
            t.board
                .page(&t, &me, &Filter::default(), Sort::Name, 1)
                .await
                .unwrap()
                .lines
                .is_empty(),
            "past the last page: nothing"
        );

        // The board holds what it computed until told an account changed: one
        // reload of that account updates it and is broadcast, with new totals.
        let mut updates = t.board.subscribe();
        send(&t, bob.account, 5, "b2").await;
        let stale = t
            .board
            .page(
                &t,
                &me,
                &Filter {
                    meter: Some("queries".into()),
                    ..Filter::default()
                },
                Sort::Name,
                0,
            )
            .await
            .unwrap();
        assert_eq!(
            stale
                .lines
                .iter()
                .find(|l| l.account_id == bob.account)
                .unwrap()
                .meter
                .usage,
            Decimal::from(10)
        );
        t.board
            .reload(&t, Some(&[bob.account, nobody.account]))
            .await
            .unwrap();
        let update = updates.try_recv().expect("an update");
        assert_eq!(
            update
                .accounts
                .iter()
                .map(|a| a.account_id)
                .collect::<Vec<_>>(),
            vec![bob.account]
        );
        assert_eq!(
            update.removed,
            vec![nobody.account],
            "an account without a subscription is not on the board"
        );
        assert_eq!(
            update
                .summary
                .meters
                .iter()
                .find(|m| m.meter == "queries")
                .unwrap()
                .usage,
            Decimal::from(485)
        );
        let fresh = t
            .board
            .page(
                &t,
                &me,
                &Filter {
                    meter: Some("queries".into()),
                    ..Filter::default()
                },
                Sort::Name,
                0,
            )
            .await
            .unwrap();
        assert_eq!(
            fresh
                .lines
                .iter()
                .find(|l| l.account_id == bob.account)
                .unwrap()
                .meter
                .usage,
            Decimal::from(15)
        );
        assert!(fresh.version > stale.version);
    }
}

/// Account actions of the panel (issue 11 §5): through the providers, audited with
/// the admin, refused to everyone else (an impersonating admin too).
mod account_actions {
    use super::*;
    use tollgate::service::admin::accounts;
    use tollgate::service::provider::{self, Timing};
    use tollgate::terms::Terms;

    async fn audited(pool: &PgPool, action: &str, actor: Uuid) -> i64 {
        sqlx::query_scalar(
            "SELECT count(*) FROM audit_log WHERE action = $1 AND actor_user_id = $2",
        )
        .bind(action)
        .bind(actor)
        .fetch_one(pool)
        .await
        .unwrap()
    }

    #[sqlx::test(migrations = "./migrations")]
    async fn an_admin_changes_cancels_and_reactivates_any_account_plan(pool: PgPool) {
        let t = tollgate(pool).await;
        let admin = user(&t, "Admin", true).await;
        let me = Actor::User {
            id: admin.id,
            impersonator: None,
        };
        let ada = user(&t, "Ada", false).await;
        let bob = user(&t, "Bob", false).await;
        let now = Utc::now();

        // Nobody but a super admin acting as themself.
        for stranger in [
            Actor::User {
                id: bob.id,
                impersonator: None,
            },
            Actor::User {
                id: ada.id,
                impersonator: Some(admin.id),
            },
        ] {
            forbidden(
                accounts::change_plan(
                    &t,
                    &stranger,
                    bob.account,
                    "pro",
                    Interval::Month,
                    Timing::Now,
                    now,
                )
                .await,
            );
            forbidden(accounts::cancel(&t, &stranger, bob.account, now).await);
        }

        // No subscription yet: the plan starts on the manual provider.
        accounts::change_plan(
            &t,
            &me,
            ada.account,
            "starter",
            Interval::Month,
            Timing::Now,
            now,
        )
        .await
        .unwrap();
        // The preview the customer would see, asked by the admin, then the change.
        let preview = provider::preview(
            &t,
            ada.account,
            "pro",
            Interval::Month,
            Timing::Now,
            &me,
            now,
        )
        .await
        .unwrap();
        assert_eq!(preview.amount, None, "a trial prorates nothing");
        accounts::change_plan(
            &t,
            &me,
            ada.account,
            "pro",
            Interval::Month,
            Timing::Now,
            now,
        )
        .await
        .unwrap();
        let sub = db::subscriptions::live_for_account(&t.pool, ada.account)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(sub.plan_key, "pro");
        assert_eq!(
            audited(&t.pool, "subscription.plan_changed", admin.id).await,
            1
        );
        // Sales-only plans are the operator's to give.
        accounts::change_plan(
            &t,
            &me,
            ada.account,
            "enterprise",
            Interval::Month,
            Timing::Now,
            now,
        )
        .await
        .unwrap();
        assert_eq!(
            db::subscriptions::live_for_account(&t.pool, ada.account)
                .await
                .unwrap()
                .unwrap()
                .plan_key,
            "enterprise"
        );
        let again = accounts::change_plan(
            &t,
            &me,
            ada.account,
            "enterprise",
            Interval::Month,
            Timing::Now,
            now,
        )
        .await;
        assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");

        accounts::cancel(&t, &me, ada.account, now).await.unwrap();
        assert!(
            db::subscriptions::live_for_account(&t.pool, ada.account)
                .await
                .unwrap()
                .unwrap()
                .cancel_at_period_end
        );
        assert!(
            matches!(
                accounts::cancel(&t, &me, ada.account, now).await,
                Err(Error::Conflict(_))
            ),
            "already ending"
        );
        accounts::reactivate(&t, &me, ada.account, now)
            .await
            .unwrap();
        assert!(
            !db::subscriptions::live_for_account(&t.pool, ada.account)
                .await
                .unwrap()
                .unwrap()
                .cancel_at_period_end
        );
        assert_eq!(
            audited(&t.pool, "subscription.cancel_scheduled", admin.id).await,
            1
        );
        assert_eq!(
            audited(&t.pool, "subscription.reactivated", admin.id).await,
            1
        );
    }

    #[sqlx::test(migrations = "./migrations")]
    async fn coupons_need_who_verified_them_and_removal_is_audited(pool: PgPool) {
        let catalog = format!("{EMTCHAT}\n[coupons.nonprofit]\nname = \"Non-profit discount\"\npercent_off = 50\nduration = \"forever\"\n");
        catalog::load(&pool, "catalogs/emtchat.toml", &catalog, &Actor::Cli)
            .await
            .unwrap();
        let t = Tollgate::new(
            pool.clone(),
            Settings {
                public_url: "http://portal.test".into(),
                sales_email: "s@t.example".into(),
                cookie_secure: false,
            },
        )
        .await
        .unwrap();
        let admin = user(&t, "Admin", true).await;
        let me = Actor::User {
            id: admin.id,
            impersonator: None,
        };
        let ada = user(&t, "Ada", false).await;
        let now = Utc::now();

        invalid(
            tollgate::service::coupons::apply(&t, &me, ada.account, "nonprofit", Some("  "), now)
                .await,
            "verified_by",
        );
        invalid(
            tollgate::service::coupons::apply(
                &t,
                &me,
                ada.account,
                "nonprofit",
                Some("line one\nline two"),
                now,
            )
            .await,
            "verified_by",
        );
        assert!(
            db::coupons::for_account(&t.pool, ada.account)
                .await
                .unwrap()
                .is_none(),
            "nothing applied"
        );
        tollgate::service::coupons::apply(
            &t,
            &me,
            ada.account,
            "nonprofit",
            Some("Charity no. 1234 checked by Sam"),
            now,
        )
        .await
        .unwrap();
        let note: serde_json::Value = sqlx::query_scalar(
            "SELECT details->'verified_by' FROM audit_log WHERE action = 'coupon.applied'",
        )
        .fetch_one(&t.pool)
        .await
        .unwrap();
        assert_eq!(note, "Charity no. 1234 checked by Sam");

        forbidden(
            tollgate::service::coupons::remove(
                &t,
                &Actor::User {
                    id: ada.id,
                    impersonator: None,
                },
                ada.account,
            )
            .await,
        );
        tollgate::service::coupons::remove(&t, &me, ada.account)
            .await
            .unwrap();
        assert!(db::coupons::for_account(&t.pool, ada.account)
            .await
            .unwrap()
            .is_none());
        assert!(matches!(
            tollgate::service::coupons::remove(&t, &me, ada.account).await,
            Err(Error::NotFound(_))
        ));
        let removed: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM audit_log WHERE action = 'coupon.removed' AND actor_user_id = $1",
        )
        .bind(admin.id)
        .fetch_one(&t.pool)
        .await
        .unwrap();
        assert_eq!(removed, 1);
    }

    #[sqlx::test(migrations = "./migrations")]
    async fn terms_are_validated_unique_and_audited(pool: PgPool) {
        let t = tollgate(pool).await;
        let admin = user(&t, "Admin", true).await;
        let me = Actor::User {
            id: admin.id,
            impersonator: None,
        };
        let (ada, bob) = (user(&t, "Ada", false).await, user(&t, "Bob", false).await);

        let terms = Terms::parse("30", "crm-42").unwrap();
        forbidden(
            accounts::set_terms(
                &t,
                &Actor::User {
                    id: bob.id,
                    impersonator: None,
                },
                ada.account,
                &terms,
            )
            .await,
        );
        accounts::set_terms(&t, &me, ada.account, &terms)
            .await
            .unwrap();
        let row = db::accounts::by_id(&t.pool, ada.account)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (row.net_terms_days, row.external_id.as_deref()),
            (30, Some("crm-42"))
        );
        assert_eq!(
            db::accounts::by_external_id(&t.pool, "crm-42")
                .await
                .unwrap()
                .map(|a| a.id),
            Some(ada.account),
            "the API finds the account by it"
        );

        // Another account may not take the same external id; nothing changes.
        invalid(
            accounts::set_terms(&t, &me, bob.account, &Terms::parse("7", "crm-42").unwrap()).await,
            "external_id",
        );
        let bob_row = db::accounts::by_id(&t.pool, bob.account)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((bob_row.net_terms_days, bob_row.external_id), (14, None));

        accounts::set_terms(&t, &me, ada.account, &Terms::parse("0", "").unwrap())
            .await
            .unwrap();
        assert_eq!(
            db::accounts::by_id(&t.pool, ada.account)
                .await
                .unwrap()
                .unwrap()
                .external_id,
            None,
            "an empty id clears it"
        );
        let details: Vec<serde_json::Value> = sqlx::query_scalar("SELECT details FROM audit_log WHERE action = 'account.terms_updated' ORDER BY occurred_at")
            .fetch_all(&t.pool)
            .await
            .unwrap();
        assert_eq!(details.len(), 2);
        assert_eq!(
            details[1]["before"],
            serde_json::json!({ "net_terms_days": 30, "external_id": "crm-42" })
        );
        assert_eq!(
            details[1]["after"],
            serde_json::json!({ "net_terms_days": 0, "external_id": null })
        );
    }
}

/// Platform keys from the panel (issue 11 §5): a super admin's alone; revoking
/// one ends it at once; an account's key cannot be revoked from there.
mod platform_keys {
    use super::*;
    use tollgate::service::admin::platform_keys;
    use tollgate::service::keys;

    #[sqlx::test(migrations = "./migrations")]
    async fn created_listed_and_revoked_by_a_super_admin_only(pool: PgPool) {
        let t = tollgate(pool).await;
        let admin = user(&t, "Admin", true).await;
        let me = Actor::User {
            id: admin.id,
            impersonator: None,
        };
        let ada = user(&t, "Ada", false).await;
        for stranger in [
            Actor::User {
                id: ada.id,
                impersonator: None,
            },
            Actor::User {
                id: ada.id,
                impersonator: Some(admin.id),
            },
        ] {
            forbidden(platform_keys::list(&t, &stranger).await);
            forbidden(platform_keys::create(&t, &stranger, "sneaky").await);
        }
        invalid(platform_keys::create(&t, &me, "  ").await, "name");

        let created = platform_keys::create(&t, &me, "billing worker")
            .await
            .unwrap();
        assert!(created.secret.starts_with("tg_pk_"));
        assert!(matches!(
            keys::authenticate(&t.pool, &created.secret).await,
            Ok(keys::Caller::Platform { .. })
        ));
        let listed = platform_keys::list(&t, &me).await.unwrap();
        assert_eq!(
            listed.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(),
            vec!["billing worker"]
        );

        let account_key = keys::create_account_key(&t.pool, ada.account, "ada's", &Actor::Cli)
            .await
            .unwrap();
        assert!(
            matches!(
                platform_keys::revoke(&t, &me, account_key.key.id).await,
                Err(Error::NotFound(_))
            ),
            "an account's key is not a platform key"
        );
        forbidden(
            platform_keys::revoke(
                &t,
                &Actor::User {
                    id: ada.id,
                    impersonator: None,
                },
                created.key.id,
            )
            .await,
        );
        platform_keys::revoke(&t, &me, created.key.id)
            .await
            .unwrap();
        assert!(matches!(
            keys::authenticate(&t.pool, &created.secret).await,
            Err(Error::Unauthorized)
        ));
        assert!(
            matches!(
                platform_keys::revoke(&t, &me, created.key.id).await,
                Err(Error::NotFound(_))
            ),
            "once"
        );
        let audited: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM audit_log WHERE action LIKE 'api_key.%' AND actor_user_id = $1",
        )
        .bind(admin.id)
        .fetch_one(&t.pool)
        .await
        .unwrap();
        assert_eq!(audited, 2, "created and revoked, by the admin");
    }
}

/// Plans edited in the panel (issue 11 §3): validated by the loader, previewed as
/// a diff, published as a new audited catalog version.
mod plan_edits {
    use super::*;
    use tollgate::catalog::edit::EditInput;
    use tollgate::service::admin::plan_edits::{preview, publish};

    fn limit<'a>(included: &'a str) -> EditInput<'a> {
        EditInput {
            kind: "limit",
            plan: "starter",
            target: "queries",
            value: included,
            enforcement: "soft",
            grace_percent: "",
        }
    }

    #[sqlx::test(migrations = "./migrations")]
    async fn limits_are_previewed_published_as_versions_and_refused_when_bad(pool: PgPool) {
        let t = tollgate(pool).await;
        let admin = user(&t, "Admin", true).await;
        let me = Actor::User {
            id: admin.id,
            impersonator: None,
        };
        let ada = user(&t, "Ada", false).await;
        let input = limit("1000");

        forbidden(
            preview(
                &t,
                &Actor::User {
                    id: ada.id,
                    impersonator: None,
                },
                &input,
            )
            .await,
        );
        forbidden(
            publish(
                &t,
                &Actor::User {
                    id: ada.id,
                    impersonator: Some(admin.id),
                },
                &input,
                1,
            )
            .await,
        );
        invalid(preview(&t, &me, &limit("lots")).await, "value");
        invalid(
            preview(
                &t,
                &me,
                &EditInput {
                    plan: "platinum",
                    ..input
                },
            )
            .await,
            "plan",
        );
        invalid(
            preview(
                &t,
                &me,
                &EditInput {
                    target: "minutes",
                    ..input
                },
            )
            .await,
            "target",
        );
        invalid(
            preview(
                &t,
                &me,
                &EditInput {
                    kind: "discount",
                    ..input
                },
            )
            .await,
            "kind",
        );
        // The loader's own rules: grace only on hard limits.
        invalid(
            preview(
                &t,
                &me,
                &EditInput {
                    grace_percent: "10",
                    ..input
                },
            )
            .await,
            "value",
        );
        assert!(
            matches!(
                preview(&t, &me, &limit("500")).await,
                Err(Error::Conflict(_))
            ),
            "no change"
        );

        let p = preview(&t, &me, &input).await.unwrap();
        assert!(p.reach.starts_with("Applies at once"), "{}", p.reach);
        let base = p.base_version;
        let version = publish(&t, &me, &input, base).await.unwrap().version;
        assert_eq!(version, base + 1);
        assert_eq!(
            t.catalog
                .get()
                .unwrap()
                .plan("starter")
                .unwrap()
                .limit("queries")
                .included,
            Some(Decimal::from(1000))
        );
        // The kept text is the live catalog: it loads to the same plans.
        let kept = db::catalog::latest_version(&t.pool).await.unwrap().unwrap();
        let reloaded = tollgate::catalog::file::parse("kept", &kept.text).unwrap();
        assert_eq!(reloaded.plans, t.catalog.get().unwrap().plans);
        let audited: String = sqlx::query_scalar("SELECT details->>'note' FROM audit_log WHERE action = 'catalog.plan_edited' AND actor_user_id = $1").bind(admin.id).fetch_one(&t.pool).await.unwrap();
        assert_eq!(audited, "Starter · Queries: 500 soft → 1000 soft");

        // A preview made before another publication is refused.
        let stale = publish(&t, &me, &limit("2000"), base).await;
        assert!(matches!(stale, Err(Error::Conflict(_))), "{stale:?}");
    }

    #[sqlx::test(migrations = "./migrations")]
    async fn prices_features_trials_and_thresholds_are_edited_through_the_loader(pool: PgPool) {
        let t = tollgate(pool).await;
        let admin = user(&t, "Admin", true).await;
        let me = Actor::User {
            id: admin.id,
            impersonator: None,
        };
        let edit = |kind, plan, target, value| EditInput {
            kind,
            plan,
            target,
            value,
            ..EditInput::default()
        };
        let publish_now = |input: EditInput<'static>| {
            let (t, me) = (&t, &me);
            async move {
                let p = preview(t, me, &input).await.unwrap();
                publish(t, me, &input, p.base_version).await.unwrap();
                p
            }
        };

        let p = publish_now(edit("price", "starter", "month", "25")).await;
        assert_eq!(
            p.changes,
            vec!["Starter · monthly price: $19.00/month → $25.00/month".to_string()]
        );
        assert!(
            p.reach.starts_with("New subscriptions pay the new price"),
            "{}",
            p.reach
        );
        let p = publish_now(edit("feature", "starter", "support_level", "priority")).await;
        assert_eq!(
            p.changes,
            vec!["Starter · Support: email → priority".to_string()]
        );
        let p = publish_now(edit("feature", "starter", "sso_enabled", "true")).await;
        assert_eq!(
            p.changes,
            vec!["Starter · SSO (SAML): not granted → yes".to_string()]
        );
        let p = publish_now(edit("feature", "starter", "sso_enabled", "none")).await;
        assert_eq!(
            p.changes,
            vec!["Starter · SSO (SAML): yes → not granted".to_string()]
        );
        let p = publish_now(edit("trial", "pro", "", "7")).await;
        assert_eq!(p.changes, vec!["Pro · trial: 14 days → 7 days".to_string()]);
        let p = publish_now(edit("threshold", "", "80", "email, banner")).await;
        assert_eq!(
            p.changes,
            vec!["Threshold 80 %: — → in app, email, banner".to_string()]
        );
        let p = publish_now(edit("threshold", "", "50", "none")).await;
        assert_eq!(p.changes, vec!["Threshold 50 %: in app → —".to_string()]);

        let live = t.catalog.get().unwrap();
        let starter = live.plan("starter").unwrap();
        assert_eq!(
            starter.price(Interval::Month).unwrap().amount.amount,
            Decimal::from(25)
        );
        assert_eq!(
            starter.price(Interval::Year).unwrap().amount.amount,
            Decimal::from(190),
            "the yearly price is untouched"
        );
        assert_eq!(live.plan("pro").unwrap().trial_days, 7);
        assert_eq!(
            live.thresholds
                .iter()
                .map(|t| t.percent.normalize().to_string())
                .collect::<Vec<_>>(),
            ["75", "80", "90", "100", "110"]
        );
        // Every edit is a version whose text loads to the live catalog.
        let kept = db::catalog::latest_version(&t.pool).await.unwrap().unwrap();
        assert_eq!(
            &tollgate::catalog::file::parse("kept", &kept.text).unwrap(),
            &*live
        );

        // Bad values name their field, and change nothing.
        invalid(
            preview(&t, &me, &edit("price", "starter", "week", "25")).await,
            "target",
        );
        invalid(
            preview(&t, &me, &edit("price", "starter", "month", "-1")).await,
            "value",
        );
        invalid(
            preview(&t, &me, &edit("price", "starter", "month", "19.999")).await,
            "value",
        );
        invalid(
            preview(
                &t,
                &me,
                &edit("feature", "starter", "support_level", "platinum"),
            )
            .await,
            "value",
        );
        invalid(
            preview(&t, &me, &edit("feature", "starter", "warp_drive", "true")).await,
            "target",
        );
        invalid(
            preview(&t, &me, &edit("trial", "pro", "", "a week")).await,
            "value",
        );
        invalid(
            preview(&t, &me, &edit("trial", "pro", "", "400")).await,
            "value",
        );
        invalid(
            preview(&t, &me, &edit("threshold", "", "0", "email")).await,
            "target",
        );
        invalid(
            preview(&t, &me, &edit("threshold", "", "80", "email, fireworks")).await,
            "value",
        );
        invalid(
            preview(&t, &me, &edit("threshold", "", "33", "none")).await,
            "value",
        );
        assert_eq!(
            db::catalog::latest_version(&t.pool)
                .await
                .unwrap()
                .unwrap()
                .version,
            kept.version
        );
    }
}
