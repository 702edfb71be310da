//! Usage prices in Stripe: one billing meter per catalog meter a Stripe-billed plan charges
//! for (`event_name` `tollgate_<meter>`, values by Stripe customer id), and per plan and
//! interval a metered price on it (lookup key `<plan>_<interval>_usage_<meter>`), both named
//! by [`crate::stripe_catalog`]. Sync creates what is missing and replaces a price whose shape
//! changed (the shape is kept in the price's `tollgate_shape` metadata); Checkout and the
//! usage job find the prices again by lookup key
//! (<https://docs.stripe.com/billing/subscriptions/usage-based/implementation-guide>).

use super::sync::{Action, Synced};
use super::{failed, Stripe};
use crate::catalog::{Catalog, Meter, Plan};
use crate::period::Interval;
use crate::service::Error;
use crate::stripe_catalog::{self, MeterFormula, StripeUsagePrice, UsageScheme};
use futures::TryStreamExt;
use rust_decimal::Decimal;
use std::collections::HashMap;
use stripe_billing::billing_meter::{
    CreateBillingMeter, CreateBillingMeterCustomerMapping, CreateBillingMeterCustomerMappingType,
    CreateBillingMeterDefaultAggregation, CreateBillingMeterDefaultAggregationFormula,
    CreateBillingMeterValueSettings, ListBillingMeter,
};
use stripe_product::price::{
    CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval, CreatePriceRecurringUsageType,
    CreatePriceTiers, CreatePriceTiersUpTo, CreatePriceTransformQuantity,
    CreatePriceTransformQuantityRound, ListPrice,
};
use stripe_shared::{PriceBillingScheme, PriceTiersMode};

/// Payload key of the Stripe customer id in Tollgate's meter events (Stripe's default).
pub const CUSTOMER_KEY: &str = "stripe_customer_id";
/// Payload key of the value in Tollgate's meter events (Stripe's default).
pub const VALUE_KEY: &str = "value";
/// Price metadata key holding [`StripeUsagePrice::fingerprint`].
const SHAPE_KEY: &str = "tollgate_shape";

/// Stripe's billing meters by `event_name`: id and formula.
pub(crate) struct Meters(HashMap<String, (String, String)>);

impl Meters {
    /// Every meter of the Stripe account.
    pub(crate) async fn load(stripe: &Stripe) -> Result<Self, Error> {
        let all: Vec<_> = ListBillingMeter::new()
            .paginate()
            .stream(stripe.client())
            .try_collect()
            .await
            .map_err(|e| failed("list billing meters", e))?;
        Ok(Meters(
            all.into_iter()
                .map(|m| {
                    (
                        m.event_name,
                        (
                            m.id.as_str().to_owned(),
                            m.default_aggregation.formula.as_str().to_owned(),
                        ),
                    )
                })
                .collect(),
        ))
    }

    /// Finds or creates the meter for `meter` with `formula`.
    async fn ensure(
        &mut self,
        stripe: &Stripe,
        meter: &Meter,
        formula: MeterFormula,
    ) -> Result<(String, Action), Error> {
        let event_name = stripe_catalog::meter_event_name(meter.key.as_str());
        if let Some((id, existing)) = self.0.get(&event_name) {
            if existing != formula.as_str() {
                return Err(Error::Conflict(format!(
                    "Stripe's meter `{event_name}` aggregates by `{existing}` but the catalog needs `{}`; deactivate it in Stripe and sync again",
                    formula.as_str()
                )));
            }
            return Ok((id.clone(), Action::Unchanged));
        }
        let aggregation = CreateBillingMeterDefaultAggregation::new(match formula {
            MeterFormula::Sum => CreateBillingMeterDefaultAggregationFormula::Sum,
            MeterFormula::Last => CreateBillingMeterDefaultAggregationFormula::Last,
        });
        let created =
            CreateBillingMeter::new(aggregation, meter.name.as_str(), event_name.as_str())
                .customer_mapping(CreateBillingMeterCustomerMapping::new(
                    CUSTOMER_KEY,
                    CreateBillingMeterCustomerMappingType::ById,
                ))
                .value_settings(CreateBillingMeterValueSettings::new(VALUE_KEY))
                .send(stripe.client())
                .await
                .map_err(|e| failed("create billing meter", e))?;
        let id = created.id.as_str().to_owned();
        self.0
            .insert(event_name, (id.clone(), formula.as_str().to_owned()));
        Ok((id, Action::Created))
    }
}

/// Syncs the meters and metered prices of `plan` for each of its Stripe-priced `intervals`,
/// appending to `report`. A plan with a usage price Stripe cannot bill gets one `Skipped`
/// line per usage price and nothing in Stripe (it is billed by invoice).
///
/// # Errors
/// [`Error::Conflict`] for a Stripe meter of the same name with another formula;
/// [`Error::Internal`] when a request fails.
pub(crate) async fn sync_plan(
    stripe: &Stripe,
    catalog: &Catalog,
    plan: &Plan,
    intervals: &[Interval],
    meters: &mut Meters,
    report: &mut Vec<Synced>,
) -> Result<(), Error> {
    let usage = match stripe_catalog::plan_usage_prices(catalog, plan) {
        Ok(usage) => usage,
        Err((meter, why)) => {
            for interval in intervals {
                let object = format!(
                    "price {}",
                    stripe_catalog::usage_lookup_key(plan.key.as_str(), *interval, &meter)
                );
                report.push(Synced {
                    object,
                    action: Action::Skipped(format!("{why}; the plan is billed by invoice")),
                });
            }
            return Ok(());
        }
    };
    for (meter, shape) in usage {
        let (meter_id, action) = meters.ensure(stripe, meter, shape.formula).await?;
        if action != Action::Unchanged || !report.iter().any(|r| r.object == meter_object(meter)) {
            report.push(Synced {
                object: meter_object(meter),
                action,
            });
        }
        for interval in intervals {
            let key =
                stripe_catalog::usage_lookup_key(plan.key.as_str(), *interval, meter.key.as_str());
            let action = sync_price(
                stripe,
                catalog,
                plan,
                *interval,
                &key,
                (meter, &meter_id),
                &shape,
            )
            .await?;
            report.push(Synced {
                object: format!("price {key}"),
                action,
            });
        }
    }
    Ok(())
}

