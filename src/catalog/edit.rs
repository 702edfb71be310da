//! Edits of a catalog's TOML text for the admin panel (issue 11 §3): a plan's limit,
//! price, feature value or trial, or a usage threshold. The change is written into
//! the live text with `toml_edit` (comments and layout kept), and the result goes
//! through the same loader as a catalog file ([`super::file::parse`]), so a panel
//! edit can never make a catalog the loader would refuse.

use super::value::FeatureValue;
use super::{Catalog, Plan, Price};
use crate::limits::{Enforcement, Limit, ThresholdAction};
use crate::overrides::{parse_enforcement, parse_grace, parse_included};
use crate::period::Interval;
use crate::refusal::{refuse, Refusal};
use rust_decimal::Decimal;
use std::str::FromStr;
use toml_edit::{value, Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

/// One edit of the live catalog, as the admin panel makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// A plan's limit on a meter (applies to current subscribers at once).
    Limit {
        plan: String,
        meter: String,
        limit: Limit,
    },
    /// A plan's price amount on an interval, in major units of the catalog currency
    /// (a base fee when seats are priced by a model). New subscriptions pay it;
    /// current subscribers keep theirs (grandfathered).
    Price {
        plan: String,
        interval: Interval,
        amount: Decimal,
    },
    /// A plan's value of a feature; `None`: not granted (applies at once).
    Feature {
        plan: String,
        feature: String,
        value: Option<FeatureValue>,
    },
    /// A plan's trial length in days, for new subscriptions.
    Trial { plan: String, days: u32 },
    /// The usage threshold at `percent` with these actions; none removes it
    /// (applies at once).
    Threshold {
        percent: Decimal,
        actions: Vec<ThresholdAction>,
    },
}

/// An edit as typed in the panel's forms (every field trimmed here).
#[derive(Debug, Clone, Copy, Default)]
pub struct EditInput<'a> {
    /// `limit`, `price`, `feature`, `trial` or `threshold`.
    pub kind: &'a str,
    /// The plan's key (not used by `threshold`).
    pub plan: &'a str,
    /// The meter (`limit`), interval (`price`: `month`/`year`), feature key
    /// (`feature`) or percent (`threshold`).
    pub target: &'a str,
    /// The included quantity or `unlimited` (`limit`); the amount (`price`); the
    /// feature's value, or `none` (`feature`); the days (`trial`); the actions,
    /// comma-separated, or `none` (`threshold`).
    pub value: &'a str,
    /// `limit` only: `soft` or `hard`, and the grace in percent.
    pub enforcement: &'a str,
    pub grace_percent: &'a str,
}

