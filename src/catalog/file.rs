//! The catalog file: TOML as in `catalogs/*.toml`, parsed into a validated
//! [`Catalog`]. A bad file is refused as a whole, with the file, each bad entry and
//! the reason (`catalogs/x.toml: plans.free.limits.querys: no meter "querys"`).
//!
//! Money and fractional quantities are written as strings (`amount = "49.99"`) so
//! nothing passes through floating point; whole numbers may be plain integers.

mod pricing;

use super::value::parse_limit_number;
use super::*;
use crate::limits::{Enforcement, ThresholdAction};
use indexmap::IndexMap;
use rust_decimal::Decimal;
use std::collections::{BTreeSet, HashSet};
use std::fmt;

/// One problem in a catalog file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Dotted path of the entry (`plans.free.limits.queries`), or empty for the file.
    pub entry: String,
    /// Why it is refused.
    pub reason: String,
}

/// A refused catalog file and everything wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FileError {
    /// The file's path as given.
    pub file: String,
    /// The problems, in file order.
    pub issues: Vec<Issue>,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "catalog {} refused ({} problem{}):",
            self.file,
            self.issues.len(),
            if self.issues.len() == 1 { "" } else { "s" }
        )?;
        for i in &self.issues {
            if i.entry.is_empty() {
                writeln!(f, "  {}: {}", self.file, i.reason)?;
            } else {
                writeln!(f, "  {}: {}: {}", self.file, i.entry, i.reason)?;
            }
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    catalog: RawHeader,
    #[serde(default)]
    thresholds: Vec<RawThreshold>,
    #[serde(default)]
    meters: IndexMap<String, RawMeter>,
    #[serde(default)]
    features: IndexMap<String, RawFeature>,
    #[serde(default)]
    plans: IndexMap<String, RawPlan>,
    #[serde(default)]
    faq: Vec<Faq>,
    #[serde(default)]
    coupons: IndexMap<String, pricing::RawCoupon>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: String,
    title: String,
    currency: String,
    #[serde(default)]
    theme: Option<RawTheme>,
}

