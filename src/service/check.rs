//! `POST /api/v1/check`: may the account do this? For meters, against the plan's
//! limit (and, with `consume`, recording it atomically); for features, the plan's
//! value; for rate features, the per-minute window (API.md).

use super::accounts::{self, Standing};
use super::ingest::{apply_totals, by_account, notify_thresholds, payload_hash};
use super::keys::Caller;
use super::state_cache::{self, AccountEntry};
use super::{Error, Tollgate};
use crate::catalog::{
    Aggregation, Catalog, Entitlement, Feature, FeatureKind, FeatureValue, Meter,
};
use crate::db::{self, usage::EventRow};
use crate::limits::{evaluate, Evaluation, LimitState};
use crate::period::Period;
use crate::quantity::Quantity;
use chrono::{DateTime, Duration, DurationRound, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// A check as asked.
#[derive(Debug, Clone)]
pub struct Request {
    /// Account named (platform keys must).
    pub account: Option<String>,
    /// Meter or feature key.
    pub feature: String,
    /// Quantity asked for (1 when not sent).
    pub quantity: Quantity,
    /// Record the quantity if allowed.
    pub consume: bool,
    /// Required with `consume`.
    pub idempotency_key: Option<String>,
}

/// The answer for a meter.
#[derive(Debug, Clone, PartialEq)]
pub struct MeterCheck {
    /// The meter's key.
    pub feature: String,
    /// The decision, made on the usage before this request.
    pub evaluation: Evaluation,
    /// The meter's current period.
    pub period: Period,
    /// Where to upgrade.
    pub upgrade_url: String,
    /// A consuming check whose idempotency key was already recorded.
    pub duplicate: bool,
}

/// The answer of a check.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A metered feature.
    Meter(MeterCheck),
    /// A boolean, numeric or enum feature.
    Feature {
        /// The feature's key.
        feature: String,
        /// False for `false`, `0` or a feature the plan lacks.
        allowed: bool,
        /// The plan's value, if any.
        value: Option<FeatureValue>,
    },
    /// A rate feature, counted in the current window.
    Rate {
        /// The feature's key.
        feature: String,
        /// Calls allowed per window; `None` when unlimited.
        limit: Option<Decimal>,
        /// Calls left in this window.
        remaining: Option<Decimal>,
        /// When the window ends.
        resets_at: DateTime<Utc>,
    },
}

/// Answers a check. See the module documentation.
///
/// # Errors
/// [`Error::Invalid`] (unknown feature, fractional count, `consume` without an
/// idempotency key or on a level meter, an idempotency key of more than 255
/// characters or empty, a rate quantity above the plan's window),
/// the account errors of [`accounts::for_caller`], [`Error::PlanLimitExceeded`]
/// when a consuming check is refused, [`Error::RateLimited`] past a rate limit,
/// [`Error::IdempotencyConflict`].
pub async fn check(
    t: &Tollgate,
    caller: &Caller,
    req: Request,
    now: DateTime<Utc>,
) -> Result<Outcome, Error> {
    // A key is checked whenever one is sent, consuming or not: a request the
    // OpenAPI document calls invalid is never answered as if it were fine.
    if req
        .idempotency_key
        .as_deref()
        .is_some_and(|k| !super::ingest::key_length_ok(k))
    {
        return Err(Error::invalid("idempotency_key", "1 to 255 characters"));
    }
    let catalog = t.catalog.get()?;
    let entitlement = catalog
        .entitlement(&req.feature)
        .ok_or_else(|| Error::invalid("feature", format!("unknown feature `{}`", req.feature)))?;
    let account_id = accounts::resolve_for_caller(&t.pool, caller, req.account.as_deref()).await?;
    match entitlement {
        Entitlement::Meter(meter) if req.consume => {
            super::retry::on_deadlock(|| consume(t, &catalog, account_id, meter, &req, now))
                .await
                .map(Outcome::Meter)
        }
        Entitlement::Meter(meter) => peek(t, &catalog, account_id, meter, &req, now)
            .await
            .map(Outcome::Meter),
        Entitlement::Feature(feature) => {
            let account = account_now(t, &catalog, account_id, now).await?;
            let standing = account.standing();
            let value = standing.feature(&catalog, feature.key.as_str());
            match (&feature.kind, value) {
                (FeatureKind::Rate { per }, Some(FeatureValue::Number(limit)))
                    if limit != Some(Decimal::ZERO) =>
                {
                    check_rate(t, account_id, feature, limit, per.seconds(), &req, now).await
                }
                (_, value) => Ok(Outcome::Feature {
                    feature: feature.key.to_string(),
                    allowed: value.as_ref().is_some_and(FeatureValue::grants),
                    value,
                }),
            }
        }
    }
}

