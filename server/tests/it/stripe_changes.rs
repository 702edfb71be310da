//! Changing a card-paid subscription through the `stripe` provider, against the
//! project's Stripe test double: an upgrade now charges exactly the previewed
//! proration, a downgrade at the period end keeps the paid-for plan until Stripe
//! renews on the new price, cancel at period end and reactivate, and seats as the
//! subscription's quantity.

use crate::support;

use chrono::Utc;
use rust_decimal::Decimal;
use sqlx::PgPool;
use support::stripe::{spawn_with_stripe, StripeApp};
use tollgate::period::Interval;
use tollgate::service::plans::Chooser;
use tollgate::service::provider::{self, Chosen, Collected, Timing};
use tollgate::service::stripe::{checkout, sync};
use tollgate::service::{Actor, Error};
use uuid::Uuid;

/// An account paying for `plan` by card, its trial over (active, first invoice paid).
async fn active_on(s: &StripeApp, plan: &str) -> (support::Customer, String) {
    let stripe = s.app.tollgate.stripe.clone().expect("configured");
    sync::sync(&s.app.tollgate, &stripe).await.expect("sync");
    let c = s.app.customer(None).await;
    let started = checkout::start(
        &s.app.tollgate,
        c.account_id,
        c.user_id,
        &Actor::user(c.user_id),
        plan,
        Interval::Month,
        Utc::now(),
    )
    .await
    .expect("checkout");
    assert_eq!(
        s.pay(&started.url, "4242424242424242")
            .await
            .status()
            .as_u16(),
        303
    );
    s.settle().await;
    let sub_id = row(&s.app.tollgate.pool, c.account_id)
        .await
        .provider_subscription_id
        .expect("a Stripe subscription");
    s.double
        .advance_subscription(&sub_id, None)
        .expect("the trial ends");
    s.settle().await;
    assert_eq!(
        row(&s.app.tollgate.pool, c.account_id).await.status,
        "active"
    );
    (c, sub_id)
}

async fn row(pool: &PgPool, account: Uuid) -> tollgate::db::subscriptions::SubscriptionRow {
    tollgate::db::subscriptions::live_for_account(pool, account)
        .await
        .unwrap()
        .expect("a live subscription")
}

