//! The five shipped catalog presets (`catalogs/*.toml`, CATALOGS.md): each parses, its
//! prices and pricing models are valid and in the catalog currency, and its key facts
//! match its seed. The worked examples are in `worked_examples_tests.rs`.

use super::file::parse;
use super::*;
use crate::coupon::{Discount, Duration};
use crate::limits::{Enforcement, ThresholdAction};
use rust_decimal::Decimal;

/// Every preset: (catalog name = file stem, file text).
pub(super) const PRESETS: [(&str, &str); 5] = [
    ("emtchat", include_str!("../../catalogs/emtchat.toml")),
    (
        "chatbot-platform",
        include_str!("../../catalogs/chatbot-platform.toml"),
    ),
    (
        "digital-twin",
        include_str!("../../catalogs/digital-twin.toml"),
    ),
    ("crm", include_str!("../../catalogs/crm.toml")),
    ("exprsn", include_str!("../../catalogs/exprsn.toml")),
];

/// The preset named `name`, parsed.
pub(super) fn preset(name: &str) -> Catalog {
    let (_, text) = PRESETS
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a shipped preset");
    parse(&format!("catalogs/{name}.toml"), text).unwrap_or_else(|e| panic!("{e}"))
}

/// The plan `key` of `catalog`.
pub(super) fn plan<'a>(catalog: &'a Catalog, key: &str) -> &'a Plan {
    catalog
        .plan(key)
        .unwrap_or_else(|| panic!("{} has a plan {key}", catalog.name.as_str()))
}

/// A decimal from its exact text (`"63.19"`).
pub(super) fn d(s: &str) -> Decimal {
    s.parse().expect("test decimal")
}

fn keys(catalog: &Catalog) -> Vec<&str> {
    catalog.plans.iter().map(|p| p.key.as_str()).collect()
}

fn amount(plan: &Plan, interval: Interval) -> Decimal {
    plan.price(interval)
        .unwrap_or_else(|| panic!("{} has a {interval} price", plan.key.as_str()))
        .amount
        .amount
}

fn percents(catalog: &Catalog) -> Vec<Decimal> {
    catalog.thresholds.iter().map(|t| t.percent).collect()
}