/// Reads an edit of `catalog` from the form, refusing unknown plans, meters,
/// features and actions and malformed values; what only the whole catalog can
/// judge (grace on a soft limit, an amount with too many decimals) is left to the
/// loader.
///
/// # Errors
/// A [`Refusal`] naming `kind`, `plan`, `target`, `value`, `enforcement` or
/// `grace_percent`.
pub fn parse(catalog: &Catalog, input: &EditInput<'_>) -> Result<Edit, Refusal> {
    let kind = input.kind.trim();
    let target = input.target.trim();
    let raw = input.value.trim();
    if kind == "threshold" {
        let percent = Decimal::from_str(target)
            .ok()
            .filter(|p| *p > Decimal::ZERO && *p <= Decimal::from(1000));
        let percent = percent.ok_or_else(|| {
            refuse(
                "target",
                "Enter the threshold's percent, above 0 and at most 1000.",
            )
        })?;
        return Ok(Edit::Threshold {
            percent: percent.normalize(),
            actions: parse_actions(raw)?,
        });
    }
    let plan = plan_of(catalog, input.plan)?;
    let key = plan.key.to_string();
    match kind {
        "limit" => {
            let meter = catalog
                .meter(target)
                .ok_or_else(|| refuse("target", format!("There is no meter `{target}`.")))?;
            let per_seat = plan.limit(meter.key.as_str()).per_seat;
            let limit = parse_limit(raw, input.enforcement, input.grace_percent, per_seat)
                .map_err(|r| {
                    if r.field == "included" {
                        refuse("value", r.message)
                    } else {
                        r
                    }
                })?;
            Ok(Edit::Limit {
                plan: key,
                meter: meter.key.to_string(),
                limit,
            })
        }
        "price" => {
            let interval: Interval = target
                .parse()
                .map_err(|_| refuse("target", "Choose month or year."))?;
            let amount = Decimal::from_str(raw)
                .ok()
                .filter(|a| !a.is_sign_negative());
            let amount = amount.ok_or_else(|| {
                refuse(
                    "value",
                    format!(
                        "Enter the amount in {} (like 25 or 24.50).",
                        catalog.currency.code()
                    ),
                )
            })?;
            Ok(Edit::Price {
                plan: key,
                interval,
                amount: amount.normalize(),
            })
        }
        "feature" => {
            let feature = catalog
                .feature(target)
                .ok_or_else(|| refuse("target", format!("There is no feature `{target}`.")))?;
            let value = if raw.is_empty() || raw == "none" {
                None
            } else {
                let input = crate::overrides::Input {
                    kind: "feature",
                    key: target,
                    value: raw,
                    ..Default::default()
                };
                match crate::overrides::parse(catalog, &input)? {
                    crate::overrides::Target::Feature { value, .. } => Some(value),
                    crate::overrides::Target::Limit { .. } => {
                        return Err(refuse("target", "That is a meter, not a feature."))
                    }
                }
            };
            Ok(Edit::Feature {
                plan: key,
                feature: feature.key.to_string(),
                value,
            })
        }
        "trial" => {
            let days = raw.parse::<u32>().map_err(|_| {
                refuse(
                    "value",
                    "Enter the trial's length in whole days (0 for none).",
                )
            })?;
            Ok(Edit::Trial { plan: key, days })
        }
        _ => Err(refuse(
            "kind",
            "Choose a limit, price, feature, trial or threshold.",
        )),
    }
}

fn plan_of<'c>(catalog: &'c Catalog, plan: &str) -> Result<&'c Plan, Refusal> {
    let plan = plan.trim();
    catalog
        .plan(plan)
        .ok_or_else(|| refuse("plan", format!("There is no plan `{plan}`.")))
}

/// Threshold actions from `email, banner`; `none` or nothing is no action (the
/// threshold is removed).
fn parse_actions(raw: &str) -> Result<Vec<ThresholdAction>, Refusal> {
    if raw.is_empty() || raw == "none" {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let action: ThresholdAction = serde_json::from_value(serde_json::Value::String(
            name.replace(' ', "_"),
        ))
        .map_err(|_| {
            refuse(
                "value",
                format!(
                    "`{name}` is not an action (in_app, email, banner, upgrade_prompt, block)."
                ),
            )
        })?;
        if !out.contains(&action) {
            out.push(action);
        }
    }
    Ok(out)
}

/// An action's catalog name (`upgrade_prompt`).
pub fn action_name(a: ThresholdAction) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// `text` with `edit` written in.
///
/// # Errors
/// A sentence when `text` is not TOML or lacks the plan (the loader judges the rest).
pub fn apply(text: &str, edit: &Edit) -> Result<String, String> {
    match edit {
        Edit::Limit { plan, meter, limit } => set_limit(text, plan, meter, limit),
        Edit::Price {
            plan,
            interval,
            amount,
        } => edit_plan(text, plan, |t| {
            let prices = sub_table(t, "prices")?;
            match prices
                .get_mut(interval.as_str())
                .and_then(Item::as_table_like_mut)
            {
                Some(price) => {
                    price.insert("amount", value(amount.normalize().to_string()));
                }
                None => {
                    let mut price = InlineTable::new();
                    price.insert("amount", Value::from(amount.normalize().to_string()));
                    prices.insert(interval.as_str(), value(price));
                }
            }
            Ok(())
        }),
        Edit::Feature {
            plan,
            feature,
            value: v,
        } => edit_plan(text, plan, |t| {
            let features = sub_table(t, "features")?;
            match v {
                None => {
                    features.remove(feature);
                }
                Some(v) => {
                    features.insert(feature, value(feature_toml(v)));
                }
            }
            Ok(())
        }),
        Edit::Trial { plan, days } => edit_plan(text, plan, |t| {
            t.insert("trial_days", value(i64::from(*days)));
            Ok(())
        }),
        Edit::Threshold { percent, actions } => set_threshold(text, *percent, actions),
    }
}

