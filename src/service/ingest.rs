//! Recording usage events (`POST /api/v1/events`): a batch is validated whole and
//! stored whole, or not at all; repeats of an idempotency key with the same payload
//! count once, with another payload they are a conflict (API.md).

use super::accounts::{self, Standing};
use super::keys::Caller;
use super::{webhooks, Error, Tollgate};
use crate::catalog::{Aggregation, Catalog};
use crate::db::{
    self,
    subscriptions::SubscriptionRow,
    usage::{Crossing, EventRow, Total, TotalDelta},
};
use crate::limits;
use crate::overrides::Overrides;
use crate::period::{meter_period, Period};
use crate::quantity::Quantity;
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// Most events per request.
pub const MAX_BATCH: usize = 1000;
/// Oldest accepted event time, before now.
pub const MAX_AGE_DAYS: i64 = 35;
/// Latest accepted event time, after now (clock skew).
pub const MAX_AHEAD_MINUTES: i64 = 5;
/// Longest idempotency key, in characters.
pub const MAX_KEY_CHARS: usize = 255;
/// Whether `key` is an acceptable idempotency key: 1 to [`MAX_KEY_CHARS`]
/// characters (the events API and consuming checks alike).
pub fn key_length_ok(key: &str) -> bool {
    (1..=MAX_KEY_CHARS).contains(&key.chars().count())
}

/// Most properties one event may carry (the body limit bounds their size).
pub const MAX_PROPERTIES: usize = 64;

/// One event as sent, its shape already checked by the API layer.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Account named by the event (platform keys must name one).
    pub account: Option<String>,
    /// Meter key.
    pub meter: String,
    /// Quantity as sent (a JSON string or number), validated here so that the
    /// first bad event is the one reported.
    pub quantity: Value,
    /// Explicit event time, if sent.
    pub timestamp: Option<DateTime<Utc>>,
    /// Acting user's id or e-mail, if sent.
    pub user: Option<String>,
    /// Idempotency key.
    pub idempotency_key: String,
    /// Free-form properties (model, provider, cost).
    pub properties: Map<String, Value>,
}

/// What a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Events stored now.
    pub accepted: usize,
    /// Events already stored under their idempotency key (same payload).
    pub duplicates: usize,
}

