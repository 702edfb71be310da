//! The manual provider's invoicing against a real PostgreSQL (a database per test):
//! the invoice run, its figures, idempotency, numbering, coupons, credits and the
//! operator's status changes.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::PgPool;
use tollgate::db;
use tollgate::identity::{Email, NewPassword, PersonName};
use tollgate::invoice::{schedule, InvoiceStatus};
use tollgate::period::Interval;
use tollgate::service::ingest::{self, Draft};
use tollgate::service::keys::Caller;
use tollgate::service::{
    auth, catalog, coupons, invoices, plans, Actor, Error, Settings, Tollgate,
};
use uuid::Uuid;

mod corrections;
mod dunning;
mod webhook_events;

/// A small catalog with one plan per pricing feature under test.
const CATALOG: &str = r#"
[catalog]
name = "invoicing"
title = "Invoicing test"
currency = "USD"

[meters.api_calls]
name = "API calls"
unit = "call"
aggregation = "sum"

[meters.storage]
name = "Storage"
unit = "GB"
aggregation = "last"

[meters.messages]
name = "Messages"
unit = "message"
aggregation = "count"

[plans.starter]
name = "Starter"
audience = "individual"
[plans.starter.prices]
month = { amount = "29" }

[plans.professional]
name = "Professional"
audience = "individual"
[plans.professional.prices]
month = { amount = "79" }

[plans.standard]
name = "Standard AI"
audience = "individual"
[plans.standard.prices]
month = { amount = "49.99" }
[plans.standard.limits]
api_calls = { included = 100000 }
storage = { included = 50 }
[plans.standard.usage_prices]
api_calls = { model = "per_unit", unit_amount = "0.01" }
storage = { model = "per_unit", unit_amount = "0.10" }

[plans.client]
name = "Client"
audience = "individual"
[plans.client.prices]
month = { amount = "100" }
[plans.client.usage_prices]
messages = { model = "cost_plus", property = "cost_usd", multiplier = "1.5" }

[coupons.half]
name = "Half off"
percent_off = 50
duration = "forever"
"#;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("test timestamp")
}

fn d(s: &str) -> Decimal {
    s.parse().expect("test decimal")
}

async fn tollgate(pool: PgPool) -> Tollgate {
    catalog::load(&pool, "invoicing.toml", CATALOG, &Actor::Cli)
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

async fn customer(t: &Tollgate, super_admin: bool) -> (Uuid, Uuid) {
    let email = format!("c-{}@test.example", Uuid::now_v7().simple());
    let u = auth::sign_up(
        &t.pool,
        &Email::parse(&email).unwrap(),
        &PersonName::parse("Cus Tomer").unwrap(),
        &NewPassword::parse("correct horse battery").unwrap(),
        super_admin,
        None,
    )
    .await
    .unwrap();
    (u.user_id, u.account_id)
}

async fn subscribe(t: &Tollgate, account: Uuid, plan: &str, now: DateTime<Utc>) {
    plans::choose(
        t,
        account,
        plan,
        Interval::Month,
        plans::Chooser::Operator,
        &Actor::Cli,
        now,
    )
    .await
    .unwrap();
}

async fn event(
    t: &Tollgate,
    account: Uuid,
    meter: &str,
    quantity: &str,
    time: &str,
    properties: Value,
) {
    keyed_event(t, account, meter, quantity, time, properties, &Uuid::now_v7().to_string()).await;
}

/// [`event`] under the idempotency key `key`.
async fn keyed_event(
    t: &Tollgate,
    account: Uuid,
    meter: &str,
    quantity: &str,
    time: &str,
    properties: Value,
    key: &str,
) {
    let Value::Object(properties) = properties else {
        panic!("properties must be an object")
    };
    let draft = Draft {
        account: None,
        meter: meter.into(),
        quantity: json!(quantity),
        timestamp: Some(at(time)),
        user: None,
        idempotency_key: key.to_string(),
        properties,
    };
    ingest::record(
        t,
        &Caller::Account {
            key_id: Uuid::nil(),
            account_id: account,
        },
        vec![draft],
        at(time),
    )
    .await
    .unwrap();
}

async fn september(t: &Tollgate) -> invoices::Report {
    run_month(t, "2026-09", "2026-10-02T09:00:00Z").await
}

/// The invoice run for `month` (`YYYY-MM`) at the time `now`.
async fn run_month(t: &Tollgate, month: &str, now: &str) -> invoices::Report {
    invoices::run(
        t,
        schedule::billing_month(month).unwrap(),
        &Actor::Cli,
        at(now),
    )
    .await
    .unwrap()
}

async fn lines(t: &Tollgate, id: Uuid) -> Vec<(String, Decimal)> {
    let invoice = db::invoices::by_id(&t.pool, id).await.unwrap().unwrap();
    db::invoices::lines(&t.pool, invoice.account_id, id)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.kind, l.amount))
        .collect()
}

