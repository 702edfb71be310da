//! Entitlement overrides: an account's own value for a meter's limit or a
//! feature, winning over its plan's (PRODUCT.md "Entitlement override"; seed 002's
//! enterprise deals, seed 001's `llm_provider` per client). Each has a reason, an
//! author and an optional expiry; an expired one no longer applies and the plan's
//! value is back.
//!
//! An override changes what the plan gives; it gives nothing to an account that no
//! plan entitles (no subscription, or one past its grace): the paywall still
//! applies there.

use crate::catalog::FeatureValue;
use crate::limits::{Enforcement, Limit};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What a limit override changes; each `None` keeps the plan's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitOverride {
    /// The included quantity per period for the whole account (not per seat):
    /// `Some(None)` is unlimited.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub included: Option<Option<Decimal>>,
    pub enforcement: Option<Enforcement>,
    /// Grace past a hard limit, in percent (0–1000).
    pub grace_percent: Option<Decimal>,
}

impl LimitOverride {
    /// The plan's `limit` with this override applied. An overridden quantity is the
    /// account's total, so it is no longer multiplied by seats.
    pub fn apply(&self, limit: &Limit) -> Limit {
        let mut l = limit.clone();
        if let Some(included) = self.included {
            l.included = included;
            l.per_seat = false;
        }
        if let Some(e) = self.enforcement {
            l.enforcement = e;
        }
        if let Some(g) = self.grace_percent {
            l.grace_percent = g;
        }
        l
    }

    /// Whether it changes anything at all.
    pub fn is_empty(&self) -> bool {
        self.included.is_none() && self.enforcement.is_none() && self.grace_percent.is_none()
    }
}

/// What is overridden: a meter's limit or a feature's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    Limit {
        meter: String,
        value: LimitOverride,
    },
    Feature {
        feature: String,
        value: FeatureValue,
    },
}

impl Target {
    /// `limit` or `feature`, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Limit { .. } => "limit",
            Target::Feature { .. } => "feature",
        }
    }

    /// The meter or feature key.
    pub fn key(&self) -> &str {
        match self {
            Target::Limit { meter, .. } => meter,
            Target::Feature { feature, .. } => feature,
        }
    }
}

/// One override with its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub target: Target,
    /// Why (the deal, the ticket), 1–500 characters.
    pub reason: String,
    /// Who set it (a user's e-mail, or `cli`).
    pub author: String,
    pub created_at: DateTime<Utc>,
    /// When it stops applying (UTC, exclusive); `None`: until removed.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Override {
    /// Whether it applies at `t`.
    pub fn active_at(&self, t: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|e| t < e)
    }
}

/// An account's overrides in force (at most one per meter and one per feature).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overrides {
    pub entries: Vec<Override>,
}

/// No overrides.
pub static NONE: Overrides = Overrides {
    entries: Vec::new(),
};

impl Overrides {
    /// Those of them in force at `t` (see [`Override::active_at`]).
    pub fn at(&self, t: DateTime<Utc>) -> Overrides {
        Overrides {
            entries: self
                .entries
                .iter()
                .filter(|o| o.active_at(t))
                .cloned()
                .collect(),
        }
    }

    /// The plan's `limit` on `meter` with the account's override applied.
    pub fn limit(&self, meter: &str, limit: &Limit) -> Limit {
        self.entries
            .iter()
            .find_map(|o| match &o.target {
                Target::Limit { meter: m, value } if m == meter => Some(value.apply(limit)),
                _ => None,
            })
            .unwrap_or_else(|| limit.clone())
    }

    /// The plan's value of `feature` (`None`: the plan lacks it), or the account's.
    pub fn feature(
        &self,
        feature: &str,
        plan_value: Option<&FeatureValue>,
    ) -> Option<FeatureValue> {
        self.entries
            .iter()
            .find_map(|o| match &o.target {
                Target::Feature { feature: f, value } if f == feature => Some(value.clone()),
                _ => None,
            })
            .or_else(|| plan_value.cloned())
    }
}

/// An override as typed into a form or on the command line: every field a string,
/// empty when left out.
#[derive(Debug, Clone, Default)]
pub struct Input<'a> {
    /// `limit` or `feature`.
    pub kind: &'a str,
    /// The meter's or feature's key.
    pub key: &'a str,
    /// Limit: included quantity, a decimal ≥ 0 or `unlimited`.
    pub included: &'a str,
    /// Limit: `soft` or `hard`.
    pub enforcement: &'a str,
    /// Limit: grace in percent, 0–1000.
    pub grace_percent: &'a str,
    /// Feature: `true`/`false`, a number or `unlimited`, or one of the enum's values.
    pub value: &'a str,
}

/// The expiry (exclusive, UTC) of an override whose last day is `last_day`: the
/// next day's midnight UTC. `None` only past chrono's last date.
pub fn expiry_after(last_day: chrono::NaiveDate) -> Option<DateTime<Utc>> {
    Some(last_day.succ_opt()?.and_hms_opt(0, 0, 0)?.and_utc())
}

use crate::refusal::refuse;
pub use crate::refusal::Refusal;

