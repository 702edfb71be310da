//! The manual provider's changes through [`tollgate::service::provider`] against a
//! real PostgreSQL: a downgrade scheduled for the period end applies at that instant
//! without proration; cancel at period end ends the subscription then; reactivate and
//! "keep my plan" undo them; refused requests change nothing.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use tollgate::identity::{Email, NewPassword, PersonName};
use tollgate::period::Interval;
use tollgate::service::plans::{self, Chooser};
use tollgate::service::provider::{self, manual, Chosen, Collected, Timing};
use tollgate::service::{auth, catalog, jobs, Actor, Error, Settings, Tollgate};
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

/// An owner and their account, active on `plan` (its trial ended days ago).
async fn active_on(t: &Tollgate, plan: &str) -> (Uuid, Uuid) {
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
    plans::choose(
        t,
        u.account_id,
        plan,
        Interval::Month,
        Chooser::Operator,
        &Actor::Cli,
        Utc::now() - Duration::days(20),
    )
    .await
    .unwrap();
    jobs::once(t).await.unwrap();
    assert_eq!(row(t, u.account_id).await.status, "active");
    (u.user_id, u.account_id)
}

async fn row(t: &Tollgate, account: Uuid) -> tollgate::db::subscriptions::SubscriptionRow {
    tollgate::db::subscriptions::live_for_account(&t.pool, account)
        .await
        .unwrap()
        .expect("live")
}

