//! The pricing page's data: plans from the catalog, never from code.

use crate::error::AppError;
use crate::model::{EstimateData, PricingData};
use leptos::prelude::*;

/// Public plans priced for `interval` (`month` or `year`), the comparison table and
/// the FAQ, marking the viewer's current plan.
#[server(prefix = "/_fn", endpoint = "pricing")]
pub async fn get_pricing(interval: String) -> Result<PricingData, AppError> {
    let t = super::ctx::tollgate()?;
    let me = super::ctx::signed_in().await?;
    let current = match &me {
        Some(me) => tollgate::db::subscriptions::live_for_account(&t.pool, me.account_id)
            .await
            .map_err(tollgate::service::Error::from)?,
        None => None,
    };
    let catalog = t.catalog.get()?;
    let interval = super::plans::parse_interval(Some(&interval));
    let mut data = ssr::build(
        &catalog,
        interval,
        me.is_some(),
        current.as_ref(),
        &t.settings.sales_email,
    );
    // With Stripe, a paid plan it cannot bill is bought through sales (choosing it
    // is refused: it would be granted unpaid).
    if t.stripe.is_some() {
        use tollgate::service::stripe::checkout::{card_billing, CardBilling};
        for card in &mut data.plans {
            if matches!(
                card_billing(&t, &card.key, interval),
                Some(CardBilling::Unsupported(_))
            ) {
                card.self_serve = false;
            }
        }
    }
    Ok(data)
}