/// Reads a typed included quantity: empty is `None` (not given), `unlimited` is
/// `Some(None)`, else a decimal ≥ 0.
///
/// # Errors
/// A [`Refusal`] of `included`.
pub fn parse_included(s: &str) -> Result<Option<Option<Decimal>>, Refusal> {
    match s.trim() {
        "" => Ok(None),
        s if s.eq_ignore_ascii_case("unlimited") => Ok(Some(None)),
        s => {
            let q: Decimal = s
                .parse()
                .map_err(|_| refuse("included", "Enter a quantity (like 1000) or `unlimited`."))?;
            if q.is_sign_negative() {
                return Err(refuse(
                    "included",
                    "The included quantity cannot be negative.",
                ));
            }
            Ok(Some(Some(q)))
        }
    }
}

/// Reads a typed enforcement: empty is `None`, else `soft` or `hard`.
///
/// # Errors
/// A [`Refusal`] of `enforcement`.
pub fn parse_enforcement(s: &str) -> Result<Option<Enforcement>, Refusal> {
    match s.trim() {
        "" => Ok(None),
        "soft" => Ok(Some(Enforcement::Soft)),
        "hard" => Ok(Some(Enforcement::Hard)),
        _ => Err(refuse("enforcement", "Choose soft or hard.")),
    }
}

/// Reads a typed grace: empty is `None`, else a percentage from 0 to 1000.
///
/// # Errors
/// A [`Refusal`] of `grace_percent`.
pub fn parse_grace(s: &str) -> Result<Option<Decimal>, Refusal> {
    match s.trim() {
        "" => Ok(None),
        s => {
            let g: Decimal = s
                .parse()
                .map_err(|_| refuse("grace_percent", "Enter a percentage from 0 to 1000."))?;
            if g.is_sign_negative() || g > Decimal::from(1000) {
                return Err(refuse(
                    "grace_percent",
                    "Enter a percentage from 0 to 1000.",
                ));
            }
            Ok(Some(g))
        }
    }
}

/// Parses an override of `catalog`'s meter or feature, refusing unknown keys,
/// values of the wrong kind (an enum value the feature does not list, a negative
/// quantity) and a limit override that changes nothing.
///
/// # Errors
/// A [`Refusal`] naming the field.
pub fn parse(catalog: &crate::catalog::Catalog, input: &Input<'_>) -> Result<Target, Refusal> {
    let key = input.key.trim();
    match input.kind.trim() {
        "limit" => {
            let meter = catalog
                .meter(key)
                .ok_or_else(|| refuse("key", format!("There is no meter `{key}`.")))?;
            let included = parse_included(input.included)?;
            let enforcement = parse_enforcement(input.enforcement)?;
            let grace_percent = parse_grace(input.grace_percent)?;
            let value = LimitOverride {
                included,
                enforcement,
                grace_percent,
            };
            if value.is_empty() {
                return Err(refuse(
                    "included",
                    "Set the included quantity, the enforcement or the grace.",
                ));
            }
            Ok(Target::Limit {
                meter: meter.key.to_string(),
                value,
            })
        }
        "feature" => {
            let feature = catalog
                .features
                .iter()
                .find(|f| f.key.as_str() == key)
                .ok_or_else(|| refuse("key", format!("There is no feature `{key}`.")))?;
            let raw = input.value.trim();
            let json = match (&feature.kind, raw) {
                (_, "") => return Err(refuse("value", "Enter the value.")),
                (crate::catalog::FeatureKind::Boolean, "true" | "false") => {
                    serde_json::Value::Bool(raw == "true")
                }
                (crate::catalog::FeatureKind::Enum { .. }, _) => {
                    serde_json::Value::String(raw.to_string())
                }
                (_, _) => serde_json::Value::String(raw.to_string()),
            };
            let value = FeatureValue::from_json(&feature.kind, &json)
                .map_err(|e| refuse("value", format!("`{raw}`: {e}.")))?;
            Ok(Target::Feature {
                feature: feature.key.to_string(),
                value,
            })
        }
        _ => Err(refuse("kind", "Choose a limit or a feature.")),
    }
}

