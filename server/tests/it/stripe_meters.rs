//! Usage billed through Stripe's billing meters, against the project's Stripe test double:
//! `stripe sync` makes one meter per catalog meter and a metered price per usage price (and
//! changes nothing when run again); Checkout puts the metered prices on the subscription; the
//! usage job sends only the units above the included quantity, each event once (Stripe's
//! `identifier` is the event id), retries what Stripe could not take and gives up on what it
//! refused; the renewal invoice bills the usage at the catalog's prices.

use crate::support;

use chrono::Utc;
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgPool;
use support::stripe::{spawn_with_stripe_catalog, StripeApp, API_KEY, WEBHOOK_SECRET};
use support::Customer;
use tollgate::period::Interval;
use tollgate::service::plans::Chooser;
use tollgate::service::provider::{self, Timing};
use tollgate::service::stripe::sync::{self, Action};
use tollgate::service::stripe::{checkout, meter_usage, Stripe, StripeSettings};
use tollgate::service::{Actor, Error};

/// Three paid plans: Builder charges tokens above 1,000 a month by graduated tiers with
/// fractions of a cent and storage above 5 GB per GB; Studio charges tokens above 5,000 per
/// token; Agency marks the provider's cost up (cost-plus), which Stripe's meters cannot bill.
const CATALOG: &str = r#"
[catalog]
name = "metered-test"
title = "Metered test"
currency = "USD"

[meters.tokens]
name = "Tokens"
unit = "token"
aggregation = "sum"
description = "Tokens used."

[meters.storage]
name = "Storage"
unit = "GB"
aggregation = "last"
description = "Stored now."

[plans.builder]
name = "Builder"
description = "Pay for what you use beyond the allowance."
audience = "individual"
[plans.builder.prices]
month = { amount = "20" }
[plans.builder.limits]
tokens = { included = 1000, enforcement = "soft" }
storage = { included = 5, enforcement = "soft" }
[plans.builder.usage_prices]
tokens = { model = "graduated", tiers = [{ up_to = 10000, unit_amount = "0.002" }, { unit_amount = "0.001" }] }
storage = { model = "per_unit", unit_amount = "0.25" }

[plans.studio]
name = "Studio"
description = "A bigger allowance."
audience = "individual"
[plans.studio.prices]
month = { amount = "50" }
[plans.studio.limits]
tokens = { included = 5000, enforcement = "soft" }
[plans.studio.usage_prices]
tokens = { model = "per_unit", unit_amount = "0.001" }

[plans.free]
name = "Free"
description = "Try it."
audience = "individual"
[plans.free.prices]
month = { amount = "0" }
[plans.free.limits]
tokens = { included = 100, enforcement = "hard" }

[plans.agency]
name = "Agency"
description = "Provider cost, marked up."
audience = "individual"
[plans.agency.prices]
month = { amount = "30" }
[plans.agency.usage_prices]
tokens = { model = "cost_plus", property = "cost_usd", multiplier = "1.5" }
"#;

async fn spawn(pool: PgPool) -> StripeApp {
    spawn_with_stripe_catalog(pool, "catalogs/metered-test.toml", CATALOG).await
}

fn stripe(s: &StripeApp) -> std::sync::Arc<Stripe> {
    s.app.tollgate.stripe.clone().expect("configured")
}

