//! Usage for the demo accounts: this period's, spread over its days, so the
//! dashboards and `/admin/usage` show meters in every state (ok, warning, at the
//! limit, over it); and six months of daily history before it, split by model, so
//! every usage chart has something to show. This period's usage goes through the
//! real ingestion (thresholds notify as for any customer); the history, older
//! than ingestion accepts, through the operator's import. Running it again adds
//! nothing: a period that has usage is left as it is, and the history's
//! idempotency keys are the same on every run.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use tollgate::db::usage::EventRow;
use tollgate::service::accounts::Standing;
use tollgate::service::ingest::{self, Draft};
use tollgate::service::keys::Caller;
use tollgate::service::Tollgate;
use uuid::Uuid;

/// Shares of each account's included queries used this period, in turn.
const SHARES: [f64; 12] = [
    0.2, 0.45, 0.62, 0.8, 0.93, 1.0, 1.12, 0.3, 0.05, 0.7, 0.97, 0.55,
];
/// Queries of an account whose plan does not limit them, per period.
const UNLIMITED_QUERIES: i64 = 1234;
/// Tokens per period at a share of 1.
const TOKENS: f64 = 180_000.0;
/// Days of history before this period's first seeded day.
const HISTORY_DAYS: u64 = 180;
/// The models events name (the `model` property the catalog groups by), with
/// their shares of each day's usage in tenths.
const MODELS: [(&str, i64); 3] = [("gpt-4o", 5), ("claude-sonnet", 3), ("llama-3", 2)];
/// What each model's provider charges per token, in US dollars (the tokens'
/// `cost_usd`, for `/admin/costs`).
fn token_price(model: &str) -> Decimal {
    match model {
        "gpt-4o" => Decimal::new(5, 6),
        "claude-sonnet" => Decimal::new(3, 6),
        _ => Decimal::new(2, 7),
    }
}

