//! The daily rollup behind the usage history always equals the stored events:
//! random batches with repeats, late events, members, properties and costs, read
//! back by independent SQL over the raw events; and the rebuild restores it.

use chrono::{Duration, DurationRound, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use tollgate::identity::{Email, NewPassword, PersonName};
use tollgate::service::ingest::{self, Draft};
use tollgate::service::keys::Caller;
use tollgate::service::{auth, catalog, usage_history, Actor, Settings, Tollgate};
use uuid::Uuid;

const CHATBOT: &str = include_str!("../../catalogs/chatbot-platform.toml");

async fn tollgate(pool: PgPool) -> Tollgate {
    catalog::load(&pool, "catalogs/chatbot-platform.toml", CHATBOT, &Actor::Cli)
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

/// A new user (a super admin with `super_admin`) with their personal account.
async fn sign_up(pool: &PgPool, email: &str, super_admin: bool) -> auth::NewUser {
    auth::sign_up(
        pool,
        &Email::parse(email).unwrap(),
        &PersonName::parse("Owner").unwrap(),
        &NewPassword::parse("correct horse battery").unwrap(),
        super_admin,
        None,
    )
    .await
    .unwrap()
}

/// A small deterministic generator (the same events on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// `(day, user, model, events, quantity, cost)` per day, member and model.
type Row = (chrono::NaiveDate, Option<Uuid>, Option<String>, i64, Decimal, Decimal);

/// The raw events, aggregated by SQL that does not use the rollup's functions.
async fn from_events(pool: &PgPool, account: Uuid) -> Vec<Row> {
    sqlx::query_as(
        "SELECT (occurred_at AT TIME ZONE 'UTC')::date, user_id, properties->>'model', count(*)::bigint, sum(quantity),
                sum(CASE WHEN properties->>'cost_usd' ~ '^[0-9]{1,15}(\\.[0-9]{1,12})?$' THEN (properties->>'cost_usd')::numeric ELSE 0 END)
         FROM usage_events WHERE account_id = $1 AND meter = 'messages'
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )
    .bind(account)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn from_rollup(pool: &PgPool, account: Uuid) -> Vec<Row> {
    sqlx::query_as(
        "SELECT day, user_id, dimensions->>'model', sum(events)::bigint, sum(quantity), sum(cost)
         FROM usage_daily_rollups WHERE account_id = $1 AND meter = 'messages'
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )
    .bind(account)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn whole_rollup(pool: &PgPool) -> Vec<(Uuid, String, chrono::NaiveDate, Option<Uuid>, serde_json::Value, i64, Decimal, Decimal, Decimal, Decimal)> {
    sqlx::query_as(
        "SELECT account_id, meter, day, user_id, dimensions, events, quantity, max_quantity, last_quantity, cost
         FROM usage_daily_rollups ORDER BY 1, 2, 3, 4, dimensions::text",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn the_rollup_equals_the_raw_events_and_the_rebuild_restores_it(pool: PgPool) {
    let t = tollgate(pool.clone()).await;
    let email = "owner@test.example";
    let owner = sign_up(&pool, email, false).await;
    let caller = Caller::Account {
        key_id: Uuid::nil(),
        account_id: owner.account_id,
    };
    let now = Utc::now().duration_trunc(Duration::seconds(1)).unwrap();
    let mut rng = Lcg(12);
    let models = [None, Some("claude"), Some("gpt-4o"), Some("llama")];
    let costs = [None, Some("0.0031"), Some("1.5"), Some("abc"), Some("-2")];
    let mut batches: Vec<Vec<Draft>> = Vec::new();
    let mut sent = Decimal::ZERO;
    for b in 0..12 {
        let mut batch = Vec::new();
        for i in 0..40 {
            // Newest first, then late ones: days 0..=29 back, in random order.
            let at = now - Duration::days(rng.next(30) as i64) - Duration::minutes(rng.next(600) as i64);
            // A counting meter: whole numbers.
            let quantity = Decimal::from(rng.next(9) + 1);
            sent += quantity;
            let mut properties = serde_json::Map::new();
            if let Some(m) = models[rng.next(4) as usize] {
                properties.insert("model".into(), m.into());
            }
            if rng.next(2) == 0 {
                properties.insert("provider".into(), serde_json::json!(rng.next(3)));
            }
            if let Some(c) = costs[rng.next(5) as usize] {
                properties.insert("cost_usd".into(), c.into());
            }
            batch.push(Draft {
                account: None,
                meter: "messages".into(),
                quantity: serde_json::json!(quantity.to_string()),
                timestamp: Some(at),
                user: (rng.next(3) == 0).then(|| email.to_string()),
                idempotency_key: format!("b{b}-{i}"),
                properties,
            });
        }
        batches.push(batch);
    }
    for batch in &batches {
        ingest::record(&t, &caller, batch.clone(), now).await.unwrap();
    }
    // Every third batch again: repeats change nothing.
    for batch in batches.iter().step_by(3) {
        let outcome = ingest::record(&t, &caller, batch.clone(), now).await.unwrap();
        assert_eq!((outcome.accepted, outcome.duplicates), (0, 40));
    }

    let raw = from_events(&pool, owner.account_id).await;
    assert_eq!(raw.iter().map(|r| r.3).sum::<i64>(), 480);
    assert_eq!(raw.iter().map(|r| r.4).sum::<Decimal>(), sent);
    assert!(raw.iter().any(|r| r.5 > Decimal::ZERO), "some costs counted");
    assert_eq!(from_rollup(&pool, owner.account_id).await, raw);

    // The history reads the same totals, whichever way it is split.
    let raw_total = |key: &dyn Fn(&Row) -> Option<String>, k: Option<&str>| -> Decimal {
        raw.iter().filter(|r| key(r).as_deref() == k).map(|r| r.4).sum()
    };
    let since = (now - Duration::days(40)).date_naive().to_string();
    for (group_by, key) in [
        ("user", &(|r: &Row| r.1.map(|u| u.to_string())) as &dyn Fn(&Row) -> Option<String>),
        ("property:model", &|r: &Row| r.2.clone()),
    ] {
        let h = usage_history::history(
            &t,
            owner.account_id,
            "messages",
            &tollgate::history::RawQuery {
                from: Some(&since),
                group_by: Some(group_by),
                ..Default::default()
            },
            now,
        )
        .await
        .unwrap();
        assert!(h.series.len() >= 2, "{group_by}: {h:?}");
        for s in &h.series {
            let got: Decimal = s.points.iter().map(|p| p.value).sum();
            assert_eq!(got, raw_total(key, s.key.as_deref()), "{group_by} {:?}", s.key);
        }
    }

    // Damage the rollup, then rebuild it from the events: back to the same rows.
    let before = whole_rollup(&pool).await;
    sqlx::query("DELETE FROM usage_daily_rollups WHERE day = (SELECT min(day) FROM usage_daily_rollups)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE usage_daily_rollups SET quantity = quantity + 1, cost = cost + 7")
        .execute(&pool)
        .await
        .unwrap();
    assert_ne!(whole_rollup(&pool).await, before);
    let to = (now + Duration::days(1)).date_naive();
    // Before the oldest stored event's month there may be days whose events
    // retention dropped: refused, nothing touched.
    let too_early = (now - Duration::days(100)).date_naive();
    let refused = usage_history::rebuild(&pool, &[], too_early, to).await;
    assert!(
        matches!(&refused, Err(tollgate::service::Error::Invalid { field, .. }) if field == "from"),
        "{refused:?}"
    );
    let from = tollgate::history::month_floor((now - Duration::days(31)).date_naive());
    let (accounts, _) = usage_history::rebuild(&pool, &[], from, to).await.unwrap();
    assert_eq!(accounts, 1);
    assert_eq!(whole_rollup(&pool).await, before);
}

/// Ingestion keys and costs a batch in Rust; the rebuild in SQL. Both read the
/// same properties the same way, whatever their JSON.
#[sqlx::test]
async fn the_rust_and_sql_rules_key_and_cost_events_alike(pool: PgPool) {
    let t = tollgate(pool.clone()).await;
    let catalog = t.catalog.get().unwrap();
    let meter = catalog.meter("messages").unwrap();
    assert_eq!(meter.group_by, ["model", "provider"]);
    let values = [
        serde_json::json!("claude"),
        serde_json::json!(""),
        serde_json::json!("é".repeat(250)),
        serde_json::json!(3),
        serde_json::json!(-0.0),
        serde_json::json!(1.50),
        serde_json::from_str::<serde_json::Value>("1e3").unwrap(),
        serde_json::from_str::<serde_json::Value>("1.0E-7").unwrap(),
        serde_json::from_str::<serde_json::Value>("123456789012345678901234567890123").unwrap(),
        serde_json::json!(true),
        serde_json::json!(null),
        serde_json::json!({"nested": 1}),
        serde_json::json!([1, 2]),
        serde_json::json!("0.0031"),
        serde_json::json!("-2"),
        serde_json::json!("1."),
        serde_json::json!(" 5"),
        serde_json::json!("123456789012345.123456789012"),
        serde_json::json!("1234567890123456"),
        serde_json::json!("1.1234567890123"),
    ];
    for v in &values {
        let props = serde_json::json!({"model": v, "provider": "x", "cost_usd": v});
        let map = props.as_object().unwrap();
        let (sql_dims, sql_cost): (serde_json::Value, Decimal) = sqlx::query_as(
            "SELECT usage_dimensions($1, ARRAY['model', 'provider']), usage_cost($1, 'cost_usd')",
        )
        .bind(&props)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(
            serde_json::Value::Object(tollgate::history::dimensions(meter, map)),
            sql_dims,
            "{v}"
        );
        assert_eq!(tollgate::history::cost(meter, map), sql_cost, "{v}");
    }
}

/// The operator's cost view: provider cost per model and provider from the
/// rollup, and per client beside what the invoice run billed (seed 001's
/// cost-plus: base + cost × multiplier), with the margin. Super admins only.
#[sqlx::test]
async fn the_cost_view_sets_each_client_s_provider_cost_against_its_invoice(pool: PgPool) {
    use tollgate::period::Interval;
    use tollgate::service::{invoices, plans};
    let t = tollgate(pool.clone()).await;
    let at = |s: &str| s.parse::<chrono::DateTime<Utc>>().unwrap();
    let client = sign_up(&pool, "client@test.example", false).await;
    let root = sign_up(&pool, "root@test.example", true).await;
    plans::choose(
        &t,
        client.account_id,
        "starter",
        Interval::Month,
        plans::Chooser::Operator,
        &Actor::Cli,
        at("2026-09-01T00:00:00Z"),
    )
    .await
    .unwrap();
    let caller = Caller::Account {
        key_id: Uuid::nil(),
        account_id: client.account_id,
    };
    for (i, (model, cost)) in [("claude", "4.25"), ("claude", "1.75"), ("gpt-4o", "2")].iter().enumerate() {
        let when = at("2026-09-10T12:00:00Z");
        let properties = serde_json::json!({"model": model, "provider": "p", "cost_usd": cost});
        ingest::record(
            &t,
            &caller,
            vec![Draft {
                account: None,
                meter: "messages".into(),
                quantity: serde_json::json!(1),
                timestamp: Some(when),
                user: None,
                idempotency_key: format!("m{i}"),
                properties: properties.as_object().unwrap().clone(),
            }],
            when,
        )
        .await
        .unwrap();
    }
    let september = tollgate::invoice::schedule::billing_month("2026-09").unwrap();
    invoices::run(&t, september, &Actor::Cli, at("2026-10-02T09:00:00Z"))
        .await
        .unwrap();

    let refused = tollgate::service::admin::costs::report(&t, &Actor::user(client.user_id), september).await;
    assert!(matches!(refused, Err(tollgate::service::Error::Forbidden(_))), "{refused:?}");
    let r = tollgate::service::admin::costs::report(&t, &Actor::user(root.user_id), september)
        .await
        .unwrap();
    let d = |s: &str| s.parse::<Decimal>().unwrap();
    assert_eq!(r.total_cost, d("8"));
    let by_model: Vec<(&str, Decimal)> = r.by_dimensions.iter().map(|x| (x.label.as_str(), x.cost)).collect();
    assert_eq!(by_model, [("model claude · provider p", d("6")), ("model gpt-4o · provider p", d("2"))]);
    assert_eq!(r.by_client.len(), 1);
    let c = &r.by_client[0];
    // Starter: $29 a month plus the provider cost × 2.
    assert_eq!((c.cost, c.revenue, c.margin), (d("8"), d("45"), Some(d("37"))));
}

#[sqlx::test]
async fn a_month_s_usage_report_is_stored_once_and_stays_as_it_was(pool: PgPool) {
    use tollgate::db::usage::EventRow;
    use tollgate::service::usage_reports;
    let t = tollgate(pool.clone()).await;
    let account = sign_up(&pool, "reports@test.example", false).await.account_id;
    let event = |key: &str, at: &str, quantity: i64, model: &str, cost: &str| EventRow {
        id: Uuid::now_v7(),
        account_id: account,
        meter: "messages".into(),
        user_id: None,
        quantity: Decimal::from(quantity),
        occurred_at: at.parse().unwrap(),
        idempotency_key: key.into(),
        payload_hash: vec![0; 32],
        properties: serde_json::json!({ "model": model, "cost_usd": cost }),
    };
    ingest::import(
        &t,
        vec![
            event("a", "2026-10-03T10:00:00Z", 3, "claude", "0.5"),
            event("b", "2026-10-20T10:00:00Z", 2, "claude", "0.25"),
            event("c", "2026-10-21T10:00:00Z", 4, "gpt-4o", "1"),
            event("d", "2026-11-02T10:00:00Z", 7, "claude", "2"),
        ],
    )
    .await
    .unwrap();
    let october = usage_reports::parse_month("2026-10").unwrap();
    let now: chrono::DateTime<Utc> = "2026-12-06T07:00:00Z".parse().unwrap();
    assert!(
        usage_reports::store(&t, usage_reports::parse_month("2026-12").unwrap(), now).await.is_err(),
        "December is not over"
    );
    assert_eq!(usage_reports::store(&t, october, now).await.unwrap(), 1);
    assert_eq!(usage_reports::store(&t, october, now).await.unwrap(), 0, "stored once");

    let lines = |t: Tollgate| async move {
        let (report, lines) = usage_reports::get(&t, account, october).await.unwrap();
        assert_eq!(report.month, october);
        lines
            .into_iter()
            .map(|l| (l.figures.dimensions["model"].as_str().unwrap().to_string(), l.figures.events, l.figures.quantity, l.figures.cost))
            .collect::<Vec<_>>()
    };
    let expected = vec![
        ("claude".to_string(), 2, Decimal::from(5), "0.75".parse::<Decimal>().unwrap()),
        ("gpt-4o".to_string(), 1, Decimal::from(4), Decimal::ONE),
    ];
    assert_eq!(lines(t.clone()).await, expected);

    // Late usage of October does not rewrite the stored report.
    ingest::import(&t, vec![event("late", "2026-10-30T10:00:00Z", 9, "claude", "3")]).await.unwrap();
    assert_eq!(lines(t.clone()).await, expected);
    // The job finds October stored when it looks in November.
    let mid_november: chrono::DateTime<Utc> = "2026-11-15T00:00:00Z".parse().unwrap();
    assert_eq!(usage_reports::store_last_month(&t, mid_november).await.unwrap(), 0);
    // November's report has November only; another account has none.
    let november = usage_reports::parse_month("2026-11").unwrap();
    assert_eq!(usage_reports::store_last_month(&t, now).await.unwrap(), 1);
    let (_, nov) = usage_reports::get(&t, account, november).await.unwrap();
    assert_eq!(nov.iter().map(|l| l.figures.quantity).sum::<Decimal>(), Decimal::from(7));
    assert!(usage_reports::get(&t, Uuid::now_v7(), october).await.is_err());
    assert_eq!(usage_reports::list(&t, account).await.unwrap().len(), 2);
}
