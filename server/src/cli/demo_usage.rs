//! This period's usage for the demo accounts, so the dashboards and `/admin/usage`
//! show meters in every state (ok, warning, at the limit, over it). Sent through
//! the real ingestion; running it again adds nothing to a period already seeded
//! (the same idempotency keys; accounts are taken in a stable order, and an
//! account seeded before a limit changed keeps the usage it had).

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use tollgate::service::accounts::Standing;
use tollgate::service::ingest::{self, Draft};
use tollgate::service::keys::Caller;
use tollgate::service::Tollgate;

/// Shares of each account's included queries used this period, in turn.
const SHARES: [f64; 12] = [
    0.2, 0.45, 0.62, 0.8, 0.93, 1.0, 1.12, 0.3, 0.05, 0.7, 0.97, 0.55,
];
/// Queries of an account whose plan does not limit them.
const UNLIMITED_QUERIES: i64 = 1234;

/// Records queries and tokens for every live subscription of a demo user's
/// account (`…@tollgate.test`, `…@demo.tollgate.test`, and their organizations).
///
/// # Errors
/// Database failures; no catalog.
pub async fn seed(t: &Tollgate, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let catalog = t.catalog.get()?;
    let mut demo = Vec::new();
    for s in tollgate::db::subscriptions::live_with_accounts(&t.pool, None).await? {
        let Some(owner) =
            tollgate::db::accounts::mail_recipient(&t.pool, s.subscription.account_id).await?
        else {
            continue;
        };
        if owner.owner_email.ends_with("@tollgate.test")
            || owner.owner_email.ends_with(".tollgate.test")
        {
            demo.push((owner.owner_email, s));
        }
    }
    // A stable order, so each account gets the same share (the same payload) on
    // every run.
    demo.sort_by(|a, b| {
        (a.0.as_str(), a.1.subscription.account_id)
            .cmp(&(b.0.as_str(), b.1.subscription.account_id))
    });
    let mut seeded = 0;
    for (_, s) in &demo {
        let account = s.subscription.account_id;
        let overrides = tollgate::db::overrides::active(&t.pool, account, now).await?;
        let standing = Standing {
            subscription: Some(&s.subscription),
            overrides: &overrides,
        };
        let period = standing.meter_period(&catalog, "queries", now);
        let share = SHARES[seeded % SHARES.len()];
        let queries = match standing.limit(&catalog, "queries").included {
            Some(limit) => (limit * Decimal::try_from(share)?)
                .round()
                .to_i64()
                .unwrap_or(0),
            None => UNLIMITED_QUERIES,
        };
        let tokens = (share * 180_000.0).round() as i64;
        // A stable time (the same payload on every run of the day), inside the
        // period and within ingestion's age limit.
        let today = now
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map_or(now, |d| d.and_utc());
        let at = period.start.max(today - chrono::Duration::days(30));
        let draft = |meter: &str, quantity: i64| Draft {
            account: None,
            meter: meter.into(),
            quantity: serde_json::json!(quantity),
            timestamp: Some(at),
            user: None,
            idempotency_key: format!("demo-{meter}-{}", at.format("%Y%m%d")),
            properties: Default::default(),
        };
        let mut drafts = Vec::new();
        if queries > 0 && catalog.meter("queries").is_some() {
            drafts.push(draft("queries", queries));
        }
        if catalog.meter("tokens").is_some() {
            drafts.push(draft("tokens", tokens));
        }
        match ingest::record(
            t,
            &Caller::Account {
                key_id: uuid::Uuid::nil(),
                account_id: account,
            },
            drafts,
            now,
        )
        .await
        {
            // Seeded earlier with other figures (a limit edited in the panel since):
            // the period keeps the usage it has.
            Ok(_) | Err(tollgate::service::Error::IdempotencyConflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        seeded += 1;
    }
    Ok(seeded)
}