/// The estimator: the catalog's meters and, when `usage` (meter key → quantity
/// over one `interval`, as typed) holds a value, each public plan's bill for it
/// with `seats` (as typed; empty: 1), priced by the invoice code
/// ([`tollgate::invoice::estimate`]), with the cheapest plan whose hard limits
/// allow that usage marked.
#[server(prefix = "/_fn", endpoint = "estimate")]
pub async fn get_estimate(
    interval: String,
    seats: String,
    // An empty map is sent as nothing at all in the URL encoding: default it, or a
    // pricing page reached by a link inside the app (no usage typed) failed to load
    // its estimate (HTTP 500).
    #[server(default)] usage: std::collections::BTreeMap<String, String>,
) -> Result<EstimateData, AppError> {
    let t = super::ctx::tollgate()?;
    let catalog = t.catalog.get()?;
    let interval = super::plans::parse_interval(Some(&interval));
    Ok(ssr::estimate(&catalog, interval, &seats, &usage))
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::format::quantity;
    use crate::model::{ComparisonRow, PlanCard, PricingData};
    use rust_decimal::Decimal;
    use tollgate::catalog::{Catalog, FeatureKind, FeatureValue, Plan};
    use tollgate::db::subscriptions::SubscriptionRow;
    use tollgate::limits::Enforcement;
    use tollgate::period::Interval;

    fn card(plan: &Plan, interval: Interval, current: Option<&SubscriptionRow>) -> PlanCard {
        let price = plan.price(interval);
        let saving = match (plan.price(Interval::Month), plan.price(Interval::Year)) {
            (Some(m), Some(y)) if !m.amount.amount.is_zero() => {
                let twelve = m.amount.amount * Decimal::from(12);
                let pct = (Decimal::ONE - y.amount.amount / twelve) * Decimal::ONE_HUNDRED;
                u32::try_from(pct.round().mantissa())
                    .ok()
                    .filter(|p| *p > 0)
            }
            _ => None,
        };
        PlanCard {
            key: plan.key.to_string(),
            name: plan.name.clone(),
            description: plan.description.clone(),
            price: price.map(|p| p.amount.display_short()),
            price_unit: price.map_or(String::new(), |p| {
                format!("{}/{}", if p.per_seat { "/seat" } else { "" }, interval)
                    .replacen("//", "/", 1)
            }),
            annual_saving_percent: saving,
            trial_days: plan.trial_days_for_new_subscription(),
            highlights: plan.highlights.clone(),
            self_serve: plan.self_serve,
            for_teams: plan.audience == tollgate::catalog::Audience::Team,
            available: price.is_some(),
            current: current.is_some_and(|s| {
                s.plan_key == plan.key.as_str() && s.interval == interval.as_str()
            }),
        }
    }

    /// `500`, `50 (stops at 55)`, `10 (hard limit)`, `100 per seat (hard limit)`,
    /// `Unlimited`, or `Custom` for a contact-sales plan without stated limits.
    fn limit_cell(plan: &Plan, meter: &str) -> String {
        if !plan.self_serve && plan.limits.is_empty() {
            return "Custom".into();
        }
        let l = plan.limit(meter);
        match l.included {
            None => "Unlimited".into(),
            Some(q) => {
                let base = format!(
                    "{}{}",
                    quantity(q),
                    if l.per_seat { " per seat" } else { "" }
                );
                let effective = l.resolve(1);
                match (l.enforcement, effective.blocks_at) {
                    (Enforcement::Hard, Some(at)) if at != q => {
                        format!("{base} (stops at {})", quantity(at))
                    }
                    (Enforcement::Hard, _) => format!("{base} (hard limit)"),
                    (Enforcement::Soft, _) => base,
                }
            }
        }
    }

    fn feature_cell(kind: &FeatureKind, value: Option<&FeatureValue>) -> String {
        match (kind, value) {
            (_, None) | (_, Some(FeatureValue::Bool(false))) => "—".into(),
            (_, Some(FeatureValue::Bool(true))) => "✓".into(),
            (_, Some(FeatureValue::Number(None))) => "Unlimited".into(),
            (FeatureKind::Numeric { unit: Some(u) }, Some(FeatureValue::Number(Some(n)))) => {
                format!("{} {u}", quantity(*n))
            }
            (_, Some(FeatureValue::Number(Some(n)))) => quantity(*n),
            (_, Some(FeatureValue::Text(s))) => {
                let mut c = s.chars();
                c.next().map_or(String::new(), |f| {
                    f.to_uppercase().collect::<String>() + c.as_str()
                })
            }
        }
    }

    /// See [`super::get_estimate`]: at most one usage value per catalog meter is
    /// read (other keys are ignored); a value that is not a number ≥ 0 is an error.
    pub fn estimate(
        catalog: &Catalog,
        interval: Interval,
        seats_typed: &str,
        typed: &std::collections::BTreeMap<String, String>,
    ) -> crate::model::EstimateData {
        use crate::model::{EstimateData, MeterInput, PlanEstimate};
        use tollgate::invoice::estimate::{blocked_by, estimate, validate, EstimateError};
        let seats_typed: String = seats_typed.trim().chars().take(12).collect();
        let meters: Vec<MeterInput> = catalog
            .meters
            .iter()
            .map(|m| MeterInput {
                key: m.key.to_string(),
                name: m.name.clone(),
                unit: m.unit.clone(),
                value: typed
                    .get(m.key.as_str())
                    .map(|v| v.trim().chars().take(40).collect())
                    .unwrap_or_default(),
            })
            .collect();
        let seats = if seats_typed.is_empty() {
            Some(1)
        } else {
            seats_typed.parse::<u32>().ok()
        };
        let mut usage = std::collections::BTreeMap::new();
        let mut unreadable = None;
        for m in meters.iter().filter(|m| !m.value.is_empty()) {
            match m.value.parse::<Decimal>() {
                Ok(q) => {
                    usage.insert(m.key.clone(), q);
                }
                Err(_) => {
                    unreadable.get_or_insert(m.key.clone());
                }
            }
        }
        // One validation with the API's (`estimate::validate`); a value that does
        // not read as a number fails like one out of range.
        let checked = match (unreadable, seats) {
            (Some(meter), _) => Err(EstimateError::BadUsage(meter)),
            (None, None) => Err(EstimateError::BadSeats),
            (None, Some(seats)) => validate(catalog, seats, &usage).map(|()| seats),
        };
        let seats = match checked {
            Ok(seats) => seats,
            Err(e) => {
                let message = match e {
                    EstimateError::BadUsage(key) | EstimateError::UnknownMeter(key) => format!(
                        "{}: enter a number from 0 to 1,000,000,000,000.",
                        catalog
                            .meter(&key)
                            .map_or(key.as_str(), |m| m.name.as_str())
                    ),
                    _ => "Seats: enter a whole number from 1 to 100,000.".into(),
                };
                return EstimateData {
                    error: Some(message),
                    seats: seats_typed,
                    meters,
                    plans: Vec::new(),
                };
            }
        };
        if usage.is_empty() {
            return EstimateData {
                seats: seats_typed,
                meters,
                plans: Vec::new(),
                error: None,
            };
        }
        let mut plans: Vec<(PlanEstimate, Decimal)> = catalog
            .public_plans()
            .filter_map(|plan| {
                let draft = estimate(catalog, plan, interval, seats, &usage).ok()?;
                let blocked = blocked_by(catalog, plan, interval, seats, &usage);
                Some((
                    PlanEstimate {
                        key: plan.key.to_string(),
                        name: plan.name.clone(),
                        total: draft.total.display(),
                        lines: draft
                            .lines
                            .iter()
                            .map(|l| (l.description.clone(), l.amount.display()))
                            .collect(),
                        blocked_by: blocked.map(|m| m.name.clone()),
                        cheapest: false,
                    },
                    draft.total.amount,
                ))
            })
            .collect();
        if let Some(best) = plans
            .iter_mut()
            .filter(|(p, _)| p.blocked_by.is_none())
            .min_by_key(|(_, total)| *total)
        {
            best.0.cheapest = true;
        }
        EstimateData {
            seats: seats_typed,
            meters,
            plans: plans.into_iter().map(|(p, _)| p).collect(),
            error: None,
        }
    }

    /// Builds the page's data.
    pub fn build(
        catalog: &Catalog,
        interval: Interval,
        signed_in: bool,
        current: Option<&SubscriptionRow>,
        sales_email: &str,
    ) -> PricingData {
        let plans: Vec<&Plan> = catalog.public_plans().collect();
        let mut comparison: Vec<ComparisonRow> = catalog
            .meters
            .iter()
            .filter(|m| {
                plans
                    .iter()
                    .any(|p| p.limits.iter().any(|(k, _)| k == &m.key))
            })
            .map(|m| ComparisonRow {
                label: format!(
                    "{} per {}",
                    m.name,
                    if m.reset == tollgate::period::Reset::BillingPeriod {
                        "billing period"
                    } else {
                        "month"
                    }
                ),
                cells: plans
                    .iter()
                    .map(|p| limit_cell(p, m.key.as_str()))
                    .collect(),
            })
            .collect();
        comparison.extend(catalog.features.iter().map(|f| {
            ComparisonRow {
                label: f.name.clone(),
                cells: plans
                    .iter()
                    .map(|p| feature_cell(&f.kind, p.feature(f.key.as_str())))
                    .collect(),
            }
        }));
        comparison.push(ComparisonRow {
            label: "Free trial".into(),
            cells: plans
                .iter()
                .map(|p| match p.trial_days_for_new_subscription() {
                    0 => "—".into(),
                    d => format!("{d} days"),
                })
                .collect(),
        });
        PricingData {
            title: catalog.title.clone(),
            plans: plans.iter().map(|p| card(p, interval, current)).collect(),
            comparison,
            faq: catalog
                .faq
                .iter()
                .map(|f| (f.question.clone(), f.answer.clone()))
                .collect(),
            signed_in,
            subscribed: current.is_some(),
            sales_email: sales_email.to_string(),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn emtchat_pricing_shows_limits_and_savings() {
            let c = tollgate::catalog::file::parse(
                "emtchat.toml",
                include_str!("../../../catalogs/emtchat.toml"),
            )
            .expect("test fixture");
            let p = build(&c, Interval::Year, false, None, "sales@example.com");
            let starter = p
                .plans
                .iter()
                .find(|c| c.key == "starter")
                .expect("test fixture");
            assert_eq!(
                (
                    starter.price.as_deref(),
                    starter.price_unit.as_str(),
                    starter.annual_saving_percent
                ),
                (Some("$190"), "/year", Some(17))
            );
            let team = p
                .plans
                .iter()
                .find(|c| c.key == "team")
                .expect("test fixture");
            assert_eq!(team.price_unit, "/seat/year");
            let enterprise = p
                .plans
                .iter()
                .find(|c| c.key == "enterprise")
                .expect("test fixture");
            assert!(!enterprise.self_serve && enterprise.price.is_none());
            let queries = p
                .comparison
                .iter()
                .find(|r| r.label.starts_with("Queries"))
                .expect("test fixture");
            assert_eq!(
                queries.cells,
                [
                    "50 (stops at 55)",
                    "500",
                    "Unlimited",
                    "Unlimited",
                    "Custom"
                ]
            );
            let documents = p
                .comparison
                .iter()
                .find(|r| r.label.starts_with("Documents"))
                .expect("test fixture");
            assert_eq!(
                documents.cells,
                [
                    "1 (hard limit)",
                    "10 (hard limit)",
                    "100 (hard limit)",
                    "100 per seat (hard limit)",
                    "Custom"
                ]
            );
            let sso = p
                .comparison
                .iter()
                .find(|r| r.label == "SSO (SAML)")
                .expect("test fixture");
            assert_eq!(sso.cells, ["—", "—", "—", "—", "✓"]);
        }
    }
}