/// Serialises a JSON value with object keys sorted, so that equal payloads hash
/// equally whatever order their keys came in.
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, &Value> = map.iter().collect();
            out.push('{');
            for (i, (k, v)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// SHA-256 of what the sender said (the default timestamp is not part of it, so
/// retrying without a timestamp is still the same event).
pub fn payload_hash(
    meter: &str,
    quantity: Decimal,
    timestamp: Option<DateTime<Utc>>,
    user: Option<&str>,
    properties: &Map<String, Value>,
) -> Vec<u8> {
    let mut text = String::new();
    canonical(
        &serde_json::json!({
            "meter": meter,
            "quantity": quantity.normalize().to_string(),
            "timestamp": timestamp.map(|t| t.to_rfc3339()),
            "user": user.map(|u| u.trim().to_lowercase()),
            "properties": Value::Object(properties.clone()),
        }),
        &mut text,
    );
    Sha256::digest(text.as_bytes()).to_vec()
}

/// Checks a draft against the catalog and the time window, field by field in the
/// order a reader would; returns its quantity.
fn validate(
    catalog: &Catalog,
    index: usize,
    d: &Draft,
    now: DateTime<Utc>,
) -> Result<Decimal, Error> {
    let meter = catalog
        .meter(&d.meter)
        .ok_or_else(|| Error::invalid_at(index, "meter", format!("unknown meter `{}`", d.meter)))?;
    let mut quantity = Quantity::from_json(&d.quantity)
        .map_err(|e| Error::invalid_at(index, "quantity", e.to_string()))?;
    if meter.aggregation == Aggregation::Count {
        quantity = quantity
            .whole()
            .map_err(|e| Error::invalid_at(index, "quantity", e.to_string()))?;
    }
    if !key_length_ok(&d.idempotency_key) {
        return Err(Error::invalid_at(
            index,
            "idempotency_key",
            format!("must have 1 to {MAX_KEY_CHARS} characters"),
        ));
    }
    if let Some(t) = d.timestamp {
        if t < now - Duration::days(MAX_AGE_DAYS) {
            return Err(Error::invalid_at(
                index,
                "timestamp",
                format!("is more than {MAX_AGE_DAYS} days old"),
            ));
        }
        if t > now + Duration::minutes(MAX_AHEAD_MINUTES) {
            return Err(Error::invalid_at(
                index,
                "timestamp",
                format!("is more than {MAX_AHEAD_MINUTES} minutes ahead"),
            ));
        }
    }
    if d.properties.len() > MAX_PROPERTIES {
        return Err(Error::invalid_at(
            index,
            "properties",
            format!("at most {MAX_PROPERTIES} properties"),
        ));
    }
    Ok(quantity.get())
}

/// Resolves each draft's account (see [`accounts::for_caller`]).
async fn resolve_accounts(
    t: &Tollgate,
    caller: &Caller,
    drafts: &[Draft],
) -> Result<Vec<Uuid>, Error> {
    let mut cache: HashMap<Option<&str>, Uuid> = HashMap::new();
    let mut out = Vec::with_capacity(drafts.len());
    for (i, d) in drafts.iter().enumerate() {
        let named = d.account.as_deref();
        let id = match cache.get(&named) {
            Some(id) => *id,
            None => {
                let id = accounts::for_caller(&t.pool, caller, named)
                    .await?
                    .map_err(|u| u.into_error(named, Some(i)))?;
                cache.insert(named, id);
                id
            }
        };
        out.push(id);
    }
    Ok(out)
}

/// Resolves `user` references to members of each event's account.
async fn resolve_users(
    t: &Tollgate,
    drafts: &[Draft],
    accounts: &[Uuid],
) -> Result<Vec<Option<Uuid>>, Error> {
    let mut wanted: HashMap<Uuid, HashSet<String>> = HashMap::new();
    for (d, a) in drafts.iter().zip(accounts) {
        if let Some(u) = &d.user {
            wanted.entry(*a).or_default().insert(u.trim().to_string());
        }
    }
    let mut found: HashMap<(Uuid, String), Uuid> = HashMap::new();
    for (account, refs) in wanted {
        let refs: Vec<String> = refs.into_iter().collect();
        for (r, id) in db::users::members_by_ref(&t.pool, account, &refs).await? {
            found.insert((account, r), id);
        }
    }
    drafts
        .iter()
        .zip(accounts)
        .enumerate()
        .map(|(i, (d, a))| match &d.user {
            None => Ok(None),
            Some(u) => found
                .get(&(*a, u.trim().to_string()))
                .copied()
                .map(Some)
                .ok_or_else(|| {
                    Error::invalid_at(i, "user", "no member of the account has this id or e-mail")
                }),
        })
        .collect()
}

/// Records a batch. See the module documentation for the rules.
///
/// # Errors
/// [`Error::Invalid`] naming the first bad event's index and field,
/// [`Error::Forbidden`], [`Error::NotFound`], or [`Error::IdempotencyConflict`];
/// nothing is stored on any error.
pub async fn record(
    t: &Tollgate,
    caller: &Caller,
    drafts: Vec<Draft>,
    now: DateTime<Utc>,
) -> Result<Outcome, Error> {
    if drafts.is_empty() || drafts.len() > MAX_BATCH {
        return Err(Error::invalid(
            "events",
            format!("send 1 to {MAX_BATCH} events"),
        ));
    }
    let catalog = t.catalog.get()?;
    let quantities = drafts
        .iter()
        .enumerate()
        .map(|(i, d)| validate(&catalog, i, d, now))
        .collect::<Result<Vec<_>, _>>()?;
    let account_ids = resolve_accounts(t, caller, &drafts).await?;
    let user_ids = resolve_users(t, &drafts, &account_ids).await?;

    // Repeats inside the batch: same payload counts once, another is a conflict.
    let mut seen: HashMap<(Uuid, &str), Vec<u8>> = HashMap::new();
    let mut rows = Vec::with_capacity(drafts.len());
    let mut in_batch_duplicates = 0;
    let mut index_of: HashMap<(Uuid, String), usize> = HashMap::new();
    for (i, (((d, account_id), user_id), quantity)) in drafts
        .iter()
        .zip(&account_ids)
        .zip(&user_ids)
        .zip(&quantities)
        .enumerate()
    {
        let hash = payload_hash(
            &d.meter,
            *quantity,
            d.timestamp,
            d.user.as_deref(),
            &d.properties,
        );
        match seen.get(&(*account_id, d.idempotency_key.as_str())) {
            Some(h) if *h == hash => {
                in_batch_duplicates += 1;
                continue;
            }
            Some(_) => {
                return Err(Error::IdempotencyConflict {
                    key: d.idempotency_key.clone(),
                    index: Some(i),
                })
            }
            None => {}
        }
        seen.insert((*account_id, d.idempotency_key.as_str()), hash.clone());
        index_of.insert((*account_id, d.idempotency_key.clone()), i);
        rows.push(EventRow {
            id: Uuid::now_v7(),
            account_id: *account_id,
            meter: d.meter.clone(),
            user_id: *user_id,
            quantity: *quantity,
            occurred_at: d.timestamp.unwrap_or(now),
            idempotency_key: d.idempotency_key.clone(),
            payload_hash: hash,
            properties: Value::Object(d.properties.clone()),
        });
    }
    in_lock_order(&mut rows);
    let (accepted, duplicates) = super::ingest_queue::store(t, rows, index_of, now).await?;
    Ok(Outcome {
        accepted,
        duplicates: duplicates + in_batch_duplicates,
    })
}

/// Stores past usage as the operator's import (the demo's months of history):
/// the events of one account, whatever their age, to their period totals and the
/// daily rollup, in one transaction; no threshold is notified (those periods are
/// over). Keys already stored are skipped whatever their payload. Returns how
/// many events were new.
///
/// # Errors
/// [`Error::Invalid`] for events of several accounts or a meter outside the
/// catalog; [`Error::NoCatalog`]; a database error (nothing stored).
pub async fn import(t: &Tollgate, mut rows: Vec<EventRow>) -> Result<usize, Error> {
    let catalog = t.catalog.get()?;
    let Some(first) = rows.first() else {
        return Ok(0);
    };
    let account_id = first.account_id;
    if rows.iter().any(|r| r.account_id != account_id) {
        return Err(Error::invalid("account", "import one account's events at a time"));
    }
    if let Some(r) = rows.iter().find(|r| catalog.meter(&r.meter).is_none()) {
        return Err(Error::invalid("meter", format!("unknown meter `{}`", r.meter)));
    }
    let (from, to) = rows.iter().fold((first.occurred_at, first.occurred_at), |(a, b), r| {
        (a.min(r.occurred_at), b.max(r.occurred_at))
    });
    db::usage_partitions::ensure_months(&t.pool, from, to).await?;
    in_lock_order(&mut rows);
    let mut tx = db::accounts::begin_for_usage(&t.pool, &[account_id]).await?;
    let inserted: HashSet<Uuid> = db::usage::insert_new_events(&mut tx, &rows)
        .await?
        .into_iter()
        .collect();
    let new_rows: Vec<&EventRow> = rows.iter().filter(|r| inserted.contains(&r.id)).collect();
    let subscriptions = db::subscriptions::live_for_accounts(&mut *tx, &[account_id]).await?;
    apply_totals(&mut tx, &catalog, &by_account(&subscriptions), &new_rows).await?;
    tx.commit().await?;
    t.cache.invalidate(&[account_id]);
    Ok(new_rows.len())
}

/// Sorts rows by account and idempotency key: one order for every batch, so two
/// batches sharing keys never wait on each other's unique-index entries in
/// opposite orders.
pub(crate) fn in_lock_order(rows: &mut [EventRow]) {
    rows.sort_by(|a, b| {
        (a.account_id, &a.idempotency_key).cmp(&(b.account_id, &b.idempotency_key))
    });
}

/// Stores the rows in one transaction: new events, their totals, thresholds and
/// the live notification. Returns the ids of the rows stored (the others' keys
/// were already stored with the same payload). `index_of` places a conflicting
/// key in the request for the error (absent: index 0).
pub(crate) async fn store(
    t: &Tollgate,
    catalog: &Catalog,
    rows: &[EventRow],
    index_of: &HashMap<(Uuid, String), usize>,
    now: DateTime<Utc>,
) -> Result<HashSet<Uuid>, Error> {
    let mut accounts: Vec<Uuid> = rows.iter().map(|r| r.account_id).collect();
    accounts.sort();
    accounts.dedup();
    let mut tx = db::accounts::begin_for_usage(&t.pool, &accounts).await?;
    let inserted: HashSet<Uuid> = db::usage::insert_new_events(&mut tx, rows)
        .await?
        .into_iter()
        .collect();

    let repeats: Vec<(Uuid, String)> = rows
        .iter()
        .filter(|r| !inserted.contains(&r.id))
        .map(|r| (r.account_id, r.idempotency_key.clone()))
        .collect();
    if !repeats.is_empty() {
        let stored = db::usage::stored_hashes(&mut *tx, &repeats).await?;
        let sent: HashMap<(Uuid, &str), &[u8]> = rows
            .iter()
            .map(|r| {
                (
                    (r.account_id, r.idempotency_key.as_str()),
                    r.payload_hash.as_slice(),
                )
            })
            .collect();
        let conflict = stored
            .iter()
            .filter(|(a, k, h)| {
                sent.get(&(*a, k.as_str()))
                    .is_some_and(|s| *s != h.as_slice())
            })
            .map(|(a, k, _)| {
                (
                    index_of.get(&(*a, k.clone())).copied().unwrap_or(0),
                    k.clone(),
                )
            })
            .min();
        if let Some((index, key)) = conflict {
            return Err(Error::IdempotencyConflict {
                key,
                index: Some(index),
            });
        }
    }

    let new_rows: Vec<&EventRow> = rows.iter().filter(|r| inserted.contains(&r.id)).collect();
    if !new_rows.is_empty() {
        let subscriptions = db::subscriptions::live_for_accounts(&mut *tx, &accounts).await?;
        let subs = by_account(&subscriptions);
        let overrides = db::overrides::active_for(&mut *tx, &accounts, now).await?;
        let totals = apply_totals(&mut tx, catalog, &subs, &new_rows).await?;
        notify_thresholds(
            &mut tx,
            catalog,
            &subs,
            &overrides,
            &totals,
            &t.settings.public_url,
            now,
        )
        .await?;
        // `apply_totals` announced the change to every process.
        let touched: Vec<Uuid> = new_rows
            .iter()
            .map(|r| r.account_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        tx.commit().await?;
        t.cache.invalidate(&touched);
    } else {
        tx.commit().await?;
    }
    Ok(inserted)
}

/// Each account's live subscription, if any.
pub(crate) fn by_account(subscriptions: &[SubscriptionRow]) -> HashMap<Uuid, &SubscriptionRow> {
    subscriptions.iter().map(|s| (s.account_id, s)).collect()
}

fn standing<'a>(
    subs: &HashMap<Uuid, &'a SubscriptionRow>,
    overrides: &'a HashMap<Uuid, Overrides>,
    account_id: Uuid,
) -> Standing<'a> {
    Standing {
        subscription: subs.get(&account_id).copied(),
        overrides: overrides
            .get(&account_id)
            .unwrap_or(&crate::overrides::NONE),
    }
}

