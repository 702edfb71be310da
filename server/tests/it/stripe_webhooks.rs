//! The Stripe provider against the project's Stripe test double: `tollgate stripe
//! sync`, Checkout, and `POST /webhooks/stripe` (API.md "Webhooks in") with signed,
//! repeated, out-of-order and forged deliveries.

use crate::support;

use chrono::Utc;
use serde_json::json;
use sqlx::PgPool;
use stripe_webhook::Webhook;
use support::stripe::{spawn_with_stripe, StripeApp, WEBHOOK_SECRET};
use tollgate::period::Interval;
use tollgate::service::stripe::{checkout, sync};
use tollgate::service::{Actor, Error};

async fn start_checkout(s: &StripeApp, plan: &str) -> (support::Customer, checkout::Started) {
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
    .expect("checkout starts");
    (c, started)
}

async fn live(pool: &PgPool, account: uuid::Uuid) -> (String, String, String, Option<String>) {
    sqlx::query_as("SELECT plan_key, status, provider, provider_subscription_id FROM subscriptions WHERE account_id = $1 AND status <> 'canceled'")
        .bind(account)
        .fetch_one(pool)
        .await
        .expect("a live subscription")
}

async fn event_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM stripe_events")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn sync_creates_products_and_prices_once(pool: PgPool) {
    let s = spawn_with_stripe(pool).await;
    let stripe = s.app.tollgate.stripe.clone().unwrap();
    let first = sync::sync(&s.app.tollgate, &stripe).await.unwrap();
    let names: Vec<(&str, &sync::Action)> = first
        .iter()
        .map(|l| (l.object.as_str(), &l.action))
        .collect();
    assert!(
        names.contains(&("product tollgate_starter", &sync::Action::Created)),
        "{names:?}"
    );
    assert!(
        names.contains(&("price starter_month", &sync::Action::Created)),
        "{names:?}"
    );
    assert!(
        names.contains(&("price team_year", &sync::Action::Created)),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|(o, _)| *o == "product tollgate_free"),
        "a free plan needs no product: {names:?}"
    );
    assert!(
        matches!(
            names.iter().find(|(o, _)| *o == "price free_month"),
            Some((_, sync::Action::Skipped(_)))
        ),
        "{names:?}"
    );
    let second = sync::sync(&s.app.tollgate, &stripe).await.unwrap();
    assert_eq!(second.len(), first.len());
    assert!(
        second
            .iter()
            .all(|l| matches!(l.action, sync::Action::Unchanged | sync::Action::Skipped(_))),
        "{second:?}"
    );
    assert_eq!(
        second
            .iter()
            .filter(|l| l.action == sync::Action::Unchanged)
            .count(),
        9,
        "{second:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn checkout_mirrors_the_subscription_and_its_invoice_and_repeats_change_nothing(
    pool: PgPool,
) {
    let s = spawn_with_stripe(pool.clone()).await;
    let (c, started) = start_checkout(&s, "pro").await;
    assert!(
        started.url.starts_with(&s.double.base_url()),
        "{}",
        started.url
    );
    assert!(
        checkout::completed_for(&s.app.tollgate, &started.session_id)
            .await
            .unwrap()
            != Some(c.account_id)
    );

    let declined = s.pay(&started.url, "4000000000000002").await;
    assert_eq!(declined.status().as_u16(), 402);
    let paid = s.pay(&started.url, "4242424242424242").await;
    assert_eq!(paid.status().as_u16(), 303);
    let back = paid.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        back,
        s.app.url(&format!(
            "/billing/checkout?session_id={}",
            started.session_id
        ))
    );
    s.settle().await;

    assert!(
        checkout::completed_for(&s.app.tollgate, &started.session_id)
            .await
            .unwrap()
            == Some(c.account_id)
    );
    let (plan, status, provider, sub_id) = live(&pool, c.account_id).await;
    // Pro has a 14-day trial and this account never had one.
    assert_eq!(
        (plan.as_str(), status.as_str(), provider.as_str()),
        ("pro", "trialing", "stripe")
    );
    let sub_id = sub_id.expect("linked to Stripe");
    assert!(sub_id.starts_with("sub_"));
    let customers: i64 =
        sqlx::query_scalar("SELECT count(*) FROM stripe_customers WHERE account_id = $1")
            .bind(c.account_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(customers, 1);

    let (number, inv_status, total, hosted): (Option<String>, String, rust_decimal::Decimal, Option<String>) =
        sqlx::query_as("SELECT number, status, total, hosted_url FROM invoices WHERE account_id = $1 AND provider = 'stripe'")
            .bind(c.account_id)
            .fetch_one(&pool)
            .await
            .expect("the trial's invoice is mirrored");
    assert_eq!(
        (inv_status.as_str(), total),
        ("paid", rust_decimal::Decimal::ZERO)
    );
    assert!(number.is_some() && hosted.is_some_and(|h| h.starts_with(&s.double.base_url())));

    // A second Checkout for an account that already pays by card is refused.
    let again = checkout::start(
        &s.app.tollgate,
        c.account_id,
        c.user_id,
        &Actor::user(c.user_id),
        "starter",
        Interval::Month,
        Utc::now(),
    )
    .await;
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");

    // Stripe delivering every event again changes nothing.
    let events = event_count(&pool).await;
    let audit: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&pool)
        .await
        .unwrap();
    for e in s.double.events() {
        s.double.resend(e["id"].as_str().unwrap()).unwrap();
    }
    s.settle().await;
    assert_eq!(event_count(&pool).await, events);
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM audit_log")
            .fetch_one(&pool)
            .await
            .unwrap(),
        audit
    );
    let repeats = s
        .double
        .deliveries()
        .iter()
        .filter(|d| d.status == Some(200))
        .count();
    assert_eq!(
        repeats,
        2 * usize::try_from(events).unwrap(),
        "every delivery answered 200"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn events_in_reverse_order_leave_the_same_state(pool: PgPool) {
    let s = spawn_with_stripe(pool.clone()).await;
    s.double.hold_webhooks();
    let (c, started) = start_checkout(&s, "starter").await;
    assert_eq!(
        s.pay(&started.url, "4242424242424242")
            .await
            .status()
            .as_u16(),
        303
    );
    let kinds: Vec<String> = s
        .double
        .events()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        kinds.contains(&"customer.subscription.created".to_owned()),
        "{kinds:?}"
    );
    s.double.release_webhooks(true);
    s.settle().await;
    let (plan, status, provider, _) = live(&pool, c.account_id).await;
    assert_eq!(
        (plan.as_str(), status.as_str(), provider.as_str()),
        ("starter", "trialing", "stripe")
    );
    let subscriptions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM subscriptions WHERE account_id = $1")
            .bind(c.account_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        subscriptions, 1,
        "one subscription however the events were ordered"
    );
    let changes: i64 =
        sqlx::query_scalar("SELECT count(*) FROM subscription_changes WHERE account_id = $1")
            .bind(c.account_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        changes, 1,
        "the first event to arrive created it; the others found it current"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_failed_renewal_is_past_due_with_a_notice_and_paying_restores_it(pool: PgPool) {
    let s = spawn_with_stripe(pool.clone()).await;
    let (c, started) = start_checkout(&s, "starter").await;
    assert_eq!(
        s.pay(&started.url, "4242424242424242")
            .await
            .status()
            .as_u16(),
        303
    );
    s.settle().await;
    let (_, _, _, sub_id) = live(&pool, c.account_id).await;
    let sub_id = sub_id.unwrap();
    let customer: String =
        sqlx::query_scalar("SELECT customer_id FROM stripe_customers WHERE account_id = $1")
            .bind(c.account_id)
            .fetch_one(&pool)
            .await
            .unwrap();

    // The trial ends and the card on file now fails.
    s.double.set_card(&customer, "4000000000000341").unwrap();
    s.double.advance_subscription(&sub_id, None).unwrap();
    s.settle().await;
    let (_, status, _, _) = live(&pool, c.account_id).await;
    assert_eq!(status, "past_due");
    let (open_status, due): (String, rust_decimal::Decimal) =
        sqlx::query_as("SELECT status, amount_due FROM invoices WHERE account_id = $1 AND provider = 'stripe' AND status <> 'paid'")
            .bind(c.account_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (open_status.as_str(), due),
        ("open", rust_decimal::Decimal::from(19))
    );
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM notifications WHERE account_id = $1")
            .bind(c.account_id)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        kinds.iter().filter(|k| *k == "payment_failed").count(),
        1,
        "{kinds:?}"
    );
    let mails: Vec<String> =
        sqlx::query_scalar("SELECT template FROM email_outbox WHERE account_id = $1")
            .bind(c.account_id)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(mails, ["payment_failed"]);

    // Dunning grace: the plan still applies for 7 days, then the renewal prompt does.
    let row = tollgate::db::subscriptions::live_for_account(&pool, c.account_id)
        .await
        .unwrap()
        .unwrap();
    let grace = row.grace_until.expect("a grace period while past due") - Utc::now();
    assert!(
        row.entitled
            && grace > chrono::Duration::days(7) - chrono::Duration::minutes(1)
            && grace <= chrono::Duration::days(7),
        "{row:?}"
    );
    let check = json!({"feature": "documents", "quantity": 1});
    let (code, during) = support::answer(s.app.post("/api/v1/check", &c.key, &check).await).await;
    assert_eq!(
        (code, during["allowed"].as_bool()),
        (200, Some(true)),
        "{during}"
    );
    sqlx::query("UPDATE subscriptions SET grace_until = now() - interval '1 second' WHERE id = $1")
        .bind(row.id)
        .execute(&pool)
        .await
        .unwrap();
    // A write with plain SQL reaches the check's cache by its announcement.
    s.app.settle().await;
    let row = tollgate::db::subscriptions::live_for_account(&pool, c.account_id)
        .await
        .unwrap()
        .unwrap();
    assert!(!row.entitled, "after the grace period");
    let (code, after) = support::answer(s.app.post("/api/v1/check", &c.key, &check).await).await;
    assert_eq!(
        (code, after["allowed"].as_bool()),
        (200, Some(false)),
        "{after}"
    );

    // The owner replaces the card in the Customer Portal: Tollgate retries the open
    // invoice with it (customer.updated), and it is paid: active again.
    let other = s.app.customer(None).await;
    let refused =
        tollgate::service::stripe::portal::start(&s.app.tollgate, c.account_id, other.user_id)
            .await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    let no_card =
        tollgate::service::stripe::portal::start(&s.app.tollgate, other.account_id, other.user_id)
            .await;
    assert!(matches!(no_card, Err(Error::Conflict(_))), "{no_card:?}");
    let portal = tollgate::service::stripe::portal::start(&s.app.tollgate, c.account_id, c.user_id)
        .await
        .expect("portal");
    assert!(
        portal.starts_with(&format!("{}/portal/", s.double.base_url())),
        "{portal}"
    );
    let invoice_id: String = sqlx::query_scalar(
        "SELECT provider_invoice_id FROM invoices WHERE account_id = $1 AND status = 'open'",
    )
    .bind(c.account_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    let updated = s.pay(&format!("{portal}/card"), "4242424242424242").await;
    assert_eq!(updated.status().as_u16(), 303);
    // The retry's own webhooks arrive after the customer.updated one was answered.
    for _ in 0..50 {
        s.settle().await;
        if live(&pool, c.account_id).await.1 == "active" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    s.settle().await;
    let (_, status, _, _) = live(&pool, c.account_id).await;
    assert_eq!(status, "active");
    let paid: String =
        sqlx::query_scalar("SELECT status FROM invoices WHERE provider_invoice_id = $1")
            .bind(&invoice_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(paid, "paid");
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM notifications WHERE account_id = $1")
            .bind(c.account_id)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(kinds.contains(&"payment_recovered".to_owned()), "{kinds:?}");
}

fn event(id: &str, kind: &str) -> String {
    json!({
        "id": id, "object": "event", "type": kind, "created": Utc::now().timestamp(), "livemode": false,
        "api_version": "2026-09-30.endive", "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null},
        "data": {"object": {"id": "thing_1", "object": "thing"}},
    })
    .to_string()
}

#[sqlx::test(migrations = "../migrations")]
async fn signatures_are_checked_before_anything_is_stored(pool: PgPool) {
    let s = spawn_with_stripe(pool.clone()).await;
    let url = s.app.url("/webhooks/stripe");
    let post = |body: String, signature: Option<String>| {
        let mut r = s
            .app
            .http
            .post(url.clone())
            .header("content-type", "application/json")
            .body(body);
        if let Some(sig) = signature {
            r = r.header("stripe-signature", sig);
        }
        r.send()
    };
    let body = event("evt_unknown1", "thing.happened");
    let now = Utc::now().timestamp();

    for (label, sig) in [
        ("no header", None),
        (
            "another secret",
            Some(Webhook::generate_test_header(
                &body,
                "whsec_someone_else",
                Some(now),
            )),
        ),
        (
            "stale",
            Some(Webhook::generate_test_header(
                &body,
                WEBHOOK_SECRET,
                Some(now - 301),
            )),
        ),
        (
            "from the future",
            Some(Webhook::generate_test_header(
                &body,
                WEBHOOK_SECRET,
                Some(now + 301),
            )),
        ),
        (
            "v0 only",
            Some(
                Webhook::generate_test_header(&body, WEBHOOK_SECRET, Some(now))
                    .replace("v1=", "v0="),
            ),
        ),
        ("garbage", Some("t=abc,v1=zz".to_owned())),
    ] {
        let res = post(body.clone(), sig).await.unwrap();
        assert_eq!(res.status().as_u16(), 400, "{label}");
        let answer: serde_json::Value = res.json().await.unwrap();
        assert_eq!(
            answer["error"]["code"], "invalid_request",
            "{label}: {answer}"
        );
    }
    // A body changed after signing.
    let sig = Webhook::generate_test_header(&body, WEBHOOK_SECRET, Some(now));
    assert_eq!(
        post(
            body.replace("thing.happened", "invoice.paid"),
            Some(sig.clone())
        )
        .await
        .unwrap()
        .status()
        .as_u16(),
        400
    );
    assert_eq!(
        event_count(&pool).await,
        0,
        "nothing stored for a refused delivery"
    );

    // Two v1 values (a secret being rolled): one matching is enough.
    let rolled = format!(
        "t={now},v1={},{}",
        "00".repeat(32),
        sig.split_once(',').unwrap().1
    );
    let res = post(body.clone(), Some(rolled)).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let outcome: String =
        sqlx::query_scalar("SELECT outcome FROM stripe_events WHERE id = 'evt_unknown1'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(outcome, "ignored: Tollgate does not act on thing.happened");

    // The same event again: 200, marked duplicate, nothing new.
    let res = post(body.clone(), Some(sig)).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    assert_eq!(answer["duplicate"], true);
    assert_eq!(event_count(&pool).await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn without_stripe_the_endpoint_does_not_exist(pool: PgPool) {
    let app = support::spawn_app(pool).await;
    let body = event("evt_x1", "invoice.paid");
    let sig = Webhook::generate_test_header(&body, WEBHOOK_SECRET, None);
    let res = app
        .http
        .post(app.url("/webhooks/stripe"))
        .header("stripe-signature", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_pages_send_a_paid_plan_to_checkout_and_the_return_page_waits_for_the_webhook(
    pool: PgPool,
) {
    use support::admin::{call, fn_outcome, log_in, page_outcome, Outcome};
    let s = spawn_with_stripe(pool.clone()).await;
    let stripe = s.app.tollgate.stripe.clone().unwrap();
    sync::sync(&s.app.tollgate, &stripe).await.unwrap();
    let c = s.app.customer(None).await;
    let cookie = log_in(&s.app, &c.email, support::PASSWORD).await;

    // Free stays with the manual provider, at once.
    let free = s
        .app
        .http
        .post(s.app.url("/_fn/choose_plan"))
        .header("cookie", &cookie)
        .header("accept", "text/html")
        .form(&[("plan", "free"), ("interval", "month")])
        .send()
        .await
        .unwrap();
    assert_eq!(free.headers()["location"], "/dashboard");
    assert_eq!(live(&pool, c.account_id).await.2, "manual");

    // A paid plan goes to Checkout.
    let res = s
        .app
        .http
        .post(s.app.url("/_fn/choose_plan"))
        .header("cookie", &cookie)
        .header("accept", "text/html")
        .form(&[("plan", "pro"), ("interval", "month")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 302);
    let checkout_url = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        checkout_url.starts_with(&format!("{}/checkout/", s.double.base_url())),
        "{checkout_url}"
    );

    s.double.hold_webhooks();
    let paid = s.pay(&checkout_url, "4242424242424242").await;
    let back = paid.headers()["location"].to_str().unwrap().to_owned();
    let path = back
        .strip_prefix(&s.app.url(""))
        .expect("returns to Tollgate")
        .to_owned();
    let (outcome, waiting) = page_outcome(&s.app, &path, Some(&cookie)).await;
    assert_eq!(outcome, Outcome::Allowed);
    assert!(
        waiting.contains("Confirming your payment") && waiting.contains("http-equiv=\"refresh\""),
        "{waiting}"
    );
    assert_eq!(
        live(&pool, c.account_id).await.0,
        "free",
        "nothing changes before the webhook"
    );

    s.double.release_webhooks(false);
    s.settle().await;
    let (_, done) = page_outcome(&s.app, &path, Some(&cookie)).await;
    assert!(
        done.contains("You&#x27;re all set") || done.contains("You're all set"),
        "{done}"
    );
    assert!(done.contains("Pro, trialing"), "{done}");
    let (plan, status, provider, _) = live(&pool, c.account_id).await;
    assert_eq!(
        (plan.as_str(), status.as_str(), provider.as_str()),
        ("pro", "trialing", "stripe"),
        "the free subscription moved to Stripe"
    );

    // Free has no Stripe price: moving there is a cancellation, and the page says so.
    let refused = s
        .app
        .http
        .post(s.app.url("/_fn/choose_plan"))
        .header("cookie", &cookie)
        .form(&[("plan", "free"), ("interval", "month")])
        .send()
        .await
        .unwrap();
    let text = refused.text().await.unwrap();
    assert!(
        text.contains("Free cannot be paid by card") && text.contains("cancel your subscription"),
        "{text}"
    );
    assert_eq!(live(&pool, c.account_id).await.0, "pro");

    // Only the paying account's owner or admins learn the outcome.
    let session_id = path.split("session_id=").nth(1).unwrap().to_owned();
    let other = s.app.customer(None).await;
    let other_cookie = log_in(&s.app, &other.email, support::PASSWORD).await;
    let (outcome, body) = fn_outcome(
        call(
            &s.app,
            "checkout_status",
            Some(&other_cookie),
            &[("session_id", session_id.clone())],
        )
        .await,
    )
    .await;
    assert!(
        matches!(outcome, Outcome::Other(_)) && body.contains("NotFound"),
        "{outcome:?} {body}"
    );
    let (outcome, _) = fn_outcome(
        call(
            &s.app,
            "checkout_status",
            None,
            &[("session_id", session_id)],
        )
        .await,
    )
    .await;
    assert_eq!(outcome, Outcome::SignIn);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_organization_pays_per_seat_and_its_seats_are_stripes_quantity(pool: PgPool) {
    use tollgate::service::{organizations, plans};
    let s = spawn_with_stripe(pool.clone()).await;
    let stripe = s.app.tollgate.stripe.clone().unwrap();
    sync::sync(&s.app.tollgate, &stripe).await.unwrap();
    let owner = s.app.customer(None).await;
    let org = organizations::create(
        &pool,
        "Seat Co",
        "seat-co",
        "billing@seat.test",
        owner.user_id,
        &Actor::Cli,
    )
    .await
    .unwrap();
    let started = checkout::start(
        &s.app.tollgate,
        org,
        owner.user_id,
        &Actor::user(owner.user_id),
        "team",
        Interval::Month,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(
        s.pay(&started.url, "4242424242424242")
            .await
            .status()
            .as_u16(),
        303
    );
    s.settle().await;
    let (plan, _, provider, _) = live(&pool, org).await;
    assert_eq!((plan.as_str(), provider.as_str()), ("team", "stripe"));
    let seats: i32 = sqlx::query_scalar(
        "SELECT seats FROM subscriptions WHERE account_id = $1 AND status <> 'canceled'",
    )
    .bind(org)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(seats, 1, "one member: Stripe's quantity is the seat count");

    // Seats bought in Tollgate are Stripe's quantity (seat sync), applied at once.
    let sub_id = live(&pool, org).await.3.unwrap();
    organizations::seats::set_seats(
        &s.app.tollgate,
        org,
        owner.user_id,
        5,
        &Actor::user(owner.user_id),
        Utc::now(),
    )
    .await
    .expect("seats through Stripe");
    let quantity = |s: &StripeApp| {
        s.double
            .with_store(|st| st.render_subscription(&sub_id))
            .unwrap()["items"]["data"][0]["quantity"]
            .as_u64()
    };
    assert_eq!(quantity(&s), Some(5));
    s.settle().await;
    let seats: i32 = sqlx::query_scalar(
        "SELECT seats FROM subscriptions WHERE account_id = $1 AND status <> 'canceled'",
    )
    .bind(org)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(seats, 5);
    let too_few = organizations::seats::set_seats(
        &s.app.tollgate,
        org,
        owner.user_id,
        0,
        &Actor::user(owner.user_id),
        Utc::now(),
    )
    .await;
    assert!(matches!(too_few, Err(Error::Invalid { .. })), "{too_few:?}");
    assert_eq!(
        quantity(&s),
        Some(5),
        "a refused change reaches Stripe neither"
    );
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE account_id = $1 AND action = 'subscription.seats_changed'").bind(org).fetch_one(&pool).await.unwrap();
    assert_eq!(audited, 1);

    // The manual provider's own path refuses a Stripe-billed subscription outright.
    let other_plan = plans::choose(
        &s.app.tollgate,
        org,
        "enterprise",
        Interval::Month,
        plans::Chooser::Operator,
        &Actor::Cli,
        Utc::now(),
    )
    .await;
    assert!(
        matches!(other_plan, Err(Error::Conflict(_))),
        "{other_plan:?}"
    );
    assert_eq!(live(&pool, org).await.0, "team", "nothing changed");
}