/// `[catalog.theme]`: each value optional (the default theme's otherwise).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    accent_color: Option<String>,
    background_color: Option<String>,
    text_color: Option<String>,
    font_family: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThreshold {
    percent: toml::Value,
    actions: Vec<ThresholdAction>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeter {
    name: String,
    unit: String,
    aggregation: Aggregation,
    #[serde(default = "default_reset")]
    reset: Reset,
    #[serde(default)]
    description: String,
    #[serde(default)]
    group_by: Vec<String>,
    #[serde(default)]
    cost_property: Option<String>,
}

fn default_reset() -> Reset {
    Reset::BillingPeriod
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeature {
    name: String,
    kind: String,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    values: Vec<String>,
    #[serde(default)]
    per: Option<RateWindow>,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    name: String,
    #[serde(default)]
    description: String,
    audience: Audience,
    #[serde(default = "yes")]
    self_serve: bool,
    #[serde(default = "yes")]
    public: bool,
    #[serde(default)]
    trial_days: u32,
    #[serde(default)]
    highlights: Vec<String>,
    #[serde(default)]
    prices: IndexMap<String, RawPrice>,
    #[serde(default)]
    features: IndexMap<String, toml::Value>,
    #[serde(default)]
    limits: IndexMap<String, RawLimit>,
    #[serde(default)]
    usage_prices: IndexMap<String, pricing::RawPricing>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrice {
    amount: toml::Value,
    #[serde(default)]
    per_seat: bool,
    #[serde(default)]
    seats: Option<pricing::RawPricing>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimit {
    included: toml::Value,
    #[serde(default = "soft")]
    enforcement: Enforcement,
    #[serde(default)]
    grace_percent: Option<toml::Value>,
    #[serde(default)]
    per_seat: bool,
}

fn soft() -> Enforcement {
    Enforcement::Soft
}

/// Longest trial a plan may offer, in days.
pub const MAX_TRIAL_DAYS: u32 = 365;

/// Parses and validates catalog TOML. `file` names the source in errors.
///
/// # Errors
/// [`FileError`] listing every problem found; nothing is returned partially.
pub fn parse(file: &str, text: &str) -> Result<Catalog, FileError> {
    let raw: RawFile =
        serde_path_to_error::deserialize(toml::Deserializer::new(text)).map_err(|e| {
            let entry = e.path().to_string();
            let inner = e.into_inner();
            let mut reason = inner.message().to_string();
            if let Some(span) = inner.span() {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                reason = format!("{reason} (line {line})");
            }
            FileError {
                file: file.into(),
                issues: vec![Issue {
                    entry: if entry == "." { String::new() } else { entry },
                    reason,
                }],
            }
        })?;
    let mut v = Validator::default();
    let catalog = v.catalog(raw);
    if v.issues.is_empty() {
        Ok(catalog)
    } else {
        Err(FileError {
            file: file.into(),
            issues: v.issues,
        })
    }
}

#[derive(Default)]
struct Validator {
    issues: Vec<Issue>,
}

impl Validator {
    fn issue(&mut self, entry: impl Into<String>, reason: impl Into<String>) {
        self.issues.push(Issue {
            entry: entry.into(),
            reason: reason.into(),
        });
    }

    fn key(&mut self, entry: &str, s: &str) -> Key {
        Key::parse(s).unwrap_or_else(|e| {
            self.issue(entry, e.to_string());
            Key::parse("invalid").unwrap_or_else(|_| unreachable!("`invalid` is a valid key"))
        })
    }

    fn text(&mut self, entry: &str, s: String) -> String {
        let s = s.trim().to_string();
        if s.is_empty() {
            self.issue(entry, "must not be empty");
        }
        s
    }

    fn theme(&mut self, raw: Option<RawTheme>) -> Theme {
        let mut theme = Theme::default();
        let Some(raw) = raw else {
            return theme;
        };
        let set = |v: &mut Self, entry: &str, value: Option<String>, slot: &mut String, parse: fn(&str) -> Result<String, String>| {
            if let Some(value) = value {
                match parse(&value) {
                    Ok(ok) => *slot = ok,
                    Err(e) => v.issue(entry, e),
                }
            }
        };
        set(self, "catalog.theme.accent_color", raw.accent_color, &mut theme.accent_color, theme::parse_color);
        set(self, "catalog.theme.background_color", raw.background_color, &mut theme.background_color, theme::parse_color);
        set(self, "catalog.theme.text_color", raw.text_color, &mut theme.text_color, theme::parse_color);
        set(self, "catalog.theme.font_family", raw.font_family, &mut theme.font_family, theme::parse_font_family);
        theme
    }

    fn catalog(&mut self, raw: RawFile) -> Catalog {
        let name = self.key("catalog.name", &raw.catalog.name);
        let title = self.text("catalog.title", raw.catalog.title);
        let currency = Currency::parse(&raw.catalog.currency).unwrap_or_else(|e| {
            self.issue("catalog.currency", e.to_string());
            Currency::USD
        });
        let theme = self.theme(raw.catalog.theme);
        let thresholds = self.thresholds(raw.thresholds);
        let meters: Vec<Meter> = raw
            .meters
            .into_iter()
            .map(|(k, m)| self.meter(k, m))
            .collect();
        let features: Vec<Feature> = raw
            .features
            .into_iter()
            .map(|(k, f)| self.feature(k, f))
            .collect();
        let meter_keys: HashSet<&str> = meters.iter().map(|m| m.key.as_str()).collect();
        for f in &features {
            if meter_keys.contains(f.key.as_str()) {
                self.issue(
                    format!("features.{}", f.key),
                    "a meter has the same key; checks could not tell them apart",
                );
            }
        }
        let plans: Vec<Plan> = raw
            .plans
            .into_iter()
            .map(|(k, p)| self.plan(k, p, currency, &meters, &features))
            .collect();
        if plans.is_empty() {
            self.issue("plans", "a catalog needs at least one plan");
        }
        let faq = raw
            .faq
            .into_iter()
            .enumerate()
            .map(|(i, f)| Faq {
                question: self.text(&format!("faq[{i}].question"), f.question),
                answer: self.text(&format!("faq[{i}].answer"), f.answer),
            })
            .collect();
        let coupons = raw
            .coupons
            .into_iter()
            .filter_map(|(code, c)| self.coupon(code, c, currency))
            .collect();
        Catalog {
            name,
            title,
            currency,
            theme,
            thresholds,
            meters,
            features,
            plans,
            faq,
            coupons,
        }
    }

    fn thresholds(&mut self, raw: Vec<RawThreshold>) -> Vec<Threshold> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (i, t) in raw.into_iter().enumerate() {
            let entry = format!("thresholds[{i}].percent");
            let percent = match self.number(&entry, &t.percent) {
                Some(p) if p > Decimal::ZERO && p <= Decimal::from(1000) => p,
                Some(_) => {
                    self.issue(&entry, "must be above 0 and at most 1000");
                    continue;
                }
                None => continue,
            };
            if !seen.insert(percent) {
                self.issue(&entry, format!("{percent} % is listed twice"));
            }
            let mut actions: BTreeSet<ThresholdAction> = t.actions.into_iter().collect();
            actions.insert(ThresholdAction::InApp);
            out.push(Threshold { percent, actions });
        }
        out.sort_by_key(|t| t.percent);
        out
    }

    /// A number that must be present (not unlimited).
    fn number(&mut self, entry: &str, v: &toml::Value) -> Option<Decimal> {
        match self.limit_number(entry, v) {
            Some(Some(d)) => Some(d),
            Some(None) => {
                self.issue(entry, "must be a number here, not unlimited");
                None
            }
            None => None,
        }
    }

    /// A number or unlimited; `None` when refused (the issue is recorded).
    fn limit_number(&mut self, entry: &str, v: &toml::Value) -> Option<Option<Decimal>> {
        match toml_to_json(v).and_then(|j| parse_limit_number(&j)) {
            Ok(n) => Some(n),
            Err(reason) => {
                self.issue(entry, reason);
                None
            }
        }
    }

    fn meter(&mut self, key: String, m: RawMeter) -> Meter {
        let entry = format!("meters.{key}");
        Meter {
            key: self.key(&entry, &key),
            name: self.text(&format!("{entry}.name"), m.name),
            unit: self.text(&format!("{entry}.unit"), m.unit),
            aggregation: m.aggregation,
            reset: m.reset,
            description: m.description.trim().to_string(),
            group_by: self.group_by(&entry, m.group_by, m.cost_property.as_deref()),
            cost_property: m.cost_property.filter(|p| {
                let ok = super::is_property_name(p);
                if !ok {
                    self.issue(
                        format!("{entry}.cost_property"),
                        format!("`{p}` is not a property name (1 to 64 letters, digits, _ - .)"),
                    );
                }
                ok
            }),
        }
    }

    /// A meter's `group_by`: at most three distinct property names, none of them
    /// its cost property.
    fn group_by(&mut self, entry: &str, names: Vec<String>, cost: Option<&str>) -> Vec<String> {
        let field = format!("{entry}.group_by");
        if names.len() > super::MAX_GROUP_BY {
            self.issue(
                &field,
                format!("at most {} properties, not {}", super::MAX_GROUP_BY, names.len()),
            );
        }
        let mut out: Vec<String> = Vec::new();
        for n in names {
            if !super::is_property_name(&n) {
                self.issue(&field, format!("`{n}` is not a property name (1 to 64 letters, digits, _ - .)"));
            } else if out.contains(&n) {
                self.issue(&field, format!("`{n}` is named twice"));
            } else if cost == Some(n.as_str()) {
                self.issue(&field, format!("`{n}` is the cost property; it is summed, not grouped by"));
            } else {
                out.push(n);
            }
        }
        out.truncate(super::MAX_GROUP_BY);
        out
    }

    fn feature(&mut self, key: String, f: RawFeature) -> Feature {
        let entry = format!("features.{key}");
        let kind = match f.kind.as_str() {
            "boolean" => FeatureKind::Boolean,
            "numeric" => FeatureKind::Numeric {
                unit: f.unit.clone(),
            },
            "enum" => {
                let unique: HashSet<&String> = f.values.iter().collect();
                if f.values.is_empty() {
                    self.issue(
                        format!("{entry}.values"),
                        "an enum feature needs its list of values",
                    );
                } else if unique.len() != f.values.len() {
                    self.issue(format!("{entry}.values"), "values must be unique");
                }
                FeatureKind::Enum {
                    values: f.values.clone(),
                }
            }
            "rate" => FeatureKind::Rate {
                per: f.per.unwrap_or(RateWindow::Minute),
            },
            other => {
                self.issue(
                    format!("{entry}.kind"),
                    format!("`{other}` is not a feature kind (boolean, numeric, enum, rate)"),
                );
                FeatureKind::Boolean
            }
        };
        if !matches!(kind, FeatureKind::Enum { .. }) && !f.values.is_empty() {
            self.issue(format!("{entry}.values"), "only enum features take values");
        }
        Feature {
            key: self.key(&entry, &key),
            name: self.text(&format!("{entry}.name"), f.name),
            kind,
            description: f.description.trim().to_string(),
        }
    }

    fn plan(
        &mut self,
        key: String,
        p: RawPlan,
        currency: Currency,
        meters: &[Meter],
        features: &[Feature],
    ) -> Plan {
        let entry = format!("plans.{key}");
        let catalog_features = features;
        if p.trial_days > MAX_TRIAL_DAYS {
            self.issue(
                format!("{entry}.trial_days"),
                format!("at most {MAX_TRIAL_DAYS} days"),
            );
        }
        let prices = self.prices(&entry, p.prices, currency);
        if p.self_serve && prices.is_empty() {
            self.issue(
                format!("{entry}.prices"),
                "a self-serve plan needs a price (set self_serve = false for \"contact sales\")",
            );
        }
        let features = p
            .features
            .into_iter()
            .filter_map(|(fk, value)| {
                let fe = format!("{entry}.features.{fk}");
                let Some(feature) = features.iter().find(|f| f.key.as_str() == fk) else {
                    self.issue(&fe, format!("no feature \"{fk}\" in this catalog"));
                    return None;
                };
                match toml_to_json(&value).and_then(|j| FeatureValue::from_json(&feature.kind, &j))
                {
                    Ok(v) => Some((feature.key.clone(), v)),
                    Err(reason) => {
                        self.issue(&fe, reason);
                        None
                    }
                }
            })
            .collect();
        let limits = p
            .limits
            .into_iter()
            .filter_map(|(mk, l)| {
                let le = format!("{entry}.limits.{mk}");
                let Some(meter) = meters.iter().find(|m| m.key.as_str() == mk) else {
                    self.issue(&le, format!("no meter \"{mk}\" in this catalog"));
                    return None;
                };
                self.limit(&le, l).map(|l| (meter.key.clone(), l))
            })
            .collect();
        let usage_prices = p
            .usage_prices
            .into_iter()
            .filter_map(|(mk, raw)| {
                let ue = format!("{entry}.usage_prices.{mk}");
                let Some(meter) = meters.iter().find(|m| m.key.as_str() == mk) else {
                    self.issue(&ue, format!("no meter \"{mk}\" in this catalog"));
                    return None;
                };
                self.pricing(&ue, raw)
                    .map(|pricing| (meter.key.clone(), pricing))
            })
            .collect();
        // Ordered as the database reads them back (catalog order of features and
        // meters, monthly before yearly), so a file and its stored copy compare equal
        // however the file orders a plan's entries.
        let (mut prices, mut features, mut limits, mut usage_prices): (
            Vec<Price>,
            Vec<(Key, FeatureValue)>,
            Vec<(Key, Limit)>,
            Vec<(Key, Pricing)>,
        ) = (prices, features, limits, usage_prices);
        prices.sort_by_key(|p| p.interval.months());
        features.sort_by_key(|(k, _)| catalog_features.iter().position(|f| f.key == *k));
        limits.sort_by_key(|(k, _)| meters.iter().position(|m| m.key == *k));
        usage_prices.sort_by_key(|(k, _)| meters.iter().position(|m| m.key == *k));
        Plan {
            key: self.key(&entry, &key),
            name: self.text(&format!("{entry}.name"), p.name),
            description: p.description.trim().to_string(),
            audience: p.audience,
            self_serve: p.self_serve,
            public: p.public,
            trial_days: p.trial_days,
            highlights: p.highlights,
            prices,
            features,
            limits,
            usage_prices,
        }
    }

    fn prices(
        &mut self,
        entry: &str,
        raw: IndexMap<String, RawPrice>,
        currency: Currency,
    ) -> Vec<Price> {
        raw.into_iter()
            .filter_map(|(interval, price)| {
                let pe = format!("{entry}.prices.{interval}");
                let interval = match interval.parse::<Interval>() {
                    Ok(i) if i.as_str() == interval => i,
                    _ => {
                        self.issue(&pe, "price intervals are `month` and `year`");
                        return None;
                    }
                };
                let amount = self.number(&format!("{pe}.amount"), &price.amount)?;
                if amount.scale() > currency.minor_unit_scale() {
                    self.issue(
                        format!("{pe}.amount"),
                        format!(
                            "{currency} amounts have at most {} decimals",
                            currency.minor_unit_scale()
                        ),
                    );
                }
                let seat_pricing = match price.seats {
                    Some(raw) => Some(self.pricing(&format!("{pe}.seats"), raw)?),
                    None => None,
                };
                if seat_pricing.is_some() && price.per_seat {
                    self.issue(
                        format!("{pe}.per_seat"),
                        "seats priced by a model are per seat already; leave per_seat out",
                    );
                }
                Some(Price {
                    interval,
                    amount: Money::new(amount, currency),
                    per_seat: price.per_seat,
                    seat_pricing,
                })
            })
            .collect()
    }

    fn limit(&mut self, entry: &str, l: RawLimit) -> Option<Limit> {
        let included = self.limit_number(&format!("{entry}.included"), &l.included)?;
        let grace_percent = match &l.grace_percent {
            None => Decimal::ZERO,
            Some(g) => self.number(&format!("{entry}.grace_percent"), g)?,
        };
        if l.enforcement == Enforcement::Soft && !grace_percent.is_zero() {
            self.issue(
                format!("{entry}.grace_percent"),
                "grace applies to hard limits only",
            );
        }
        if included.is_none() && l.enforcement == Enforcement::Hard {
            self.issue(
                format!("{entry}.enforcement"),
                "an unlimited meter cannot be hard-limited",
            );
        }
        Some(Limit {
            included,
            enforcement: l.enforcement,
            grace_percent,
            per_seat: l.per_seat,
        })
    }
}

/// TOML scalars as JSON, so catalog values and stored values share one reader.
fn toml_to_json(v: &toml::Value) -> Result<serde_json::Value, String> {
    Ok(match v {
        toml::Value::String(s) => serde_json::Value::String(s.clone()),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Boolean(b) => serde_json::Value::Bool(*b),
        toml::Value::Float(f) => {
            return Err(format!(
                "write decimals as strings (\"{f}\") so they are read exactly"
            ));
        }
        _ => return Err("expected a number, string or boolean".into()),
    })
}
