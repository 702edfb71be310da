//! Edits of a catalog's TOML text for the admin panel (issue 11 §3): the change is
//! written into the live text with `toml_edit` (comments and layout kept), and the
//! result goes through the same loader as a catalog file ([`super::file::parse`]),
//! so a panel edit can never make a catalog the loader would refuse.

use super::Catalog;
use crate::overrides::{parse_enforcement, parse_grace, parse_included};
use crate::refusal::{refuse, Refusal};
use crate::limits::{Enforcement, Limit};
use rust_decimal::Decimal;
use std::str::FromStr;
use toml_edit::{value, DocumentMut, InlineTable, Item, Table, Value};


/// Reads a limit from the form with the override form's field parsers
/// ([`crate::overrides::parse_included`] and the others): `included` required,
/// `enforcement` soft unless given, `grace_percent` 0 unless given (hard limits
/// only; the loader judges the combinations). `per_seat` is kept from the plan's
/// current limit.
///
/// # Errors
/// A [`Refusal`] naming `included`, `enforcement` or `grace_percent`.
pub fn parse_limit(included: &str, enforcement: &str, grace_percent: &str, per_seat: bool) -> Result<Limit, Refusal> {
    let included = parse_included(included)?.ok_or_else(|| refuse("included", "Enter a quantity (like 1000) or `unlimited`."))?;
    let enforcement = parse_enforcement(enforcement)?.unwrap_or(Enforcement::Soft);
    let grace_percent = parse_grace(grace_percent)?.unwrap_or(Decimal::ZERO);
    Ok(Limit { included, enforcement, grace_percent, per_seat })
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
    let mut doc = text.parse::<DocumentMut>().map_err(|e| format!("the live catalog is not valid TOML: {e}"))?;
    let plan_table = doc
        .get_mut("plans")
        .and_then(|p| p.get_mut(plan))
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| format!("the catalog has no plan `{plan}`"))?;
    if plan_table.get("limits").is_none() {
        plan_table.insert("limits", Item::Table(Table::new()));
    }
    let limits = plan_table.get_mut("limits").and_then(Item::as_table_like_mut).ok_or_else(|| format!("plans.{plan}.limits is not a table"))?;
    let mut entry = InlineTable::new();
    entry.insert("included", limit.included.map_or_else(|| Value::from("unlimited"), number));
    entry.insert("enforcement", Value::from(if limit.enforcement == Enforcement::Hard { "hard" } else { "soft" }));
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
        Some(n) => format!("{} {}", n.normalize(), if l.enforcement == Enforcement::Hard { "hard" } else { "soft" }),
    };
    if !l.grace_percent.is_zero() {
        s.push_str(&format!(" (+{} % grace)", l.grace_percent.normalize()));
    }
    if l.per_seat {
        s.push_str(" per seat");
    }
    s
}

/// Every plan limit that differs between `old` and `new`, as
/// `Plan name · Meter name: old → new`.
pub fn limit_changes(old: &Catalog, new: &Catalog) -> Vec<String> {
    let mut out = Vec::new();
    for plan in &new.plans {
        let before = old.plan(plan.key.as_str());
        for meter in &new.meters {
            let after = plan.limit(meter.key.as_str());
            let was = before.map(|p| p.limit(meter.key.as_str()));
            if was.as_ref() != Some(&after) {
                out.push(format!("{} · {}: {} → {}", plan.name, meter.name, was.as_ref().map_or("—".into(), describe), describe(&after)));
            }
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
        assert_eq!(new.plan("starter").unwrap().limit("queries").included, Some(Decimal::from(1000)));
        assert_eq!(limit_changes(&old, &new), vec!["Starter · Queries: 500 soft → 1000 soft".to_string()]);
        assert!(text.contains("# "), "comments are kept");
        // Exported again, the edited text loads to the same catalog.
        assert_eq!(parse("emtchat.toml", &text).unwrap(), new);
    }

    #[test]
    fn hard_limits_with_grace_and_unlimited_round_trip() {
        for (included, enforcement, grace) in [("75", "hard", "10"), ("unlimited", "soft", ""), ("2.5", "soft", "")] {
            let limit = parse_limit(included, enforcement, grace, false).unwrap();
            let text = set_limit(EMTCHAT, "free", "queries", &limit).unwrap();
            assert_eq!(parse("emtchat.toml", &text).unwrap().plan("free").unwrap().limit("queries"), limit, "{included} {enforcement} {grace}");
        }
    }

    #[test]
    fn bad_values_name_their_field_and_the_loader_judges_combinations() {
        assert_eq!(parse_limit("lots", "soft", "", false).unwrap_err().field, "included");
        assert_eq!(parse_limit("-1", "soft", "", false).unwrap_err().field, "included");
        assert_eq!(parse_limit("5", "firm", "", false).unwrap_err().field, "enforcement");
        assert_eq!(parse_limit("5", "hard", "x", false).unwrap_err().field, "grace_percent");
        // Grace on a soft limit: written, then refused by the loader as a file would be.
        let text = set_limit(EMTCHAT, "starter", "queries", &parse_limit("5", "soft", "10", false).unwrap()).unwrap();
        assert!(parse("emtchat.toml", &text).is_err());
        assert!(set_limit(EMTCHAT, "platinum", "queries", &parse_limit("5", "soft", "", false).unwrap()).is_err());
    }
}