#[sqlx::test]
async fn standard_ai_at_62_gb_and_1200_calls_over_is_63_19_and_a_second_run_issues_nothing(
    pool: PgPool,
) {
    let t = tollgate(pool).await;
    let (_, account) = customer(&t, false).await;
    subscribe(&t, account, "standard", at("2026-09-01T00:00:00Z")).await;
    event(
        &t,
        account,
        "api_calls",
        "60000",
        "2026-09-10T00:00:00Z",
        json!({}),
    )
    .await;
    event(
        &t,
        account,
        "api_calls",
        "41200",
        "2026-09-20T00:00:00Z",
        json!({}),
    )
    .await;
    event(
        &t,
        account,
        "storage",
        "70",
        "2026-09-05T00:00:00Z",
        json!({}),
    )
    .await;
    event(
        &t,
        account,
        "storage",
        "62",
        "2026-09-25T00:00:00Z",
        json!({}),
    )
    .await;
    // Usage after the period is not on this invoice.
    event(
        &t,
        account,
        "api_calls",
        "5000",
        "2026-10-01T12:00:00Z",
        json!({}),
    )
    .await;

    let report = september(&t).await;
    assert_eq!(
        (report.issued.len(), report.already_invoiced),
        (1, 0),
        "{report:?}"
    );
    let issued = &report.issued[0];
    assert_eq!(issued.number, "TG-2026-000001");
    assert_eq!(issued.amount_due.amount, d("63.19"));
    let invoice = db::invoices::by_id(&t.pool, issued.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (invoice.status.as_str(), invoice.subtotal, invoice.total),
        ("open", d("63.19"), d("63.19"))
    );
    assert_eq!(
        (invoice.period_start, invoice.period_end),
        (at("2026-09-01T00:00:00Z"), at("2026-10-01T00:00:00Z"))
    );
    assert_eq!(
        invoice.due_at,
        Some(at("2026-10-16T09:00:00Z")),
        "net 14 days"
    );
    assert_eq!(
        lines(&t, issued.id).await,
        vec![
            ("base".into(), d("49.99")),
            ("usage".into(), d("12.00")),
            ("usage".into(), d("1.20"))
        ]
    );

    // The estimate for the same usage is priced by the same code.
    let catalog = t.catalog.get().unwrap();
    let estimate = tollgate::invoice::estimate::estimate(
        &catalog,
        catalog.plan("standard").unwrap(),
        Interval::Month,
        1,
        &[
            ("api_calls".to_string(), d("101200")),
            ("storage".to_string(), d("62")),
        ]
        .into_iter()
        .collect(),
    )
    .unwrap();
    assert_eq!(
        estimate
            .lines
            .iter()
            .map(|l| (l.kind.as_str().to_string(), l.amount.amount))
            .collect::<Vec<_>>(),
        lines(&t, issued.id).await
    );
    assert_eq!(estimate.total.amount, invoice.total);

    let again = september(&t).await;
    assert_eq!((again.issued.len(), again.already_invoiced), (0, 1));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM invoices")
        .fetch_one(&t.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
    // An issued invoice's lines are a record.
    let changed = sqlx::query("UPDATE invoice_lines SET amount = 0 WHERE invoice_id = $1")
        .bind(issued.id)
        .execute(&t.pool)
        .await;
    assert!(
        changed.is_err(),
        "the database refuses to change an issued invoice's lines"
    );
    let actions = db::audit::actions_for_target(&t.pool, &issued.id.to_string())
        .await
        .unwrap();
    assert_eq!(actions, vec!["invoice.issued".to_string()]);
}

#[sqlx::test]
async fn an_upgrade_half_way_through_a_30_day_period_adds_25_dollars(pool: PgPool) {
    let t = tollgate(pool).await;
    let (_, account) = customer(&t, false).await;
    subscribe(&t, account, "starter", at("2026-09-01T00:00:00Z")).await;
    subscribe(&t, account, "professional", at("2026-09-16T00:00:00Z")).await;
    let report = september(&t).await;
    let issued = &report.issued[0];
    assert_eq!(
        lines(&t, issued.id).await,
        vec![
            ("base".into(), d("29.00")),
            ("proration".into(), d("25.00"))
        ]
    );
    assert_eq!(issued.amount_due.amount, d("54.00"));
    let stored: Option<Decimal> = sqlx::query_scalar("SELECT proration FROM subscription_changes WHERE account_id = $1 AND from_plan = 'starter'")
        .bind(account)
        .fetch_one(&t.pool)
        .await
        .unwrap();
    assert_eq!(stored, Some(d("25")), "the change keeps its proration");
}

#[sqlx::test]
async fn cost_plus_base_100_with_40_dollars_of_provider_cost_at_1_5_is_160(pool: PgPool) {
    let t = tollgate(pool).await;
    let (_, account) = customer(&t, false).await;
    subscribe(&t, account, "client", at("2026-09-01T00:00:00Z")).await;
    for (i, cost) in ["10", "12.5", "17.5"].into_iter().enumerate() {
        event(
            &t,
            account,
            "messages",
            "1",
            &format!("2026-09-1{i}T00:00:00Z"),
            json!({ "cost_usd": cost }),
        )
        .await;
    }
    // A message without a numeric cost adds nothing to the provider cost.
    event(
        &t,
        account,
        "messages",
        "1",
        "2026-09-15T00:00:00Z",
        json!({ "cost_usd": "n/a" }),
    )
    .await;
    let report = september(&t).await;
    assert_eq!(report.issued[0].amount_due.amount, d("160.00"));
    assert_eq!(
        lines(&t, report.issued[0].id).await,
        vec![("base".into(), d("100.00")), ("usage".into(), d("60.00"))]
    );
}

#[sqlx::test]
async fn coupon_and_credit_then_void_gives_the_credit_back_and_paid_is_final(pool: PgPool) {
    let t = tollgate(pool).await;
    let (admin, _) = customer(&t, true).await;
    let (user, account) = customer(&t, false).await;
    let (_, other) = customer(&t, false).await;
    subscribe(&t, account, "professional", at("2026-09-01T00:00:00Z")).await;
    subscribe(&t, other, "starter", at("2026-09-01T00:00:00Z")).await;
    assert!(matches!(
        coupons::apply(
            &t,
            &Actor::user(user),
            account,
            "half",
            Some("ops"),
            at("2026-09-02T00:00:00Z")
        )
        .await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        coupons::apply(
            &t,
            &Actor::user(admin),
            account,
            "nope",
            Some("ops"),
            at("2026-09-02T00:00:00Z")
        )
        .await,
        Err(Error::Invalid { .. })
    ));
    let unverified = coupons::apply(
        &t,
        &Actor::user(admin),
        account,
        "half",
        None,
        at("2026-09-02T00:00:00Z"),
    )
    .await;
    assert!(
        matches!(unverified, Err(Error::Invalid { ref field, .. }) if field == "verified_by"),
        "{unverified:?}"
    );
    coupons::apply(
        &t,
        &Actor::user(admin),
        account,
        "half",
        Some("Registry no. 123 checked by Sam"),
        at("2026-09-02T00:00:00Z"),
    )
    .await
    .unwrap();
    db::credits::insert(&t.pool, account, d("10"), "USD", "goodwill", Some(admin))
        .await
        .unwrap();

    let report = september(&t).await;
    assert_eq!(report.issued.len(), 2);
    let mine = report
        .issued
        .iter()
        .find(|i| i.account_id == account)
        .unwrap();
    let theirs = report
        .issued
        .iter()
        .find(|i| i.account_id == other)
        .unwrap();
    let mut numbers = vec![mine.number.clone(), theirs.number.clone()];
    numbers.sort();
    assert_eq!(
        numbers,
        vec!["TG-2026-000001", "TG-2026-000002"],
        "gap-free numbers"
    );
    let invoice = db::invoices::by_id(&t.pool, mine.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            invoice.subtotal,
            invoice.discount,
            invoice.credit_applied,
            invoice.amount_due
        ),
        (d("79.00"), d("39.50"), d("10.00"), d("29.50"))
    );
    let balance = || async {
        db::credits::balances(&t.pool, account)
            .await
            .unwrap()
            .into_iter()
            .map(|b| b.balance)
            .sum::<Decimal>()
    };
    assert_eq!(balance().await, Decimal::ZERO);

    // Only a super admin changes a status; the lifecycle decides which moves exist.
    assert!(matches!(
        invoices::set_status(
            &t,
            &Actor::user(user),
            mine.id,
            InvoiceStatus::Paid,
            at("2026-10-03T00:00:00Z")
        )
        .await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        invoices::set_status(
            &t,
            &Actor::user(admin),
            mine.id,
            InvoiceStatus::Open,
            at("2026-10-03T00:00:00Z")
        )
        .await,
        Err(Error::Invalid { .. })
    ));
    invoices::set_status(
        &t,
        &Actor::user(admin),
        mine.id,
        InvoiceStatus::Void,
        at("2026-10-03T00:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(
        balance().await,
        d("10"),
        "voiding returns the credit it used"
    );
    assert!(matches!(
        invoices::set_status(
            &t,
            &Actor::user(admin),
            mine.id,
            InvoiceStatus::Paid,
            at("2026-10-03T00:00:00Z")
        )
        .await,
        Err(Error::Conflict(_))
    ));
    invoices::set_status(
        &t,
        &Actor::Cli,
        theirs.id,
        InvoiceStatus::Paid,
        at("2026-10-04T00:00:00Z"),
    )
    .await
    .unwrap();
    let paid = db::invoices::by_id(&t.pool, theirs.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (paid.status.as_str(), paid.amount_paid, paid.paid_at),
        ("paid", d("29.00"), Some(at("2026-10-04T00:00:00Z")))
    );
    assert_eq!(
        db::audit::actions_for_target(&t.pool, &theirs.id.to_string())
            .await
            .unwrap(),
        vec!["invoice.issued".to_string(), "invoice.paid".to_string()]
    );
    // A voided period is not issued again.
    assert_eq!(september(&t).await.issued.len(), 0);
}

#[sqlx::test]
async fn trials_and_periods_still_running_are_not_billed(pool: PgPool) {
    let t = tollgate(pool).await;
    let (_, account) = customer(&t, false).await;
    subscribe(&t, account, "starter", at("2026-09-20T00:00:00Z")).await;
    // The period 20 Sep – 20 Oct has not closed by 2 October.
    let report = september(&t).await;
    assert_eq!(report, invoices::Report::default());
}

#[sqlx::test]
async fn every_shipped_catalog_loads_into_the_database_and_reads_back_the_same(pool: PgPool) {
    for name in [
        "emtchat",
        "chatbot-platform",
        "digital-twin",
        "crm",
        "exprsn",
    ] {
        let path = format!("{}/catalogs/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let loaded = catalog::load(&pool, &path, &text, &Actor::Cli)
            .await
            .unwrap();
        let mut conn = pool.acquire().await.unwrap();
        let stored = db::catalog::load(&mut conn).await.unwrap().unwrap();
        // Limits and usage prices read back in meter order, not file order.
        let sorted = |mut c: tollgate::catalog::Catalog| {
            for p in &mut c.plans {
                p.limits.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
                p.usage_prices
                    .sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
            }
            c
        };
        assert_eq!(
            sorted(stored),
            sorted(loaded),
            "{name} reads back as loaded"
        );
    }
}

/// An enterprise deal: 150,000 API calls included instead of 100,000, so of 101,200
/// calls none is billed; storage keeps the plan's 50 GB. An override that expired
/// before the period's end is not applied.
#[sqlx::test]
async fn usage_is_billed_above_the_overridden_allowance(pool: PgPool) {
    use tollgate::overrides::Input;
    use tollgate::service::admin::overrides;
    let t = tollgate(pool).await;
    let (_, account) = customer(&t, false).await;
    let (_, other) = customer(&t, false).await;
    for a in [account, other] {
        subscribe(&t, a, "standard", at("2026-09-01T00:00:00Z")).await;
        event(
            &t,
            a,
            "api_calls",
            "101200",
            "2026-09-10T00:00:00Z",
            json!({}),
        )
        .await;
        event(&t, a, "storage", "62", "2026-09-25T00:00:00Z", json!({})).await;
    }
    let raise = Input {
        kind: "limit",
        key: "api_calls",
        included: "150000",
        ..Input::default()
    };
    overrides::set(
        &t,
        &Actor::Cli,
        account,
        &raise,
        "Enterprise deal",
        None,
        at("2026-09-02T00:00:00Z"),
    )
    .await
    .unwrap();
    // The other account's deal ended on Sep 20, before its period did.
    overrides::set(
        &t,
        &Actor::Cli,
        other,
        &raise,
        "Trial deal",
        Some(at("2026-09-20T00:00:00Z")),
        at("2026-09-02T00:00:00Z"),
    )
    .await
    .unwrap();
    let report = september(&t).await;
    let due = |a: Uuid| {
        report
            .issued
            .iter()
            .find(|i| i.account_id == a)
            .unwrap()
            .amount_due
            .amount
    };
    assert_eq!(
        due(account),
        d("51.19"),
        "49.99 + 12 GB × 0.10; no API calls over 150,000"
    );
    assert_eq!(due(other), d("63.19"), "the expired deal no longer applies");
}

/// Issue 11 §3: a price change keeps an existing subscriber's price and charges a
/// new one the new price; the operator's move applies from the next period.
mod grandfathered_prices {
    use super::*;
    use tollgate::catalog::edit::EditInput;
    use tollgate::service::admin::{plan_edits, price_migration};

    async fn raise_starter_to(t: &Tollgate, admin: &Actor, amount: &str) {
        let input = EditInput {
            kind: "price",
            plan: "starter",
            target: "month",
            value: amount,
            ..EditInput::default()
        };
        let p = plan_edits::preview(t, admin, &input).await.unwrap();
        plan_edits::publish(t, admin, &input, p.base_version)
            .await
            .unwrap();
    }

    fn due(report: &invoices::Report, account: Uuid) -> Decimal {
        report
            .issued
            .iter()
            .find(|i| i.account_id == account)
            .expect("an invoice")
            .amount_due
            .amount
    }

    #[sqlx::test]
    async fn a_price_change_keeps_the_subscribers_price_until_the_operator_moves_them(
        pool: PgPool,
    ) {
        let t = tollgate(pool).await;
        let (admin_id, _) = customer(&t, true).await;
        let admin = Actor::User {
            id: admin_id,
            impersonator: None,
        };
        let (_, old) = customer(&t, false).await;
        subscribe(&t, old, "starter", at("2026-09-01T00:00:00Z")).await;
        raise_starter_to(&t, &admin, "35").await;
        let (_, new) = customer(&t, false).await;
        subscribe(&t, new, "starter", at("2026-09-01T00:00:00Z")).await;

        let september = september(&t).await;
        assert_eq!(
            due(&september, old),
            d("29.00"),
            "the existing subscriber keeps $29"
        );
        assert_eq!(
            due(&september, new),
            d("35.00"),
            "a new subscriber pays $35"
        );
        let audited: Value = sqlx::query_scalar(
            "SELECT details->'grandfathered' FROM audit_log WHERE action = 'catalog.plan_edited'",
        )
        .fetch_one(&t.pool)
        .await
        .unwrap();
        assert_eq!(
            audited,
            json!([{ "plan": "starter", "interval": "month", "subscriptions": 1 }])
        );

        // The preview: one subscriber, MRR $29 → $35. A stale count is refused.
        let now = at("2026-10-10T00:00:00Z");
        let p = price_migration::preview(&t, &admin, "starter", "month", now)
            .await
            .unwrap();
        assert_eq!((p.subscriptions, p.billed_by_stripe), (1, 0));
        assert_eq!(
            (p.kept.clone(), p.current.clone()),
            (vec!["$29.00/month".to_string()], "$35.00/month".to_string())
        );
        assert_eq!(
            (p.mrr_before.amount, p.mrr_after.amount),
            (d("29.00"), d("35.00"))
        );
        assert!(matches!(
            price_migration::move_to_current(&t, &admin, "starter", "month", false, 2, now).await,
            Err(Error::Conflict(_))
        ));
        let (customer_id, _) = customer(&t, false).await;
        let refused = price_migration::preview(
            &t,
            &Actor::User {
                id: customer_id,
                impersonator: None,
            },
            "starter",
            "month",
            now,
        )
        .await;
        assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");

        let report =
            price_migration::move_to_current(&t, &admin, "starter", "month", false, 1, now)
                .await
                .unwrap();
        assert_eq!((report.moved, report.failed.len()), (1, 0));
        assert!(
            matches!(
                price_migration::preview(&t, &admin, "starter", "month", now).await,
                Err(Error::Conflict(_))
            ),
            "nobody is left to move"
        );
        // October (under way at the move) still bills $29; November bills $35.
        let october = run_month(&t, "2026-10", "2026-11-02T09:00:00Z").await;
        assert_eq!(due(&october, old), d("29.00"));
        let november = run_month(&t, "2026-11", "2026-12-02T09:00:00Z").await;
        assert_eq!(due(&november, old), d("35.00"));
        let actions = sqlx::query_scalar::<_, String>("SELECT action FROM audit_log WHERE account_id = $1 AND action = 'subscription.price_migrated'").bind(old).fetch_all(&t.pool).await.unwrap();
        assert_eq!(actions.len(), 1);
    }

    #[sqlx::test]
    async fn a_prorated_move_half_way_charges_half_the_difference_and_a_plan_change_ends_the_kept_price(
        pool: PgPool,
    ) {
        let t = tollgate(pool).await;
        let (admin_id, _) = customer(&t, true).await;
        let admin = Actor::User {
            id: admin_id,
            impersonator: None,
        };
        let (_, moved) = customer(&t, false).await;
        let (_, upgraded) = customer(&t, false).await;
        for a in [moved, upgraded] {
            subscribe(&t, a, "starter", at("2026-09-01T00:00:00Z")).await;
        }
        raise_starter_to(&t, &admin, "35").await;
        // A plan change ends the kept price: back on Starter, it is $35.
        subscribe(&t, upgraded, "professional", at("2026-09-10T00:00:00Z")).await;
        let row = db::subscriptions::live_for_account(&t.pool, upgraded)
            .await
            .unwrap()
            .unwrap();
        assert!(row.grandfathered_price.is_none());

        let report = price_migration::move_to_current(
            &t,
            &admin,
            "starter",
            "month",
            true,
            1,
            at("2026-09-16T00:00:00Z"),
        )
        .await
        .unwrap();
        assert_eq!(report.moved, 1);
        let september = september(&t).await;
        let invoice = september
            .issued
            .iter()
            .find(|i| i.account_id == moved)
            .unwrap();
        assert_eq!(
            lines(&t, invoice.id).await,
            vec![("base".into(), d("29.00")), ("proration".into(), d("3.00"))],
            "($35 − $29) × 15/30 days"
        );
        let described: String = sqlx::query_scalar(
            "SELECT description FROM invoice_lines WHERE invoice_id = $1 AND kind = 'proration'",
        )
        .bind(invoice.id)
        .fetch_one(&t.pool)
        .await
        .unwrap();
        assert!(
            described.starts_with("Move to the current price of Starter"),
            "{described}"
        );
        // A second price change keeps $35 for the subscriber whose move is done.
        raise_starter_to(&t, &admin, "39").await;
        let row = db::subscriptions::live_for_account(&t.pool, moved)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            row.kept_price_at(at("2026-12-01T00:00:00Z"))
                .map(|p| p.amount.amount),
            Some(d("35"))
        );
        // Changed back to $35, nobody keeps anything: $35 is the catalog's price.
        raise_starter_to(&t, &admin, "35").await;
        let row = db::subscriptions::live_for_account(&t.pool, moved)
            .await
            .unwrap()
            .unwrap();
        assert!(
            row.grandfathered_price.is_none(),
            "{:?}",
            row.grandfathered_price
        );
    }
}

/// More periods than one batch of the run (`invoices::run::BATCH`): batches run
/// at once, yet every invoice gets one number, the numbers are gap-free, each
/// account's coupon and credit apply to its own invoice, and every issue is audited
/// and notified.
#[sqlx::test]
async fn a_run_over_several_batches_numbers_every_invoice_once_and_gap_free(pool: PgPool) {
    let t = tollgate(pool).await;
    let n: i64 = 2 * invoices::run::BATCH as i64 + 203;
    let special: i64 = invoices::run::BATCH as i64 + 200;
    // Account g is on Standard AI with 50 + g % 3 GB stored (0, 10 or 20 cents over
    // the allowance); account `special` is on Starter ($29) with half off and $10 of
    // credit: $14.50 − $10 = $4.50 due.
    let mut conn = t.pool.acquire().await.unwrap();
    sqlx::raw_sql(&format!(
        "CREATE TEMP TABLE crowd AS SELECT g, gen_random_uuid() AS u, gen_random_uuid() AS a, gen_random_uuid() AS s
             FROM generate_series(1, {n}) g;
         INSERT INTO users (id, email, name, password_hash)
             SELECT u, 'batch-' || g || '@test.example', 'Batch ' || g, '$argon2id$not-a-hash' FROM crowd;
         INSERT INTO accounts (id, kind, name, personal_user_id, created_at)
             SELECT a, 'personal', 'Batch ' || g, u, '2026-09-01T00:00:00Z' FROM crowd;
         INSERT INTO memberships (account_id, user_id, role) SELECT a, u, 'owner' FROM crowd;
         INSERT INTO subscriptions (id, account_id, plan_key, interval, status, provider, cycle_anchor, created_at)
             SELECT s, a, CASE WHEN g = {special} THEN 'starter' ELSE 'standard' END, 'month', 'active', 'manual',
                    '2026-09-01T00:00:00Z', '2026-09-01T00:00:00Z' FROM crowd;
         INSERT INTO usage_events (id, account_id, meter, quantity, occurred_at, idempotency_key)
             SELECT gen_random_uuid(), a, 'storage', 50 + g % 3, '2026-09-10T00:00:00Z', 'seed-' || g
             FROM crowd WHERE g <> {special};
         INSERT INTO account_coupons (account_id, coupon_code) SELECT a, 'half' FROM crowd WHERE g = {special};
         INSERT INTO credit_balance_transactions (account_id, amount, currency, reason)
             SELECT a, 10, 'USD', 'Goodwill' FROM crowd WHERE g = {special};",
    ))
    .execute(&mut *conn)
    .await
    .expect("seed");

    let report = september(&t).await;
    assert_eq!(
        (
            report.issued.len(),
            report.already_invoiced,
            report.nothing_to_bill
        ),
        (usize::try_from(n).unwrap(), 0, 0)
    );
    let mut numbers: Vec<String> = report.issued.iter().map(|i| i.number.clone()).collect();
    numbers.sort();
    let expected: Vec<String> = (1..=n).map(|k| format!("TG-2026-{k:06}")).collect();
    assert_eq!(numbers, expected, "one number each, gap-free from 1");

    let (total_due, count): (Decimal, i64) = sqlx::query_as(
        "SELECT sum(amount_due), count(*) FROM invoices WHERE provider = 'manual' AND status = 'open'",
    )
    .fetch_one(&t.pool)
    .await
    .unwrap();
    let standard: Decimal = (1..=n)
        .filter(|g| *g != special)
        .map(|g| d("49.99") + d("0.10") * Decimal::from(g % 3))
        .sum();
    assert_eq!((total_due, count), (standard + d("4.50"), n));

    let special_account: Uuid = sqlx::query_scalar("SELECT a FROM crowd WHERE g = $1")
        .bind(special)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let mine = report
        .issued
        .iter()
        .find(|i| i.account_id == special_account)
        .expect("the special account's invoice");
    assert_eq!(mine.amount_due.amount, d("4.50"));
    let invoice = db::invoices::by_id(&t.pool, mine.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            invoice.discount,
            invoice.credit_applied,
            invoice.coupon_code.as_deref()
        ),
        (d("14.50"), d("10.00"), Some("half"))
    );
    let (balance, applied): (Decimal, i32) = sqlx::query_as(
        "SELECT (SELECT sum(amount) FROM credit_balance_transactions WHERE account_id = $1),
                (SELECT invoices_applied FROM account_coupons WHERE account_id = $1)",
    )
    .bind(special_account)
    .fetch_one(&t.pool)
    .await
    .unwrap();
    assert_eq!((balance, applied), (Decimal::ZERO, 1));

    let (audited, notified): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(DISTINCT target_id) FROM audit_log WHERE action = 'invoice.issued'),
                (SELECT count(DISTINCT account_id) FROM notifications WHERE kind = 'invoice_issued')",
    )
    .fetch_one(&t.pool)
    .await
    .unwrap();
    assert_eq!((audited, notified), (n, n));

    let again = september(&t).await;
    assert_eq!(
        (again.issued.len(), again.already_invoiced),
        (0, usize::try_from(n).unwrap())
    );
}