/// Seeds usage for every live subscription of a demo user's account
/// (`…@tollgate.test`, `…@demo.tollgate.test`, and their organizations). Returns
/// how many accounts it went over.
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
    // A stable order, so each account gets the same share (the same payloads) on
    // every run.
    demo.sort_by(|a, b| {
        (a.0.as_str(), a.1.subscription.account_id)
            .cmp(&(b.0.as_str(), b.1.subscription.account_id))
    });
    let today = now.date_naive();
    let meters: Vec<&str> = ["queries", "tokens"]
        .into_iter()
        .filter(|m| catalog.meter(m).is_some())
        .collect();
    for (seeded, (_, s)) in demo.iter().enumerate() {
        let account = s.subscription.account_id;
        let overrides = tollgate::db::overrides::active(&t.pool, account, now).await?;
        let standing = Standing {
            subscription: Some(&s.subscription),
            overrides: &overrides,
        };
        let share = SHARES[seeded % SHARES.len()];
        let queries = match standing.limit(&catalog, "queries").included {
            Some(limit) => (limit * Decimal::try_from(share)?)
                .round()
                .to_i64()
                .unwrap_or(0),
            None => UNLIMITED_QUERIES,
        };
        let per_period = |meter: &str| match meter {
            "queries" => queries,
            _ => (share * TOKENS).round() as i64,
        };
        // This period's days, within ingestion's 35-day window.
        let period = standing.meter_period(&catalog, "queries", now);
        let first = period
            .start
            .date_naive()
            .max(today - Days::new(30));
        let this_period: Vec<NaiveDate> = days(first, today);

        let used = tollgate::service::usage::current(
            &mut *t.pool.acquire().await?,
            &catalog,
            standing,
            account,
            &catalog
                .meters
                .iter()
                .filter(|m| meters.contains(&m.key.as_str()))
                .collect::<Vec<_>>(),
            now,
        )
        .await?;
        if used.is_empty() {
            let mut drafts = Vec::new();
            for meter in &meters {
                for (day, model, quantity) in spread(per_period(meter), &this_period, seeded) {
                    // Midnight of the first day may fall before the period's start.
                    let at = day.and_hms_opt(12, 0, 0).map_or(now, |d| d.and_utc());
                    let at = at.clamp(period.start, now);
                    drafts.push(Draft {
                        account: None,
                        meter: meter.to_string(),
                        quantity: serde_json::json!(quantity),
                        timestamp: Some(at),
                        user: None,
                        idempotency_key: format!("demo-{meter}-{day}-{model}"),
                        properties: properties(meter, model, quantity),
                    });
                }
            }
            if !drafts.is_empty() {
                match ingest::record(
                    t,
                    &Caller::Account {
                        key_id: Uuid::nil(),
                        account_id: account,
                    },
                    drafts,
                    now,
                )
                .await
                {
                    // Seeded earlier the same day with other figures.
                    Ok(_) | Err(tollgate::service::Error::IdempotencyConflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }

        // The months before, by day: a slow rise, weekends quieter.
        let history = days(first - Days::new(HISTORY_DAYS), first - Days::new(1));
        let mut rows = Vec::new();
        for meter in &meters {
            let daily = per_period(meter) / 30;
            for (i, day) in history.iter().enumerate() {
                let rise = 60 + (40 * i as i64) / history.len().max(1) as i64;
                let weekday = if day.weekday().number_from_monday() >= 6 { 50 } else { 100 };
                let quantity = daily * rise * weekday / 10_000;
                for (model, q) in by_model(quantity) {
                    let properties = properties(meter, model, q);
                    rows.push(EventRow {
                        id: Uuid::now_v7(),
                        account_id: account,
                        meter: meter.to_string(),
                        user_id: None,
                        quantity: Decimal::from(q),
                        occurred_at: day.and_hms_opt(12, 0, 0).map_or(now, |d| d.and_utc()),
                        idempotency_key: format!("demo-history-{meter}-{day}-{model}"),
                        payload_hash: ingest::payload_hash(meter, Decimal::from(q), None, None, &properties),
                        properties: serde_json::Value::Object(properties),
                    });
                }
            }
        }
        ingest::import(t, rows).await?;
    }
    Ok(demo.len())
}

/// The days from `first` to `last`, both inclusive.
fn days(first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    first.iter_days().take_while(|d| *d <= last).collect()
}

/// `total` spread over `days` with uneven, stable weights, then by model:
/// `(day, model, quantity)`, quantities above zero, summing to `total`.
fn spread(total: i64, days: &[NaiveDate], seed: usize) -> Vec<(NaiveDate, &'static str, i64)> {
    let weights: Vec<i64> = (0..days.len())
        .map(|i| 3 + ((i * 7 + seed * 3) % 5) as i64)
        .collect();
    let sum: i64 = weights.iter().sum::<i64>().max(1);
    let mut left = total;
    let mut out = Vec::new();
    for (i, (day, w)) in days.iter().zip(&weights).enumerate() {
        let q = if i + 1 == days.len() { left } else { total * w / sum };
        left -= q;
        out.extend(by_model(q).into_iter().map(|(m, q)| (*day, m, q)));
    }
    out
}

/// A day's `quantity` split by [`MODELS`]' shares, leaving out zeros.
fn by_model(quantity: i64) -> Vec<(&'static str, i64)> {
    let mut left = quantity;
    let mut out = Vec::new();
    for (i, (model, tenths)) in MODELS.iter().enumerate() {
        let q = if i + 1 == MODELS.len() { left } else { quantity * tenths / 10 };
        left -= q;
        if q > 0 {
            out.push((*model, q));
        }
    }
    out
}

/// The event's `model`, and for tokens what they cost (`cost_usd`).
fn properties(meter: &str, model: &str, quantity: i64) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("model".into(), model.into());
    if meter == "tokens" {
        let cost = (token_price(model) * Decimal::from(quantity)).round_dp(6).normalize();
        m.insert("cost_usd".into(), cost.to_string().into());
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spread_keeps_the_total_and_every_quantity_positive() {
        let first: NaiveDate = "2026-11-01".parse().unwrap();
        let ds = days(first, "2026-11-30".parse().unwrap());
        assert_eq!(ds.len(), 30);
        for total in [0, 1, 7, 500, 180_000] {
            let s = spread(total, &ds, 4);
            assert_eq!(s.iter().map(|x| x.2).sum::<i64>(), total);
            assert!(s.iter().all(|x| x.2 > 0));
        }
    }
}
