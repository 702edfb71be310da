//! The catalog tables: `catalog_info`, `meters`, `features`, `plans`,
//! `plan_prices`, `plan_features`, `plan_limits`, `plan_usage_prices`, `thresholds`,
//! `coupons`.

use crate::catalog::{
    Audience, Catalog, Faq, Feature, FeatureKind, FeatureValue, Meter, Plan, Price,
};
use crate::coupon::{Coupon, Discount, Duration};
use crate::keys::Key;
use crate::limits::{Enforcement, Limit, Threshold, ThresholdAction};
use crate::money::{Currency, Money};
use crate::period::{Interval, Reset};
use crate::rating::Pricing;
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{FromRow, PgConnection, PgExecutor};

/// Stores `catalog` as the active catalog: upserts every entry, archives meters,
/// features and plans the catalog no longer has, and replaces prices, feature values,
/// limits and thresholds. Call inside a transaction.
pub async fn save(
    db: &mut PgConnection,
    catalog: &Catalog,
    source: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO catalog_info (name, title, currency, faq, source, theme, loaded_at) VALUES ($1, $2, $3, $4, $5, $6, now())
         ON CONFLICT (singleton) DO UPDATE SET name = $1, title = $2, currency = $3, faq = $4, source = $5, theme = $6, loaded_at = now()",
    )
    .bind(catalog.name.as_str())
    .bind(&catalog.title)
    .bind(catalog.currency.code())
    .bind(Json(&catalog.faq))
    .bind(source)
    .bind(Json(&catalog.theme))
    .execute(&mut *db)
    .await?;

    sqlx::query("UPDATE meters SET archived_at = coalesce(archived_at, now())")
        .execute(&mut *db)
        .await?;
    for (i, m) in catalog.meters.iter().enumerate() {
        sqlx::query(
            "INSERT INTO meters (key, name, unit, aggregation, reset, description, position, group_by, cost_property) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (key) DO UPDATE SET name = $2, unit = $3, aggregation = $4, reset = $5, description = $6, position = $7, group_by = $8, cost_property = $9, archived_at = NULL",
        )
        .bind(m.key.as_str())
        .bind(&m.name)
        .bind(&m.unit)
        .bind(m.aggregation.as_str())
        .bind(m.reset.as_str())
        .bind(&m.description)
        .bind(position(i))
        .bind(&m.group_by)
        .bind(&m.cost_property)
        .execute(&mut *db)
        .await?;
    }

    sqlx::query("UPDATE features SET archived_at = coalesce(archived_at, now())")
        .execute(&mut *db)
        .await?;
    for (i, f) in catalog.features.iter().enumerate() {
        sqlx::query(
            "INSERT INTO features (key, name, kind, description, position) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (key) DO UPDATE SET name = $2, kind = $3, description = $4, position = $5, archived_at = NULL",
        )
        .bind(f.key.as_str())
        .bind(&f.name)
        .bind(Json(&f.kind))
        .bind(&f.description)
        .bind(position(i))
        .execute(&mut *db)
        .await?;
    }

    sqlx::query("UPDATE plans SET archived_at = coalesce(archived_at, now())")
        .execute(&mut *db)
        .await?;
    sqlx::query("DELETE FROM plan_prices")
        .execute(&mut *db)
        .await?;
    sqlx::query("DELETE FROM plan_features")
        .execute(&mut *db)
        .await?;
    sqlx::query("DELETE FROM plan_limits")
        .execute(&mut *db)
        .await?;
    sqlx::query("DELETE FROM plan_usage_prices")
        .execute(&mut *db)
        .await?;
    for (i, p) in catalog.plans.iter().enumerate() {
        save_plan(&mut *db, p, position(i)).await?;
    }

    sqlx::query("UPDATE coupons SET archived_at = coalesce(archived_at, now())")
        .execute(&mut *db)
        .await?;
    for c in &catalog.coupons {
        sqlx::query(
            "INSERT INTO coupons (code, name, discount, duration) VALUES ($1, $2, $3, $4)
             ON CONFLICT (code) DO UPDATE SET name = $2, discount = $3, duration = $4, archived_at = NULL",
        )
        .bind(c.code.as_str())
        .bind(&c.name)
        .bind(Json(&c.discount))
        .bind(Json(&c.duration))
        .execute(&mut *db)
        .await?;
    }

    sqlx::query("DELETE FROM thresholds")
        .execute(&mut *db)
        .await?;
    for t in &catalog.thresholds {
        let actions: Vec<&str> = t.actions.iter().map(|a| action_name(*a)).collect();
        sqlx::query("INSERT INTO thresholds (percent, actions) VALUES ($1, $2)")
            .bind(t.percent)
            .bind(&actions)
            .execute(&mut *db)
            .await?;
    }
    Ok(())
}

