use super::file::parse;
use super::*;
use crate::limits::Enforcement;
use rust_decimal::Decimal;

const EMTCHAT: &str = include_str!("../../catalogs/emtchat.toml");

fn emtchat() -> Catalog {
    parse("catalogs/emtchat.toml", EMTCHAT).expect("the shipped catalog parses")
}

#[test]
fn emtchat_matches_catalogs_md() {
    let c = emtchat();
    assert_eq!(c.currency, Currency::USD);
    let keys: Vec<&str> = c.plans.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        ["free", "starter", "pro", "team", "enterprise"],
        "file order is display order"
    );
    let free = c.plan("free").expect("emtchat fixture");
    let q = free.limit("queries");
    assert_eq!(
        (q.included, q.enforcement),
        (Some(Decimal::from(50)), Enforcement::Hard)
    );
    assert_eq!(q.resolve(1).blocks_at, Some(Decimal::from(55)));
    assert!(free.is_free());
    assert_eq!(free.trial_days_for_new_subscription(), 0);
    let starter = c.plan("starter").expect("emtchat fixture");
    assert_eq!(
        starter
            .price(Interval::Month)
            .expect("emtchat fixture")
            .amount
            .display_short(),
        "$19"
    );
    assert_eq!(starter.limit("queries").enforcement, Enforcement::Soft);
    assert_eq!(starter.trial_days_for_new_subscription(), 14);
    assert_eq!(
        c.plan("pro")
            .expect("emtchat fixture")
            .limit("queries")
            .included,
        None
    );
    let team = c.plan("team").expect("emtchat fixture");
    assert!(
        team.price(Interval::Month)
            .expect("emtchat fixture")
            .per_seat
    );
    assert_eq!(
        team.limit("documents").resolve(3).included,
        Some(Decimal::from(300))
    );
    assert!(!c.plan("enterprise").expect("emtchat fixture").self_serve);
    let thresholds: Vec<Decimal> = c.thresholds.iter().map(|t| t.percent).collect();
    assert_eq!(thresholds, [50, 75, 90, 100, 110].map(Decimal::from));
    assert!(c
        .thresholds
        .iter()
        .all(|t| t.actions.contains(&crate::limits::ThresholdAction::InApp)));
    let emailed: Vec<Decimal> = c
        .thresholds
        .iter()
        .filter(|t| t.actions.contains(&crate::limits::ThresholdAction::Email))
        .map(|t| t.percent)
        .collect();
    assert_eq!(
        emailed,
        [75, 90].map(Decimal::from),
        "seed 000: 75 % e-mail, 90 % banner + e-mail"
    );
    assert_eq!(
        c.meter("documents").expect("emtchat fixture").aggregation,
        Aggregation::Last
    );
    assert!(matches!(
        c.entitlement("queries"),
        Some(Entitlement::Meter(_))
    ));
    assert!(matches!(
        c.entitlement("sso_enabled"),
        Some(Entitlement::Feature(_))
    ));
    assert!(c.entitlement("nope").is_none());
}

#[test]
fn upgrade_suggestion_is_the_cheapest_plan_with_more() {
    let c = emtchat();
    assert_eq!(
        c.upgrade_for("free", "queries", Interval::Month)
            .map(|p| p.key.as_str()),
        Some("starter")
    );
    assert_eq!(
        c.upgrade_for("starter", "queries", Interval::Month)
            .map(|p| p.key.as_str()),
        Some("pro")
    );
    assert_eq!(
        c.upgrade_for("pro", "queries", Interval::Month)
            .map(|p| p.key.as_str()),
        None
    );
}

#[test]
fn feature_values_round_trip_through_json() {
    let c = emtchat();
    for plan in &c.plans {
        for (key, value) in &plan.features {
            let kind = &c.feature(key.as_str()).expect("emtchat fixture").kind;
            assert_eq!(
                &FeatureValue::from_json(kind, &value.to_json()).expect("emtchat fixture"),
                value
            );
        }
    }
    assert!(!FeatureValue::Bool(false).grants());
    assert!(!FeatureValue::Number(Some(Decimal::ZERO)).grants());
    assert!(FeatureValue::Number(None).grants());
}

fn issues(text: &str) -> Vec<(String, String)> {
    parse("bad.toml", text)
        .expect_err("must be refused")
        .issues
        .into_iter()
        .map(|i| (i.entry, i.reason))
        .collect()
}

fn with(extra: &str) -> String {
    format!("[catalog]\nname = \"x\"\ntitle = \"X\"\ncurrency = \"USD\"\n[meters.queries]\nname = \"Q\"\nunit = \"q\"\naggregation = \"count\"\n[features.sso]\nname = \"SSO\"\nkind = \"boolean\"\n{extra}")
}

#[test]
fn a_bad_file_names_the_entry_and_the_reason() {
    let got = issues(&with("[plans.free]\nname = \"Free\"\naudience = \"individual\"\nprices.month = { amount = \"0\" }\nlimits.querys = { included = 5 }\n"));
    assert_eq!(
        got,
        vec![(
            "plans.free.limits.querys".to_string(),
            "no meter \"querys\" in this catalog".to_string()
        )]
    );

    let got = issues(&with("[plans.pro]\nname = \"Pro\"\naudience = \"individual\"\nprices.month = { amount = 49.99 }\n"));
    assert_eq!(got[0].0, "plans.pro.prices.month.amount");
    assert!(got[0].1.contains("as strings"), "{got:?}");

    let got = issues(&with(
        "[plans.pro]\nname = \"Pro\"\naudience = \"individual\"\n",
    ));
    assert_eq!(got[0].0, "plans.pro.prices");

    let got = issues(&with("[plans.pro]\nname = \"Pro\"\naudience = \"individual\"\nprices.month = { amount = \"1\" }\nfeatures.sso = \"yes\"\nlimits.queries = { included = \"unlimited\", enforcement = \"hard\" }\n"));
    assert_eq!(
        got.iter().map(|g| g.0.as_str()).collect::<Vec<_>>(),
        [
            "plans.pro.features.sso",
            "plans.pro.limits.queries.enforcement"
        ]
    );
}

#[test]
fn syntax_and_unknown_fields_are_refused_with_the_path() {
    let got = issues(&with(
        "[plans.free]\nname = \"Free\"\naudience = \"individual\"\nprise = 1\n",
    ));
    assert_eq!(got[0].0, "plans.free.prise");
    assert!(got[0].1.contains("unknown field `prise`"), "{got:?}");
    let got = issues("[catalog\nname=");
    assert!(got[0].1.contains("line 1"), "{got:?}");
    let got = issues(&with("[plans.free]\nname = \"Free\"\naudience = \"everyone\"\nprices.month = { amount = \"0\" }\n"));
    assert_eq!(got[0].0, "plans.free.audience");
}

#[test]
fn keys_must_be_well_formed_and_distinct() {
    let got = issues(&with("[features.queries]\nname = \"Dup\"\nkind = \"boolean\"\n[plans.Free]\nname = \"Free\"\naudience = \"individual\"\nprices.month = { amount = \"0\" }\n"));
    let entries: Vec<&str> = got.iter().map(|g| g.0.as_str()).collect();
    assert_eq!(entries, ["features.queries", "plans.Free"]);
}

#[test]
fn empty_catalog_and_bad_thresholds_are_refused() {
    let got = issues(&with("[[thresholds]]\npercent = 0\nactions = []\n"));
    let entries: Vec<&str> = got.iter().map(|g| g.0.as_str()).collect();
    assert_eq!(entries, ["thresholds[0].percent", "plans"]);
}