/// `Option<Option<T>>` in JSON: absent is `None`, `null` is `Some(None)`.
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            None => s.serialize_unit(),
            Some(inner) => inner.serialize(s),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    fn plan_limit() -> Limit {
        Limit {
            included: Some(d("100")),
            enforcement: Enforcement::Hard,
            grace_percent: d("10"),
            per_seat: true,
        }
    }

    fn entry(target: Target, expires_at: Option<&str>) -> Override {
        Override {
            target,
            reason: "deal".into(),
            author: "cli".into(),
            created_at: "2026-01-01T00:00:00Z".parse().expect("time"),
            expires_at: expires_at.map(|e| e.parse().expect("time")),
        }
    }

    #[test]
    fn a_limit_override_replaces_only_what_it_names() {
        let raise = LimitOverride {
            included: Some(Some(d("1000"))),
            enforcement: None,
            grace_percent: None,
        };
        let o = Overrides {
            entries: vec![entry(
                Target::Limit {
                    meter: "queries".into(),
                    value: raise,
                },
                None,
            )],
        };
        let l = o.limit("queries", &plan_limit());
        assert_eq!(
            (l.included, l.enforcement, l.grace_percent, l.per_seat),
            (Some(d("1000")), Enforcement::Hard, d("10"), false)
        );
        // 1000 for the account, whatever its seats; 10 % grace still applies.
        assert_eq!(l.resolve(5).blocks_at, Some(d("1100")));
        assert_eq!(
            o.limit("documents", &plan_limit()),
            plan_limit(),
            "other meters keep the plan's"
        );
        let soft = LimitOverride {
            included: Some(None),
            enforcement: Some(Enforcement::Soft),
            grace_percent: Some(Decimal::ZERO),
        };
        let l = soft.apply(&plan_limit());
        assert_eq!(l.resolve(1).included, None, "unlimited");
        assert_eq!(l.enforcement, Enforcement::Soft);
    }

    #[test]
    fn a_feature_override_wins_over_the_plan_and_fills_what_it_lacks() {
        let o = Overrides {
            entries: vec![entry(
                Target::Feature {
                    feature: "llm_provider".into(),
                    value: FeatureValue::Text("openai".into()),
                },
                None,
            )],
        };
        assert_eq!(
            o.feature("llm_provider", Some(&FeatureValue::Text("claude".into()))),
            Some(FeatureValue::Text("openai".into()))
        );
        assert_eq!(
            o.feature("llm_provider", None),
            Some(FeatureValue::Text("openai".into()))
        );
        assert_eq!(
            o.feature("sso_enabled", Some(&FeatureValue::Bool(false))),
            Some(FeatureValue::Bool(false))
        );
        assert_eq!(NONE.feature("sso_enabled", None), None);
    }

    #[test]
    fn typed_overrides_parse_or_say_why_not() {
        let catalog = crate::catalog::file::parse(
            "c.toml",
            include_str!("../catalogs/chatbot-platform.toml"),
        )
        .expect("catalog");
        let meter = catalog.meters[0].key.to_string();
        let limit = |included, enforcement, grace| {
            parse(
                &catalog,
                &Input {
                    kind: "limit",
                    key: &meter,
                    included,
                    enforcement,
                    grace_percent: grace,
                    value: "",
                },
            )
        };
        assert!(matches!(
            limit("1000", "", ""),
            Ok(Target::Limit {
                value: LimitOverride {
                    included: Some(Some(_)),
                    enforcement: None,
                    grace_percent: None
                },
                ..
            })
        ));
        assert!(matches!(
            limit("unlimited", "soft", "0"),
            Ok(Target::Limit {
                value: LimitOverride {
                    included: Some(None),
                    ..
                },
                ..
            })
        ));
        assert_eq!(limit("-1", "", "").map_err(|r| r.field), Err("included"));
        assert_eq!(
            limit("", "", "").map_err(|r| r.field),
            Err("included"),
            "an override that changes nothing"
        );
        assert_eq!(
            limit("", "strict", "").map_err(|r| r.field),
            Err("enforcement")
        );
        assert_eq!(
            limit("", "", "1001").map_err(|r| r.field),
            Err("grace_percent")
        );
        let feature = |key, value| {
            parse(
                &catalog,
                &Input {
                    kind: "feature",
                    key,
                    value,
                    ..Input::default()
                },
            )
        };
        assert_eq!(
            feature("llm_provider", "openai"),
            Ok(Target::Feature {
                feature: "llm_provider".into(),
                value: FeatureValue::Text("openai".into())
            })
        );
        assert_eq!(
            feature("llm_provider", "gpt-9").map_err(|r| r.field),
            Err("value")
        );
        assert_eq!(feature("nope", "x").map_err(|r| r.field), Err("key"));
        assert_eq!(
            parse(
                &catalog,
                &Input {
                    kind: "plan",
                    ..Input::default()
                }
            )
            .map_err(|r| r.field),
            Err("kind")
        );
    }

    #[test]
    fn expiry_is_exclusive() {
        let e = entry(
            Target::Feature {
                feature: "x".into(),
                value: FeatureValue::Bool(true),
            },
            Some("2026-02-01T00:00:00Z"),
        );
        assert!(e.active_at("2026-01-31T23:59:59Z".parse().expect("time")));
        assert!(!e.active_at("2026-02-01T00:00:00Z".parse().expect("time")));
    }

    #[test]
    fn limit_overrides_round_trip_through_json() {
        for v in [
            LimitOverride {
                included: Some(None),
                enforcement: None,
                grace_percent: None,
            },
            LimitOverride {
                included: Some(Some(d("1000"))),
                enforcement: Some(Enforcement::Soft),
                grace_percent: Some(d("5")),
            },
            LimitOverride {
                included: None,
                enforcement: Some(Enforcement::Hard),
                grace_percent: None,
            },
        ] {
            let t = Target::Limit {
                meter: "queries".into(),
                value: v,
            };
            let json = serde_json::to_value(&t).expect("json");
            assert_eq!(
                serde_json::from_value::<Target>(json.clone()).expect("parse"),
                t,
                "{json}"
            );
        }
    }
}
