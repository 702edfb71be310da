//! The schema stays ready for Citus, distributed by `account_id` (issue 12, "past one
//! primary"; docs/SCALING.md). Citus' rules, checked here against the migrated
//! catalog rather than by reading migrations:
//!
//! - a distributed table's primary and unique keys contain its distribution column
//!   (Citus docs, "Distributed Data Modeling": unique constraints must include the
//!   distribution column);
//! - a foreign key between two distributed tables includes the distribution column
//!   on both sides, in the same place (co-located joins);
//! - distributed and coordinator tables may refer to reference tables, never the
//!   other way round, and a distributed table never refers to a coordinator table.
//!
//! Every table must be named in exactly one of the lists below, so a new table
//! cannot arrive without a decision about where it lives.

use sqlx::PgPool;
use std::collections::BTreeSet;

/// Copied to every node: the catalog, and the few tables every request reads
/// before it knows an account (`users`, `api_keys`) or that everything refers to
/// (`accounts`, whose slug and external id are unique across accounts).
const REFERENCE: &[&str] = &[
    "accounts",
    "api_keys",
    "catalog_info",
    "catalog_versions",
    "coupons",
    "embed_signing_keys",
    "features",
    "meters",
    "notification_preferences",
    "plan_features",
    "plan_limits",
    "plan_prices",
    "plan_usage_prices",
    "plans",
    "thresholds",
    "users",
];

/// Distributed by `account_id`.
const DISTRIBUTED: &[&str] = &[
    "account_coupons",
    "credit_balance_transactions",
    "entitlement_overrides",
    "invitations",
    "invoice_adjustments",
    "invoice_lines",
    "invoice_mailings",
    "invoices",
    "memberships",
    "notifications",
    "rate_windows",
    "stripe_checkouts",
    "stripe_customers",
    "stripe_meter_reports",
    "stripe_usage_counters",
    "subscription_changes",
    "subscriptions",
    "threshold_crossings",
    "usage_event_keys",
    "usage_events",
    "usage_totals",
    "usage_daily_rollups",
    "usage_corrections",
    "usage_voided_events",
    "usage_reports",
    "usage_report_lines",
];

/// Kept on the coordinator only: sessions and log-in state, global numbering and
/// de-duplication, and the rows that may have no account (the audit log, mail,
/// outgoing webhooks: platform endpoints and their events belong to no account).
const COORDINATOR: &[&str] = &[
    "_sqlx_migrations",
    "audit_log",
    "email_outbox",
    "email_verifications",
    "invoice_sequences",
    "login_failures",
    "password_reset_requests",
    "password_resets",
    "sessions",
    "stripe_events",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_endpoints",
    "webhook_events",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Reference,
    Distributed,
    Coordinator,
}

fn place(table: &str) -> Option<Place> {
    if REFERENCE.contains(&table) {
        Some(Place::Reference)
    } else if DISTRIBUTED.contains(&table) {
        Some(Place::Distributed)
    } else if COORDINATOR.contains(&table) {
        Some(Place::Coordinator)
    } else {
        None
    }
}

/// Tables of `public`, partitions left out (they follow their parent).
async fn tables(pool: &PgPool) -> BTreeSet<String> {
    sqlx::query_scalar(
        "SELECT relname::text FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

#[sqlx::test]
async fn every_table_has_a_place(pool: PgPool) {
    let unplaced: Vec<String> = tables(&pool)
        .await
        .into_iter()
        .filter(|t| place(t).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "tables without a place in tests/it/schema.rs: {unplaced:?}"
    );
    let all = [REFERENCE, DISTRIBUTED, COORDINATOR].concat();
    let named: BTreeSet<&str> = all.iter().copied().collect();
    assert_eq!(named.len(), all.len(), "a table is named twice");
    let existing = tables(&pool).await;
    let gone: Vec<&&str> = all.iter().filter(|t| !existing.contains(**t)).collect();
    assert!(gone.is_empty(), "named but not in the schema: {gone:?}");
}

#[sqlx::test]
async fn distributed_tables_have_account_id_in_every_unique_key(pool: PgPool) {
    let rows: Vec<(String, String, Vec<String>)> = sqlx::query_as(
        "SELECT t.relname::text, i.relname::text,
                array(SELECT a.attname::text FROM unnest(x.indkey) k JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k)
         FROM pg_index x
         JOIN pg_class t ON t.oid = x.indrelid
         JOIN pg_class i ON i.oid = x.indexrelid
         WHERE x.indisunique AND t.relnamespace = 'public'::regnamespace AND NOT t.relispartition",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let bad: Vec<String> = rows
        .iter()
        .filter(|(table, _, cols)| {
            place(table) == Some(Place::Distributed) && !cols.iter().any(|c| c == "account_id")
        })
        .map(|(table, index, cols)| format!("{table}.{index} {cols:?}"))
        .collect();
    assert!(bad.is_empty(), "unique keys without account_id: {bad:?}");

    let nullable: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         WHERE c.relnamespace = 'public'::regnamespace AND a.attname = 'account_id' AND NOT a.attnotnull",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let bad: Vec<&String> = nullable
        .iter()
        .filter(|t| place(t) == Some(Place::Distributed))
        .collect();
    assert!(
        bad.is_empty(),
        "distributed tables with a nullable account_id: {bad:?}"
    );
    for t in DISTRIBUTED {
        let has: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'account_id')",
        )
        .bind(*t)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(has, "{t} is distributed but has no account_id");
    }
}

/// A foreign key: its name, table, columns, and the table and columns it refers to.
#[derive(sqlx::FromRow)]
struct ForeignKey {
    name: String,
    from: String,
    cols: Vec<String>,
    to: String,
    ref_cols: Vec<String>,
}

#[sqlx::test]
async fn foreign_keys_follow_the_placement(pool: PgPool) {
    let rows: Vec<ForeignKey> = sqlx::query_as(
        "SELECT c.conname::text AS name, f.relname::text AS from, r.relname::text AS to,
                array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) AS cols,
                array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o) AS ref_cols
         FROM pg_constraint c
         JOIN pg_class f ON f.oid = c.conrelid
         JOIN pg_class r ON r.oid = c.confrelid
         WHERE c.contype = 'f' AND f.relnamespace = 'public'::regnamespace AND NOT f.relispartition",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        rows.len() > 40,
        "the catalog query found only {} foreign keys",
        rows.len()
    );
    let mut bad = Vec::new();
    for ForeignKey {
        name,
        from,
        cols,
        to,
        ref_cols,
    } in &rows
    {
        let ok = match (place(from), place(to)) {
            (_, Some(Place::Reference)) => true,
            (Some(Place::Distributed), Some(Place::Distributed)) => cols
                .iter()
                .zip(ref_cols)
                .any(|(c, r)| c == "account_id" && r == "account_id"),
            (Some(Place::Coordinator), Some(Place::Coordinator)) => true,
            _ => false,
        };
        if !ok {
            bad.push(format!("{name}: {from}{cols:?} -> {to}{ref_cols:?}"));
        }
    }
    assert!(bad.is_empty(), "foreign keys Citus cannot keep: {bad:?}");
}