/// Runs `f` on plan `plan`'s table of the document `text`.
fn edit_plan(
    text: &str,
    plan: &str,
    f: impl FnOnce(&mut dyn toml_edit::TableLike) -> Result<(), String>,
) -> Result<String, String> {
    let mut doc = text
        .parse::<DocumentMut>()
        .map_err(|e| format!("the live catalog is not valid TOML: {e}"))?;
    let table = doc
        .get_mut("plans")
        .and_then(|p| p.get_mut(plan))
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| format!("the catalog has no plan `{plan}`"))?;
    f(table)?;
    Ok(doc.to_string())
}

/// The plan's sub-table `name` (`prices`, `features`), made when missing.
fn sub_table<'t>(
    plan: &'t mut dyn toml_edit::TableLike,
    name: &str,
) -> Result<&'t mut dyn toml_edit::TableLike, String> {
    if plan.get(name).is_none() {
        plan.insert(name, Item::Table(Table::new()));
    }
    plan.get_mut(name)
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| format!("`{name}` is not a table"))
}

/// A feature value as the catalog file writes it.
fn feature_toml(v: &FeatureValue) -> Value {
    match v {
        FeatureValue::Bool(b) => Value::from(*b),
        FeatureValue::Number(None) => Value::from("unlimited"),
        FeatureValue::Number(Some(n)) => number(*n),
        FeatureValue::Text(s) => Value::from(s.as_str()),
    }
}

/// `text` with the threshold at `percent` given `actions` (added when missing),
/// or removed when `actions` is empty.
fn set_threshold(
    text: &str,
    percent: Decimal,
    actions: &[ThresholdAction],
) -> Result<String, String> {
    let mut doc = text
        .parse::<DocumentMut>()
        .map_err(|e| format!("the live catalog is not valid TOML: {e}"))?;
    if doc.get("thresholds").is_none() {
        doc.insert("thresholds", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    let list = doc
        .get_mut("thresholds")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or("`thresholds` is not a list of tables")?;
    let at = |t: &Table| {
        t.get("percent")
            .and_then(Item::as_value)
            .and_then(|v| match v {
                Value::Integer(i) => Some(Decimal::from(*i.value())),
                Value::String(s) => Decimal::from_str(s.value()).ok(),
                _ => None,
            })
            == Some(percent)
    };
    let found = list.iter().position(at);
    let mut names = Array::new();
    for a in actions {
        names.push(action_name(*a));
    }
    match (found, actions.is_empty()) {
        (Some(i), true) => list.remove(i),
        (Some(i), false) => {
            if let Some(t) = list.get_mut(i) {
                t.insert("actions", value(names));
            }
        }
        (None, true) => return Err(format!("there is no threshold at {percent} %")),
        (None, false) => {
            let mut t = Table::new();
            t.insert("percent", value(number(percent)));
            t.insert("actions", value(names));
            list.push(t);
        }
    }
    Ok(doc.to_string())
}

/// Reads a limit from the form with the override form's field parsers
/// ([`crate::overrides::parse_included`] and the others): `included` required,
/// `enforcement` soft unless given, `grace_percent` 0 unless given (hard limits
/// only; the loader judges the combinations). `per_seat` is kept from the plan's
/// current limit.
///
/// # Errors
/// A [`Refusal`] naming `included`, `enforcement` or `grace_percent`.
pub fn parse_limit(
    included: &str,
    enforcement: &str,
    grace_percent: &str,
    per_seat: bool,
) -> Result<Limit, Refusal> {
    let included = parse_included(included)?
        .ok_or_else(|| refuse("included", "Enter a quantity (like 1000) or `unlimited`."))?;
    let enforcement = parse_enforcement(enforcement)?.unwrap_or(Enforcement::Soft);
    let grace_percent = parse_grace(grace_percent)?.unwrap_or(Decimal::ZERO);
    Ok(Limit {
        included,
        enforcement,
        grace_percent,
        per_seat,
    })
}

/// A decimal as TOML: an integer when whole, else a string (the loader refuses
/// floats, which would not be read exactly).
fn number(d: Decimal) -> Value {
    let d = d.normalize();
    match i64::from_str(&d.to_string()) {
        Ok(i) => Value::from(i),
        Err(_) => Value::from(d.to_string()),
    }
}

/// `text` with plan `plan`'s limit on `meter` set to `limit`
/// (`[plans.<plan>.limits] <meter> = { included = …, enforcement = …, … }`).
///
/// # Errors
/// A sentence when `text` is not TOML or has no such plan.
pub fn set_limit(text: &str, plan: &str, meter: &str, limit: &Limit) -> Result<String, String> {
    let mut doc = text
        .parse::<DocumentMut>()
        .map_err(|e| format!("the live catalog is not valid TOML: {e}"))?;
    let plan_table = doc
        .get_mut("plans")
        .and_then(|p| p.get_mut(plan))
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| format!("the catalog has no plan `{plan}`"))?;
    if plan_table.get("limits").is_none() {
        plan_table.insert("limits", Item::Table(Table::new()));
    }
    let limits = plan_table
        .get_mut("limits")
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| format!("plans.{plan}.limits is not a table"))?;
    let mut entry = InlineTable::new();
    entry.insert(
        "included",
        limit
            .included
            .map_or_else(|| Value::from("unlimited"), number),
    );
    entry.insert(
        "enforcement",
        Value::from(if limit.enforcement == Enforcement::Hard {
            "hard"
        } else {
            "soft"
        }),
    );
    if !limit.grace_percent.is_zero() {
        entry.insert("grace_percent", number(limit.grace_percent));
    }
    if limit.per_seat {
        entry.insert("per_seat", Value::from(true));
    }
    limits.insert(meter, value(entry));
    Ok(doc.to_string())
}