/// What `/billing` shows as owed is priced by the invoice run's code: projected
/// at the period's last second, it is the invoice the run then issues, line for
/// line; earlier, "so far" counts the usage to date and the projection carries
/// it on to the period's end.
#[sqlx::test]
async fn the_projection_at_the_last_second_is_the_invoice_issued(pool: PgPool) {
    let t = tollgate(pool).await;
    let (admin, _) = customer(&t, true).await;
    let (_, account) = customer(&t, false).await;
    subscribe(&t, account, "standard", at("2026-09-01T00:00:00Z")).await;
    coupons::apply(
        &t,
        &Actor::user(admin),
        account,
        "half",
        Some("ops"),
        at("2026-09-02T00:00:00Z"),
    )
    .await
    .unwrap();
    event(&t, account, "api_calls", "60000", "2026-09-10T00:00:00Z", json!({})).await;
    event(&t, account, "storage", "70", "2026-09-05T00:00:00Z", json!({})).await;

    // Half way: api_calls 60,000 so far (within the allowance), 120,000 projected.
    let mid = invoices::preview::current(&t, account, at("2026-09-16T00:00:00Z"))
        .await
        .unwrap()
        .expect("a manual subscription");
    assert_eq!(mid.period.start, at("2026-09-01T00:00:00Z"));
    assert!(
        mid.projected.subtotal.amount > mid.accrued.subtotal.amount,
        "usage over the allowance is projected: {:?} vs {:?}",
        mid.projected,
        mid.accrued
    );

    event(&t, account, "api_calls", "41200", "2026-09-20T00:00:00Z", json!({})).await;
    event(&t, account, "storage", "62", "2026-09-25T00:00:00Z", json!({})).await;
    let last = invoices::preview::current(&t, account, at("2026-09-30T23:59:59Z"))
        .await
        .unwrap()
        .expect("a manual subscription");
    assert_eq!(last.accrued, last.projected, "nothing left to project");
    assert!(!last.accrued.discount.amount.is_zero(), "the coupon applies");

    let report = september(&t).await;
    let issued = report
        .issued
        .iter()
        .find(|i| i.account_id == account)
        .expect("invoiced");
    assert_eq!(issued.amount_due, last.projected.amount_due);
    let invoice_lines: Vec<(String, Decimal)> = lines(&t, issued.id).await;
    let previewed: Vec<(String, Decimal)> = last
        .projected
        .lines
        .iter()
        .map(|l| (l.kind.as_str().to_string(), l.amount.amount))
        .collect();
    assert_eq!(invoice_lines, previewed);

    // No preview for an account without a manual subscription.
    let (_, nobody) = customer(&t, false).await;
    assert!(invoices::preview::current(&t, nobody, at("2026-09-16T00:00:00Z"))
        .await
        .unwrap()
        .is_none());
}