#[test]
fn every_preset_parses_and_is_named_after_its_file() {
    for (name, text) in PRESETS {
        let catalog =
            parse(&format!("catalogs/{name}.toml"), text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(catalog.name.as_str(), name);
        assert_eq!(catalog.currency, Currency::USD, "{name}");
    }
}

#[test]
fn every_price_and_pricing_model_is_valid_and_in_the_catalog_currency() {
    for (name, _) in PRESETS {
        let catalog = preset(name);
        for plan in &catalog.plans {
            let at = format!("{name}/{}", plan.key.as_str());
            for price in &plan.prices {
                assert_eq!(price.amount.currency, catalog.currency, "{at}");
                assert_eq!(price.amount.round(), price.amount, "{at}: whole cents");
                if let Some(seats) = &price.seat_pricing {
                    assert_eq!(seats.validate(), Ok(()), "{at}: seat pricing");
                }
            }
            for (meter, pricing) in &plan.usage_prices {
                assert_eq!(
                    pricing.validate(),
                    Ok(()),
                    "{at}: usage price of {}",
                    meter.as_str()
                );
                assert!(
                    catalog.meter(meter.as_str()).is_some(),
                    "{at}: usage price of a meter"
                );
            }
        }
    }
}

#[test]
fn chatbot_platform_leaves_every_limit_open_and_prices_cost_plus() {
    let c = preset("chatbot-platform");
    assert_eq!(keys(&c), ["free", "starter", "pro"]);
    for p in &c.plans {
        for meter in ["conversations", "messages", "tokens", "provider_cost"] {
            let limit = p.limit(meter);
            assert!(
                p.limits.iter().any(|(k, _)| k.as_str() == meter),
                "{}: {meter} is written out",
                p.key.as_str()
            );
            assert_eq!(
                (limit.included, limit.enforcement),
                (None, Enforcement::Soft),
                "{}: {meter}",
                p.key.as_str()
            );
        }
    }
    assert!(
        c.meters
            .iter()
            .all(|m| m.reset == crate::period::Reset::CalendarMonth),
        "invoices per YYYY-MM"
    );
    assert_eq!(
        plan(&c, "free").feature("llm_provider"),
        Some(&FeatureValue::Text("ollama".into()))
    );
    assert!(
        plan(&c, "free").usage_prices.is_empty(),
        "free: no usage charge (usageMultiplier 0)"
    );
    assert_eq!(
        plan(&c, "pro").feature("custom_branding"),
        Some(&FeatureValue::Bool(true))
    );
    assert_eq!(
        plan(&c, "starter").feature("priority_support"),
        Some(&FeatureValue::Bool(false))
    );
    assert_eq!(
        plan(&c, "pro").usage_price("messages"),
        Some(&crate::rating::Pricing::CostPlus {
            property: "cost_usd".into(),
            multiplier: d("1.5")
        })
    );
    assert!(
        plan(&c, "pro").usage_price("provider_cost").is_none(),
        "the cost is charged once, through messages"
    );
    assert_eq!(percents(&c), [d("80"), d("100")]);
    assert!(
        c.thresholds
            .iter()
            .all(|t| t.actions.contains(&ThresholdAction::Email)),
        "seed 001 alerts by e-mail"
    );
}

#[test]
fn digital_twin_matches_seed_002() {
    let c = preset("digital-twin");
    assert_eq!(keys(&c), ["free", "standard-ai", "enterprise"]);
    let free = plan(&c, "free");
    assert_eq!(
        (
            free.limit("storage").included,
            free.limit("storage").enforcement
        ),
        (Some(d("5")), Enforcement::Hard)
    );
    assert_eq!(
        free.feature("ai_digital_twin"),
        None,
        "free: no AI features"
    );
    let standard = plan(&c, "standard-ai");
    assert_eq!(
        (
            amount(standard, Interval::Month),
            amount(standard, Interval::Year)
        ),
        (d("49.99"), d("499.90"))
    );
    assert_eq!(standard.limit("storage").included, Some(d("50")));
    assert_eq!(
        standard.usage_price("api_calls"),
        Some(&crate::rating::Pricing::PerUnit {
            unit_amount: d("0.01")
        })
    );
    let enterprise = plan(&c, "enterprise");
    assert!(!enterprise.self_serve);
    assert_eq!(enterprise.audience, Audience::Team);
    assert_eq!(
        enterprise.limit("storage").included,
        None,
        "unlimited storage"
    );
    assert_eq!(amount(enterprise, Interval::Month), d("10000"));
    assert_eq!(
        enterprise.feature("audit_logging"),
        Some(&FeatureValue::Bool(true))
    );
}

#[test]
fn crm_matches_seed_003() {
    let c = preset("crm");
    assert_eq!(
        keys(&c),
        [
            "free",
            "starter",
            "professional",
            "enterprise",
            "pay-per-use"
        ]
    );
    let table = [
        ("free", "0", Some("1000"), Some("10000")),
        ("starter", "29", Some("10000"), Some("100000")),
        ("professional", "79", Some("50000"), Some("500000")),
        ("enterprise", "199", None, None),
        ("pay-per-use", "0", None, None),
    ];
    for (key, price, calls, tokens) in table {
        let p = plan(&c, key);
        assert_eq!(amount(p, Interval::Month), d(price), "{key}");
        assert_eq!(p.limit("api_calls").included, calls.map(d), "{key}");
        assert_eq!(p.limit("ai_tokens").included, tokens.map(d), "{key}");
    }
    assert_eq!(
        plan(&c, "professional").limit("storage").included,
        Some(d("50"))
    );
    assert_eq!(percents(&c), [d("75"), d("90"), d("100")]);
}

/// Seed 004's "Feature Flags Configuration" table, row by row: the value per plan in
/// the order free, pro, max, premium, team-small, team-growing, team-scale, enterprise
/// (`y`/`n` for ✓/✗, `inf` for ∞).
const EXPRSN_FEATURES: [(&str, &str); 21] = [
    ("timeline_enabled", "y y y y y y y y"),
    ("messaging_enabled", "y y y y y y y y"),
    ("groups_enabled", "y y y y y y y y"),
    ("crm_enabled", "n y y y y y y y"),
    ("workflow_enabled", "n y y y y y y y"),
    ("live_streaming_enabled", "n y y y y y y y"),
    ("payments_enabled", "n n y y n y y y"),
    ("geospatial_enabled", "n n y y n y y y"),
    ("lowcode_enabled", "n n y y y y y y"),
    ("storage_limit_gb", "5 50 inf inf 100 500 1000 inf"),
    ("bandwidth_limit_gb", "10 100 inf inf 200 1000 5000 inf"),
    (
        "workflow_executions_monthly",
        "0 1000 10000 inf 5000 25000 100000 inf",
    ),
    ("api_calls_per_minute", "60 120 300 600 180 360 720 1200"),
    ("sso_enabled", "n n n y n n y y"),
    ("advanced_permissions", "n n y y y y y y"),
    ("audit_logs", "n n n y n y y y"),
    (
        "support_level",
        "community email priority dedicated email priority priority dedicated",
    ),
    (
        "sla_uptime",
        "best-effort best-effort 99.5% 99.9% best-effort 99.5% 99.9% 99.95%",
    ),
    ("white_label", "n n n y n n n y"),
    ("custom_integrations", "n n y y n y y y"),
    ("ai_moderation", "n n y y y y y y"),
];

const EXPRSN_PLANS: [&str; 8] = [
    "free",
    "pro",
    "max",
    "premium",
    "team-small",
    "team-growing",
    "team-scale",
    "enterprise",
];

fn table_value(cell: &str) -> FeatureValue {
    match cell {
        "y" => FeatureValue::Bool(true),
        "n" => FeatureValue::Bool(false),
        "inf" => FeatureValue::Number(None),
        text => text.parse::<Decimal>().map_or_else(
            |_| FeatureValue::Text(text.into()),
            |n| FeatureValue::Number(Some(n)),
        ),
    }
}

#[test]
fn exprsn_has_the_eight_plans_and_their_prices() {
    let c = preset("exprsn");
    assert_eq!(keys(&c), EXPRSN_PLANS);
    let prices = [
        ("pro", "12", "115", false),
        ("max", "29", "278", false),
        ("premium", "59", "566", false),
        ("team-small", "8", "77", true),
        ("team-growing", "7", "67", true),
        ("team-scale", "6", "58", true),
    ];
    for (key, month, year, per_seat) in prices {
        let p = plan(&c, key);
        assert_eq!(
            (amount(p, Interval::Month), amount(p, Interval::Year)),
            (d(month), d(year)),
            "{key}"
        );
        assert!(
            p.prices.iter().all(|price| price.per_seat == per_seat),
            "{key}"
        );
        assert_eq!(p.audience == Audience::Team, per_seat, "{key}");
        assert_eq!(
            p.trial_days_for_new_subscription(),
            14,
            "{key}: 14-day trial"
        );
    }
    assert!(plan(&c, "free").is_free());
    assert_eq!(plan(&c, "free").trial_days_for_new_subscription(), 0);
    let enterprise = plan(&c, "enterprise");
    assert!(
        !enterprise.self_serve && enterprise.prices.is_empty(),
        "enterprise: custom pricing"
    );
    let nonprofit = c
        .coupon("nonprofit")
        .expect("exprsn has the non-profit coupon");
    assert_eq!(
        (nonprofit.discount, nonprofit.duration),
        (Discount::PercentOff(d("50")), Duration::Forever)
    );
}

#[test]
fn exprsn_features_are_exactly_the_seed_table() {
    let c = preset("exprsn");
    let feature_keys: Vec<&str> = c.features.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(
        feature_keys,
        EXPRSN_FEATURES.map(|(k, _)| k),
        "the table's 21 features, in its order"
    );
    for (feature, row) in EXPRSN_FEATURES {
        let cells: Vec<&str> = row.split(' ').collect();
        assert_eq!(cells.len(), EXPRSN_PLANS.len(), "{feature}");
        for (key, cell) in EXPRSN_PLANS.iter().zip(cells) {
            assert_eq!(
                plan(&c, key).feature(feature),
                Some(&table_value(cell)),
                "{key}.{feature}"
            );
        }
    }
    assert_eq!(
        plan(&c, "free").feature("crm_enabled"),
        Some(&FeatureValue::Bool(false))
    );
    assert_eq!(
        plan(&c, "pro").feature("crm_enabled"),
        Some(&FeatureValue::Bool(true))
    );
    let rate = c
        .feature("api_calls_per_minute")
        .expect("exprsn rate feature");
    assert_eq!(
        rate.kind,
        FeatureKind::Rate {
            per: RateWindow::Minute
        }
    );
    assert_eq!(
        plan(&c, "free").feature("api_calls_per_minute"),
        Some(&FeatureValue::Number(Some(d("60"))))
    );
    assert!(
        matches!(&c.feature("sla_uptime").expect("exprsn enum").kind, FeatureKind::Enum { values } if values.len() == 4)
    );
    assert!(matches!(
        &c.feature("support_level").expect("exprsn enum").kind,
        FeatureKind::Enum { .. }
    ));
}

#[test]
fn exprsn_meter_limits_equal_their_table_features() {
    let c = preset("exprsn");
    for p in &c.plans {
        for (meter, feature, enforcement) in [
            ("storage", "storage_limit_gb", Enforcement::Hard),
            ("bandwidth", "bandwidth_limit_gb", Enforcement::Soft),
            (
                "workflow_executions",
                "workflow_executions_monthly",
                Enforcement::Hard,
            ),
        ] {
            let limit = p.limit(meter);
            assert_eq!(
                Some(&FeatureValue::Number(limit.included)),
                p.feature(feature),
                "{}: {meter}",
                p.key.as_str()
            );
            let expected = if limit.included.is_some() {
                enforcement
            } else {
                Enforcement::Soft
            };
            assert_eq!(limit.enforcement, expected, "{}: {meter}", p.key.as_str());
            assert!(!limit.per_seat, "per account, not per seat");
        }
    }
}