/// The Stripe subscription's plan item: (price lookup key, quantity, cancel_at_period_end).
fn stripe_item(s: &StripeApp, sub_id: &str) -> (String, u64, bool) {
    let sub = s
        .double
        .with_store(|st| st.render_subscription(sub_id))
        .expect("subscription");
    let item = &sub["items"]["data"][0];
    (
        item["price"]["lookup_key"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        item["quantity"].as_u64().unwrap_or(0),
        sub["cancel_at_period_end"].as_bool().unwrap_or(false),
    )
}

async fn audited(pool: &PgPool, account: Uuid, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE account_id = $1 AND action = $2")
        .bind(account)
        .bind(action)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn an_upgrade_now_charges_the_previewed_proration(pool: PgPool) {
    let s = spawn_with_stripe(pool.clone()).await;
    let (c, sub_id) = active_on(&s, "starter").await;
    let t = &s.app.tollgate;
    let me = Actor::user(c.user_id);

    let preview = provider::preview(
        t,
        c.account_id,
        "pro",
        Interval::Month,
        Timing::Now,
        &me,
        Utc::now(),
    )
    .await
    .expect("preview");
    assert_eq!(preview.collected, Collected::Now);
    let amount = preview
        .amount
        .expect("an active subscription is prorated")
        .amount;
    // Almost the whole month is left: close to $49 − $19 = $30, never more.
    assert!(
        amount > Decimal::from(29) && amount <= Decimal::from(30),
        "{preview:?}"
    );
    assert_eq!(
        preview.lines.len(),
        2,
        "unused time on Starter, remaining time on Pro: {preview:?}"
    );
    assert_eq!(
        preview.lines.iter().map(|l| l.1.amount).sum::<Decimal>(),
        amount
    );
    assert!(
        preview
            .lines
            .iter()
            .any(|l| l.0.starts_with("Unused time") && l.1.amount.is_sign_negative()),
        "{preview:?}"
    );
    assert_eq!(
        row(&pool, c.account_id).await.plan_key,
        "starter",
        "a preview changes nothing"
    );

    let chosen = provider::choose(
        t,
        c.account_id,
        "pro",
        Interval::Month,
        Timing::Now,
        Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await
    .expect("upgrade");
    assert_eq!(chosen, Chosen::Applied);
    assert_eq!(
        row(&pool, c.account_id).await.plan_key,
        "pro",
        "applied before any webhook"
    );
    assert_eq!(stripe_item(&s, &sub_id).0, "pro_month");
    s.settle().await;
    let charged: (Decimal, String) = sqlx::query_as(
        "SELECT total, status FROM invoices WHERE account_id = $1 AND provider = 'stripe' ORDER BY created_at DESC, period_start DESC LIMIT 1",
    )
    .bind(c.account_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        charged,
        (amount, "paid".to_owned()),
        "the proration invoice is what the preview said, paid by card"
    );
    assert_eq!(
        audited(&pool, c.account_id, "subscription.plan_changed").await,
        1
    );
    let r = row(&pool, c.account_id).await;
    assert_eq!(
        (r.plan_key.as_str(), r.status.as_str()),
        ("pro", "active"),
        "the webhooks agree"
    );

    let again = provider::choose(
        t,
        c.account_id,
        "pro",
        Interval::Month,
        Timing::Now,
        Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await;
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
    let yearly = provider::choose(
        t,
        c.account_id,
        "pro",
        Interval::Year,
        Timing::Now,
        Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await;
    assert!(matches!(yearly, Err(Error::Invalid { .. })), "{yearly:?}");
    let free = provider::choose(
        t,
        c.account_id,
        "free",
        Interval::Month,
        Timing::Now,
        Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await;
    assert!(
        matches!(free, Err(Error::Conflict(ref m)) if m.contains("cancel")),
        "{free:?}"
    );
    let stranger = s.app.customer(None).await;
    let theirs = provider::choose(
        t,
        c.account_id,
        "starter",
        Interval::Month,
        Timing::Now,
        Chooser::Customer,
        &Actor::user(stranger.user_id),
        Utc::now(),
    )
    .await;
    assert!(theirs.is_err(), "{theirs:?}");
    assert_eq!(
        row(&pool, c.account_id).await.plan_key,
        "pro",
        "refused changes change nothing"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_downgrade_at_period_end_keeps_the_paid_plan_until_stripe_renews(pool: PgPool) {
    let s = spawn_with_stripe(pool.clone()).await;
    let (c, sub_id) = active_on(&s, "pro").await;
    let t = &s.app.tollgate;
    let me = Actor::user(c.user_id);
    let invoices_before: i64 =
        sqlx::query_scalar("SELECT count(*) FROM invoices WHERE account_id = $1")
            .bind(c.account_id)
            .fetch_one(&pool)
            .await
            .unwrap();

    let preview = provider::preview(
        t,
        c.account_id,
        "starter",
        Interval::Month,
        Timing::PeriodEnd,
        &me,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(preview.amount, None, "nothing is charged or credited now");
    let Chosen::Scheduled(at) = provider::choose(
        t,
        c.account_id,
        "starter",
        Interval::Month,
        Timing::PeriodEnd,
        Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await
    .unwrap() else {
        panic!("a period-end change is scheduled");
    };
    assert_eq!(at, preview.effective_at);
    s.settle().await;
    let r = row(&pool, c.account_id).await;
    assert_eq!(
        (r.plan_key.as_str(), r.scheduled()),
        ("pro", Some(("starter", Interval::Month, at))),
        "Pro until the period ends"
    );
    assert!(r.entitled);
    assert_eq!(
        stripe_item(&s, &sub_id).0,
        "starter_month",
        "Stripe bills Starter from the renewal"
    );
    let invoices_now: i64 =
        sqlx::query_scalar("SELECT count(*) FROM invoices WHERE account_id = $1")
            .bind(c.account_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(invoices_now, invoices_before, "no proration invoice");

    // Changing one's mind puts Stripe back on Pro; scheduling again works.
    provider::keep_plan(t, c.account_id, &me, Utc::now())
        .await
        .expect("keep");
    s.settle().await;
    assert_eq!(
        (
            row(&pool, c.account_id).await.scheduled(),
            stripe_item(&s, &sub_id).0
        ),
        (None, "pro_month".to_owned())
    );
    let nothing = provider::keep_plan(t, c.account_id, &me, Utc::now()).await;
    assert!(matches!(nothing, Err(Error::Conflict(_))), "{nothing:?}");
    provider::choose(
        t,
        c.account_id,
        "starter",
        Interval::Month,
        Timing::PeriodEnd,
        Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await
    .unwrap();
    s.settle().await;

    // Stripe renews on Starter: the mirror applies the scheduled plan.
    s.double
        .advance_subscription(&sub_id, None)
        .expect("renewal");
    s.settle().await;
    let r = row(&pool, c.account_id).await;
    assert_eq!(
        (r.plan_key.as_str(), r.scheduled(), r.status.as_str()),
        ("starter", None, "active")
    );
    let renewal: Decimal = sqlx::query_scalar("SELECT total FROM invoices WHERE account_id = $1 ORDER BY period_start DESC, created_at DESC LIMIT 1")
        .bind(c.account_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(renewal, Decimal::from(19), "the renewal bills Starter");
    assert_eq!(
        audited(&pool, c.account_id, "subscription.change_scheduled").await,
        2
    );
    assert_eq!(
        audited(&pool, c.account_id, "subscription.change_unscheduled").await,
        1
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn cancel_at_period_end_then_reactivate_then_cancel_ends_it(pool: PgPool) {
    let s = spawn_with_stripe(pool.clone()).await;
    let (c, sub_id) = active_on(&s, "starter").await;
    let t = &s.app.tollgate;
    let me = Actor::user(c.user_id);

    provider::cancel(t, c.account_id, &me, Utc::now())
        .await
        .expect("cancel");
    let r = row(&pool, c.account_id).await;
    assert!(
        r.cancel_at_period_end && r.cancel_at.is_some() && r.entitled,
        "{r:?}"
    );
    assert!(stripe_item(&s, &sub_id).2);
    let twice = provider::cancel(t, c.account_id, &me, Utc::now()).await;
    assert!(matches!(twice, Err(Error::Conflict(_))), "{twice:?}");
    let scheduled = provider::choose(
        t,
        c.account_id,
        "pro",
        Interval::Month,
        Timing::PeriodEnd,
        Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await;
    assert!(
        matches!(scheduled, Err(Error::Conflict(_))),
        "an ending subscription schedules nothing: {scheduled:?}"
    );

    provider::reactivate(t, c.account_id, &me, Utc::now())
        .await
        .expect("reactivate");
    s.settle().await;
    let r = row(&pool, c.account_id).await;
    assert!(!r.cancel_at_period_end && r.cancel_at.is_none(), "{r:?}");
    assert!(!stripe_item(&s, &sub_id).2);

    provider::cancel(t, c.account_id, &me, Utc::now())
        .await
        .expect("cancel again");
    s.double
        .advance_subscription(&sub_id, None)
        .expect("the period ends");
    s.settle().await;
    let live = tollgate::db::subscriptions::live_for_account(&pool, c.account_id)
        .await
        .unwrap();
    assert!(live.is_none(), "ended at the period end: {live:?}");
    assert_eq!(
        audited(&pool, c.account_id, "subscription.cancel_scheduled").await,
        2
    );
    assert_eq!(
        audited(&pool, c.account_id, "subscription.reactivated").await,
        1
    );
}

/// Issue 11 §3 with Stripe: after a price change and `stripe sync`, a card-paying
/// subscriber keeps renewing on the older price (its plan still recognised through
/// the price's metadata), until the operator moves them: Stripe then bills the new
/// price from the next renewal, without proration.
#[sqlx::test(migrations = "../migrations")]
async fn a_grandfathered_card_subscriber_keeps_the_older_price_until_moved(pool: PgPool) {
    use tollgate::catalog::edit::EditInput;
    use tollgate::identity::{Email, NewPassword, PersonName};
    use tollgate::service::admin::{plan_edits, price_migration};
    let s = spawn_with_stripe(pool.clone()).await;
    let (c, sub_id) = active_on(&s, "starter").await;
    let t = &s.app.tollgate;
    let stripe = t.stripe.clone().expect("configured");
    let email = format!("ops-{}@test.example", Uuid::now_v7().simple());
    let admin = tollgate::service::auth::sign_up(
        &pool,
        &Email::parse(&email).unwrap(),
        &PersonName::parse("Ops").unwrap(),
        &NewPassword::parse("correct horse battery").unwrap(),
        true,
        None,
    )
    .await
    .unwrap();
    let admin = Actor::User {
        id: admin.user_id,
        impersonator: None,
    };

    let input = EditInput {
        kind: "price",
        plan: "starter",
        target: "month",
        value: "25",
        ..EditInput::default()
    };
    let base = plan_edits::preview(t, &admin, &input)
        .await
        .unwrap()
        .base_version;
    let published = plan_edits::publish(t, &admin, &input, base).await.unwrap();
    assert_eq!(
        published.stripe_sync,
        Some(Ok(())),
        "publishing a price syncs Stripe's prices"
    );
    assert_eq!(
        stripe_item(&s, &sub_id).0,
        "",
        "the lookup key moved to the new $25 price"
    );
    let synced_again = sync::sync(t, &stripe).await.unwrap();
    assert!(
        synced_again
            .iter()
            .all(|s| s.action != sync::Action::Created),
        "nothing left to make: {synced_again:?}"
    );
    let renewal_total = |pool: PgPool| async move {
        sqlx::query_scalar::<_, Decimal>("SELECT total FROM invoices WHERE account_id = $1 ORDER BY period_start DESC, created_at DESC LIMIT 1")
            .bind(c.account_id)
            .fetch_one(&pool)
            .await
            .unwrap()
    };

    s.double
        .advance_subscription(&sub_id, None)
        .expect("renewal");
    s.settle().await;
    let r = row(&pool, c.account_id).await;
    assert_eq!(
        (r.plan_key.as_str(), r.status.as_str()),
        ("starter", "active"),
        "the older price still reads as Starter"
    );
    assert_eq!(
        r.kept_price_at(Utc::now()).map(|p| p.amount.amount),
        Some(Decimal::from(19))
    );
    assert_eq!(
        renewal_total(pool.clone()).await,
        Decimal::from(19),
        "Stripe renews on the kept price"
    );

    let p = price_migration::preview(t, &admin, "starter", "month", Utc::now())
        .await
        .unwrap();
    assert_eq!((p.subscriptions, p.billed_by_stripe), (1, 1));
    assert_eq!(
        (p.mrr_before.amount, p.mrr_after.amount),
        (Decimal::from(19), Decimal::from(25))
    );
    let moved =
        price_migration::move_to_current(t, &admin, "starter", "month", false, 1, Utc::now())
            .await
            .unwrap();
    assert_eq!((moved.moved, moved.failed.clone()), (1, vec![]));
    assert_eq!(
        stripe_item(&s, &sub_id).0,
        "starter_month",
        "the plan item is on the current price"
    );
    s.settle().await;
    let r = row(&pool, c.account_id).await;
    assert!(
        r.grandfathered_until.is_some(),
        "the kept price ends with the period under way"
    );
    assert_eq!(
        audited(&pool, c.account_id, "subscription.price_migrated").await,
        1
    );
    assert_eq!(
        renewal_total(pool.clone()).await,
        Decimal::from(19),
        "no proration invoice"
    );

    s.double
        .advance_subscription(&sub_id, None)
        .expect("renewal");
    s.settle().await;
    assert_eq!(
        renewal_total(pool.clone()).await,
        Decimal::from(25),
        "the next renewal bills $25"
    );
    assert_eq!(row(&pool, c.account_id).await.plan_key, "starter");
}

/// Issue 11 §5: a coupon applied to a card-paying account becomes its Stripe
/// subscription's discount, so Stripe's renewals carry it; removing it ends it.
#[sqlx::test(migrations = "../migrations")]
async fn a_coupon_reaches_a_card_paid_subscription_as_its_stripe_discount(pool: PgPool) {
    use tollgate::service::coupons;
    let s = spawn_with_stripe(pool.clone()).await;
    let t = &s.app.tollgate;
    let catalog = format!("{}\n[coupons.nonprofit]\nname = \"Non-profit discount\"\npercent_off = 50\nduration = \"forever\"\n", support::EMTCHAT);
    tollgate::service::catalog::load(&pool, "emtchat.toml", &catalog, &Actor::Cli)
        .await
        .unwrap();
    t.catalog.refresh(&pool).await.unwrap();
    let (c, sub_id) = active_on(&s, "starter").await;
    let latest = |pool: PgPool| async move {
        sqlx::query_as::<_, (Decimal, Decimal)>("SELECT subtotal, total FROM invoices WHERE account_id = $1 ORDER BY period_start DESC, created_at DESC LIMIT 1")
            .bind(c.account_id)
            .fetch_one(&pool)
            .await
            .unwrap()
    };

    coupons::apply(
        t,
        &Actor::Cli,
        c.account_id,
        "nonprofit",
        Some("registry checked"),
        Utc::now(),
    )
    .await
    .unwrap();
    let discounts = s
        .double
        .with_store(|st| st.render_subscription(&sub_id))
        .unwrap()["discounts"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(discounts, 1, "the Stripe subscription has the discount");
    let stripe_coupon = s
        .double
        .with_store(|st| st.render_coupon("tollgate_nonprofit_pct50_forever"))
        .unwrap();
    assert_eq!(
        (
            stripe_coupon["percent_off"].as_f64(),
            stripe_coupon["duration"].as_str()
        ),
        (Some(50.0), Some("forever"))
    );
    s.double
        .advance_subscription(&sub_id, None)
        .expect("renewal");
    s.settle().await;
    assert_eq!(
        latest(pool.clone()).await,
        (Decimal::from(19), Decimal::new(950, 2)),
        "Stripe renews at half price"
    );

    // Applied again (another account later) the Stripe coupon is reused, not duplicated.
    coupons::apply(
        t,
        &Actor::Cli,
        c.account_id,
        "nonprofit",
        Some("registry checked again"),
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(s.double.with_store(|st| st.coupons.len()), 1);

    coupons::remove(t, &Actor::Cli, c.account_id).await.unwrap();
    let discounts = s
        .double
        .with_store(|st| st.render_subscription(&sub_id))
        .unwrap()["discounts"]
        .as_array()
        .map_or(1, Vec::len);
    assert_eq!(discounts, 0);
    s.double
        .advance_subscription(&sub_id, None)
        .expect("renewal");
    s.settle().await;
    assert_eq!(
        latest(pool.clone()).await,
        (Decimal::from(19), Decimal::from(19)),
        "full price again"
    );
    let audited: serde_json::Value = sqlx::query_scalar("SELECT details FROM audit_log WHERE account_id = $1 AND action = 'coupon.applied' ORDER BY id LIMIT 1")
        .bind(c.account_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(audited["stripe_subscription"], serde_json::json!(sub_id));
}
