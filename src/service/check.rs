//! `POST /api/v1/check`: may the account do this? For meters, against the plan's
//! limit (and, with `consume`, recording it atomically); for features, the plan's
//! value; for rate features, the per-minute window (API.md).

use super::accounts::{self, Standing};
use super::ingest::{apply_totals, by_account, notify_thresholds, payload_hash};
use super::keys::Caller;
use super::{Error, Tollgate};
use crate::catalog::{Aggregation, Entitlement, Feature, FeatureKind, FeatureValue, Meter};
use crate::db::{self, usage::EventRow};
use crate::limits::{evaluate, Evaluation, LimitState};
use crate::period::Period;
use crate::quantity::Quantity;
use chrono::{DateTime, Duration, DurationRound, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
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
/// idempotency key or on a level meter), the account errors of
/// [`accounts::for_caller`], [`Error::PlanLimitExceeded`] when a consuming check is
/// refused, [`Error::RateLimited`] past a rate limit,
/// [`Error::IdempotencyConflict`].
pub async fn check(t: &Tollgate, caller: &Caller, req: Request, now: DateTime<Utc>) -> Result<Outcome, Error> {
    let catalog = t.catalog.get()?;
    let entitlement = catalog
        .entitlement(&req.feature)
        .ok_or_else(|| Error::invalid("feature", format!("unknown feature `{}`", req.feature)))?;
    let named = req.account.as_deref();
    let account_id = accounts::for_caller(&t.pool, caller, named).await?.map_err(|u| u.into_error(named, None))?;
    let subscription = db::subscriptions::live_for_account(&t.pool, account_id).await?;
    let standing = Standing { subscription: subscription.as_ref() };
    match entitlement {
        Entitlement::Meter(meter) => check_meter(t, &catalog, standing, account_id, meter, &req, now).await.map(Outcome::Meter),
        Entitlement::Feature(feature) => match &feature.kind {
            FeatureKind::Rate { per } => check_rate(t, &catalog, standing, account_id, feature, per.seconds(), &req, now).await,
            _ => {
                let value = standing.entitled_plan(&catalog).and_then(|p| p.feature(feature.key.as_str())).cloned();
                Ok(Outcome::Feature {
                    feature: feature.key.to_string(),
                    allowed: value.as_ref().is_some_and(FeatureValue::grants),
                    value,
                })
            }
        },
    }
}

async fn check_meter(
    t: &Tollgate,
    catalog: &crate::catalog::Catalog,
    standing: Standing<'_>,
    account_id: Uuid,
    meter: &Meter,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<MeterCheck, Error> {
    let quantity = if meter.aggregation == Aggregation::Count {
        req.quantity.whole().map_err(|e| Error::invalid("quantity", e.to_string()))?
    } else {
        req.quantity
    };
    let q = quantity.get();
    let limit = standing.limit(catalog, meter.key.as_str());
    let period = standing.meter_period(catalog, meter.key.as_str(), now);
    let answer = |evaluation, duplicate| MeterCheck {
        feature: meter.key.to_string(),
        evaluation,
        period,
        upgrade_url: t.upgrade_url(),
        duplicate,
    };
    if !req.consume {
        let usage = db::usage::totals(&t.pool, account_id, &[(meter.key.to_string(), period.start)])
            .await?
            .first()
            .map_or(Decimal::ZERO, |(_, v)| *v);
        return Ok(answer(evaluate(&limit, &catalog.thresholds, usage, q), false));
    }

    if !meter.aggregation.accumulates() {
        return Err(Error::invalid("consume", format!("`{}` reports a level ({}); send its new value to /events", meter.key, meter.aggregation.as_str())));
    }
    let key = req
        .idempotency_key
        .clone()
        .filter(|k| (1..=super::ingest::MAX_KEY_CHARS).contains(&k.chars().count()))
        .ok_or_else(|| Error::invalid("idempotency_key", "required with consume, 1 to 255 characters"))?;
    let hash = payload_hash(meter.key.as_str(), q, None, None, &Map::new());

    let mut tx = t.pool.begin().await?;
    db::accounts::lock_for_usage(&mut *tx, &[account_id]).await?;
    let usage = db::usage::lock_total(&mut tx, account_id, meter.key.as_str(), period.start, period.end).await?;
    if let Some((_, _, stored)) = db::usage::stored_hashes(&mut *tx, &[(account_id, key.clone())]).await?.first() {
        if *stored != hash {
            return Err(Error::IdempotencyConflict { key, index: None });
        }
        // Already recorded: answer as the first time, the event being in the usage.
        let mut e = evaluate(&limit, &catalog.thresholds, (usage - q).max(Decimal::ZERO), q);
        e.allowed = true;
        e.state = e.state.min(LimitState::LimitReached);
        return Ok(answer(e, true));
    }
    let evaluation = evaluate(&limit, &catalog.thresholds, usage, q);
    if !evaluation.allowed {
        return Err(Error::PlanLimitExceeded(Box::new(answer(evaluation, false))));
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
    let subscriptions: Vec<_> = standing.subscription.into_iter().cloned().collect();
    let subs = by_account(&subscriptions);
    let totals = apply_totals(&mut tx, catalog, &subs, &[&row]).await?;
    notify_thresholds(&mut tx, catalog, &subs, &totals, now).await?;
    db::usage::notify_changed(&mut *tx, &[account_id]).await?;
    tx.commit().await?;
    Ok(answer(evaluation, false))
}

#[allow(clippy::too_many_arguments)]
async fn check_rate(
    t: &Tollgate,
    catalog: &crate::catalog::Catalog,
    standing: Standing<'_>,
    account_id: Uuid,
    feature: &Feature,
    window_secs: i64,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Outcome, Error> {
    let window = Duration::seconds(window_secs);
    let start = now.duration_trunc(window).unwrap_or(now);
    let resets_at = start + window;
    let retry_after = u64::try_from((resets_at - now).num_seconds().max(1)).unwrap_or(1);
    let max = match standing.entitled_plan(catalog).and_then(|p| p.feature(feature.key.as_str())) {
        Some(FeatureValue::Number(None)) => {
            return Ok(Outcome::Rate { feature: feature.key.to_string(), limit: None, remaining: None, resets_at });
        }
        Some(FeatureValue::Number(Some(n))) => *n,
        _ => Decimal::ZERO,
    };
    let calls = req.quantity.whole().map_err(|e| Error::invalid("quantity", e.to_string()))?.get();
    let calls_i32 = i32::try_from(calls.trunc().mantissa()).unwrap_or(i32::MAX);
    let max_i64 = i64::try_from(max.trunc().mantissa()).unwrap_or(i64::MAX);
    match db::rate_windows::try_add(&t.pool, account_id, feature.key.as_str(), start, calls_i32, max_i64).await? {
        Some(total) => Ok(Outcome::Rate {
            feature: feature.key.to_string(),
            limit: Some(max),
            remaining: Some((max - Decimal::from(total)).max(Decimal::ZERO)),
            resets_at,
        }),
        None => Err(Error::RateLimited {
            message: format!("at most {max} `{}` per {window_secs} s on this plan; retry in {retry_after} s", feature.key),
            retry_after,
        }),
    }
}