/// Adds the new events to their period totals, one statement per aggregation kind,
/// and to the daily rollup (the usage history), and announces the accounts' change
/// (`tollgate_usage`, at commit).
pub(crate) async fn apply_totals(
    tx: &mut db::Tx<'_>,
    catalog: &Catalog,
    subs: &HashMap<Uuid, &SubscriptionRow>,
    rows: &[&EventRow],
) -> Result<Vec<Total>, Error> {
    let mut deltas: BTreeMap<(Aggregation, Uuid, String, DateTime<Utc>), TotalDelta> =
        BTreeMap::new();
    for r in rows {
        let Some(meter) = catalog.meter(&r.meter) else {
            continue;
        };
        let period: Period = meter_period(
            meter.reset,
            subs.get(&r.account_id).map(|s| s.cycle()),
            r.occurred_at,
        );
        let key = (
            meter.aggregation,
            r.account_id,
            r.meter.clone(),
            period.start,
        );
        deltas
            .entry(key)
            .and_modify(|d| {
                d.value = match meter.aggregation {
                    Aggregation::Count | Aggregation::Sum => d.value + r.quantity,
                    Aggregation::Max => d.value.max(r.quantity),
                    Aggregation::Last if r.occurred_at >= d.last_occurred_at => r.quantity,
                    Aggregation::Last => d.value,
                };
                d.last_occurred_at = d.last_occurred_at.max(r.occurred_at);
            })
            .or_insert_with(|| TotalDelta {
                account_id: r.account_id,
                meter: r.meter.clone(),
                period_start: period.start,
                period_end: period.end,
                value: r.quantity,
                last_occurred_at: r.occurred_at,
            });
    }
    let mut totals = Vec::new();
    for aggregation in [
        Aggregation::Count,
        Aggregation::Sum,
        Aggregation::Max,
        Aggregation::Last,
    ] {
        let batch: Vec<TotalDelta> = deltas
            .iter()
            .filter(|((a, ..), _)| *a == aggregation)
            .map(|(_, d)| d.clone())
            .collect();
        totals.extend(db::usage::apply_deltas(tx, aggregation, &batch).await?);
    }
    // After the totals: a consuming check locks its total before its event
    // reaches the rollup, so every path takes totals first.
    db::usage_rollups::add(tx, catalog, rows).await?;
    Ok(totals)
}