fn meter_object(meter: &Meter) -> String {
    format!(
        "meter {}",
        stripe_catalog::meter_event_name(meter.key.as_str())
    )
}

async fn sync_price(
    stripe: &Stripe,
    catalog: &Catalog,
    plan: &Plan,
    interval: Interval,
    key: &str,
    (meter, meter_id): (&Meter, &str),
    shape: &StripeUsagePrice,
) -> Result<Action, Error> {
    let currency: stripe_types::Currency = catalog
        .currency
        .code()
        .to_ascii_lowercase()
        .parse()
        .unwrap_or_else(|never| match never {});
    let fingerprint = shape.fingerprint();
    let found = ListPrice::new()
        .lookup_keys(vec![key.to_owned()])
        .send(stripe.client())
        .await
        .map_err(|e| failed("list prices", e))?;
    let existing = found
        .data
        .into_iter()
        .find(|p| p.lookup_key.as_deref() == Some(key));
    if let Some(p) = &existing {
        let same = p.active
            && p.currency == currency
            && p.product.id().as_str() == stripe_catalog::product_id(plan.key.as_str())
            && p.metadata.get(SHAPE_KEY) == Some(&fingerprint)
            && p.recurring
                .as_ref()
                .is_some_and(|r| r.meter.as_deref() == Some(meter_id));
        if same {
            return Ok(Action::Unchanged);
        }
    }
    let mut recurring = CreatePriceRecurring::new(match interval {
        Interval::Month => CreatePriceRecurringInterval::Month,
        Interval::Year => CreatePriceRecurringInterval::Year,
    });
    recurring.usage_type = Some(CreatePriceRecurringUsageType::Metered);
    recurring.meter = Some(meter_id.to_owned());
    let mut create = CreatePrice::new(currency)
        .product(stripe_catalog::product_id(plan.key.as_str()))
        .recurring(recurring)
        .lookup_key(key)
        .transfer_lookup_key(true)
        .nickname(format!("{} ({interval}, {})", plan.name, meter.name))
        .metadata(HashMap::from([(SHAPE_KEY.to_owned(), fingerprint)]));
    match &shape.scheme {
        UsageScheme::PerUnit { unit_amount } => {
            create = create.unit_amount_decimal(unit_amount.normalize().to_string())
        }
        UsageScheme::Package { size, amount } => {
            create = create
                .unit_amount_decimal(amount.normalize().to_string())
                .transform_quantity(CreatePriceTransformQuantity::new(
                    *size,
                    CreatePriceTransformQuantityRound::Up,
                ));
        }
        UsageScheme::Tiered { volume, tiers } => {
            let tiers: Vec<CreatePriceTiers> = tiers
                .iter()
                .map(|t| {
                    let mut tier = CreatePriceTiers::new(
                        t.up_to
                            .map_or(CreatePriceTiersUpTo::Inf, CreatePriceTiersUpTo::I64),
                    );
                    tier.unit_amount_decimal = Some(t.unit_amount.normalize().to_string());
                    if t.flat_amount > Decimal::ZERO {
                        tier.flat_amount_decimal = Some(t.flat_amount.normalize().to_string());
                    }
                    tier
                })
                .collect();
            create = create
                .billing_scheme(PriceBillingScheme::Tiered)
                .tiers_mode(if *volume {
                    PriceTiersMode::Volume
                } else {
                    PriceTiersMode::Graduated
                })
                .tiers(tiers);
        }
    }
    create
        .send(stripe.client())
        .await
        .map_err(|e| failed("create price", e))?;
    Ok(if existing.is_some() {
        Action::Updated
    } else {
        Action::Created
    })
}

/// The active metered prices of `plan` on `interval`, by lookup key, in the order of the plan's
/// usage prices. Empty for a plan without usage prices.
///
/// # Errors
/// [`Error::Invalid`] when a usage price cannot be billed through Stripe; [`Error::Internal`]
/// when Stripe fails or a price was never synced (`tollgate stripe sync`).
pub(crate) async fn price_ids(
    stripe: &Stripe,
    catalog: &Catalog,
    plan: &Plan,
    interval: Interval,
) -> Result<Vec<String>, Error> {
    let usage = stripe_catalog::plan_usage_prices(catalog, plan).map_err(|(meter, why)| {
        Error::invalid(
            "plan",
            format!(
                "{} cannot be paid by card: usage of {meter}: {why}.",
                plan.name
            ),
        )
    })?;
    if usage.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = usage
        .iter()
        .map(|(m, _)| stripe_catalog::usage_lookup_key(plan.key.as_str(), interval, m.key.as_str()))
        .collect();
    let found = ListPrice::new()
        .lookup_keys(keys.clone())
        .active(true)
        .send(stripe.client())
        .await
        .map_err(|e| failed("find metered prices", e))?;
    keys.iter()
        .map(|key| {
            found
                .data
                .iter()
                .find(|p| p.lookup_key.as_deref() == Some(key.as_str()))
                .map(|p| p.id.as_str().to_owned())
                .ok_or_else(|| {
                    Error::Internal(format!(
                        "Stripe has no price `{key}`: run `tollgate stripe sync`"
                    ))
                })
        })
        .collect()
}