fn position(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

async fn save_plan(db: &mut PgConnection, p: &Plan, pos: i32) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO plans (key, name, description, audience, self_serve, public, trial_days, highlights, position)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (key) DO UPDATE SET name = $2, description = $3, audience = $4, self_serve = $5, public = $6,
             trial_days = $7, highlights = $8, position = $9, archived_at = NULL",
    )
    .bind(p.key.as_str())
    .bind(&p.name)
    .bind(&p.description)
    .bind(match p.audience {
        Audience::Individual => "individual",
        Audience::Team => "team",
    })
    .bind(p.self_serve)
    .bind(p.public)
    .bind(i32::try_from(p.trial_days).unwrap_or(i32::MAX))
    .bind(Json(&p.highlights))
    .bind(pos)
    .execute(&mut *db)
    .await?;
    for price in &p.prices {
        sqlx::query("INSERT INTO plan_prices (plan_key, interval, amount, currency, per_seat, seat_pricing) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(p.key.as_str())
            .bind(price.interval.as_str())
            .bind(price.amount.amount)
            .bind(price.amount.currency.code())
            .bind(price.per_seat)
            .bind(price.seat_pricing.as_ref().map(Json))
            .execute(&mut *db)
            .await?;
    }
    for (key, value) in &p.features {
        sqlx::query("INSERT INTO plan_features (plan_key, feature_key, value) VALUES ($1, $2, $3)")
            .bind(p.key.as_str())
            .bind(key.as_str())
            .bind(value.to_json())
            .execute(&mut *db)
            .await?;
    }
    for (key, l) in &p.limits {
        sqlx::query(
            "INSERT INTO plan_limits (plan_key, meter_key, included, enforcement, grace_percent, per_seat) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(p.key.as_str())
        .bind(key.as_str())
        .bind(l.included)
        .bind(l.enforcement.as_str())
        .bind(l.grace_percent)
        .bind(l.per_seat)
        .execute(&mut *db)
        .await?;
    }
    for (key, pricing) in &p.usage_prices {
        sqlx::query(
            "INSERT INTO plan_usage_prices (plan_key, meter_key, pricing) VALUES ($1, $2, $3)",
        )
        .bind(p.key.as_str())
        .bind(key.as_str())
        .bind(Json(pricing))
        .execute(&mut *db)
        .await?;
    }
    Ok(())
}

fn action_name(a: ThresholdAction) -> &'static str {
    match a {
        ThresholdAction::InApp => "in_app",
        ThresholdAction::Email => "email",
        ThresholdAction::Banner => "banner",
        ThresholdAction::UpgradePrompt => "upgrade_prompt",
        ThresholdAction::Block => "block",
    }
}

#[derive(FromRow)]
struct InfoRow {
    name: String,
    title: String,
    currency: String,
    faq: Json<Vec<Faq>>,
    theme: Json<crate::catalog::Theme>,
}

#[derive(FromRow)]
struct MeterRow {
    key: String,
    name: String,
    unit: String,
    aggregation: String,
    reset: String,
    description: String,
    group_by: Vec<String>,
    cost_property: Option<String>,
}

#[derive(FromRow)]
struct FeatureRow {
    key: String,
    name: String,
    kind: Json<FeatureKind>,
    description: String,
}

#[derive(FromRow)]
struct PlanRow {
    key: String,
    name: String,
    description: String,
    audience: String,
    self_serve: bool,
    public: bool,
    trial_days: i32,
    highlights: Json<Vec<String>>,
}

#[derive(FromRow)]
struct PriceRow {
    plan_key: String,
    interval: String,
    amount: Decimal,
    currency: String,
    per_seat: bool,
    seat_pricing: Option<Json<Pricing>>,
}

#[derive(FromRow)]
struct PlanFeatureRow {
    plan_key: String,
    feature_key: String,
    value: Value,
}

#[derive(FromRow)]
struct LimitRow {
    plan_key: String,
    meter_key: String,
    included: Option<Decimal>,
    enforcement: String,
    grace_percent: Decimal,
    per_seat: bool,
}

/// Stored data that the domain refuses: the tables were edited around the checks.
fn corrupt(what: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("catalog tables hold an invalid value: {what}").into())
}

