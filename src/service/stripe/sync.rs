//! `tollgate stripe sync`: the catalog's paid plans as Stripe products and recurring
//! prices, and their usage prices as billing meters and metered prices
//! ([`super::metered`]), found again by id and lookup key (naming: [`crate::stripe_catalog`]).
//! Running it twice changes nothing; a changed amount creates a new price and moves
//! the lookup key to it (Stripe prices are immutable:
//! <https://docs.stripe.com/products-prices/manage-prices#edit-price>).

use super::{failed, is_missing, metered, Stripe};
use crate::catalog::{Catalog, Plan, Price};
use crate::service::{Error, Tollgate};
use crate::stripe_catalog::PRICE_KEY_METADATA;
use crate::stripe_catalog::{self, StripePrice};
use std::collections::HashMap;
use stripe_product::price::{
    CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval, ListPrice, UpdatePrice,
};
use stripe_product::product::{CreateProduct, RetrieveProduct, UpdateProduct};
use stripe_shared::RecurringInterval;

/// What sync did to one Stripe object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// It was missing and was created.
    Created,
    /// It existed and was changed (a product's name; a price replaced by a new one).
    Updated,
    /// It already matched the catalog.
    Unchanged,
    /// The catalog entry has no Stripe form; the reason.
    Skipped(String),
}

/// One line of the report: the Stripe object (`product tollgate_pro`,
/// `price pro_month`) and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    pub object: String,
    pub action: Action,
}

/// Creates or updates a product for every plan with a paid price, a recurring
/// price per interval (flat, or per seat with the seat count as quantity), in the
/// catalog's currency, and for each usage price a billing meter and a metered price per
/// interval.
///
/// # Errors
/// [`Error::NoCatalog`]; [`Error::Conflict`] for a Stripe meter of Tollgate's name with
/// another formula; [`Error::Internal`] with Stripe's message when a request fails
/// (what was done before stays done, and a second run continues from there).
pub async fn sync(t: &Tollgate, stripe: &Stripe) -> Result<Vec<Synced>, Error> {
    let catalog = t.catalog.get()?;
    let mut report = Vec::new();
    let mut meters = None;
    for plan in catalog.plans.iter().filter(|p| !p.prices.is_empty()) {
        let priced: Vec<(&Price, Result<StripePrice, _>)> = plan
            .prices
            .iter()
            .map(|p| (p, stripe_catalog::stripe_price(p)))
            .collect();
        if priced.iter().all(|(_, p)| p.is_err()) {
            for (price, why) in &priced {
                if let Err(why) = why {
                    report.push(Synced {
                        object: price_object(plan, price),
                        action: Action::Skipped(why.to_string()),
                    });
                }
            }
            continue;
        }
        report.push(Synced {
            object: format!("product {}", stripe_catalog::product_id(plan.key.as_str())),
            action: product(stripe, plan).await?,
        });
        let mut intervals = Vec::new();
        for (price, shape) in priced {
            let action = match shape {
                Ok(shape) => {
                    intervals.push(price.interval);
                    sync_price(stripe, &catalog, plan, price, shape).await?
                }
                Err(why) => Action::Skipped(why.to_string()),
            };
            report.push(Synced {
                object: price_object(plan, price),
                action,
            });
        }
        if !plan.usage_prices.is_empty() {
            let meters = match &mut meters {
                Some(m) => m,
                None => meters.insert(metered::Meters::load(stripe).await?),
            };
            metered::sync_plan(stripe, &catalog, plan, &intervals, meters, &mut report).await?;
        }
    }
    Ok(report)
}

fn price_object(plan: &Plan, price: &Price) -> String {
    format!(
        "price {}",
        stripe_catalog::price_lookup_key(plan.key.as_str(), price.interval)
    )
}

async fn product(stripe: &Stripe, plan: &Plan) -> Result<Action, Error> {
    let id = stripe_catalog::product_id(plan.key.as_str());
    match RetrieveProduct::new(id.as_str())
        .send(stripe.client())
        .await
    {
        Ok(existing) if existing.name == plan.name && existing.active => Ok(Action::Unchanged),
        Ok(_) => {
            UpdateProduct::new(id.as_str())
                .name(plan.name.as_str())
                .active(true)
                .send(stripe.client())
                .await
                .map_err(|e| failed("update product", e))?;
            Ok(Action::Updated)
        }
        Err(e) if is_missing(&e) => {
            CreateProduct::new(plan.name.as_str())
                .id(id.as_str())
                .send(stripe.client())
                .await
                .map_err(|e| failed("create product", e))?;
            Ok(Action::Created)
        }
        Err(e) => Err(failed("retrieve product", e)),
    }
}

async fn sync_price(
    stripe: &Stripe,
    catalog: &Catalog,
    plan: &Plan,
    price: &Price,
    shape: StripePrice,
) -> Result<Action, Error> {
    let key = stripe_catalog::price_lookup_key(plan.key.as_str(), price.interval);
    let currency: stripe_types::Currency = catalog
        .currency
        .code()
        .to_ascii_lowercase()
        .parse()
        .unwrap_or_else(|never| match never {});
    let product_id = stripe_catalog::product_id(plan.key.as_str());
    let found = ListPrice::new()
        .lookup_keys(vec![key.clone()])
        .send(stripe.client())
        .await
        .map_err(|e| failed("list prices", e))?;
    let interval = match price.interval {
        crate::period::Interval::Month => (
            RecurringInterval::Month,
            CreatePriceRecurringInterval::Month,
        ),
        crate::period::Interval::Year => {
            (RecurringInterval::Year, CreatePriceRecurringInterval::Year)
        }
    };
    let existing = found
        .data
        .into_iter()
        .find(|p| p.lookup_key.as_deref() == Some(key.as_str()));
    if let Some(p) = &existing {
        let same = p.active
            && p.unit_amount == Some(shape.unit_amount)
            && p.currency == currency
            && p.product.id().as_str() == product_id
            && p.recurring
                .as_ref()
                .is_some_and(|r| r.interval == interval.0 && r.interval_count == 1);
        if same && p.metadata.get(PRICE_KEY_METADATA) == Some(&key) {
            return Ok(Action::Unchanged);
        }
        if same {
            // A price made before prices carried their key in the metadata.
            UpdatePrice::new(p.id.as_str())
                .metadata(HashMap::from([(
                    PRICE_KEY_METADATA.to_owned(),
                    key.clone(),
                )]))
                .send(stripe.client())
                .await
                .map_err(|e| failed("update price", e))?;
            return Ok(Action::Updated);
        }
    }
    let nickname = format!(
        "{} ({}{})",
        plan.name,
        price.interval,
        if shape.per_seat { ", per seat" } else { "" }
    );
    CreatePrice::new(currency)
        .product(product_id)
        .unit_amount(shape.unit_amount)
        .recurring(CreatePriceRecurring::new(interval.1))
        .lookup_key(key.as_str())
        .transfer_lookup_key(true)
        .nickname(nickname)
        .metadata(HashMap::from([(
            PRICE_KEY_METADATA.to_owned(),
            key.clone(),
        )]))
        .send(stripe.client())
        .await
        .map_err(|e| failed("create price", e))?;
    Ok(if existing.is_some() {
        Action::Updated
    } else {
        Action::Created
    })
}