/// A limit in words: `1,000 soft`, `50 hard (+10 % grace)`, `unlimited`, `…per seat`.
pub fn describe(l: &Limit) -> String {
    let mut s = match l.included {
        None => "unlimited".to_string(),
        Some(n) => format!(
            "{} {}",
            n.normalize(),
            if l.enforcement == Enforcement::Hard {
                "hard"
            } else {
                "soft"
            }
        ),
    };
    if !l.grace_percent.is_zero() {
        s.push_str(&format!(" (+{} % grace)", l.grace_percent.normalize()));
    }
    if l.per_seat {
        s.push_str(" per seat");
    }
    s
}

/// A price in words: `$19.00/month`, `$39.00/month per seat`, with `+ seats by
/// tiers` when seats are priced by a model.
pub fn describe_price(p: &Price) -> String {
    let seats = if p.seat_pricing.is_some() {
        " + seats by tiers"
    } else if p.per_seat {
        " per seat"
    } else {
        ""
    };
    format!("{}/{}{seats}", p.amount.display(), p.interval)
}

fn feature_words(v: Option<&FeatureValue>) -> String {
    match v {
        None => "not granted".into(),
        Some(FeatureValue::Bool(b)) => if *b { "yes" } else { "no" }.into(),
        Some(FeatureValue::Number(None)) => "unlimited".into(),
        Some(FeatureValue::Number(Some(n))) => n.normalize().to_string(),
        Some(FeatureValue::Text(s)) => s.clone(),
    }
}