/// The meter's quantity, whole for counting meters.
fn meter_quantity(meter: &Meter, q: Quantity) -> Result<Decimal, Error> {
    if meter.aggregation == Aggregation::Count {
        Ok(q.whole()
            .map_err(|e| Error::invalid("quantity", e.to_string()))?
            .get())
    } else {
        Ok(q.get())
    }
}

fn answer(
    t: &Tollgate,
    meter: &Meter,
    evaluation: Evaluation,
    period: Period,
    duplicate: bool,
) -> MeterCheck {
    MeterCheck {
        feature: meter.key.to_string(),
        evaluation,
        period,
        upgrade_url: t.upgrade_url(),
        duplicate,
    }
}

/// A check that records nothing, answered from the account's standing and usage
/// now ([`account_now`]).
async fn peek(
    t: &Tollgate,
    catalog: &Catalog,
    account_id: Uuid,
    meter: &Meter,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<MeterCheck, Error> {
    let q = meter_quantity(meter, req.quantity)?;
    let account = account_now(t, catalog, account_id, now).await?;
    let standing = account.standing();
    let limit = standing.limit(catalog, meter.key.as_str());
    let period = standing.meter_period(catalog, meter.key.as_str(), now);
    let usage = match account.usage.get(meter.key.as_str()) {
        Some((loaded, usage)) if *loaded == period => *usage,
        // Not loaded for this period (a meter added since): read it.
        _ => super::usage::current(
            &mut *t.pool.acquire().await?,
            catalog,
            standing,
            account_id,
            &[meter],
            now,
        )
        .await?
        .remove(meter.key.as_str())
        .unwrap_or(Decimal::ZERO),
    };
    Ok(answer(
        t,
        meter,
        evaluate(&limit, &catalog.thresholds, usage, q),
        period,
        false,
    ))
}

/// The account's live subscription, overrides in force and every meter's usage
/// now: from the process's [`super::state_cache`] when it holds a fresh entry,
/// else read from the database (and kept there when the cache answers).
///
/// # Errors
/// A database error.
pub async fn account_now(
    t: &Tollgate,
    catalog: &Catalog,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Arc<AccountEntry>, Error> {
    if let Some(entry) = t.cache.account(account_id, now) {
        return Ok(entry);
    }
    let ticket = t.cache.account_ticket(account_id);
    let mut conn = t.pool.acquire().await?;
    let (subscription, overrides) = accounts::entitlements(&mut conn, account_id, now).await?;
    let standing = Standing {
        subscription: subscription.as_ref(),
        overrides: &overrides,
    };
    let meters: Vec<&Meter> = catalog.meters.iter().collect();
    let mut used =
        super::usage::current(&mut conn, catalog, standing, account_id, &meters, now).await?;
    drop(conn);
    let usage: HashMap<String, (Period, Decimal)> = meters
        .iter()
        .map(|m| {
            let key = m.key.as_str();
            let period = standing.meter_period(catalog, key, now);
            (
                key.to_string(),
                (period, used.remove(key).unwrap_or(Decimal::ZERO)),
            )
        })
        .collect();
    let fresh_until = state_cache::fresh_until(
        now,
        subscription.as_ref(),
        &overrides,
        usage.values().map(|(p, _)| *p),
    );
    let entry = Arc::new(AccountEntry {
        subscription,
        overrides,
        usage,
        fresh_until,
    });
    if let Some(ticket) = ticket {
        t.cache.put_account(account_id, ticket, entry.clone());
    }
    Ok(entry)
}

/// A check that records the quantity if allowed, atomically: the meter's period
/// total is locked, so concurrent consumers are decided one after another.
async fn consume(
    t: &Tollgate,
    catalog: &Catalog,
    account_id: Uuid,
    meter: &Meter,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<MeterCheck, Error> {
    let q = meter_quantity(meter, req.quantity)?;
    if !meter.aggregation.accumulates() {
        return Err(Error::invalid(
            "consume",
            format!(
                "`{}` reports a level ({}); send its new value to /events",
                meter.key,
                meter.aggregation.as_str()
            ),
        ));
    }
    let key = req.idempotency_key.clone().ok_or_else(|| {
        Error::invalid(
            "idempotency_key",
            "required with consume, 1 to 255 characters",
        )
    })?;
    let hash = payload_hash(meter.key.as_str(), q, None, None, &Map::new());

    // The plan and cycle are read under the same lock as a plan change takes, so
    // the decision and the recorded event use the same period.
    let mut tx = db::accounts::begin_for_usage(&t.pool, &[account_id]).await?;
    let (subscription, overrides) = accounts::entitlements(&mut tx, account_id, now).await?;
    let standing = Standing {
        subscription: subscription.as_ref(),
        overrides: &overrides,
    };
    let limit = standing.limit(catalog, meter.key.as_str());
    let period = standing.meter_period(catalog, meter.key.as_str(), now);
    let usage = db::usage::lock_total(
        &mut tx,
        account_id,
        meter.key.as_str(),
        period.start,
        period.end,
    )
    .await?;
    if let Some((_, _, stored)) = db::usage::stored_hashes(&mut *tx, &[(account_id, key.clone())])
        .await?
        .first()
    {
        if *stored != hash {
            return Err(Error::IdempotencyConflict { key, index: None });
        }
        // Already recorded: answer as the first time did (allowed), from the usage
        // before that event as far as it can be told now.
        let mut e = evaluate(
            &limit,
            &catalog.thresholds,
            (usage - q).max(Decimal::ZERO),
            q,
        );
        e.allowed = true;
        e.state = e.state.min(LimitState::LimitReached);
        return Ok(answer(t, meter, e, period, true));
    }
    let evaluation = evaluate(&limit, &catalog.thresholds, usage, q);
    if !evaluation.allowed {
        return Err(Error::PlanLimitExceeded(Box::new(answer(
            t, meter, evaluation, period, false,
        ))));
    }
    let row = EventRow {
        id: Uuid::now_v7(),
        account_id,
        meter: meter.key.to_string(),
        user_id: None,
        quantity: q,
        occurred_at: now,
        idempotency_key: key,
        payload_hash: hash,
        properties: Value::Object(Map::new()),
    };
    db::usage::insert_new_events(&mut tx, std::slice::from_ref(&row)).await?;
    let subscriptions: Vec<_> = subscription.into_iter().collect();
    let subs = by_account(&subscriptions);
    let totals = apply_totals(&mut tx, catalog, &subs, &[&row]).await?;
    notify_thresholds(
        &mut tx,
        catalog,
        &subs,
        &HashMap::from([(account_id, overrides)]),
        &totals,
        &t.settings.public_url,
        now,
    )
    .await?;
    // `apply_totals` announced the change.
    tx.commit().await?;
    t.cache.invalidate(&[account_id]);
    Ok(answer(t, meter, evaluation, period, false))
}

/// Counts `quantity` calls in the current window of a rate feature allowing
/// `limit` per window (`None`: unlimited).
async fn check_rate(
    t: &Tollgate,
    account_id: Uuid,
    feature: &Feature,
    limit: Option<Decimal>,
    window_secs: i64,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Outcome, Error> {
    let window = Duration::seconds(window_secs);
    let start = now.duration_trunc(window).unwrap_or(now);
    let resets_at = start + window;
    let Some(max) = limit else {
        return Ok(Outcome::Rate {
            feature: feature.key.to_string(),
            limit: None,
            remaining: None,
            resets_at,
        });
    };
    let calls = req
        .quantity
        .whole()
        .map_err(|e| Error::invalid("quantity", e.to_string()))?
        .get();
    if calls > max {
        return Err(Error::invalid(
            "quantity",
            format!("at most {max} calls fit in one window of `{}`", feature.key),
        ));
    }
    let calls_i32 = i32::try_from(calls.trunc().mantissa()).unwrap_or(i32::MAX);
    let max_i64 = i64::try_from(max.trunc().mantissa()).unwrap_or(i64::MAX);
    match db::rate_windows::try_add(
        &t.pool,
        account_id,
        feature.key.as_str(),
        start,
        calls_i32,
        max_i64,
    )
    .await?
    {
        Some(total) => Ok(Outcome::Rate {
            feature: feature.key.to_string(),
            limit: Some(max),
            remaining: Some((max - Decimal::from(total)).max(Decimal::ZERO)),
            resets_at,
        }),
        None => {
            let retry_after = u64::try_from((resets_at - now).num_seconds().max(1)).unwrap_or(1);
            Err(Error::RateLimited {
                message: format!(
                    "at most {max} `{}` per {window_secs} s on this plan; retry in {retry_after} s",
                    feature.key
                ),
                retry_after,
            })
        }
    }
}