/// A customer paying for Builder by card: `(customer, Stripe subscription, Stripe customer)`.
async fn paying(s: &StripeApp) -> (Customer, String, String) {
    sync::sync(&s.app.tollgate, &stripe(s)).await.expect("sync");
    let c = s.app.customer(None).await;
    let started = checkout::start(
        &s.app.tollgate,
        c.account_id,
        c.user_id,
        &Actor::user(c.user_id),
        "builder",
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
    let row = tollgate::db::subscriptions::live_for_account(&s.app.tollgate.pool, c.account_id)
        .await
        .unwrap()
        .expect("live");
    assert_eq!(
        (row.provider.as_str(), row.status.as_str()),
        ("stripe", "active")
    );
    let customer = tollgate::db::stripe::customer_of(&s.app.tollgate.pool, c.account_id)
        .await
        .unwrap()
        .expect("customer");
    (
        c,
        row.provider_subscription_id.expect("Stripe id"),
        customer,
    )
}

/// Posts one event of `meter` for the customer's account.
async fn usage(s: &StripeApp, c: &Customer, meter: &str, quantity: i64, key: &str) {
    let res = s.app.post("/api/v1/events", &c.key, &json!({ "events": [{ "meter": meter, "quantity": quantity, "idempotency_key": key }] })).await;
    assert!(
        res.status().is_success(),
        "{}",
        res.text().await.unwrap_or_default()
    );
}

async fn run(s: &StripeApp) -> meter_usage::Report {
    meter_usage::run(&s.app.tollgate, &stripe(s), Utc::now())
        .await
        .expect("the job runs")
}

/// The lookup keys of the Stripe subscription's items.
fn item_keys(s: &StripeApp, sub_id: &str) -> Vec<String> {
    let sub = s
        .double
        .with_store(|st| st.render_subscription(sub_id))
        .expect("subscription");
    let mut keys: Vec<String> = sub["items"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i["price"]["lookup_key"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    keys.sort();
    keys
}

/// Reports by status: `(status, count, units)`.
async fn reports(pool: &PgPool, account: uuid::Uuid) -> Vec<(String, i64, i64)> {
    let sub = tollgate::db::subscriptions::live_for_account(pool, account)
        .await
        .unwrap()
        .expect("live");
    tollgate::db::stripe_meters::summary(pool, sub.id)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn sync_makes_meters_and_metered_prices_once(pool: PgPool) {
    let s = spawn(pool).await;
    let report = sync::sync(&s.app.tollgate, &stripe(&s))
        .await
        .expect("sync");
    let action = |object: &str| {
        report
            .iter()
            .find(|r| r.object == object)
            .map(|r| r.action.clone())
            .unwrap_or_else(|| panic!("{object} in {report:?}"))
    };
    assert_eq!(action("meter tollgate_tokens"), Action::Created);
    assert_eq!(action("meter tollgate_storage"), Action::Created);
    assert_eq!(action("price builder_month_usage_tokens"), Action::Created);
    assert_eq!(action("price builder_month_usage_storage"), Action::Created);
    assert!(
        matches!(action("price agency_month_usage_tokens"), Action::Skipped(ref why) if why.contains("cost-plus")),
        "{report:?}"
    );
    assert_eq!(
        report
            .iter()
            .filter(|r| r.object.starts_with("meter "))
            .count(),
        2,
        "one line per meter: {report:?}"
    );

    let (meters, tokens_price) = s.double.with_store(|st| {
        let meters: Vec<(String, String)> = st
            .meters
            .iter()
            .map(|m| (m.event_name.clone(), m.formula.clone()))
            .collect();
        let price = st
            .prices
            .iter()
            .find(|p| p.lookup_key.as_deref() == Some("builder_month_usage_tokens"))
            .map(stripe_double::state::Price::render);
        (meters, price)
    });
    assert_eq!(meters.len(), 2);
    assert!(
        meters.contains(&("tollgate_tokens".into(), "sum".into()))
            && meters.contains(&("tollgate_storage".into(), "last".into())),
        "{meters:?}"
    );
    let tokens_price = tokens_price.expect("metered price");
    assert_eq!(tokens_price["recurring"]["usage_type"], "metered");
    assert_eq!(tokens_price["tiers_mode"], "graduated");
    assert_eq!(
        tokens_price["tiers"][0]["unit_amount_decimal"], "0.2",
        "0.2 cents a token: {tokens_price}"
    );
    assert_eq!(tokens_price["tiers"][0]["up_to"], 10000);

    let again = sync::sync(&s.app.tollgate, &stripe(&s))
        .await
        .expect("sync again");
    assert!(
        again
            .iter()
            .all(|r| matches!(r.action, Action::Unchanged | Action::Skipped(_))),
        "a second run changes nothing: {again:?}"
    );
    assert_eq!(
        s.double.with_store(|st| (st.meters.len(), st.prices.len())),
        (2, 6),
        "2 meters; 3 plan prices, Builder's 2 and Studio's 1 metered prices"
    );
    assert!(
        !checkout::paid_through_stripe(&s.app.tollgate, "agency", Interval::Month),
        "cost-plus is billed by invoice"
    );
    assert!(checkout::paid_through_stripe(
        &s.app.tollgate,
        "builder",
        Interval::Month
    ));

    // A customer choosing the cost-plus plan is refused, not granted it unpaid;
    // an operator still sets it up (billed by Tollgate's invoices).
    let c = s.app.customer(None).await;
    let chosen = provider::choose(
        &s.app.tollgate,
        c.account_id,
        "agency",
        Interval::Month,
        Timing::Now,
        Chooser::Customer,
        &Actor::user(c.user_id),
        Utc::now(),
    )
    .await;
    assert!(
        matches!(&chosen, Err(Error::Invalid { message, .. }) if message.contains("cannot be bought online")),
        "{chosen:?}"
    );
    let live = tollgate::db::subscriptions::live_for_account(&s.app.tollgate.pool, c.account_id)
        .await
        .unwrap();
    assert!(live.is_none(), "nothing granted");
    let chosen = provider::choose(
        &s.app.tollgate,
        c.account_id,
        "agency",
        Interval::Month,
        Timing::Now,
        Chooser::Operator,
        &Actor::Cli,
        Utc::now(),
    )
    .await;
    assert!(
        matches!(chosen, Ok(provider::Chosen::Applied)),
        "{chosen:?}"
    );
    // A customer on the free plan (manual provider) cannot schedule a paid plan
    // for the period end either: the manual provider would apply it unpaid.
    let f = s.app.customer(None).await;
    let me = Actor::user(f.user_id);
    let free = provider::choose(
        &s.app.tollgate,
        f.account_id,
        "free",
        Interval::Month,
        Timing::Now,
        Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await;
    assert!(matches!(free, Ok(provider::Chosen::Applied)), "{free:?}");
    let later = provider::choose(
        &s.app.tollgate,
        f.account_id,
        "builder",
        Interval::Month,
        Timing::PeriodEnd,
        Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await;
    assert!(
        matches!(&later, Err(Error::Invalid { field, .. }) if field == "timing"),
        "{later:?}"
    );
    let later = provider::choose(
        &s.app.tollgate,
        f.account_id,
        "agency",
        Interval::Month,
        Timing::PeriodEnd,
        Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await;
    assert!(
        matches!(&later, Err(Error::Invalid { field, .. }) if field == "plan"),
        "{later:?}"
    );
    let now = provider::choose(
        &s.app.tollgate,
        f.account_id,
        "builder",
        Interval::Month,
        Timing::Now,
        Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await;
    assert!(
        matches!(now, Ok(provider::Chosen::Checkout(_))),
        "now goes through Checkout: {now:?}"
    );
    // The pricing page offers it through sales; Builder stays self-serve.
    let html = s
        .app
        .http
        .get(s.app.url("/pricing"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("?subject=Agency plan") && !html.contains("?subject=Builder plan"),
        "{html}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn usage_above_the_allowance_reaches_stripe_once_and_is_invoiced(pool: PgPool) {
    let s = spawn(pool.clone()).await;
    let (c, sub_id, customer) = paying(&s).await;
    assert_eq!(
        item_keys(&s, &sub_id),
        [
            "builder_month",
            "builder_month_usage_storage",
            "builder_month_usage_tokens"
        ],
        "Checkout adds the metered prices"
    );

    usage(&s, &c, "tokens", 900, "t1").await; // within the 1,000 included
    usage(&s, &c, "tokens", 300, "t2").await; // 200 above
    usage(&s, &c, "tokens", 10_000, "t3").await; // 10,000 more above: 10,200 in all
    usage(&s, &c, "storage", 12, "s1").await; // 7 GB above 5
    let first = run(&s).await;
    assert_eq!(
        (first.assigned, first.sent, first.retried, first.failed),
        (4, 3, 0, 0),
        "{first:?}"
    );
    assert_eq!(
        s.double.meter_total(&customer, Some("tollgate_tokens")),
        10_200,
        "only the tokens above the allowance"
    );
    assert_eq!(s.double.meter_total(&customer, Some("tollgate_storage")), 7);
    assert_eq!(
        reports(&pool, c.account_id).await,
        [
            ("included".to_owned(), 1, 0),
            ("sent".to_owned(), 3, 10_207)
        ],
        "one report per event; the first is within the allowance"
    );

    // Nothing new: nothing sent. A report sent again (its worker's lease ran out mid-send)
    // reaches Stripe with the same identifier and is not counted twice.
    assert_eq!(run(&s).await, meter_usage::Report::default());
    sqlx::query("UPDATE stripe_meter_reports SET status = 'pending', sent_at = NULL, next_attempt_at = now() WHERE value = 10000").execute(&pool).await.unwrap();
    assert_eq!(run(&s).await.sent, 1);
    assert_eq!(
        s.double.meter_total(&customer, Some("tollgate_tokens")),
        10_200,
        "Stripe dedupes by identifier"
    );

    // The renewal bills the period's usage at the catalog's prices: 10,200 tokens are
    // 10,000 × 0.2¢ + 200 × 0.1¢ = $20.20; 7 GB × $0.25 = $1.75; plus Builder's $20.
    s.double
        .advance_subscription(&sub_id, None)
        .expect("renews");
    s.settle().await;
    let total: Decimal = sqlx::query_scalar("SELECT total FROM invoices WHERE account_id = $1 AND provider = 'stripe' ORDER BY period_start DESC, created_at DESC LIMIT 1")
        .bind(c.account_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(total, Decimal::new(4195, 2));
}

#[sqlx::test(migrations = "../migrations")]
async fn failed_sends_are_retried_and_refusals_are_given_up(pool: PgPool) {
    let s = spawn(pool.clone()).await;
    let (c, _sub_id, customer) = paying(&s).await;
    usage(&s, &c, "tokens", 1_500, "t1").await;

    // Stripe unreachable: the report stays pending, with the error, for a later attempt.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let offline = Stripe::new(&StripeSettings {
        secret_key: API_KEY.into(),
        webhook_secret: WEBHOOK_SECRET.into(),
        api_base: Some(nowhere),
        dunning_grace_days: 7,
    })
    .unwrap();
    let down = meter_usage::run(&s.app.tollgate, &offline, Utc::now())
        .await
        .expect("the run itself succeeds");
    assert_eq!(
        (down.assigned, down.sent, down.retried, down.failed),
        (1, 0, 1, 0),
        "{down:?}"
    );
    let (attempts, due_later, error): (i32, bool, Option<String>) = sqlx::query_as(
        "SELECT attempts, next_attempt_at > now(), last_error FROM stripe_meter_reports",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((attempts, due_later), (1, true));
    assert!(error.is_some_and(|e| e.contains("send meter event")));
    assert_eq!(run(&s).await.sent, 0, "not due yet");

    sqlx::query("UPDATE stripe_meter_reports SET next_attempt_at = now()")
        .execute(&pool)
        .await
        .unwrap();
    let back = run(&s).await;
    assert_eq!((back.sent, back.retried), (1, 0));
    assert_eq!(
        s.double.meter_total(&customer, Some("tollgate_tokens")),
        500
    );

    // Stripe refusing the event (no meter by that name) is final: failed, with Stripe's message.
    usage(&s, &c, "tokens", 10, "t2").await;
    let assigned = run(&s).await;
    assert_eq!(assigned.sent, 1);
    sqlx::query("UPDATE stripe_meter_reports SET status = 'pending', sent_at = NULL, next_attempt_at = now(), event_name = 'tollgate_retired' WHERE value = 10")
        .execute(&pool)
        .await
        .unwrap();
    let refused = run(&s).await;
    assert_eq!((refused.failed, refused.retried), (1, 0), "{refused:?}");
    let error: String =
        sqlx::query_scalar("SELECT last_error FROM stripe_meter_reports WHERE status = 'failed'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(
        error.contains("400") && error.contains("tollgate_retired"),
        "{error}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_plan_change_swaps_the_metered_items(pool: PgPool) {
    let s = spawn(pool.clone()).await;
    let (c, sub_id, _) = paying(&s).await;
    let t = &s.app.tollgate;
    let me = Actor::user(c.user_id);
    assert_eq!(
        run(&s).await.items_checked,
        1,
        "a new subscription is checked once"
    );
    assert_eq!(run(&s).await.items_checked, 0);

    let agency = provider::choose(
        t,
        c.account_id,
        "agency",
        Interval::Month,
        Timing::Now,
        Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await;
    assert!(
        matches!(agency, Err(Error::Conflict(ref m)) if m.contains("cost-plus")),
        "a plan whose usage Stripe cannot bill is refused: {agency:?}"
    );

    provider::choose(
        t,
        c.account_id,
        "studio",
        Interval::Month,
        Timing::Now,
        Chooser::Customer,
        &me,
        Utc::now(),
    )
    .await
    .expect("change to Studio");
    s.settle().await;
    assert_eq!(run(&s).await.items_checked, 1);
    assert_eq!(
        item_keys(&s, &sub_id),
        ["studio_month", "studio_month_usage_tokens"],
        "Builder's metered prices are replaced by Studio's"
    );
    assert_eq!(run(&s).await.items_checked, 0, "checked once per change");
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE account_id = $1 AND action = 'subscription.metered_items_changed' AND actor_kind = 'system'")
        .bind(c.account_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        audited, 1,
        "the swap is audited; the first check changed nothing"
    );

    // Usage now counts against Studio's 5,000 included tokens.
    usage(&s, &c, "tokens", 5_100, "t1").await;
    assert_eq!(run(&s).await.sent, 1);
    let sent: i64 = sqlx::query_scalar("SELECT value FROM stripe_meter_reports")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(sent, 100);
}