/// Every plan limit, price, feature value and trial, and every usage threshold,
/// that differs between `old` and `new`, in words
/// (`Starter · Queries: 500 soft → 1000 soft`, `Starter · price: $19.00/month → $25.00/month`).
pub fn changes(old: &Catalog, new: &Catalog) -> Vec<String> {
    let mut out = Vec::new();
    for plan in &new.plans {
        let before = old.plan(plan.key.as_str());
        for interval in [Interval::Month, Interval::Year] {
            let (was, now) = (before.and_then(|p| p.price(interval)), plan.price(interval));
            if was != now {
                let words = |p: Option<&Price>| p.map_or_else(|| "—".to_string(), describe_price);
                out.push(format!(
                    "{} · {} price: {} → {}",
                    plan.name,
                    if interval == Interval::Month {
                        "monthly"
                    } else {
                        "yearly"
                    },
                    words(was),
                    words(now)
                ));
            }
        }
        if before.map(|p| p.trial_days) != Some(plan.trial_days) {
            let words = |d: Option<u32>| {
                d.map_or_else(
                    || "—".to_string(),
                    |d| {
                        if d == 0 {
                            "none".to_string()
                        } else {
                            format!("{d} days")
                        }
                    },
                )
            };
            out.push(format!(
                "{} · trial: {} → {}",
                plan.name,
                words(before.map(|p| p.trial_days)),
                words(Some(plan.trial_days))
            ));
        }
        for feature in &new.features {
            let (was, now) = (
                before.and_then(|p| p.feature(feature.key.as_str())),
                plan.feature(feature.key.as_str()),
            );
            if was != now {
                out.push(format!(
                    "{} · {}: {} → {}",
                    plan.name,
                    feature.name,
                    feature_words(was),
                    feature_words(now)
                ));
            }
        }
        for meter in &new.meters {
            let after = plan.limit(meter.key.as_str());
            let was = before.map(|p| p.limit(meter.key.as_str()));
            if was.as_ref() != Some(&after) {
                out.push(format!(
                    "{} · {}: {} → {}",
                    plan.name,
                    meter.name,
                    was.as_ref().map_or("—".into(), describe),
                    describe(&after)
                ));
            }
        }
    }
    let words = |t: Option<&crate::limits::Threshold>| {
        t.map_or_else(
            || "—".to_string(),
            |t| {
                t.actions
                    .iter()
                    .map(|a| action_name(*a).replace('_', " "))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        )
    };
    let mut percents: Vec<Decimal> = old
        .thresholds
        .iter()
        .chain(&new.thresholds)
        .map(|t| t.percent.normalize())
        .collect();
    percents.sort();
    percents.dedup();
    for p in percents {
        let (was, now) = (
            old.thresholds.iter().find(|t| t.percent == p),
            new.thresholds.iter().find(|t| t.percent == p),
        );
        if was != now {
            out.push(format!("Threshold {p} %: {} → {}", words(was), words(now)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::file::parse;

    const EMTCHAT: &str = include_str!("../../catalogs/emtchat.toml");

    #[test]
    fn a_limit_edit_loads_and_changes_only_that_limit() {
        let old = parse("emtchat.toml", EMTCHAT).unwrap();
        let limit = parse_limit("1000", "soft", "", false).unwrap();
        let text = set_limit(EMTCHAT, "starter", "queries", &limit).unwrap();
        let new = parse("emtchat.toml", &text).unwrap();
        assert_eq!(
            new.plan("starter").unwrap().limit("queries").included,
            Some(Decimal::from(1000))
        );
        assert_eq!(
            changes(&old, &new),
            vec!["Starter · Queries: 500 soft → 1000 soft".to_string()]
        );
        assert!(text.contains("# "), "comments are kept");
        // Exported again, the edited text loads to the same catalog.
        assert_eq!(parse("emtchat.toml", &text).unwrap(), new);
    }

    #[test]
    fn hard_limits_with_grace_and_unlimited_round_trip() {
        for (included, enforcement, grace) in [
            ("75", "hard", "10"),
            ("unlimited", "soft", ""),
            ("2.5", "soft", ""),
        ] {
            let limit = parse_limit(included, enforcement, grace, false).unwrap();
            let text = set_limit(EMTCHAT, "free", "queries", &limit).unwrap();
            assert_eq!(
                parse("emtchat.toml", &text)
                    .unwrap()
                    .plan("free")
                    .unwrap()
                    .limit("queries"),
                limit,
                "{included} {enforcement} {grace}"
            );
        }
    }

    #[test]
    fn bad_values_name_their_field_and_the_loader_judges_combinations() {
        assert_eq!(
            parse_limit("lots", "soft", "", false).unwrap_err().field,
            "included"
        );
        assert_eq!(
            parse_limit("-1", "soft", "", false).unwrap_err().field,
            "included"
        );
        assert_eq!(
            parse_limit("5", "firm", "", false).unwrap_err().field,
            "enforcement"
        );
        assert_eq!(
            parse_limit("5", "hard", "x", false).unwrap_err().field,
            "grace_percent"
        );
        // Grace on a soft limit: written, then refused by the loader as a file would be.
        let text = set_limit(
            EMTCHAT,
            "starter",
            "queries",
            &parse_limit("5", "soft", "10", false).unwrap(),
        )
        .unwrap();
        assert!(parse("emtchat.toml", &text).is_err());
        assert!(set_limit(
            EMTCHAT,
            "platinum",
            "queries",
            &parse_limit("5", "soft", "", false).unwrap()
        )
        .is_err());
    }
}
