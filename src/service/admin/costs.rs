//! The operator's cost view (seed 001, issue 13): what the usage cost in a month
//! per meter and model or provider (the meters' `cost_property`, `cost_usd`), and
//! per client the cost beside what they were invoiced, with the margin.

use super::require_super_admin;
use crate::db;
use crate::period::Period;
use crate::service::{Actor, Error, Tollgate};
use rust_decimal::Decimal;
use uuid::Uuid;

/// The most rows each list holds (the costliest).
pub const ROWS: i64 = 100;

/// Cost of one meter and one combination of property values.
#[derive(Debug, Clone, PartialEq)]
pub struct DimensionCost {
    /// Meter key.
    pub meter: String,
    /// The property values, `model claude · provider anthropic`; `—` for none.
    pub label: String,
    /// Usage in the meter's unit.
    pub quantity: Decimal,
    /// Sum of the cost property.
    pub cost: Decimal,
}

/// One client's month.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientMargin {
    pub account_id: Uuid,
    pub name: String,
    /// Sum of the cost property over its usage (the provider's cost).
    pub cost: Decimal,
    /// Invoiced for periods starting in the month (totals after discounts; void
    /// invoices left out), in the catalog's currency.
    pub revenue: Decimal,
    /// `revenue − cost`, when both are in the same currency (the cost property is
    /// read as the catalog's currency: `cost_usd` under a USD catalog).
    pub margin: Option<Decimal>,
}

/// The cost view of one month.
#[derive(Debug, Clone, PartialEq)]
pub struct CostReport {
    /// The month (UTC, `[start, end)`).
    pub month: Period,
    /// By meter and property values, the costliest first.
    pub by_dimensions: Vec<DimensionCost>,
    /// By client, the costliest first.
    pub by_client: Vec<ClientMargin>,
    /// Total cost of the month (all groups, not only those listed).
    pub total_cost: Decimal,
}

/// The cost view of `month` (a calendar month, UTC).
///
/// # Errors
/// [`Error::Forbidden`] for anyone but a super admin acting as themself;
/// [`Error::NoCatalog`]; a database error.
pub async fn report(t: &Tollgate, actor: &Actor, month: Period) -> Result<CostReport, Error> {
    require_super_admin(&t.pool, actor).await?;
    let catalog = t.catalog.get()?;
    let (from, to) = (month.start.date_naive(), month.end.date_naive());
    let groups = db::usage_rollups::costs_by_dimensions(&t.pool, from, to, ROWS).await?;
    let clients = db::usage_rollups::costs_by_account(&t.pool, from, to, i64::MAX).await?;
    let total_cost = clients.iter().map(|c| c.1).sum();
    let listed: Vec<(Uuid, Decimal)> = clients.into_iter().take(ROWS as usize).collect();
    let ids: Vec<Uuid> = listed.iter().map(|c| c.0).collect();
    let names: std::collections::HashMap<Uuid, String> =
        db::accounts::names(&t.pool, &ids).await?.into_iter().collect();
    let revenue: std::collections::HashMap<Uuid, Decimal> =
        db::invoices::revenue_by_account(&t.pool, &ids, month.start, month.end)
            .await?
            .into_iter()
            .collect();
    // The cost property is read in the catalog's currency only when the catalog
    // bills in US dollars (the shipped `cost_usd`).
    let same_currency = catalog.currency.code() == "USD";
    Ok(CostReport {
        month,
        by_dimensions: groups
            .into_iter()
            .map(|(meter, dims, quantity, cost)| DimensionCost {
                meter,
                label: label(&dims),
                quantity,
                cost,
            })
            .collect(),
        by_client: listed
            .into_iter()
            .map(|(account_id, cost)| {
                let revenue = revenue.get(&account_id).copied().unwrap_or_default();
                ClientMargin {
                    account_id,
                    name: names.get(&account_id).cloned().unwrap_or_default(),
                    cost,
                    revenue,
                    margin: same_currency.then(|| revenue - cost),
                }
            })
            .collect(),
        total_cost,
    })
}

/// `model claude · provider anthropic`, in the keys' order; `—` for none.
fn label(dims: &serde_json::Value) -> String {
    let parts: Vec<String> = dims
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join(" · ")
    }
}