fn key(s: &str) -> Result<Key, sqlx::Error> {
    Key::parse(s).map_err(corrupt)
}

/// Reads the active catalog (archived entries left out), or `None` before the first
/// `catalog load`.
pub async fn load(db: &mut PgConnection) -> Result<Option<Catalog>, sqlx::Error> {
    let Some(info): Option<InfoRow> =
        sqlx::query_as("SELECT name, title, currency, faq, theme FROM catalog_info")
            .fetch_optional(&mut *db)
            .await?
    else {
        return Ok(None);
    };
    let meter_rows: Vec<MeterRow> = sqlx::query_as(
        "SELECT key, name, unit, aggregation, reset, description, group_by, cost_property FROM meters WHERE archived_at IS NULL ORDER BY position",
    )
    .fetch_all(&mut *db)
    .await?;
    let feature_rows: Vec<FeatureRow> =
        sqlx::query_as("SELECT key, name, kind, description FROM features WHERE archived_at IS NULL ORDER BY position")
            .fetch_all(&mut *db)
            .await?;
    let plan_rows: Vec<PlanRow> = sqlx::query_as(
        "SELECT key, name, description, audience, self_serve, public, trial_days, highlights FROM plans WHERE archived_at IS NULL ORDER BY position",
    )
    .fetch_all(&mut *db)
    .await?;
    let prices: Vec<PriceRow> =
        sqlx::query_as("SELECT plan_key, interval, amount, currency, per_seat, seat_pricing FROM plan_prices ORDER BY interval")
            .fetch_all(&mut *db)
            .await?;
    let values: Vec<PlanFeatureRow> = sqlx::query_as(
        "SELECT pf.plan_key, pf.feature_key, pf.value FROM plan_features pf JOIN features f ON f.key = pf.feature_key ORDER BY f.position",
    )
    .fetch_all(&mut *db)
    .await?;
    let limits: Vec<LimitRow> = sqlx::query_as(
        "SELECT l.plan_key, l.meter_key, l.included, l.enforcement, l.grace_percent, l.per_seat
         FROM plan_limits l JOIN meters m ON m.key = l.meter_key ORDER BY m.position",
    )
    .fetch_all(&mut *db)
    .await?;
    let usage_prices: Vec<(String, String, Json<Pricing>)> = sqlx::query_as(
        "SELECT u.plan_key, u.meter_key, u.pricing FROM plan_usage_prices u JOIN meters m ON m.key = u.meter_key
         WHERE m.archived_at IS NULL ORDER BY m.position",
    )
    .fetch_all(&mut *db)
    .await?;
    let coupon_rows: Vec<(String, String, Json<Discount>, Json<Duration>)> =
        sqlx::query_as("SELECT code, name, discount, duration FROM coupons WHERE archived_at IS NULL ORDER BY code").fetch_all(&mut *db).await?;
    let thresholds: Vec<(Decimal, Vec<String>)> =
        sqlx::query_as("SELECT percent, actions FROM thresholds ORDER BY percent")
            .fetch_all(&mut *db)
            .await?;

    let meters = meter_rows
        .into_iter()
        .map(|m| {
            Ok(Meter {
                key: key(&m.key)?,
                name: m.name,
                unit: m.unit,
                aggregation: from_name(&m.aggregation)?,
                reset: from_name::<Reset>(&m.reset)?,
                description: m.description,
                group_by: m.group_by,
                cost_property: m.cost_property,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let features = feature_rows
        .into_iter()
        .map(|f| {
            Ok(Feature {
                key: key(&f.key)?,
                name: f.name,
                kind: f.kind.0,
                description: f.description,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let mut plans = Vec::with_capacity(plan_rows.len());
    for p in plan_rows {
        let plan_prices = prices
            .iter()
            .filter(|r| r.plan_key == p.key)
            .map(|r| {
                Ok(Price {
                    interval: r.interval.parse::<Interval>().map_err(corrupt)?,
                    amount: Money::new(r.amount, Currency::parse(&r.currency).map_err(corrupt)?),
                    per_seat: r.per_seat,
                    seat_pricing: r.seat_pricing.as_ref().map(|j| j.0.clone()),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let plan_features = values
            .iter()
            .filter(|r| r.plan_key == p.key)
            .filter_map(|r| {
                features
                    .iter()
                    .find(|f| f.key.as_str() == r.feature_key)
                    .map(|f| (f, &r.value))
            })
            .map(|(f, v)| {
                Ok((
                    f.key.clone(),
                    FeatureValue::from_json(&f.kind, v).map_err(corrupt)?,
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let plan_limits = limits
            .iter()
            .filter(|r| r.plan_key == p.key)
            .map(|r| {
                Ok((
                    key(&r.meter_key)?,
                    Limit {
                        included: r.included,
                        enforcement: from_name::<Enforcement>(&r.enforcement)?,
                        grace_percent: r.grace_percent,
                        per_seat: r.per_seat,
                    },
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        plans.push(Plan {
            key: key(&p.key)?,
            name: p.name,
            description: p.description,
            audience: from_name::<Audience>(&p.audience)?,
            self_serve: p.self_serve,
            public: p.public,
            trial_days: u32::try_from(p.trial_days).map_err(corrupt)?,
            highlights: p.highlights.0,
            prices: plan_prices,
            features: plan_features,
            limits: plan_limits,
            usage_prices: usage_prices
                .iter()
                .filter(|(plan, _, _)| *plan == p.key)
                .map(|(_, meter, pricing)| Ok((key(meter)?, pricing.0.clone())))
                .collect::<Result<Vec<_>, sqlx::Error>>()?,
        });
    }
    let thresholds = thresholds
        .into_iter()
        .map(|(percent, actions)| {
            let actions = actions
                .iter()
                .map(|a| from_name::<ThresholdAction>(a))
                .collect::<Result<_, _>>()?;
            Ok(Threshold { percent, actions })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Some(Catalog {
        name: key(&info.name)?,
        title: info.title,
        currency: Currency::parse(&info.currency).map_err(corrupt)?,
        theme: info.theme.0,
        thresholds,
        meters,
        features,
        plans,
        faq: info.faq.0,
        coupons: coupon_rows
            .into_iter()
            .map(|(code, name, discount, duration)| {
                Ok(Coupon {
                    code: key(&code)?,
                    name,
                    discount: discount.0,
                    duration: duration.0,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?,
    }))
}

/// Reads a snake_case enum name through its serde form.
fn from_name<T: serde::de::DeserializeOwned>(name: &str) -> Result<T, sqlx::Error> {
    serde_json::from_value(Value::String(name.to_string())).map_err(corrupt)
}

/// Whether `key` names a plan of the active catalog (not archived).
pub async fn plan_exists(db: impl PgExecutor<'_>, key: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM plans WHERE key = $1 AND archived_at IS NULL)")
        .bind(key)
        .fetch_one(db)
        .await
}

// Every enum name stored by `save` must read back through `from_name`.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Aggregation;

    #[test]
    fn enum_names_read_back() {
        for a in [
            Aggregation::Count,
            Aggregation::Sum,
            Aggregation::Max,
            Aggregation::Last,
        ] {
            assert_eq!(
                from_name::<Aggregation>(a.as_str()).expect("test fixture"),
                a
            );
        }
        for a in [
            ThresholdAction::InApp,
            ThresholdAction::Email,
            ThresholdAction::Banner,
            ThresholdAction::UpgradePrompt,
            ThresholdAction::Block,
        ] {
            assert_eq!(
                from_name::<ThresholdAction>(action_name(a)).expect("test fixture"),
                a
            );
        }
    }
}

/// Makes concurrent publishers of catalog versions take turns until the
/// transaction ends (readers are not blocked).
pub async fn lock_versions(db: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("LOCK TABLE catalog_versions IN SHARE ROW EXCLUSIVE MODE")
        .execute(db)
        .await?;
    Ok(())
}

/// Records `text` as the newest catalog version; returns its number.
pub async fn insert_version(
    db: impl PgExecutor<'_>,
    source: &str,
    text: &str,
    created_by: Option<uuid::Uuid>,
    note: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO catalog_versions (source, text, created_by, note) VALUES ($1, $2, $3, $4) RETURNING version")
        .bind(source)
        .bind(text)
        .bind(created_by)
        .bind(note)
        .fetch_one(db)
        .await
}

/// The newest catalog version: its number, source and TOML text.
#[derive(Debug, Clone, FromRow)]
pub struct Version {
    pub version: i64,
    pub source: String,
    pub text: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The live catalog's version, if any was loaded since versions are kept.
pub async fn latest_version(db: impl PgExecutor<'_>) -> Result<Option<Version>, sqlx::Error> {
    sqlx::query_as("SELECT version, source, text, created_at FROM catalog_versions ORDER BY version DESC LIMIT 1").fetch_optional(db).await
}
