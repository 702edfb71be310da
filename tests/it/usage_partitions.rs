//! `usage_events` by month: partitions made ahead, rows moved out of the default
//! partition, idempotency across months, and retention.

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use tollgate::db::usage::{insert_new_events, EventRow};
use tollgate::db::usage_partitions;
use tollgate::identity::{Email, NewPassword, PersonName};
use tollgate::service::usage_retention::{upkeep, Retention};
use tollgate::service::{auth, catalog, Actor};
use uuid::Uuid;

const EMTCHAT: &str = include_str!("../../catalogs/emtchat.toml");

async fn account(pool: &PgPool) -> Uuid {
    catalog::load(pool, "catalogs/emtchat.toml", EMTCHAT, &Actor::Cli)
        .await
        .unwrap();
    auth::sign_up(
        pool,
        &Email::parse("p@test.example").unwrap(),
        &PersonName::parse("P").unwrap(),
        &NewPassword::parse("correct horse battery").unwrap(),
        false,
        None,
    )
    .await
    .unwrap()
    .account_id
}

fn event(account_id: Uuid, key: &str, at: DateTime<Utc>) -> EventRow {
    EventRow {
        id: Uuid::now_v7(),
        account_id,
        meter: "queries".into(),
        user_id: None,
        quantity: Decimal::ONE,
        occurred_at: at,
        idempotency_key: key.into(),
        payload_hash: vec![7; 32],
        properties: serde_json::json!({}),
    }
}

async fn store(pool: &PgPool, events: &[EventRow]) -> usize {
    let mut conn = pool.acquire().await.unwrap();
    insert_new_events(&mut conn, events).await.unwrap().len()
}

/// Where each stored event is: `(idempotency key, partition)`, by key.
async fn placement(pool: &PgPool) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT idempotency_key, tableoid::regclass::text FROM usage_events ORDER BY idempotency_key",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

#[sqlx::test]
async fn an_event_goes_to_its_month_and_a_month_made_later_takes_its_rows_from_the_default(
    pool: PgPool,
) {
    let a = account(&pool).await;
    // The migration made this month's partition and the ones around it.
    let now = Utc::now();
    assert_eq!(store(&pool, &[event(a, "now", now)]).await, 1);
    // 2019 has no partition: its events wait in the default one.
    assert_eq!(
        store(
            &pool,
            &[
                event(a, "old-1", at(2019, 6, 1)),
                event(a, "old-2", at(2019, 7, 31))
            ]
        )
        .await,
        2
    );
    let this_month = format!("usage_events_{}", now.format("%Y_%m"));
    assert_eq!(
        placement(&pool).await,
        [
            ("now".to_string(), this_month.clone()),
            ("old-1".into(), "usage_events_default".into()),
            ("old-2".into(), "usage_events_default".into()),
        ]
    );
    let created = usage_partitions::ensure_months(&pool, at(2019, 6, 1), at(2019, 6, 30))
        .await
        .unwrap();
    assert_eq!(created, 1);
    assert_eq!(
        placement(&pool).await,
        [
            ("now".to_string(), this_month),
            ("old-1".into(), "usage_events_2019_06".into()),
            ("old-2".into(), "usage_events_default".into()),
        ]
    );
    // Asking again creates nothing and moves nothing.
    assert_eq!(
        usage_partitions::ensure_months(&pool, at(2019, 6, 1), at(2019, 6, 30))
            .await
            .unwrap(),
        0
    );
    assert!(usage_partitions::months(&pool)
        .await
        .unwrap()
        .contains(&chrono::NaiveDate::from_ymd_opt(2019, 6, 1).unwrap()));
}

#[sqlx::test]
async fn an_idempotency_key_holds_across_months(pool: PgPool) {
    let a = account(&pool).await;
    let now = Utc::now();
    assert_eq!(store(&pool, &[event(a, "k", now)]).await, 1);
    // A retry sent without a timestamp is stamped later, maybe in another month.
    assert_eq!(
        store(&pool, &[event(a, "k", now - chrono::Duration::days(31))]).await,
        0
    );
    assert_eq!(
        store(&pool, &[event(a, "k", at(2019, 1, 1)), event(a, "k2", now)]).await,
        1,
        "only the new key is stored"
    );
    let (events, keys): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM usage_events), (SELECT count(*) FROM usage_event_keys)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((events, keys), (2, 2));
}

#[sqlx::test]
async fn retention_drops_whole_months_with_their_keys_and_audits_it(pool: PgPool) {
    let a = account(&pool).await;
    let now = at(2030, 1, 15);
    usage_partitions::ensure_months(&pool, at(2028, 10, 1), at(2028, 11, 1))
        .await
        .unwrap();
    store(
        &pool,
        &[
            event(a, "gone-month", at(2028, 10, 31)),
            event(a, "gone-default", at(2020, 3, 1)),
            event(a, "kept", at(2028, 11, 1)),
        ],
    )
    .await;
    // Unset keeps everything; it still makes the months an event may arrive in.
    let kept_all = upkeep(&pool, None, now).await.unwrap();
    assert_eq!(kept_all.dropped, Default::default());
    assert!(kept_all.created >= 4, "2029-12 to 2030-03: {kept_all:?}");
    assert_eq!(placement(&pool).await.len(), 3);

    // Another server holding the retention lock: this one leaves it to them.
    let mut other = pool.acquire().await.unwrap();
    sqlx::query("SELECT pg_advisory_lock(hashtext('usage_events_retention'))")
        .execute(&mut *other)
        .await
        .unwrap();
    let busy = usage_partitions::drop_before(&pool, Retention::parse(14).unwrap().cutoff(now))
        .await
        .unwrap();
    assert_eq!(busy, Default::default());
    assert_eq!(placement(&pool).await.len(), 3);
    sqlx::query("SELECT pg_advisory_unlock(hashtext('usage_events_retention'))")
        .execute(&mut *other)
        .await
        .unwrap();

    let done = upkeep(&pool, Some(Retention::parse(14).unwrap()), now)
        .await
        .unwrap();
    // 2028-10, and the months the migration made around the real today.
    let cutoff = chrono::NaiveDate::from_ymd_opt(2028, 11, 1).unwrap();
    assert!(done
        .dropped
        .months
        .contains(&chrono::NaiveDate::from_ymd_opt(2028, 10, 1).unwrap()));
    assert!(done.dropped.months.iter().all(|m| *m < cutoff));
    let left = usage_partitions::months(&pool).await.unwrap();
    assert!(left.first() == Some(&cutoff), "{left:?}");
    assert_eq!((done.dropped.default_rows, done.dropped.keys), (1, 2));
    assert_eq!(
        placement(&pool).await,
        [("kept".to_string(), "usage_events_2028_11".to_string())]
    );
    let keys: Vec<String> = sqlx::query_scalar("SELECT idempotency_key FROM usage_event_keys")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(keys, ["kept"]);
    let audit: serde_json::Value =
        sqlx::query_scalar("SELECT details FROM audit_log WHERE action = 'usage.events_forgotten'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(audit["months"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("2028-10")));
    assert_eq!(audit["idempotency_keys"], 2);
    // Nothing left to forget: no second audit entry.
    let again = upkeep(&pool, Some(Retention::parse(14).unwrap()), now)
        .await
        .unwrap();
    assert_eq!(again.dropped, Default::default());
}