/// Records thresholds that the current periods' new totals reached, adds an in-app
/// notification for each one reached for the first time, and enqueues the warning
/// e-mail for those whose catalog actions include `email` (once per account, meter,
/// period and threshold: the crossing is recorded once, and the e-mail's dedup key
/// says the same). `public_url` is the portal's base URL for the e-mail's links.
///
/// Thresholds are percentages of the limit that applies: the plan's, with the
/// accounts' `overrides` in force (read in the same transaction, before the totals
/// were written: a total's row stays locked from its update to the commit, so
/// nothing else is read in between).
pub(crate) async fn notify_thresholds(
    tx: &mut db::Tx<'_>,
    catalog: &Catalog,
    subs: &HashMap<Uuid, &SubscriptionRow>,
    overrides: &HashMap<Uuid, Overrides>,
    totals: &[Total],
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut reached = Vec::new();
    // What the e-mail says about each total that reached a threshold.
    let mut details: HashMap<(Uuid, &str), (Decimal, Decimal, &crate::catalog::Plan, Period)> =
        HashMap::new();
    for total in totals {
        let state = standing(subs, overrides, total.account_id);
        let Some(meter) = catalog.meter(&total.meter) else {
            continue;
        };
        let period = state.meter_period(catalog, &total.meter, now);
        let Some(plan) = state.entitled_plan(catalog) else {
            continue;
        };
        if period.start != total.period_start {
            continue;
        }
        let limit = state.limit(catalog, &total.meter);
        let Some(percent) = limits::percent_of(total.value, limit.included) else {
            continue;
        };
        for threshold in limits::reached(&catalog.thresholds, percent) {
            reached.push(Crossing {
                account_id: total.account_id,
                meter: meter.key.to_string(),
                period_start: total.period_start,
                percent: threshold.percent,
            });
        }
        if let Some(included) = limit.included {
            details.insert(
                (total.account_id, meter.key.as_str()),
                (total.value, included, plan, period),
            );
        }
    }
    let crossed = db::usage::record_crossings(&mut **tx, &reached).await?;
    for c in &crossed {
        if let Some((used, limit, _, period)) = details.get(&(c.account_id, c.meter.as_str())) {
            let mark = webhooks::emit::UsageMark { account_id: c.account_id, meter: &c.meter, period: *period, used: *used, limit: *limit, percent: c.percent };
            webhooks::emit::threshold_reached(tx, &mark).await?;
        }
    }
    // At or past the limit, whatever the catalog's thresholds: once per period.
    for ((account_id, meter), (used, limit, _, period)) in &details {
        if used >= limit {
            let percent = limits::percent_of(*used, Some(*limit)).unwrap_or(Decimal::ONE_HUNDRED);
            let mark = webhooks::emit::UsageMark { account_id: *account_id, meter, period: *period, used: *used, limit: *limit, percent };
            webhooks::emit::limit_reached(tx, &mark).await?;
            if used > limit {
                let name = catalog.meter(meter).map_or(*meter, |m| m.name.as_str());
                db::notifications::insert_once(
                    &mut **tx,
                    *account_id,
                    crate::notification::Kind::LimitExceeded.as_str(),
                    &format!("{name}: past your limit"),
                    &format!("This period's {name} went past the {} included in your plan; usage beyond it is billed as overage or, on a hard limit, refused. Upgrade to raise the limit.", limit.normalize()),
                    &serde_json::json!({ "meter": meter, "limit": limit.to_string(), "period_start": period.start }),
                    &format!("limit_exceeded:{account_id}:{meter}:{}", period.start.timestamp()),
                )
                .await?;
            }
        }
    }
    for c in crossed {
        let meter = catalog.meter(&c.meter);
        let name = meter.map_or(c.meter.clone(), |m| m.name.clone());
        let percent = c.percent.normalize();
        let (title, body) = if c.percent >= Decimal::ONE_HUNDRED {
            (format!("{name}: {percent} % of your limit"), format!("You have used {percent} % of this period's {name}. Upgrade to keep going without limits."))
        } else {
            (
                format!("{name}: {percent} % used"),
                format!("You have used {percent} % of this period's {name}."),
            )
        };
        db::notifications::insert(
            &mut **tx,
            c.account_id,
            "limit_warning",
            &title,
            &body,
            &serde_json::json!({ "meter": c.meter, "percent": percent.to_string(), "period_start": c.period_start }),
        )
        .await?;
        let emails = catalog
            .thresholds
            .iter()
            .any(|t| t.percent == c.percent && t.actions.contains(&limits::ThresholdAction::Email));
        let emails = emails && super::notifications::email_allowed(tx, c.account_id, crate::notification::Kind::LimitWarning).await?;
        if let (true, Some(meter), Some((used, limit, plan, period))) = (
            emails,
            meter,
            details.get(&(c.account_id, c.meter.as_str())),
        ) {
            let warning = super::mail::usage_threshold::Warning {
                account_id: c.account_id,
                product: &catalog.title,
                meter_key: meter.key.as_str(),
                meter_name: &meter.name,
                meter_unit: &meter.unit,
                percent: c.percent,
                used: *used,
                limit: *limit,
                plan_key: plan.key.as_str(),
                plan_name: &plan.name,
                period_start: period.start,
                period_end: period.end,
            };
            super::mail::usage_threshold::enqueue(tx, public_url, &warning).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payload_hash_ignores_key_order_but_not_values() {
        let a: Map<String, Value> =
            serde_json::from_value(json!({"model": "claude", "cost_usd": "0.0031"}))
                .expect("test fixture");
        let b: Map<String, Value> =
            serde_json::from_value(json!({"cost_usd": "0.0031", "model": "claude"}))
                .expect("test fixture");
        let q = Decimal::ONE;
        assert_eq!(
            payload_hash("queries", q, None, None, &a),
            payload_hash("queries", q, None, None, &b)
        );
        assert_eq!(
            payload_hash("queries", q, None, None, &a),
            payload_hash(
                "queries",
                "1.000".parse().expect("test fixture"),
                None,
                None,
                &a
            )
        );
        assert_ne!(
            payload_hash("queries", q, None, None, &a),
            payload_hash("queries", Decimal::TWO, None, None, &a)
        );
        assert_ne!(
            payload_hash("queries", q, None, None, &a),
            payload_hash("tokens", q, None, None, &a)
        );
        assert_ne!(
            payload_hash("queries", q, None, Some("x@y.z"), &a),
            payload_hash("queries", q, None, None, &a)
        );
    }
}