/// The newest plan-history entry: (to_plan, effective_at, proration).
async fn last_change(t: &Tollgate, account: Uuid) -> (String, DateTime<Utc>, Option<Decimal>) {
    sqlx::query_as("SELECT to_plan, effective_at, proration FROM subscription_changes WHERE account_id = $1 ORDER BY id DESC LIMIT 1")
        .bind(account)
        .fetch_one(&t.pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_downgrade_at_period_end_applies_then_without_proration(pool: PgPool) {
    let t = tollgate(pool).await;
    let (owner, account) = active_on(&t, "pro").await;
    let me = Actor::user(owner);
    let now = Utc::now();

    let now_preview = provider::preview(
        &t,
        account,
        "starter",
        Interval::Month,
        Timing::Now,
        &me,
        now,
    )
    .await
    .unwrap();
    assert_eq!(now_preview.collected, Collected::NextInvoice);
    assert!(
        now_preview
            .amount
            .is_some_and(|m| m.amount.is_sign_negative()),
        "a downgrade now is credited: {now_preview:?}"
    );
    let later = provider::preview(
        &t,
        account,
        "starter",
        Interval::Month,
        Timing::PeriodEnd,
        &me,
        now,
    )
    .await
    .unwrap();
    assert_eq!(later.amount, None);
    let period_end = row(&t, account).await.cycle().period_containing(now).end;
    assert_eq!(later.effective_at, period_end);

    let chosen = provider::choose(
        &t,
        account,
        "starter",
        Interval::Month,
        Timing::PeriodEnd,
        Chooser::Customer,
        &me,
        now,
    )
    .await
    .unwrap();
    assert_eq!(chosen, Chosen::Scheduled(period_end));
    let r = row(&t, account).await;
    assert_eq!(
        (r.plan_key.as_str(), r.scheduled()),
        ("pro", Some(("starter", Interval::Month, period_end)))
    );

    assert_eq!(
        manual::apply_due(&t, now).await.unwrap(),
        manual::Applied::default(),
        "not yet"
    );
    assert_eq!(row(&t, account).await.plan_key, "pro");
    let done = manual::apply_due(&t, period_end + Duration::seconds(30))
        .await
        .unwrap();
    assert_eq!(done.changed, 1);
    let r = row(&t, account).await;
    assert_eq!((r.plan_key.as_str(), r.scheduled()), ("starter", None));
    assert_eq!(
        last_change(&t, account).await,
        ("starter".to_owned(), period_end, None),
        "at the period end, nothing prorated"
    );
    assert_eq!(
        manual::apply_due(&t, period_end + Duration::seconds(60))
            .await
            .unwrap()
            .changed,
        0,
        "applied once"
    );
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE account_id = $1 AND action IN ('subscription.change_scheduled', 'subscription.plan_changed')")
        .bind(account)
        .fetch_one(&t.pool)
        .await
        .unwrap();
    assert_eq!(audited, 2);
}

#[sqlx::test]
async fn keeping_the_plan_drops_the_schedule_and_bad_requests_change_nothing(pool: PgPool) {
    let t = tollgate(pool).await;
    let (owner, account) = active_on(&t, "pro").await;
    let me = Actor::user(owner);
    let now = Utc::now();
    provider::choose(
        &t,
        account,
        "starter",
        Interval::Month,
        Timing::PeriodEnd,
        Chooser::Customer,
        &me,
        now,
    )
    .await
    .unwrap();
    provider::keep_plan(&t, account, &me, now).await.unwrap();
    assert_eq!(row(&t, account).await.scheduled(), None);
    let nothing = provider::keep_plan(&t, account, &me, now).await;
    assert!(matches!(nothing, Err(Error::Conflict(_))), "{nothing:?}");
    assert_eq!(
        manual::apply_due(&t, now + Duration::days(40))
            .await
            .unwrap()
            .changed,
        0,
        "a dropped change never applies"
    );

    let stranger = active_on(&t, "starter").await.0;
    let theirs = provider::cancel(&t, account, &Actor::user(stranger), now).await;
    assert!(
        matches!(theirs, Err(Error::Forbidden(_) | Error::NotFound(_))),
        "{theirs:?}"
    );
    let same = provider::choose(
        &t,
        account,
        "pro",
        Interval::Month,
        Timing::PeriodEnd,
        Chooser::Customer,
        &me,
        now,
    )
    .await;
    assert!(matches!(same, Err(Error::Conflict(_))), "{same:?}");
    let sales = provider::choose(
        &t,
        account,
        "enterprise",
        Interval::Month,
        Timing::PeriodEnd,
        Chooser::Customer,
        &me,
        now,
    )
    .await;
    assert!(matches!(sales, Err(Error::Invalid { .. })), "{sales:?}");

    // During a trial a change applies at once (free of charge): no period-end option.
    let email = format!("t-{}@test.example", Uuid::now_v7().simple());
    let u = auth::sign_up(
        &t.pool,
        &Email::parse(&email).unwrap(),
        &PersonName::parse("T").unwrap(),
        &NewPassword::parse("correct horse battery").unwrap(),
        false,
        None,
    )
    .await
    .unwrap();
    plans::choose(
        &t,
        u.account_id,
        "pro",
        Interval::Month,
        Chooser::Operator,
        &Actor::Cli,
        now,
    )
    .await
    .unwrap();
    let trial = provider::choose(
        &t,
        u.account_id,
        "starter",
        Interval::Month,
        Timing::PeriodEnd,
        Chooser::Customer,
        &Actor::user(u.user_id),
        now,
    )
    .await;
    assert!(
        matches!(trial, Err(Error::Invalid { ref field, .. }) if field == "timing"),
        "{trial:?}"
    );
    let r = row(&t, account).await;
    assert_eq!(
        (r.plan_key.as_str(), r.scheduled(), r.cancel_at_period_end),
        ("pro", None, false),
        "refusals changed nothing"
    );
}

#[sqlx::test]
async fn cancel_at_period_end_ends_then_and_reactivate_undoes_it(pool: PgPool) {
    let t = tollgate(pool).await;
    let (owner, account) = active_on(&t, "starter").await;
    let me = Actor::user(owner);
    let now = Utc::now();
    provider::choose(
        &t,
        account,
        "free",
        Interval::Month,
        Timing::PeriodEnd,
        Chooser::Customer,
        &me,
        now,
    )
    .await
    .unwrap();

    provider::cancel(&t, account, &me, now).await.unwrap();
    let r = row(&t, account).await;
    let end = r.cycle().period_containing(now).end;
    assert_eq!(
        (r.cancel_at_period_end, r.cancel_at, r.scheduled()),
        (true, Some(end), None),
        "cancelling drops the scheduled change"
    );
    assert!(r.entitled, "usable until the period ends");
    let twice = provider::cancel(&t, account, &me, now).await;
    assert!(matches!(twice, Err(Error::Conflict(_))), "{twice:?}");
    assert_eq!(manual::apply_due(&t, now).await.unwrap().ended, 0);

    provider::reactivate(&t, account, &me, now).await.unwrap();
    let r = row(&t, account).await;
    assert_eq!((r.cancel_at_period_end, r.cancel_at), (false, None));
    let again = provider::reactivate(&t, account, &me, now).await;
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");

    provider::cancel(&t, account, &me, now).await.unwrap();
    assert_eq!(
        manual::apply_due(&t, end + Duration::seconds(1))
            .await
            .unwrap()
            .ended,
        1
    );
    let live = tollgate::db::subscriptions::live_for_account(&t.pool, account)
        .await
        .unwrap();
    assert!(live.is_none(), "{live:?}");
    let ended: (Option<DateTime<Utc>>,) =
        sqlx::query_as("SELECT canceled_at FROM subscriptions WHERE account_id = $1")
            .bind(account)
            .fetch_one(&t.pool)
            .await
            .unwrap();
    assert_eq!(
        ended.0,
        Some(end),
        "ended at the period end, not when the job ran"
    );
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM notifications WHERE account_id = $1")
            .bind(account)
            .fetch_all(&t.pool)
            .await
            .unwrap();
    assert!(
        kinds.contains(&"subscription_ended".to_owned()),
        "{kinds:?}"
    );
    let gone = provider::reactivate(&t, account, &me, end + Duration::seconds(2)).await;
    assert!(matches!(gone, Err(Error::Conflict(_))), "{gone:?}");
}
